"""The kit's cross-resource Azure DevOps checks: CKV2_MLK_1 .. CKV2_MLK_4. See docs/policies.md.

Why Python graph checks, not checkov YAML: these rules join resources by reference (an approval's
`target_resource_id` is `${azuredevops_environment.<name>.id}`, a branch policy's
`settings.scope.repository_id` is `${azuredevops_git_repository.<name>.id}`) and then judge the joined
resource's nested values. checkov's YAML `connection` conditions match any edge between two types
(not the attribute that made it), report both ends, and flatten nested blocks differently with one
or several items (`settings.scope.repository_ref` vs `settings.scope.0.repository_ref`). A small
`BaseGraphCheck` subclass whose `run` walks checkov's graph (one graph per stack) gives one record
per judged resource, exact semantics and a reason in the report.

They plug into checkov's own graph registry for terraform (the one the terraform_json runner uses),
so `checkov --framework terraform_json --external-checks-dir policies` runs them too.

How an environment is classified (by its literal `name`, case-insensitive): `prod` or `*-prod` is
production; `staging` or `*-staging` is staging. The kit names its Azure DevOps environments `dev`,
`staging` and `prod` (infra/environments.py). A name the scan cannot read (an expression) fails:
the gate does not guess.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from checkov.common.checks_infra.registry import get_graph_checks_registry
from checkov.common.graph.checks_infra.base_check import BaseGraphCheck

from policies.mlk_common import blocks, guideline, is_false, is_true, is_unresolved, referenced_address, value

PROD = re.compile(r"^(?:.+-)?prod$", re.IGNORECASE)
STAGING = re.compile(r"^(?:.+-)?staging$", re.IGNORECASE)
MAIN = "refs/heads/main"

class Resource:
    """One resource vertex of checkov's graph: address, hclified config, and the vertex itself."""

    def __init__(self, vertex: dict[str, Any]):
        self.vertex = vertex
        self.type: str = vertex["resource_type"]
        self.address: str = vertex["id_"]
        config = vertex.get("config_", {}).get(self.type, {})
        self.conf: dict[str, Any] = next(iter(config.values()), {}) if isinstance(config, dict) else {}

    def get(self, key: str, default: Any = None) -> Any:
        return value(self.conf, key, default)

    @property
    def key(self) -> tuple[str, str]:
        return (self.vertex.get("file_path_", ""), self.address)


def resources(graph: Any) -> list[Resource]:
    """Every resource vertex, from a rustworkx (checkov's default) or a networkx graph."""
    networkx = type(graph).__module__.startswith("networkx")
    nodes: Iterable[Any] = graph.nodes(data=True) if networkx else graph.nodes()
    return [Resource(data) for _, data in nodes if data.get("block_type_") == "resource" and data.get("resource_type")]


class KitGraphCheck(BaseGraphCheck):
    """A graph check whose verdicts come from `evaluate` (Python) instead of a YAML solver."""

    def __init__(self, check_id: str, name: str, resource_types: list[str]):
        super().__init__()
        self.id = check_id
        self.name = name
        self.category = "GENERAL_SECURITY"
        self.resource_types = resource_types
        self.guideline = guideline(check_id)
        self.details: dict[tuple[str, str], list[str]] = {}
        """Why a resource failed, by (file path, address): the scan attaches them to the record."""

    def run(self, graph_connector: Any) -> tuple[list[dict], list[dict], list[dict]]:
        passed: list[dict] = []
        failed: list[dict] = []
        try:
            by_type: dict[str, list[Resource]] = {}
            for r in resources(graph_connector):
                by_type.setdefault(r.type, []).append(r)
            for subject, problems in self.evaluate(by_type):
                if problems:
                    self.details[subject.key] = problems
                    failed.append(subject.vertex)
                else:
                    passed.append(subject.vertex)
        except Exception:
            # checkov runs graph checks in a thread pool and drops their exceptions; log it, and let
            # `mlops-kit scan` (which wraps every check's run) fail closed on it.
            logging.exception("mlops-kit check %s crashed", self.id)
            raise
        return passed, failed, []

    def evaluate(self, by_type: dict[str, list[Resource]]) -> Iterable[tuple[Resource, list[str]]]:
        raise NotImplementedError


def _targets(check: Resource, env: Resource) -> bool:
    return (
        referenced_address(check.get("target_resource_id")) == env.address
        and check.get("target_resource_type") == "environment"
    )


def _env_kind(env: Resource, pattern: re.Pattern[str]) -> bool | None:
    """True/False when the name says; None when the name is an expression the scan cannot read."""
    name = env.get("name")
    if not isinstance(name, str) or is_unresolved(name):
        return None
    return bool(pattern.match(name.strip()))


def _count(v: Any) -> int:
    if isinstance(v, list):
        return len([x for x in v if x not in (None, "")])
    return 1 if isinstance(v, str) and v.strip() else 0


class ProdApproval(KitGraphCheck):
    """CKV2_MLK_1: a human approves every production deployment, and not the one who asked."""

    def __init__(self) -> None:
        super().__init__(
            "CKV2_MLK_1",
            "Prod Azure DevOps environment: an approval check with >= 1 approver, requester cannot approve",
            ["azuredevops_environment", "azuredevops_check_approval"],
        )

    def evaluate(self, by_type):
        approvals = by_type.get("azuredevops_check_approval", [])
        for env in by_type.get("azuredevops_environment", []):
            prod = _env_kind(env, PROD)
            if prod is False:
                continue
            if prod is None:
                yield env, [f"name {env.get('name')!r} is an expression: cannot tell whether this is prod"]
                continue
            mine = [a for a in approvals if _targets(a, env)]
            good = [a for a in mine if _count(a.get("approvers")) >= 1 and not is_true(a.get("requester_can_approve"))]
            if good:
                yield env, []
            elif not mine:
                yield env, [f"no azuredevops_check_approval targets {env.address} (target_resource_id = its id)"]
            else:
                yield env, [
                    f"{a.address}: "
                    + ("no approvers" if _count(a.get("approvers")) < 1 else "requester_can_approve must be false")
                    for a in mine
                ]


class BranchControlMainOnly(KitGraphCheck):
    """CKV2_MLK_2: only main deploys to staging and prod."""

    def __init__(self) -> None:
        super().__init__(
            "CKV2_MLK_2",
            "Staging and prod Azure DevOps environments: branch control check allowing only refs/heads/main",
            ["azuredevops_environment", "azuredevops_check_branch_control"],
        )

    def evaluate(self, by_type):
        controls = by_type.get("azuredevops_check_branch_control", [])
        for env in by_type.get("azuredevops_environment", []):
            kinds = (_env_kind(env, PROD), _env_kind(env, STAGING))
            if kinds == (False, False):
                continue
            if None in kinds:
                yield env, [f"name {env.get('name')!r} is an expression: cannot tell whether this is staging/prod"]
                continue
            mine = [c for c in controls if _targets(c, env)]
            good = [c for c in mine if _branches(c.get("allowed_branches")) == {MAIN}]
            if good:
                yield env, []
            elif not mine:
                yield env, [f"no azuredevops_check_branch_control targets {env.address}"]
            else:
                yield env, [f"{c.address}: allowed_branches must be exactly {MAIN!r}, got {c.get('allowed_branches')!r}"
                            for c in mine]


def _branches(v: Any) -> set[str] | None:
    if not isinstance(v, str) or is_unresolved(v):
        return None
    return {b.strip() for b in v.split(",") if b.strip()}


def _covers_main(policy: Resource, repo: Resource) -> bool:
    """Whether one of the policy's scopes applies to the repository's main branch.

    A scope names the repository by reference (`repository_id = ${azuredevops_git_repository.x.id}`)
    or, with no `repository_id`, covers every repository of the policy's project. The branch is
    `repository_ref = refs/heads/main` with match_type Exact (the default), or match_type
    DefaultBranch on a repository whose `default_branch` is literally refs/heads/main.
    """
    settings = blocks(policy.conf, "settings")
    for scope in (s for st in settings for s in blocks(st, "scope")):
        repo_id = value(scope, "repository_id")
        if repo_id is None:
            if policy.get("project_id") is None or policy.get("project_id") != repo.get("project_id"):
                continue
        elif referenced_address(repo_id) != repo.address:
            continue
        match_type = value(scope, "match_type", "Exact")
        if str(match_type).lower() == "exact" and value(scope, "repository_ref") == MAIN:
            return True
        if str(match_type).lower() == "defaultbranch" and repo.get("default_branch") == MAIN:
            return True
    return False


def _enforced(policy: Resource) -> list[str]:
    problems = []
    if is_false(policy.get("enabled")):
        problems.append(f"{policy.address}: enabled = false")
    if is_false(policy.get("blocking")):
        problems.append(f"{policy.address}: blocking = false (a warning, not a gate)")
    return problems


def _number(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


class MainMinReviewers(KitGraphCheck):
    """CKV2_MLK_3: two people review every change to a repository's main branch."""

    def __init__(self) -> None:
        super().__init__(
            "CKV2_MLK_3",
            "Git repository: main has a blocking minimum-reviewers policy with reviewer_count >= 2",
            ["azuredevops_git_repository", "azuredevops_branch_policy_min_reviewers"],
        )

    def evaluate(self, by_type):
        policies = by_type.get("azuredevops_branch_policy_min_reviewers", [])
        for repo in by_type.get("azuredevops_git_repository", []):
            mine = [p for p in policies if _covers_main(p, repo)]
            if not mine:
                yield repo, [f"no azuredevops_branch_policy_min_reviewers covers {MAIN} of {repo.address}"]
                continue
            problems = [_enforced(p) + _reviewer_count(p) for p in mine]
            yield repo, ([] if any(not p for p in problems) else [x for p in problems for x in p])


def _reviewer_count(policy: Resource) -> list[str]:
    settings = blocks(policy.conf, "settings")
    count = _number(value(settings[0], "reviewer_count")) if settings else None
    if count is None or count < 2:
        raw = value(settings[0], "reviewer_count") if settings else None
        return [f"{policy.address}: settings.reviewer_count must be >= 2, got {raw!r}"]
    return []


class MainBuildValidation(KitGraphCheck):
    """CKV2_MLK_4: a pipeline must pass before anything merges into main."""

    def __init__(self) -> None:
        super().__init__(
            "CKV2_MLK_4",
            "Git repository: main has a blocking build-validation policy",
            ["azuredevops_git_repository", "azuredevops_branch_policy_build_validation"],
        )

    def evaluate(self, by_type):
        policies = by_type.get("azuredevops_branch_policy_build_validation", [])
        for repo in by_type.get("azuredevops_git_repository", []):
            mine = [p for p in policies if _covers_main(p, repo)]
            if not mine:
                yield repo, [f"no azuredevops_branch_policy_build_validation covers {MAIN} of {repo.address}"]
                continue
            problems = [_enforced(p) for p in mine]
            yield repo, ([] if any(not p for p in problems) else [x for p in problems for x in p])


CHECKS: tuple[KitGraphCheck, ...] = (ProdApproval(), BranchControlMainOnly(), MainMinReviewers(), MainBuildValidation())


def register() -> None:
    """Add the checks to checkov's terraform graph registry (once; re-imports are no-ops)."""
    registry = get_graph_checks_registry("terraform")
    present = {c.id for c in registry.checks}
    registry.checks.extend(c for c in CHECKS if c.id not in present)


register()
