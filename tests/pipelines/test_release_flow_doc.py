"""docs/release-flow.md's sequence diagram names only commands and stages the seeded YAML really has."""

from __future__ import annotations

import re

import yaml

from tests.conftest import REPO

DOC = REPO / "docs" / "release-flow.md"


def diagram() -> str:
    return re.search(r"```mermaid\n(.*?)```", DOC.read_text(), re.S).group(1)


def test_every_command_in_the_diagram_is_in_the_templates(seeds):
    yaml_text = "\n".join(p.read_text() for p in (seeds / "templates" / "pipelines").glob("*.yml"))
    said = set(
        re.findall(
            r"\b(online-endpoint|online-deployment|model|data|environment|job) "
            r"(create|show|list|download|update|invoke|delete|stream)\b",
            diagram(),
        )
    )
    assert len(said) >= 12
    for group, verb in sorted(said):
        assert f"az ml {group} {verb}" in yaml_text, f"the diagram says `{group} {verb}`, the YAML never runs it"


def test_the_diagram_names_the_release_stages_and_their_identities(seeds):
    release = yaml.safe_load((seeds / "templates" / "pipelines" / "release.yml").read_text())
    stages = [s["stage"] for s in release["stages"]]
    assert stages == ["Candidate", "Share", "Deploy_staging", "Deploy_prod"]
    text = diagram()
    assert "Candidate stage (arm-<environment>)" in text and "Share stage (arm-staging" in text
    assert "loop Deploy_staging, then Deploy_prod" in text
    # the order the diagram draws is the order the deploy script runs
    script = (seeds / "templates" / "pipelines" / "release.yml").read_text()
    steps = [
        "online-deployment create --file",
        'live_check "$idle"',
        'online-endpoint update "${ep[@]}" --traffic',
        'online-deployment delete --name "$live"',
    ]
    positions = [script.index(s) for s in steps]
    assert positions == sorted(positions)


def test_no_message_in_the_diagram_is_cut_short():
    """Mermaid's sequence lexer ends a message at `;` or `#` (TXT is `":"[^#\\n;]+` in sequenceDiagram.jison):
    the rest of the line becomes a statement that fails to parse, and GitHub renders no diagram."""
    cut = [line.strip() for line in diagram().splitlines() if ":" in line and re.search(r"[;#]", line.split(":", 1)[1])]
    assert cut == []
