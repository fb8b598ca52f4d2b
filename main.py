"""cdktf entry point: load the teams' config and build the stacks. Nothing else lives here.

The one place `cdktf synth` reads the stack selection (MLOPS_KIT_STACKS or the `stacks` context);
`build_app` gets it as an argument.
"""

from pathlib import Path

from infra.config import load_org
from scripts.entry import stack_patterns, teams_dir, user_errors  # importing it also silences jsii's Node 20 banner
from scripts.package import synth_context
from stacks import build_app

with user_errors():
    org = load_org(teams_dir())  # a config mistake is reported before jsii starts
    package = synth_context()  # built by `mlops-kit package`; missing or stale: the env stacks fail in one line
    from cdktf import App  # jsii starts here

    from stacks.backend import STATE_DIR_CONTEXT
    from stacks.function_package import PACKAGE_CONTEXT

    app = App()
    app.node.set_context(STATE_DIR_CONTEXT, str(Path.cwd().resolve()))  # local state stays here with any --output
    app.node.set_context(PACKAGE_CONTEXT, package)
    build_app(org, app=app, patterns=stack_patterns(app)).synth()
