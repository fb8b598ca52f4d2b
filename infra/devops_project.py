"""The team's Azure DevOps project (private) and who belongs to it.

The config's Entra ID groups are referenced by their object id (`origin_id`), which makes them
known to the organization without copying members; they are added to the project's built-in
groups: data scientists and app developers to Contributors, approvers to Readers (they approve
deployments, they need not push code).
"""

from __future__ import annotations

from constructs import Construct

from infra.bindings import azuredevops as ado
from infra.interfaces import PROTECTED
from infra.plan import ProjectPlan

DevopsProjectProps = ProjectPlan  # the plan's project is this construct's props


class DevopsProject(Construct):
    """The project, its config groups (by Entra object id) and their built-in project groups."""

    def __init__(self, scope: Construct, id_: str, props: ProjectPlan):
        super().__init__(scope, id_)
        self.project = ado.Project(
            self,
            "project",
            name=props.name,
            description=props.description,
            visibility="private",
            version_control="Git",
            work_item_template="Agile",
            features=dict(props.features),
            lifecycle=PROTECTED,  # deleting a project deletes its repos, pipelines and history
        )
        pid = self.project.id
        self.entra_groups: dict[str, ado.Group] = {
            key: ado.Group(self, f"entra_{key}", origin_id=origin_id) for key, origin_id in props.groups.items()
        }
        self.contributors = ado.DataAzuredevopsGroup(self, "contributors", project_id=pid, name="Contributors")
        self.readers = ado.DataAzuredevopsGroup(self, "readers", project_id=pid, name="Readers")
        ado.GroupMembership(
            self,
            "contributors_members",
            group=self.contributors.descriptor,
            members=[self.entra_groups["data_scientists"].descriptor, self.entra_groups["app_developers"].descriptor],
            mode="add",  # keep members added by hand or by the project's creation
        )
        if "approvers" in self.entra_groups:
            ado.GroupMembership(
                self,
                "readers_members",
                group=self.readers.descriptor,
                members=[self.entra_groups["approvers"].descriptor],
                mode="add",
            )
