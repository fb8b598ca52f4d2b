"""The team project's wiki with one generated page, "How your environment works".

`ProjectWiki` creates the project wiki (type `projectWiki`) and the page `infra.diagram.plan_page` draws
from the team's plan (the same plan the devops stack builds the gates from).
Azure DevOps allows one project wiki per project: if someone already created it by opening Wiki in
the portal, import it (`terraform import <address of wiki> <wiki id>`) instead of creating a second one.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from infra.bindings.azuredevops import Wiki, WikiPage
from infra.diagram import PAGE_TITLE
from infra.repos import literal


@dataclass(frozen=True)
class ProjectWikiProps:
    project_id: str
    """`azuredevops_project.id` of the team's project."""
    content: str
    """Markdown of the page (normally `infra.diagram.plan_page(plan)`)."""
    wiki_name: str = "project.wiki"
    """Name of the project wiki; the portal names one `<project name>.wiki`, so pass that to match."""
    page_path: str = f"/{PAGE_TITLE}"
    """Wiki path of the page."""


class ProjectWiki(Construct):
    """The project wiki and its generated page; the page follows the config on every deployment."""

    def __init__(self, scope: Construct, id_: str, props: ProjectWikiProps):
        super().__init__(scope, id_)
        self.wiki = Wiki(self, "wiki", name=props.wiki_name, project_id=props.project_id, type="projectWiki")
        self.page = WikiPage(
            self,
            "page",
            project_id=props.project_id,
            wiki_id=self.wiki.id,
            path=props.page_path,
            content=literal(props.content),  # `${` in free text (a display name) must stay text
        )
