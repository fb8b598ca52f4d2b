"""Azure DevOps environments dev/staging/prod and the checks that gate them.

- prod: approval by the team's approvers group (minimum approvers from config, the requester
  cannot approve, instructions, timeout) and an exclusive lock (one deployment at a time);
- staging and prod: branch control, only `refs/heads/main`, with branch protection verified;
- business hours on prod when configured;
- staging and prod: a required-template check, when the team pipelines extend the kit's templates:
  only a run whose YAML extends one of the kit's templates from `mlops-templates@main` may deploy.
Checks live on the environment, so every pipeline that deploys there is gated the same way.
Which gates an environment (or a service connection) gets is the plan's decision (`infra.plan`,
`EnvironmentPlan.gates`); `apply_gates` turns each plan gate into its check, here and in
infra/service_connections.py.

Approvers are Azure DevOps identities: `azuredevops_group.group_id` (the identity's local id), not
the Entra object id (`origin_id`), which the Checks API rejects with "The following identities are
invalid" (provider issues #815, #864; `approvers` is validated as a UUID in resource_check_approval.go).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from constructs import Construct

from infra.bindings import azuredevops as ado
from infra.plan import Approval, BranchControl, BusinessHours, EnvironmentPlan, ExclusiveLock, Gate, RequiredTemplate


@dataclass(frozen=True)
class CheckTarget:
    """What a check guards: an Azure DevOps environment or a service connection (`endpoint`)."""

    project_id: str
    resource_id: str
    kind: str  # "environment" or "endpoint"
    branch_control_name: str  # display name of the branch control check
    approver_ids: Sequence[str] = ()  # Azure DevOps identity ids (`azuredevops_group.group_id`), never Entra ids


def apply_gates(scope: Construct, prefix: str, gates: Sequence[Gate], target: CheckTarget) -> list[Construct]:
    """One check per plan gate, construct id `<prefix>_<gate kind>`; the plan decided which gates apply."""
    return [_check(scope, f"{prefix}_{gate.kind}", gate, target) for gate in gates]


def _check(scope: Construct, id_: str, gate: Gate, target: CheckTarget) -> Construct:
    on: dict[str, Any] = dict(
        project_id=target.project_id, target_resource_id=target.resource_id, target_resource_type=target.kind
    )
    match gate:
        case Approval():
            if not target.approver_ids:
                raise ValueError(f"{id_}: an approval needs the approvers group's Azure DevOps identity")
            return ado.CheckApproval(
                scope,
                id_,
                approvers=list(target.approver_ids),
                minimum_required_approvers=gate.minimum_approvers,
                requester_can_approve=False,
                instructions=gate.instructions,
                timeout=gate.timeout_minutes,
                **on,
            )
        case BranchControl():
            return ado.CheckBranchControl(
                scope,
                id_,
                display_name=target.branch_control_name,
                allowed_branches=gate.branch,
                verify_branch_protection=True,
                ignore_unknown_protection_status=False,
                **on,
            )
        case RequiredTemplate():
            templates = [
                ado.CheckRequiredTemplateRequiredTemplate(
                    repository_type="azuregit",
                    repository_name=gate.repository,
                    repository_ref=gate.ref,
                    template_path=p,
                )
                for p in gate.paths
            ]
            return ado.CheckRequiredTemplate(scope, id_, required_template=templates, **on)
        case ExclusiveLock():
            return ado.CheckExclusiveLock(scope, id_, timeout=gate.timeout_minutes, **on)
        case BusinessHours():
            on_day = gate.days.__contains__
            return ado.CheckBusinessHours(
                scope,
                id_,
                display_name="Deploy in business hours",
                start_time=gate.start,
                end_time=gate.end,
                time_zone=gate.time_zone,
                monday=on_day("monday"),
                tuesday=on_day("tuesday"),
                wednesday=on_day("wednesday"),
                thursday=on_day("thursday"),
                friday=on_day("friday"),
                saturday=on_day("saturday"),
                sunday=on_day("sunday"),
                **on,
            )


@dataclass(frozen=True)
class EnvironmentsProps:
    project_id: str
    environments: Sequence[EnvironmentPlan]
    approver_ids: Sequence[str] = ()  # the approvers group's Azure DevOps identity, for the plan's approvals


class GatedEnvironments(Construct):
    """One Azure DevOps environment per kit environment, behind the checks its plan lists."""

    def __init__(self, scope: Construct, id_: str, props: EnvironmentsProps):
        super().__init__(scope, id_)
        self.environments: dict[str, ado.Environment] = {}
        for env in props.environments:
            e = ado.Environment(
                self,
                env.name,
                project_id=props.project_id,
                name=env.name,
                description=f"mlops-kit: the team's {env.name} environment",
            )
            self.environments[env.name] = e
            target = CheckTarget(props.project_id, e.id, "environment", "Only main deploys here", props.approver_ids)
            apply_gates(self, env.name, env.gates, target)
