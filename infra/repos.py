"""The team's two repositories, seeded on their default branch, with main protected.

`<team>-model` (data scientists) and `<team>-app` (app developers) start Clean and receive the
seeded files (pipelines, READMEs, contract check) in the kit's commit. Branch policies on main:
at least N reviewers, the last pusher cannot approve, votes reset on push, and the repo's CI
pipeline must pass (build validation).

Who owns a seeded file afterwards:
- the kit owns the pipelines (`pipelines/`) and the contract checker (`contract/contract_check.py`
  and its schema): Terraform keeps them as the kit renders them, so a kit upgrade reaches every
  team and a pipeline cannot quietly lose its contract check;
- the team owns everything else (starter code, READMEs, the contract files, sample data): the kit
  writes it once and ignores later edits (`ignore_changes = [content]`).
Repositories are `prevent_destroy`: their history is the team's work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from infra.bindings import azuredevops as ado
from infra.interfaces import PROTECTED

MAIN = "refs/heads/main"
KIT_OWNED = ("pipelines/", "contract/contract_check.py", "contract/model-contract.schema.json")
SEED_ONCE = TerraformResourceLifecycle(ignore_changes=["content", "commit_message"])


def kit_owned(path: str) -> bool:
    return path.startswith(KIT_OWNED)


def repository_name(team: str, key: str) -> str:
    return f"{team}-{key}"


@dataclass(frozen=True)
class ReposProps:
    team: str
    project_id: str
    files: Mapping[str, Mapping[str, str]]  # repo key ("model", "app") -> {path: content}


class TeamRepos(Construct):
    def __init__(self, scope: Construct, id_: str, props: ReposProps):
        super().__init__(scope, id_)
        self.repositories: dict[str, ado.GitRepository] = {}
        for key, files in props.files.items():
            repo = ado.GitRepository(
                self,
                key,
                project_id=props.project_id,
                name=repository_name(props.team, key),
                initialization=ado.GitRepositoryInitialization(init_type="Clean"),
                lifecycle=PROTECTED,
            )
            self.repositories[key] = repo
            for path, content in sorted(files.items()):
                ado.GitRepositoryFile(
                    self,
                    f"{key}_file_{_construct_id(path)}",
                    repository_id=repo.id,
                    file=path,
                    content=literal(content),
                    branch=MAIN,
                    commit_message=f"mlops-kit: seed {path}",
                    overwrite_on_create=False,  # never clobber a file the team already has
                    lifecycle=None if kit_owned(path) else SEED_ONCE,
                )


@dataclass(frozen=True)
class BranchPoliciesProps:
    project_id: str
    repository: ado.GitRepository
    build_definition: ado.BuildDefinition
    min_reviewers: int


class MainBranchPolicies(Construct):
    """Reviews and a green CI build before anything reaches main."""

    def __init__(self, scope: Construct, id_: str, props: BranchPoliciesProps):
        super().__init__(scope, id_)
        scope_main = dict(repository_id=props.repository.id, repository_ref=MAIN, match_type="Exact")
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
        )


def literal(text: str) -> str:
    """`text` as a Terraform string literal: `${` and `%{` would otherwise start an interpolation or a
    directive (pipeline YAML is full of `${{ }}`). cdktf's Fn.raw_string also escapes quotes and
    backslashes, which is right for HCL output and wrong for the JSON the kit synthesizes."""
    return text.replace("${", "$${").replace("%{", "%%{")


def _construct_id(path: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in path)
