"""Terraform state per stack: the platform's Azure storage container, or local state when none is set."""

from __future__ import annotations

import sys

from cdktf import AzurermBackend, LocalBackend, TerraformStack

from infra.config import Platform

# Terraform runs in cdktf.out/stacks/<stack>/, which every synth replaces: local state lives three
# levels up, in the project root, where no synth touches it (and .gitignore keeps it out of git).
LOCAL_STATE_DIR = "../../.."


def local_state_path(name: str) -> str:
    return f"{LOCAL_STATE_DIR}/terraform.{name}.tfstate"


def use_backend(stack: TerraformStack, name: str, platform: Platform) -> None:
    state = platform.state
    if state is None:
        LocalBackend(stack, path=local_state_path(name))
        return
    AzurermBackend(
        stack,
        resource_group_name=state.resource_group,
        storage_account_name=state.storage_account,
        container_name=state.container,
        key=f"{name}.tfstate",
        subscription_id=state.subscription_id,
        tenant_id=platform.tenant_id,
        use_azuread_auth=True,  # Entra ID auth: the state account has shared keys off
    )


def announce_local_state(platform: Platform) -> None:
    if platform.state is None:
        print(
            "mlops-kit: no `state:` in teams/platform.yaml, so every stack uses local state "
            "(terraform.<stack>.tfstate in the project root); add it for shared remote state.",
            file=sys.stderr,
        )
