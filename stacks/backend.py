"""Terraform state per stack: the platform's Azure storage container, or local state when none is set."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cdktf import App, AzurermBackend, LocalBackend, TerraformStack
from constructs import Construct

from infra.config import Platform

# Terraform runs in cdktf.out/stacks/<stack>/, which every synth replaces: local state lives three
# levels up, in the project root, where no synth touches it (and .gitignore keeps it out of git).
LOCAL_STATE_DIR = "../../.."
# Set by `mlops-kit synth` (absolute project root): with `--out elsewhere` the state path is computed from
# the stack's folder to that root, so local state never moves with --out. Unset (npx cdktf synth into
# ./cdktf.out): LOCAL_STATE_DIR.
STATE_DIR_CONTEXT = "mlops-kit:local-state-dir"


def local_state_path(name: str, scope: Construct | None = None) -> str:
    root = scope.node.try_get_context(STATE_DIR_CONTEXT) if scope is not None else None
    if scope is None or not root:
        return f"{LOCAL_STATE_DIR}/terraform.{name}.tfstate"
    stack_dir = Path(App.of(scope).outdir).resolve() / "stacks" / name
    return Path(os.path.relpath(Path(root).resolve(), stack_dir)).joinpath(f"terraform.{name}.tfstate").as_posix()


def use_backend(stack: TerraformStack, name: str, platform: Platform) -> None:
    state = platform.state
    if state is None:
        LocalBackend(stack, path=local_state_path(name, stack))
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
