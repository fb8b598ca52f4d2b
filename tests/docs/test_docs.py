"""The hand-written docs stay true: links and anchors resolve, commands and flags exist, paths exist."""

from __future__ import annotations

import re
import shlex

import pytest
from typer.main import get_command

from scripts.cli import app
from tests.conftest import REPO

DOCS = ["getting-started.md", "adding-a-team.md", "operations.md", "upgrading.md", "cdktf-sunset.md",
        "troubleshooting.md", "configuration.md"]
COMMANDS = get_command(app).commands


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path) -> set[str]:
    return {slug(m) for m in re.findall(r"^#+ (.+)$", path.read_text(), flags=re.M)}


@pytest.mark.parametrize("doc", DOCS)
def test_links_and_anchors_resolve(doc):
    path = REPO / "docs" / doc
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if target.startswith(("http://", "https://")):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        assert linked.exists(), f"{doc}: link to missing {target}"
        if anchor:
            assert anchor in anchors(linked), f"{doc}: no heading for #{anchor} in {file or doc}"


def command_lines(text: str):
    for line in text.splitlines():
        m = re.search(r"(?:\.venv/bin/)?mlops-kit ([a-z-]+)(.*)", line)
        if m and not line.lstrip().startswith("|"):
            yield m.group(1), m.group(2)


@pytest.mark.parametrize("doc", DOCS)
def test_mlops_kit_commands_and_flags_exist(doc):
    text = (REPO / "docs" / doc).read_text()
    for name in re.findall(r"mlops-kit ([a-z][a-z-]+)", text):
        assert name in COMMANDS, f"{doc}: `mlops-kit {name}` is not a command"
    # Flags in code lines, including continuation lines of a command.
    joined = re.sub(r"\\\n\s*", " ", text)
    for name, rest in command_lines(joined):
        params = {opt for p in COMMANDS[name].params for opt in p.opts}
        try:
            words = shlex.split(rest.split("#")[0].split("`")[0])
        except ValueError:
            words = rest.split()
        for word in words:
            if word == "--":
                break
            if word.startswith("--") and name != "bench":
                assert word.split("=")[0] in params | {"--help"}, f"{doc}: mlops-kit {name} has no {word}"


PATH = re.compile(r"`((?:\.ci|infra|stacks|scripts|tests|docs|teams|policies|functions)/[^`\s]*)`")


@pytest.mark.parametrize("doc", DOCS)
def test_repository_paths_exist(doc):
    for p in PATH.findall((REPO / "docs" / doc).read_text()):
        if any(c in p for c in "<*") or "fraud" in p or "NAME" in p or "TEAM" in p or p.endswith("/"):
            continue
        assert (REPO / p).exists(), f"{doc}: `{p}` does not exist"


def test_exit_codes_in_getting_started_match_the_cli():
    text = (REPO / "docs" / "getting-started.md").read_text()
    for code in ("`0` success", "`1` the command ran and found problems", "`2` a user error", "`3` a tool"):
        assert code in text
