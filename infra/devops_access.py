"""Azure DevOps access for the pipeline-trigger functions: queue two pipelines, nothing else.

Each environment's trigger function authenticates with its managed identity. That identity is
entitled in the organization (Basic access), put in a project group of its own, and that group may
view the project and view + queue exactly the training and release pipelines. Azure DevOps
assigns pipeline permissions to groups only, hence the group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from constructs import Construct

from infra.bindings import azuredevops as ado

QUEUE_ONLY = {"ViewBuilds": "Allow", "QueueBuilds": "Allow", "ViewBuildDefinition": "Allow"}


@dataclass(frozen=True)
class TriggerAccessProps:
    team: str
    project_id: str
    trigger_principal_ids: Mapping[str, str]  # env -> object id of the trigger function's identity
    queueable: Mapping[str, ado.BuildDefinition]  # pipeline key -> definition (training, release)


class TriggerAccess(Construct):
    def __init__(self, scope: Construct, id_: str, props: TriggerAccessProps):
        super().__init__(scope, id_)
        entitlements = [
            ado.ServicePrincipalEntitlement(
                self, f"{env}_entitlement", origin_id=principal_id, origin="aad", account_license_type="basic"
            )
            for env, principal_id in sorted(props.trigger_principal_ids.items())
        ]
        self.group = ado.Group(
            self,
            "group",
            scope_=props.project_id,
            display_name=f"{props.team} pipeline triggers",
            description="mlops-kit: the event-driven trigger functions; may queue training and release only",
            members=[e.descriptor for e in entitlements],
        )
        ado.ProjectPermissions(
            self,
            "project_read",
            project_id=props.project_id,
            principal=self.group.id,
            permissions={"GENERIC_READ": "Allow"},
        )
        for key, definition in sorted(props.queueable.items()):
            ado.BuildDefinitionPermissions(
                self,
                f"{key}_queue",
                project_id=props.project_id,
                principal=self.group.id,
                build_definition_id=definition.id,
                permissions=QUEUE_ONLY,
            )
