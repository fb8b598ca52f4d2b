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


def test_deployer_gets_data_access_to_the_state_container(example):
    """The azurerm backend uses Entra ID (use_azuread_auth): the deployer needs a data role on the container."""
    stack = example["platform-bootstrap"]
    (client,) = stack["data"]["azurerm_client_config"]
    (grant,) = stack["resource"]["azurerm_role_assignment"].values()
    (container,) = stack["resource"]["azurerm_storage_container"]
    assert grant["role_definition_name"] == "Storage Blob Data Contributor"
    assert grant["scope"] == "${azurerm_storage_container." + container + ".id}"  # the container, not the account
    assert grant["principal_id"] == "${data.azurerm_client_config." + client + ".object_id}"
    assert "principal_type" not in grant  # whoever deploys: a user or a service principal
    for name, other in example.items():  # the stacks that grant belongs to
        if name != "platform-bootstrap":
            assert other["terraform"]["backend"]["azurerm"]["use_azuread_auth"] is True
