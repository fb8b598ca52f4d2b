"""The team's repositories on `main`: two team repos seeded once, and the kit's templates repo.

- `<team>-model` (data scientists) and `<team>-app` (app developers) receive the seeded files
  (pipeline entry points, READMEs, starter code, contract files) ONCE. The team owns them from then
  on: Terraform ignores later content changes (`ignore_changes = [content, commit_message]`), so a
  kit upgrade never pushes to a team's main, where the min-reviewers policy refuses direct pushes
  (TF402455). Branch policies are created after the seeded files (`depends_on`) for the same reason.
- `mlops-templates` holds the kit-owned pipeline logic that the team pipelines `extends`
  (`resources.repositories` + `extends: template: ...@templates`, the Azure/mlops-templates pattern).
  Terraform keeps it exactly as the kit renders it (a kit upgrade updates it in place), it has no
  reviewer policy, and project contributors may read it but not push to it, so the required-template
  checks on the protected connections and environments mean "runs the kit's logic from main".

Provider facts (microsoft/azuredevops v1.16.0, `internal/service/git/`):
- `resource_git_repository.go`: a Clean init pushes `/README.md` (content: the project name) to
  `default_branch`, or to `refs/heads/master` when none is set; `default_branch` is therefore set
  to main, and `initialization` is ignored after creation (a changed init would force a new repo).
- `resource_git_repository_file.go`: create refuses an existing file ("Refusing to overwrite existing
  file") unless `overwrite_on_create`; that is set only for README.md, the one file the init wrote.
Every kit commit message carries `***NO_CI***`, so seeding starts no CI run.
Repositories are `prevent_destroy`: their history is the team's work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from infra.bindings import azuredevops as ado
from infra.plan import TEMPLATES, RepoPlan
from infra.suppressions import Reasons, suppress

NO_CI = "***NO_CI***"  # Azure Repos/Pipelines skip CI for a push whose commit message contains this
INIT_WRITES = ("README.md",)  # files the Clean initialization commits (resource_git_repository.go)
REPO_LIFECYCLE = TerraformResourceLifecycle(prevent_destroy=True, ignore_changes=["initialization"])
SEED_ONCE = TerraformResourceLifecycle(ignore_changes=["content", "commit_message"])
# Project contributors on the templates repo: read, never write (so `extends` means the kit's template).
READ_ONLY = {
    "GenericContribute": "Deny",
    "ForcePush": "Deny",
    "CreateBranch": "Deny",
    "CreateTag": "Deny",
    "ManageNote": "Deny",
    "PolicyExempt": "Deny",
    "EditPolicies": "Deny",
    "ManagePermissions": "Deny",
    "RenameRepository": "Deny",
    "DeleteRepository": "Deny",
    "PullRequestContribute": "Deny",
    "PullRequestBypassPolicy": "Deny",
}


def commit_message(path: str) -> str:
    return f"mlops-kit: seed {path} {NO_CI}"


@dataclass(frozen=True)
class ReposProps:
    project_id: str
    repos: Sequence[RepoPlan]  # the plan's repos: each is created, seeded with its `files` entry
    files: Mapping[str, Mapping[str, str]]  # repo key ("model", "app", "templates") -> {path: content}
    contributors_group: str | None = None  # descriptor of the project's Contributors group (templates read-only)


class TeamRepos(Construct):
    """All of the project's kit-created repositories, seeded on their default branch."""

    def __init__(self, scope: Construct, id_: str, props: ReposProps):
        super().__init__(scope, id_)
        self.repositories: dict[str, ado.GitRepository] = {}
        self.files: dict[str, list[ado.GitRepositoryFile]] = {}
        for plan in props.repos:
            repo = ado.GitRepository(
                self,
                plan.key,
                project_id=props.project_id,
                name=plan.name,
                initialization=ado.GitRepositoryInitialization(init_type="Clean"),
                default_branch=plan.default_branch,
                lifecycle=REPO_LIFECYCLE,
            )
            self.repositories[plan.key] = repo
            if plan.kit_owned:
                suppress(repo, Reasons.TEMPLATES_UNREVIEWED)  # CKV2_ADO_1, CKV2_MLK_3, CKV2_MLK_4
            self.files[plan.key] = [
                ado.GitRepositoryFile(
                    self,
                    f"{plan.key}_file_{_construct_id(path)}",
                    repository_id=repo.id,
                    file=path,
                    content=literal(content),
                    branch=plan.default_branch,
                    commit_message=commit_message(path),
                    overwrite_on_create=path in INIT_WRITES,  # replace the init's README, nothing else
                    lifecycle=None if plan.kit_owned else SEED_ONCE,
                )
                for path, content in sorted(props.files.get(plan.key, {}).items())
            ]
        if TEMPLATES in self.repositories and props.contributors_group:
            ado.GitPermissions(
                self,
                "templates_read_only",
                project_id=props.project_id,
                repository_id=self.repositories[TEMPLATES].id,
                principal=props.contributors_group,
                permissions=READ_ONLY,
                replace=False,  # merge with the defaults (GenericRead stays allowed)
            )


@dataclass(frozen=True)
class BranchPoliciesProps:
    project_id: str
    repository: ado.GitRepository
    build_definition: ado.BuildDefinition
    min_reviewers: int
    branch: str  # the protected branch (the repo's default branch, from the plan)
    seeded: tuple[ado.GitRepositoryFile, ...] = ()  # created first: once the policy exists, pushes to main fail


class MainBranchPolicies(Construct):
    """Reviews and a green CI build before anything reaches main."""

    def __init__(self, scope: Construct, id_: str, props: BranchPoliciesProps):
        super().__init__(scope, id_)
        scope_main = dict(repository_id=props.repository.id, repository_ref=props.branch, match_type="Exact")
        after_seed = list(props.seeded) or None
        ado.BranchPolicyMinReviewers(
            self,
            "min_reviewers",
            project_id=props.project_id,
            enabled=True,
            blocking=True,
            settings=ado.BranchPolicyMinReviewersSettings(
                reviewer_count=props.min_reviewers,
                submitter_can_vote=False,
                last_pusher_cannot_approve=True,
                on_push_reset_approved_votes=True,
                allow_completion_with_rejects_or_waits=False,
                scope=[ado.BranchPolicyMinReviewersSettingsScope(**scope_main)],
            ),
            depends_on=after_seed,
        )
        ado.BranchPolicyBuildValidation(
            self,
            "build_validation",
            project_id=props.project_id,
            enabled=True,
            blocking=True,
            settings=ado.BranchPolicyBuildValidationSettings(
                build_definition_id=props.build_definition.id,
                display_name="CI must pass",
                valid_duration=720,
                queue_on_source_update_only=False,
                scope=[ado.BranchPolicyBuildValidationSettingsScope(**scope_main)],
            ),
            depends_on=after_seed,
        )


def literal(text: str) -> str:
    """`text` as a Terraform string literal: `${` and `%{` would otherwise start an interpolation or a
    directive (pipeline YAML is full of `${{ }}`). cdktf's Fn.raw_string also escapes quotes and
    backslashes, which is right for HCL output and wrong for the JSON the kit synthesizes."""
    return text.replace("${", "$${").replace("%{", "%%{")


def _construct_id(path: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in path)
