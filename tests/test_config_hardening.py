"""Malformed and hostile config files (issue 14): each is one bounded line naming file, field and fix.

Every case here failed on the kit before the hardening: a traceback, a hang, a multi-megabyte message,
or a value accepted that Azure (or the trigger function) rejects later.
"""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import pytest
import yaml

from infra.config import RESERVED_FILESYSTEMS, ConfigError, load_org, parse_org_url
from tests.conftest import ORG

EXAMPLE = (ORG / "example.yaml").read_text()
PLATFORM = (ORG / "platform.yaml").read_text()
GUID = "11111111-1111-1111-1111-111111111111"
MAX_LINE = 600  # path + field + an 80-character value + the fix


def problems(teams: Path) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_org(teams)
    lines = exc.value.lines
    for line in lines:
        assert "\n" not in line and "Traceback" not in line, line
        assert "Fix: " in line, line
        assert len(line) <= MAX_LINE + len(str(teams)), (len(line), line[:300])
    return lines


def one(teams: Path) -> str:
    lines = problems(teams)
    assert len(lines) == 1, lines
    return lines[0]


def with_team(**changes) -> str:
    data = yaml.safe_load(EXAMPLE)
    data.update(changes)
    return yaml.safe_dump(data, sort_keys=False)


# ------------------------------------------------------------------ bytes that are not UTF-8
@pytest.mark.parametrize(
    "data",
    [
        os.urandom(0) + bytes(range(128, 256)) * 4,  # random high bytes
        gzip.compress(EXAMPLE.encode()),  # a gzip of the file
        EXAMPLE.encode() + b"\xff\n",  # one stray 0xff
        EXAMPLE.replace("Example", "Exämple").encode("latin-1"),  # latin-1
        "\ufeff".encode("utf-16-le") + EXAMPLE.encode("utf-16-le"),  # UTF-16 with BOM
        EXAMPLE.encode() + "é".encode()[:1],  # a truncated multibyte character
    ],
    ids=["random", "gzip", "stray-ff", "latin-1", "utf-16", "truncated"],
)
def test_non_utf8_is_one_line(make_teams, data):
    teams = make_teams()
    (teams / "example.yaml").write_bytes(data)
    line = one(teams)
    assert line.startswith(f"{teams}/example.yaml: ") and ("UTF-8" in line or "UTF-16" in line), line


# ------------------------------------------------------------------ not a regular file / symlinks
def test_directory_named_like_a_team_file(make_teams):
    teams = make_teams()
    (teams / "x.yaml").mkdir()
    assert (
        one(teams)
        == f"{teams}/x.yaml: (file): is a directory. Fix: remove or rename it: only regular .yaml files are read"
        or "is a directory" in one(teams)
    )


def test_platform_yaml_is_a_directory(make_teams):
    teams = make_teams({"platform.yaml": None})
    (teams / "platform.yaml").mkdir()
    assert "platform.yaml: (file): is a directory" in one(teams)


def test_fifo_does_not_hang(make_teams):
    teams = make_teams()
    os.mkfifo(teams / "fifo.yaml")
    started = time.perf_counter()
    line = one(teams)
    assert time.perf_counter() - started < 2
    assert "fifo.yaml: (file): is not a regular file" in line


@pytest.mark.parametrize("target", ["loop", "dir", "/dev/zero", "/etc/hostname", "missing"])
def test_symlinks(make_teams, target):
    teams = make_teams()
    link = teams / "linked.yaml"
    if target == "loop":
        link.symlink_to(link)
    elif target == "dir":
        (teams / "sub").mkdir()
        link.symlink_to(teams / "sub")
    elif target == "missing":
        link.symlink_to(teams / "nowhere.yaml")
    else:
        link.symlink_to(target)
    started = time.perf_counter()
    line = one(teams)
    assert time.perf_counter() - started < 2
    assert line.startswith(f"{link}: (file): "), line
    expected = {
        "loop": "symlink loop",
        "dir": "is a directory",
        "/dev/zero": "outside",
        "/etc/hostname": "outside",
        "missing": "does not exist",
    }[target]
    assert expected in line, line


def test_symlink_inside_teams_is_read(make_teams):
    teams = make_teams()
    (teams / "example.yaml").rename(teams / "_example.src")
    (teams / "example.yaml").symlink_to(teams / "_example.src")
    assert [tf.team.name for tf in load_org(teams).teams] == ["example"]


# ------------------------------------------------------------------ size, depth, aliases
def test_file_over_the_size_cap(make_teams):
    teams = make_teams({"example.yaml": EXAMPLE + "#" * (300 * 1024) + "\n"})
    assert "bytes, over the 256 KiB limit" in one(teams)


def test_deep_nesting_is_not_a_recursion_error(make_teams):
    teams = make_teams({"example.yaml": "name: " + "[" * 1000 + "]" * 1000 + "\n"})
    assert "nested more than 32 levels deep" in one(teams)


def test_billion_laughs_is_refused_quickly(make_teams):
    bomb = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    bomb += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    bomb.append("vm_priority: *a9")
    teams = make_teams({"example.yaml": "\n".join(bomb) + "\n"})
    started = time.perf_counter()
    line = one(teams)
    assert time.perf_counter() - started < 2
    assert "values once aliases are expanded" in line


def test_many_unknown_keys_are_capped(make_teams):
    keys = "".join(f"k{i}: 1\n" for i in range(5000))
    teams = make_teams({"example.yaml": EXAMPLE + keys})
    started = time.perf_counter()
    lines = problems(teams)
    assert time.perf_counter() - started < 2
    assert len(lines) == 21 and "more problems not shown" in lines[-1]


def test_duplicate_keys_are_rejected(make_teams):
    teams = make_teams({"example.yaml": EXAMPLE + "cost_center: CC-9999\n"})
    line = one(teams)
    assert "key 'cost_center' appears twice (lines 7 and" in line and "Fix: " in line


# ------------------------------------------------------------------ values: full matches, controls, limits
@pytest.mark.parametrize(
    "old, new",
    [
        ("data_scientists: 11111111-1111-1111-1111-111111111111", f'data_scientists: "{GUID}\\n"'),
        (
            "subscription_id: 00000000-0000-0000-0000-0000000000d1",
            'subscription_id: "00000000-0000-0000-0000-0000000000d1\\n"',
        ),
        ("vm_size: Standard_DS4_v2", 'vm_size: "Standard_DS4_v2\\n"'),
        ("subnets/snet-functions", "subnets/snet-functions\\n"),
    ],
)
def test_trailing_newline_fails_the_pattern(make_teams, old, new):
    text = EXAMPLE.replace(old, new, 1)
    if old.startswith("subnets/"):  # a plain scalar cannot hold \n: quote the whole id
        text = text.replace("function_subnet_id: /subscriptions", 'function_subnet_id: "/subscriptions', 1)
        text = text.replace("snet-functions\\n", 'snet-functions\\n"', 1)
    teams = make_teams({"example.yaml": text})
    line = one(teams)
    assert "invalid value" in line, line


def test_naming_prefix_with_newline_is_one_error(make_teams):
    teams = make_teams({"platform.yaml": PLATFORM.replace("naming_prefix: mlk", 'naming_prefix: "mlk\\n"')})
    assert "platform.yaml: naming_prefix: invalid value 'mlk\\n'" in one(teams)


@pytest.mark.parametrize(
    "field, value", [("display_name", "Fraud\x00ML"), ("cost_center", "CC\x1b[31m"), ("display_name", "two\nlines")]
)
def test_control_characters_are_rejected(make_teams, field, value):
    teams = make_teams({"example.yaml": with_team(**{field: value})})
    line = one(teams)
    assert f"example.yaml: {field}: invalid value" in line and "control characters" in line


def test_two_megabyte_values_are_cut_in_the_message(make_teams):
    big = "x" * 200_000
    teams = make_teams({"platform.yaml": PLATFORM.replace("default_location: westeurope", f"default_location: {big}")})
    line = one(teams)
    assert "(200,000 characters)" in line and len(line) < 400


def test_tag_limits(make_teams):
    tags = "".join(f"  t{i}: v\n" for i in range(46))
    teams = make_teams({"platform.yaml": PLATFORM.replace("default_tags:\n", "default_tags:\n" + tags)})
    assert "default_tags: " in one(teams)
    (teams / "platform.yaml").write_text(PLATFORM.replace("  owner: platform-engineering", "  owner: " + "v" * 257))
    line = one(teams)
    assert "default_tags.owner: invalid value" in line and "256 characters" in line
    (teams / "platform.yaml").write_text(PLATFORM.replace("  owner: platform-engineering", "  'a/b': x"))
    assert "Azure's tag name rules" in one(teams)


def test_empty_training_prefix_is_rejected(make_teams):
    teams = make_teams({"example.yaml": EXAMPLE.replace('prefix: "landing/"', 'prefix: ""')})
    line = one(teams)
    assert "triggers.training.prefix: invalid value ''" in line and "every marker file" in line


def test_unknown_location_is_caught_at_validate_time(make_teams):
    teams = make_teams({"example.yaml": EXAMPLE.replace("  dev:\n", "  dev:\n    location: mars\n", 1)})
    line = one(teams)
    assert "environments.dev.location: 'mars' is not an Azure region" in line and "extra_locations" in line
    (teams / "example.yaml").write_text(EXAMPLE)
    (teams / "platform.yaml").write_text(PLATFORM.replace("westeurope", "westeurop"))
    assert "did you mean westeurope" in one(teams)


def test_extra_locations_admit_a_new_region(make_teams):
    text = EXAMPLE.replace("  dev:\n", "  dev:\n    location: marscentral\n", 1)
    teams = make_teams({"example.yaml": text, "platform.yaml": PLATFORM + "extra_locations: [marscentral]\n"})
    assert load_org(teams).teams[0].team.environments["dev"].location == "marscentral"


def test_vm_size_outside_the_list_is_a_warning_not_an_error(make_teams):
    teams = make_teams({"example.yaml": EXAMPLE.replace("vm_size: Standard_DS4_v2", "vm_size: Standard_Z99_v9")})
    warnings = load_org(teams).warnings
    assert any("environments.prod.compute.vm_size: 'Standard_Z99_v9' is not in the kit's list" in w for w in warnings)
    (teams / "example.yaml").write_text(EXAMPLE.replace("vm_size: Standard_DS4_v2", "vm_size: DS4_v2"))
    assert "compute.vm_size: invalid value 'DS4_v2'" in one(teams)


# ------------------------------------------------------------------ YAML 1.1 typing gets a hint
@pytest.mark.parametrize(
    "text, field, hint",
    [
        ("name: no\n", "name", "quote it"),
        ("cost_center: 0001\n", "cost_center", "0001 becomes 1"),
        ("display_name: null\n", "display_name", "the value is empty"),
    ],
)
def test_yaml_implicit_types_get_a_hint(make_teams, text, field, hint):
    data = "\n".join(x for x in EXAMPLE.splitlines() if not x.startswith(f"{field}:")) + "\n" + text
    line = one(make_teams({"example.yaml": data}))
    assert f"example.yaml: {field}: expected text" in line and hint in line, line


def test_on_key_read_as_a_boolean(make_teams):
    line = one(make_teams({"example.yaml": EXAMPLE + "on: push\n"}))
    assert "key True is not text" in line and "quote it" in line


# ------------------------------------------------------------------ valid YAML that used to fail later
def test_filesystem_named_like_the_dead_letter_container(make_teams):
    import ast

    from tests.conftest import REPO

    # read infra/data_lake.py's constant without importing it (that would load cdktf and azurerm: ~30 s)
    tree = ast.parse((REPO / "infra" / "data_lake.py").read_text())
    (dead_letter,) = [
        n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign)
        and [t.id for t in n.targets if isinstance(t, ast.Name)] == ["DEAD_LETTER_CONTAINER"]
    ]
    assert set(RESERVED_FILESYSTEMS) == {dead_letter}
    teams = make_teams(
        {
            "example.yaml": EXAMPLE.replace(
                "filesystems: [raw, curated]", "filesystems: [raw, curated, eventgrid-deadletter]"
            )
        }
    )
    assert "data_lake.filesystems: 'eventgrid-deadletter' is reserved" in one(teams)


@pytest.mark.parametrize("name", ["no", "on", "yes", "off", "true", "null", "platform", "con", "nul"])
def test_reserved_team_names(make_teams, name):
    line = one(make_teams({"example.yaml": with_team(name=name)}))
    assert f"example.yaml: name: {name!r} is reserved" in line


ORG_URLS = {
    "https://dev.azure.com/contoso": "https://dev.azure.com/contoso",
    "https://dev.azure.com/contoso/": "https://dev.azure.com/contoso",
    "https://contoso.visualstudio.com": "https://contoso.visualstudio.com",
    "https://contoso.visualstudio.com/": "https://contoso.visualstudio.com",
    "https://evil.example#.visualstudio.com": None,
    "https://evil.example?.visualstudio.com": None,
    "https://user@dev.azure.com/contoso": None,
    "https://dev.azure.com:8443/contoso": None,
    "https://dev.azure.com/contoso/project": None,
    "https://dev.azure.com/": None,
    "http://dev.azure.com/contoso": None,
    "https://contoso.visualstudio.com/extra": None,
    "https://dev.azure.com/contoso\n": None,
    "https://dev.azure.com.evil.example/contoso": None,
    "https://-bad.visualstudio.com": None,
}


@pytest.mark.parametrize("url, expected", ORG_URLS.items())
def test_organization_url_forms(url, expected):
    if expected is None:
        with pytest.raises(ValueError):
            parse_org_url(url)
    else:
        assert parse_org_url(url)[0] == expected


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/contoso", "https://localhost:8443/contoso", "x" * 201])
def test_the_config_refuses_the_functions_test_server_form_and_overlong_values(url):
    """The parser is the function's (trigger_core.contract); a platform file may not name a test server."""
    from trigger_core.contract import parse_org_url as function_parse_org_url

    with pytest.raises(ValueError):
        parse_org_url(url)
    assert url.startswith("x") or function_parse_org_url(url)[0] is not None  # the function takes the test form


def test_evil_url_never_reaches_the_config(make_teams):
    teams = make_teams(
        {
            "platform.yaml": PLATFORM.replace(
                "https://dev.azure.com/contoso-ml", "https://evil.example#.visualstudio.com"
            )
        }
    )
    assert "devops.organization_url: 'https://evil.example#.visualstudio.com' must not contain" in one(teams)


def test_visualstudio_url_is_accepted_and_names_the_organization(make_teams):
    teams = make_teams(
        {"platform.yaml": PLATFORM.replace("https://dev.azure.com/contoso-ml", "https://contoso-ml.visualstudio.com/")}
    )
    devops = load_org(teams).platform.devops
    assert (devops.organization_url, devops.organization) == ("https://contoso-ml.visualstudio.com", "contoso-ml")
