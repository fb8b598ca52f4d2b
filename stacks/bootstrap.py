"""Stack `platform-bootstrap`: the storage that holds every other stack's Terraform state.

It keeps its own state locally (it cannot store state in storage it has not created yet): run it
once, commit nothing from it, and keep `terraform.platform-bootstrap.tfstate` (project root) safe.
The identity that runs it gets Storage Blob Data Contributor on the state container, which the
other stacks' Entra ID backend (`use_azuread_auth`) needs; other deployers: docs/deploy.md.
"""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from constructs import Construct

from infra import azurerm as az
from infra.config import Platform
from infra.identity import StateAccess, StateAccessProps
from infra.interfaces import PROTECTED, delete_lock
from infra.storage import SecureStorageProps, secure_storage_account
from infra.suppressions import Reasons, suppress
from stacks.backend import local_state_path
from stacks.providers import azurerm_provider

NAME = "platform-bootstrap"


class BootstrapStack(TerraformStack):
    def __init__(self, scope: Construct, platform: Platform):
        super().__init__(scope, NAME)
        state = platform.state
        assert state is not None, "the bootstrap stack is only built when platform.yaml has `state:`"
        location = state.location or platform.default_location
        LocalBackend(self, path=local_state_path(NAME, self))
        azurerm_provider(self, subscription_id=state.subscription_id, tenant_id=platform.tenant_id)
        rg = az.ResourceGroup(self, "resource_group", name=state.resource_group, location=location)
        account = secure_storage_account(
            self,
            "state_storage",
            SecureStorageProps(
                name=state.storage_account,
                resource_group_name=rg.name,
                location=location,
                private=False,  # agents and engineers reach it over Entra ID auth; no keys, no anonymous access
                replication="GZRS",  # state outlives a region outage
                versioning=True,
                soft_delete_days=30,
            ),
            lifecycle=PROTECTED,
        )
        container = az.StorageContainer(
            self, "state_container", name=state.container, storage_account_id=account.id,
            container_access_type="private", lifecycle=PROTECTED,
        )
        suppress(container, Reasons.STATE_CONTAINER_LOGS)
        delete_lock(self, "state_lock", account.id, "terraform-state")
        StateAccess(self, "state_access", StateAccessProps(container_id=container.id))
        TerraformOutput(self, "state_storage_account", value=account.name)
