"""The kit's validators report through pydantic's own error type (`kit_config`, ctx: field, problem, fix).

Before, they raised `ValueError("@field|problem|fix")` and infra/config.py split the message text on `|`,
so a value holding a `|` (shown in the problem) cut the line in the wrong place.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infra.config import KIT_ERROR, ConfigError, Team, load_org
from tests.conftest import ORG

EXAMPLE = (ORG / "example.yaml").read_text()
PLATFORM = (ORG / "platform.yaml").read_text()


def test_a_validator_problem_is_a_pydantic_error_carrying_field_problem_and_fix():
    import yaml

    data = yaml.safe_load(EXAMPLE)
    data["groups"].pop("approvers")
    with pytest.raises(ValidationError) as e:
        Team.model_validate(data)
    (err,) = e.value.errors(include_url=False)
    assert err["type"] == KIT_ERROR and err["loc"] == ()
    assert err["ctx"] == {"field": "groups.approvers", "problem": "prod requires an approvers group",
                          "fix": "add `approvers: <Entra group object id>` under groups"}
    assert err["msg"] == "prod requires an approvers group"


def _lines(make_teams, files):
    with pytest.raises(ConfigError) as e:
        load_org(make_teams(files))
    return e.value.lines


def test_a_value_with_a_bar_stays_in_the_problem_of_a_field_validator(make_teams):
    text = EXAMPLE.replace("devops:\n", 'devops:\n  business_hours: {time_zone: "W|X"}\n', 1)
    (line,) = _lines(make_teams, {"example.yaml": text})
    assert line.endswith("example.yaml: devops.business_hours.time_zone: 'W|X' is not a Windows time zone id Azure "
                         "DevOps accepts. Fix: use e.g. UTC or 'W. Europe Standard Time' (list: infra/time_zones.py)")


def test_a_value_with_a_bar_stays_in_the_problem_of_the_organization_url(make_teams):
    url = "https://dev.azure.com/a|b"
    assert url.split("/")[2] in PLATFORM
    text = "\n".join(f"  organization_url: {url}" if ln.strip().startswith("organization_url:") else ln
                     for ln in PLATFORM.splitlines()) + "\n"
    (line,) = _lines(make_teams, {"platform.yaml": text})
    assert line.endswith(f"platform.yaml: devops.organization_url: '{url}' has no organization, or more than one "
                         "path segment, after dev.azure.com/. Fix: use https://dev.azure.com/<organization> or "
                         "https://<organization>.visualstudio.com")
