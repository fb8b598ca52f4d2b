"""cdktf entry point: load the teams' config and build the stacks. Nothing else lives here."""

from infra.config import load_org
from scripts.entry import teams_dir, user_errors
from stacks import build_app

with user_errors():
    build_app(load_org(teams_dir())).synth()
