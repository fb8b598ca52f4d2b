"""Azure DevOps environments dev/staging/prod and the checks that gate them.

- prod: approval by the team's approvers group (minimum approvers from config, the requester
  cannot approve, instructions, timeout) and an exclusive lock (one deployment at a time);
- staging and prod: branch control, only `refs/heads/main`, with branch protection verified;
- business hours on prod when configured;
- staging and prod: a required-template check, when the team pipelines extend the kit's templates:
  only a run whose YAML extends one of the kit's templates from `mlops-templates@main` may deploy.
Checks live on the environment, so every pipeline that deploys there is gated the same way.

Approvers are Azure DevOps identities: `azuredevops_group.group_id` (the identity's local id), not
the Entra object id (`origin_id`), which the Checks API rejects with "The following identities are
invalid" (provider issues #815, #864; `approvers` is validated as a UUID in resource_check_approval.go).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from constructs import Construct

from infra.bindings import azuredevops as ado

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Approval:
    approver_ids: Sequence[str]  # Azure DevOps identity ids (`azuredevops_group.group_id`), never Entra object ids
    minimum_approvers: int
    timeout_minutes: int
    instructions: str


@dataclass(frozen=True)
class BusinessHours:
    start: str
    end: str
    time_zone: str
    days: Sequence[str]


@dataclass(frozen=True)
class TemplateGate:
    """Resources of an environment may only be used by runs that extend one of `paths` from `repository`."""

    repository: str  # "<project>/<repository>" as the Checks API names an Azure Repos repository
    ref: str
    paths: Mapping[str, Sequence[str]]  # kit env name -> template paths the pipelines using it extend


def require_templates(
    scope: Construct, id_: str, gate: TemplateGate | None, env: str, *, project_id: str, target_id: str, kind: str
) -> ado.CheckRequiredTemplate | None:
    """A required-template check on one environment or connection; None when nothing extends a template."""
    paths = sorted(set(gate.paths.get(env, ()))) if gate else []
    if not gate or not paths:
        return None
    return ado.CheckRequiredTemplate(
        scope,
        id_,
        project_id=project_id,
        target_resource_id=target_id,
        target_resource_type=kind,
        required_template=[
            ado.CheckRequiredTemplateRequiredTemplate(
                repository_type="azuregit", repository_name=gate.repository, repository_ref=gate.ref, template_path=p
            )
            for p in paths
        ],
    )


@dataclass(frozen=True)
class EnvironmentsProps:
    project_id: str
    env_names: Sequence[str]
    approval: Approval | None  # None only when the team has no prod
    business_hours: BusinessHours | None = None
    templates: TemplateGate | None = None


class GatedEnvironments(Construct):
    def __init__(self, scope: Construct, id_: str, props: EnvironmentsProps):
        super().__init__(scope, id_)
        self.environments: dict[str, ado.Environment] = {}
        for env in props.env_names:
            e = ado.Environment(
                self, env, project_id=props.project_id, name=env, description=f"mlops-kit: the team's {env} environment"
            )
            self.environments[env] = e
            target = dict(project_id=props.project_id, target_resource_id=e.id, target_resource_type="environment")
            if env in ("staging", "prod"):
                ado.CheckBranchControl(
                    self,
                    f"{env}_branch_control",
                    display_name="Only main deploys here",
                    allowed_branches="refs/heads/main",
                    verify_branch_protection=True,
                    ignore_unknown_protection_status=False,
                    **target,
                )
                require_templates(
                    self,
                    f"{env}_required_template",
                    props.templates,
                    env,
                    project_id=props.project_id,
                    target_id=e.id,
                    kind="environment",
                )
            if env == "prod":
                if props.approval is None:
                    raise ValueError("prod needs an approval (the config requires an approvers group)")
                a = props.approval
                ado.CheckApproval(
                    self,
                    "prod_approval",
                    approvers=list(a.approver_ids),
                    minimum_required_approvers=a.minimum_approvers,
                    requester_can_approve=False,
                    instructions=a.instructions,
                    timeout=a.timeout_minutes,
                    **target,
                )
                ado.CheckExclusiveLock(self, "prod_exclusive_lock", timeout=a.timeout_minutes, **target)
                if props.business_hours:
                    h = props.business_hours
                    ado.CheckBusinessHours(
                        self,
                        "prod_business_hours",
                        display_name="Deploy in business hours",
                        start_time=h.start,
                        end_time=h.end,
                        time_zone=h.time_zone,
                        **{day: day in h.days for day in WEEKDAYS},
                        **target,
                    )
