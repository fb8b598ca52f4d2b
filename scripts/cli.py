"""`mlops-kit`: the operator's command line (typer + rich).

Exit codes (every command):
  0  success
  1  the command ran and found problems (failed policy checks, failed preflight checks, ...)
  2  user error: invalid config, unknown stack pattern or team, bad arguments; one line per problem
  3  a tool the command depends on failed or is missing (checkov crashed, synth failed), or an unexpected
     error: one line, and `--debug` (anywhere before `--`, or MLOPS_KIT_DEBUG=1) shows its traceback
  130  interrupted (Ctrl-C): one line `interrupted`
Each command imports its heavy dependencies (cdktf, checkov, azure-identity, requests) only when it
runs, so `mlops-kit validate` and `--help` stay fast: neither starts the jsii runtime.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
import typer.core
from rich.console import Console
from rich.table import Table

from scripts.deploy import DEFAULT_ATTEMPTS, DEFAULT_WAIT_SECONDS
from scripts.entry import (
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_TOOL_FAILURE,
    EXIT_USER_ERROR,
    describe,
    error,
    interrupted,
    teams_dir,
    user_errors,
    was_interrupted,
    watch_interrupts,
)
from scripts.package import package_command
from scripts.scan import scan_command

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help=__doc__.split("\n\n")[0], pretty_exceptions_show_locals=False
)
console = Console(stderr=True)
out = Console()

Teams = Annotated[
    Path | None, typer.Option("--teams", help="Folder with platform.yaml and <team>.yaml files (default: teams/)")
]


# ------------------------------------------------------------------ shared helpers
def _load(teams: Path | None, warn: bool = False):
    """The org; `warn`: print its warnings (validate and synth do; the other commands stay quiet)."""
    from infra.config import load_org

    org = load_org(teams_dir(teams))
    for line in org.warnings if warn else []:
        print(f"warning: {line}", file=sys.stderr)
    return org


def _find_team(org, name: str):
    for tf in org.teams:
        if tf.team.name == name:
            return tf.team
    known = ", ".join(tf.team.name for tf in org.teams) or "none"
    error(f"{org.root}: team {name!r} not found. Fix: use one of: {known} (or create it: mlops-kit new-team {name})")
    raise typer.Exit(EXIT_USER_ERROR)


# ------------------------------------------------------------------ validate, synth
@app.command()
def validate(teams: Teams = None) -> None:
    """Validate teams/*.yaml (fast: no synth, no jsii)."""
    with user_errors():
        org = _load(teams, warn=True)
    names = ", ".join(tf.team.name for tf in org.teams) or "no teams"
    out.print(f"[green]ok[/green] {org.root}/platform.yaml and {len(org.teams)} team file(s): {names}", soft_wrap=True)


@app.command()
def synth(
    patterns: Annotated[
        list[str] | None, typer.Argument(help="Stack name globs, e.g. 'example-*' (default: all)")
    ] = None,
    teams: Teams = None,
    team: Annotated[list[str] | None, typer.Option(
        "--team", help="Exactly this team's stacks (repeatable); same as the pattern team:NAME")] = None,
    outdir: Annotated[Path, typer.Option(
        "--out", help="Output folder: new, empty, or a previous cdktf output (nothing else is replaced)")] = Path("cdktf.out"),
) -> None:
    """Synthesize the stacks to Terraform JSON and print a per-stack summary."""
    from scripts.package import require_package
    from scripts.synth import check_outdir
    from scripts.synth import synth as run_synth
    from stacks import stack_plan, stack_teams
    from stacks.selection import TEAM_PREFIX, parse_patterns, select, spanning_globs

    chosen = [*(parse_patterns(",".join(patterns)) or [] if patterns else []), *(TEAM_PREFIX + t for t in team or [])]
    with user_errors():
        check_outdir(outdir, [Path.cwd(), teams_dir(teams)])  # before the config: a refused --out costs nothing
        org = _load(teams, warn=True)
        for name in team or []:
            _find_team(org, name)  # `--team nope`: one line naming the teams there are
        plan = stack_plan(org)
        selected = set(select([p.name for p in plan], chosen or None, stack_teams(plan)))  # fails before jsii
        if any(p.kind == "env" for p in plan if p.name in selected):
            require_package()  # missing or stale: one line naming `mlops-kit package`, before jsii starts
        for line in spanning_globs([p.name for p in plan], chosen, stack_teams(plan)):
            print(f"warning: {line}", file=sys.stderr)
        with console.status("synth") as status:
            summaries, seconds = run_synth(org, outdir, chosen or None, progress=lambda msg: status.update(msg))
    table = Table(title=f"cdktf synth -> {outdir}/ ({seconds:.1f} s)")
    for col in ("stack", "resources", "state", "largest resource types"):
        table.add_column(col, justify="right" if col == "resources" else "left")
    for s in summaries:
        top = ", ".join(f"{n} {t.removeprefix('azurerm_').removeprefix('azuredevops_')}"
                        for t, n in sorted(s.by_type.items(), key=lambda kv: -kv[1])[:3])
        table.add_row(s.name, str(s.resources), s.backend, top)
    out.print(table)


# ------------------------------------------------------------------ package
# The one command that runs pip (scripts/package.py); synth only checks its output.
app.command("package")(package_command)


# ------------------------------------------------------------------ new-team
# The flag for each subnet field of the config's Network model (a test keeps this complete).
SUBNET_FLAGS = {"private_endpoint_subnet_id": "--private-endpoint-subnet", "compute_subnet_id": "--compute-subnet",
                "function_subnet_id": "--function-subnet"}


def _env_map(values: list[str] | None, flag: str, envs: list[str], allow_all: bool) -> dict[str, str]:
    """`ENV=VALUE` items (or a bare VALUE for every environment when `allow_all`) -> {env: value}."""
    result: dict[str, str] = {}
    for item in values or []:
        env, sep, value = item.partition("=")
        if not sep and allow_all:
            result.update(dict.fromkeys(envs, item))
        elif not sep or env not in ("dev", "staging", "prod"):
            error(f"new-team: {flag} {item!r}: expected ENV=VALUE with ENV dev, staging or prod. "
                   f"Fix: e.g. {flag} prod=<value>")
            raise typer.Exit(EXIT_USER_ERROR)
        else:
            result[env] = value
    return result


@app.command("new-team")
def new_team(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Team name: 2-32 lowercase letters, digits, hyphens; starts with a letter")],
    display_name: Annotated[str | None, typer.Option("--display-name", help="Human-readable team name")] = None,
    cost_center: Annotated[str | None, typer.Option("--cost-center", help="Cost center (tagged on every resource)")] = None,
    data_scientists: Annotated[str | None, typer.Option("--data-scientists", help="Entra group object id")] = None,
    app_developers: Annotated[str | None, typer.Option("--app-developers", help="Entra group object id")] = None,
    approvers: Annotated[str | None, typer.Option("--approvers", help="Entra group object id (needed with prod)")] = None,
    dev_subscription: Annotated[str | None, typer.Option("--dev-subscription", help="Subscription id of dev")] = None,
    staging_subscription: Annotated[
        str | None, typer.Option("--staging-subscription", help="Subscription id of staging (omit: no staging)")
    ] = None,
    prod_subscription: Annotated[
        str | None, typer.Option("--prod-subscription", help="Subscription id of prod (omit: no prod)")
    ] = None,
    network: Annotated[list[str] | None, typer.Option(
        "--network", metavar="[ENV=]MODE", help="public|private for every environment, or ENV=public|private (repeatable)")] = None,
    pe_subnet: Annotated[list[str] | None, typer.Option(
        "--private-endpoint-subnet", metavar="ENV=ID", help="ENV=<subnet resource id>, for private environments (repeatable)")] = None,
    compute_subnet: Annotated[list[str] | None, typer.Option(
        "--compute-subnet", metavar="ENV=ID", help="ENV=<subnet resource id>, for private environments (repeatable)")] = None,
    function_subnet: Annotated[list[str] | None, typer.Option(
        "--function-subnet", metavar="ENV=ID",
        help="ENV=<subnet delegated to Microsoft.App/environments>, for private environments (repeatable)")] = None,
    teams: Teams = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Never prompt: every value comes from the flags")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing teams/NAME.yaml")] = False,
) -> None:
    """Create teams/NAME.yaml (prompts for what the flags leave out), validated with the whole org.

    The file is written only if platform.yaml, every team and the new one validate together; otherwise nothing is written and the problems are printed, one line each (exit 2).
    """
    from scripts.new_team import SUBNET_FIELDS, EnvAnswers, TeamAnswers, create_team_file, team_path

    tdir = teams_dir(teams)
    with user_errors():
        team_path(tdir, name)  # reject a bad name before asking anything
    subs = {"dev": dev_subscription, "staging": staging_subscription, "prod": prod_subscription}
    values = {"--display-name": display_name, "--cost-center": cost_center,
              "--data-scientists": data_scientists, "--app-developers": app_developers}
    if yes:
        missing = [flag for flag, v in values.items() if not v]
        missing += ["--dev-subscription"] if not dev_subscription else []
        missing += ["--approvers"] if prod_subscription and not approvers else []
        for flag in missing:
            why = " (prod needs an approvers group)" if flag == "--approvers" else ""
            error(f"new-team: {flag}: missing{why}. Fix: pass {flag} <value>, or drop --yes to be asked")
        if missing:
            raise typer.Exit(EXIT_USER_ERROR)
    else:
        prompts = {"--display-name": "Display name", "--cost-center": "Cost center",
                   "--data-scientists": "Entra group object id of the data scientists",
                   "--app-developers": "Entra group object id of the app developers"}
        for flag, text in prompts.items():
            if not values[flag]:
                values[flag] = typer.prompt(text)
        for env in ("dev", "staging", "prod"):
            if not subs[env]:
                optional = env != "dev"
                answer = typer.prompt(f"Subscription id of {env}" + (" (empty: no such environment)" if optional else ""),
                                      default="" if optional else None, show_default=False)
                subs[env] = answer.strip() or None
        if subs["prod"] and not approvers:
            approvers = typer.prompt("Entra group object id of the prod approvers")
    envs = [e for e, s in subs.items() if s]
    modes = _env_map(network, "--network", envs, allow_all=True)
    given = {"private_endpoint_subnet_id": pe_subnet, "compute_subnet_id": compute_subnet,
             "function_subnet_id": function_subnet}
    subnets = {f: _env_map(given.get(f), SUBNET_FLAGS[f], envs, allow_all=False) for f in SUBNET_FIELDS}
    env_answers = {}
    for env in envs:
        mode = modes.get(env) or ("public" if yes or network else typer.prompt(
            f"Network mode of {env} (public|private)", default="public"))
        chosen = {f: by_env[env] for f, by_env in subnets.items() if env in by_env}
        if mode == "private":
            for f in SUBNET_FIELDS:
                if f in chosen:
                    continue
                if not yes:
                    chosen[f] = typer.prompt(f"{f} of {env} (a subnet resource id)")
                else:
                    error(f"new-team: {SUBNET_FLAGS[f]}: {env} is private and needs its subnet. "
                           f"Fix: pass {SUBNET_FLAGS[f]} {env}=<subnet resource id>")
                    raise typer.Exit(EXIT_USER_ERROR)
        env_answers[env] = EnvAnswers(subscription_id=subs[env] or "", network=mode, subnets=chosen)
    answers = TeamAnswers(
        name=name, display_name=values["--display-name"] or "", cost_center=values["--cost-center"] or "",
        data_scientists=values["--data-scientists"] or "", app_developers=values["--app-developers"] or "",
        approvers=approvers, environments=env_answers,
    )
    with user_errors():
        path, _org = create_team_file(tdir, answers, force=force)
    out.print(f"[green]created[/green] {path}", highlight=False, soft_wrap=True)
    out.print("Next steps:", highlight=False)
    t = f" --teams {tdir}" if teams else ""
    for step in (
        f"review {path} (every key: docs/configuration.md)",
        f"mlops-kit validate{t}",
        f"mlops-kit synth '{name}-*'{t}",
        f"mlops-kit preflight --team {name}{t}    (can your identity deploy it?)",
        f"mlops-kit diagram {name}{t}    (writes docs/teams/{name}.md)",
        f"open a pull request with {path}; after approval the kit's pipeline deploys '{name}-*'",
    ):
        out.print(f"  {step}", highlight=False, markup=False, soft_wrap=True)


# ------------------------------------------------------------------ preflight
@app.command()
def preflight(
    teams: Teams = None,
    team: Annotated[
        list[str] | None, typer.Option("--team", help="Check only this team's subscriptions (repeatable)")
    ] = None,
    arm_url: Annotated[str | None, typer.Option(
        "--arm-url", envvar="MLOPS_KIT_ARM_URL",
        help="Azure Resource Manager base URL (default: https://management.azure.com)")] = None,
    devops_url: Annotated[str | None, typer.Option(
        "--devops-url", envvar="MLOPS_KIT_DEVOPS_URL",
        help="Azure DevOps organization URL (default: devops.organization_url of platform.yaml)")] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds to wait for each request")] = 10.0,
) -> None:
    """Check that your identity can deploy: tokens, subscriptions, providers, state storage, Azure DevOps.

    Exits 1 when any check fails; every failure comes with its fix. Run it before `npx cdktf deploy`.
    """
    from scripts import preflight as pf

    with user_errors():
        org = _load(teams)
        for name in team or []:
            _find_team(org, name)
    with console.status("preflight") as status:
        checks = pf.run_checks(org, credential=pf.default_credential(), arm_url=arm_url, devops_url=devops_url,
                               timeout=timeout, teams=team, progress=lambda msg: status.update(msg))
    style = {"passed": "green", "failed": "bold red", "skipped": "yellow"}
    table = Table(title="mlops-kit preflight")
    for col in ("check", "result", "detail", "fix"):
        table.add_column(col, overflow="fold")
    for c in checks:
        table.add_row(c.name, f"[{style[c.status]}]{c.status}[/]", c.detail, c.fix)
    Console().print(table)  # created here so COLUMNS is read now
    counts = {s: sum(c.status == s for c in checks) for s in ("passed", "failed", "skipped")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    if pf.failed(checks):
        error(f"preflight: {summary}. Fix: apply the fixes above, then run mlops-kit preflight again")
        raise typer.Exit(EXIT_FINDINGS)
    out.print(f"[green]ok[/green] preflight: {summary}", soft_wrap=True)


# ------------------------------------------------------------------ diagram
DIAGRAM_MARKER = "Generated by mlops-kit"  # in the first lines of every page `diagram` writes (infra/diagram.py)


@app.command()
def diagram(
    team: Annotated[str, typer.Argument(metavar="TEAM", help="Team name")],
    teams: Teams = None,
    outdir: Annotated[Path, typer.Option("--out", help="Folder for <team>.md")] = Path("docs/teams"),
    force: Annotated[bool, typer.Option("--force", help="Replace <team>.md even if the kit did not write it")] = False,
) -> None:
    """Write docs/teams/TEAM.md: the team's environment as a Mermaid diagram with links (prints the path).

    An existing TEAM.md is replaced only when an earlier `mlops-kit diagram` wrote it (or with --force).
    """
    from infra.diagram import wiki_page
    from scripts.writes import write_kit_file

    with user_errors():
        org = _load(teams)
    model = _find_team(org, team)
    with user_errors():
        path = write_kit_file(outdir / f"{team}.md", wiki_page(org, model, fence="github"), force=force,
                              marker=DIAGRAM_MARKER)
    out.print(str(path), highlight=False, markup=False, soft_wrap=True)


# ------------------------------------------------------------------ bench
# In the operator CLI on purpose: a platform team measures synth for its own org size (one stack vs all,
# 1 to 100 teams) before it decides how to split deploys, and docs/benchmarks.md is reproduced with it.
@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """Run the synth benchmark (scripts/bench.py); every argument is passed on, e.g. `bench -- --help`."""
    from scripts.bench import main as bench_main

    rc = bench_main(list(ctx.args))
    raise typer.Exit(rc if isinstance(rc, int) else 0)


# ------------------------------------------------------------------ deploy
@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def deploy(
    ctx: typer.Context,
    attempts: Annotated[
        int, typer.Option(help="Runs at most, while a run fails only on RBAC propagation (scripts/deploy.py)")
    ] = DEFAULT_ATTEMPTS,
    wait: Annotated[float, typer.Option(help="Seconds before the second run; doubles, up to 480")] = DEFAULT_WAIT_SECONDS,
) -> None:
    """`npx cdktf deploy` with every other argument, rerun after a pause only while it fails on Azure RBAC
    propagation (a role this deploy created is not effective yet), e.g. `deploy 'example-*' --auto-approve`."""
    from scripts.deploy import deploy as run_deploy

    raise typer.Exit(run_deploy(list(ctx.args), attempts=attempts, first_wait=wait))


# ------------------------------------------------------------------ scan
# The policy gate lives in scripts/scan.py; importing it does not import checkov (only a scan does).
app.command("scan")(scan_command)


DEBUG_FLAG, DEBUG_VAR = "--debug", "MLOPS_KIT_DEBUG"


@functools.cache
def _click_command() -> typer.core.TyperGroup:
    """The click command typer builds from `app` (built once: in-process callers such as the fuzz test reuse it)."""
    command = typer.main.get_command(app)
    assert isinstance(command, typer.core.TyperGroup)  # several commands: a group (typer vendors its own click)
    return command


def _split_debug(argv: list[str]) -> tuple[list[str], bool]:
    """Remove `--debug` (anywhere before a `--`); the rest is passed on unchanged."""
    end = argv.index("--") if "--" in argv else len(argv)
    head = argv[:end]
    return [a for a in head if a != DEBUG_FLAG] + argv[end:], DEBUG_FLAG in head


def main(argv: list[str] | None = None) -> None:
    """Console entry point: every failure is one `error: ... Fix: ...` line; never a traceback without --debug."""
    args, debug = _split_debug(list(sys.argv[1:] if argv is None else argv))
    debug = debug or os.environ.get(DEBUG_VAR, "") not in ("", "0")
    watch_interrupts()
    try:
        rc = _click_command().main(args=args, standalone_mode=False, prog_name="mlops-kit")
    except typer.TyperException as e:  # click's usage errors, as vendored by typer
        ctx = getattr(e, "ctx", None)
        if type(e).__name__ == "NoArgsIsHelpError":
            print(e.format_message())
            sys.exit(EXIT_USER_ERROR)
        cmd = ctx.command_path if ctx is not None else "mlops-kit"
        message = " ".join(e.format_message().split())[:300].rstrip(".")
        error(f"{cmd}: {message}. Fix: see {cmd} --help")
        sys.exit(getattr(e, "exit_code", EXIT_USER_ERROR))
    except typer.Abort as e:  # click turns EOF at a prompt into Abort
        if was_interrupted() or isinstance(e.__cause__, KeyboardInterrupt):
            interrupted()
        error("no answer (input ended at a prompt), nothing was written. Fix: pass every value as a flag with --yes")
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        interrupted()
    except Exception as e:  # noqa: BLE001 - the catch-all: one line, the traceback only with --debug
        if was_interrupted():  # Ctrl-C during synth: jsii's node process died first and raised its own error
            interrupted()
        if debug:
            raise
        if isinstance(e, OSError) and e.filename:
            error(f"{str(e.filename)[:200]}: {e.strerror or describe(e)}. "
                  "Fix: check the path and its permissions (rerun with --debug for the traceback)")
            sys.exit(EXIT_USER_ERROR)
        error(f"unexpected {describe(e)}. Fix: rerun with --debug for the traceback, and report it with the command")
        sys.exit(EXIT_TOOL_FAILURE)
    if rc == EXIT_INTERRUPTED:  # typer turns Ctrl-C inside a command into a silent exit code 130
        interrupted()
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()
