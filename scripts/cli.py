"""`mlops-kit`: the operator's command line (typer + rich).

Exit codes (every command):
  0  success
  1  the command ran and found problems (failed policy checks, failed preflight checks, ...)
  2  user error: invalid config, unknown stack pattern, bad arguments; one line per problem
  3  a tool the command depends on failed (checkov crashed, synth failed)
Each command imports its heavy dependencies (cdktf, checkov, azure-identity) only when it runs,
so `mlops-kit validate` and `--help` stay fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from scripts.entry import EXIT_USER_ERROR, teams_dir, user_errors

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.split("\n\n")[0])
console = Console(stderr=True)
out = Console()

TEAMS_OPTION = typer.Option(None, "--teams", help="Folder with platform.yaml and <team>.yaml files [default: teams/]")


def _load(teams: Path | None):
    from infra.config import load_org

    return load_org(teams or teams_dir())


@app.command()
def validate(teams: Path | None = TEAMS_OPTION) -> None:
    """Validate teams/*.yaml (fast: no synth, no jsii)."""
    with user_errors():
        org = _load(teams)
    names = ", ".join(tf.team.name for tf in org.teams) or "no teams"
    out.print(f"[green]ok[/green] {org.root}/platform.yaml and {len(org.teams)} team file(s): {names}")


@app.command()
def synth(
    patterns: list[str] | None = typer.Argument(None, help="Stack name globs, e.g. 'example-*' (default: all)"),
    teams: Path | None = TEAMS_OPTION,
    outdir: Path = typer.Option(Path("cdktf.out"), "--out", help="Output folder"),
) -> None:
    """Synthesize the stacks to Terraform JSON and print a per-stack summary."""
    from scripts.synth import synth as run_synth
    from stacks.selection import parse_patterns

    with user_errors():
        org = _load(teams)
        with console.status("synth") as status:
            summaries, seconds = run_synth(
                org, outdir, parse_patterns(",".join(patterns)) if patterns else None,
                progress=lambda msg: status.update(msg),
            )
    table = Table(title=f"cdktf synth -> {outdir}/ ({seconds:.1f} s)")
    for col in ("stack", "resources", "state", "largest resource types"):
        table.add_column(col, justify="right" if col == "resources" else "left")
    for s in summaries:
        top = ", ".join(f"{n} {t.removeprefix('azurerm_').removeprefix('azuredevops_')}"
                        for t, n in sorted(s.by_type.items(), key=lambda kv: -kv[1])[:3])
        table.add_row(s.name, str(s.resources), s.backend, top)
    out.print(table)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(EXIT_USER_ERROR)


if __name__ == "__main__":
    main()
