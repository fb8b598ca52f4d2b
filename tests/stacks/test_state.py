"""State: without `state:` in platform.yaml every stack uses local state and says so once."""

from __future__ import annotations

import yaml

from tests.conftest import TEAMS, synth_dir


def test_local_state_without_backend_settings(make_teams, tmp_path, capsys):
    platform = yaml.safe_load((TEAMS / "platform.yaml").read_text())
    del platform["state"]
    teams = make_teams({"platform.yaml": yaml.safe_dump(platform)})
    out = synth_dir(teams, tmp_path / "out")
    assert "platform-bootstrap" not in out  # nothing to bootstrap
    for name, stack in out.items():
        # outside cdktf.out/, which every synth replaces
        assert stack["terraform"]["backend"] == {"local": {"path": f"../../../terraform.{name}.tfstate"}}
    notes = [x for x in capsys.readouterr().err.splitlines() if "local state" in x]
    assert len(notes) == 1
