"""The `mlops-kit` command line: help everywhere, exit codes, one-line errors, lazy imports, bench, scan."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest
from typer.main import get_command

from scripts import cli as cli_module
from scripts.cli import app
from tests.conftest import REPO, TEAMS

COMMANDS = sorted(get_command(app).commands)


def run_main(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The console entry point (`scripts.cli:main`) in a fresh interpreter, as `mlops-kit` runs it."""
    return subprocess.run([sys.executable, "-m", "scripts.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env=env)


def test_every_command_is_registered():
    assert COMMANDS == ["bench", "deploy", "diagram", "new-team", "package", "preflight", "scan", "synth", "validate"]


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_help_everywhere(cli, command):
    result = cli(*command, "--help")
    assert result.exit_code == 0, result.output
    assert f"Usage: root {' '.join(command)}".rstrip() in result.stdout


def test_exit_codes_are_documented_in_the_module_docstring():
    doc = cli_module.__doc__ or ""
    for line in ("0  success", "1  the command ran and found problems", "2  user error", "3  a tool the command"):
        assert line in doc


def test_usage_mistakes_are_one_line_and_exit_2():
    proc = run_main("new-team")
    assert proc.returncode == 2
    assert proc.stderr == ("error: mlops-kit new-team: Missing argument 'NAME'. "
                           "Fix: see mlops-kit new-team --help\n")
    proc = run_main("validate", "--no-such-flag")
    assert proc.returncode == 2
    assert proc.stderr == "error: mlops-kit validate: No such option: --no-such-flag. Fix: see mlops-kit validate --help\n"


def test_no_command_prints_help_and_exits_2():
    proc = run_main()
    assert proc.returncode == 2
    assert "new-team" in proc.stdout and "preflight" in proc.stdout


def test_config_errors_are_one_line_each_without_traceback(cli, make_teams):
    teams = make_teams({"example.yaml": "name: example\ncost_center: ''\nbogus: 1\n"})
    result = cli("validate", "--teams", teams)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert all(ln.startswith(f"error: {teams}/example.yaml: ") and ". Fix: " in ln for ln in lines), lines
    assert f"error: {teams}/example.yaml: bogus: unknown key. Fix: remove it or check its spelling " \
           "(see docs/configuration.md)" in lines
    assert "Traceback" not in result.output


def test_validate_and_help_never_start_jsii():
    """`validate` and `--help` must not import cdktf (which starts the jsii runtime) or the Azure SDK."""
    probe = (
        "import sys\n"
        "from scripts.cli import main\n"
        "sys.argv = ['mlops-kit', *sys.argv[1:]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "heavy = sorted(m for m in ('cdktf', 'jsii', 'constructs', 'azure.identity', 'requests', 'checkov')\n"
        "               if m in sys.modules)\n"
        "print('exit', code, 'heavy', heavy, file=sys.stderr)\n"
    )
    for args in (["validate", "--teams", str(TEAMS)], ["--help"], ["new-team", "--help"], ["scan", "--help"]):
        proc = subprocess.run([sys.executable, "-c", probe, *args], cwd=REPO, capture_output=True, text=True,
                              timeout=120)
        assert proc.stderr.strip().endswith("exit 0 heavy []"), (args, proc.stderr)


def test_synth_pattern_that_matches_nothing_is_one_line(cli, tmp_path):
    result = cli("synth", "nomatch-*", "--teams", TEAMS, "--out", tmp_path / "out")
    assert result.exit_code == 2
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error: ")]
    assert line.startswith("error: MLOPS_KIT_STACKS: pattern 'nomatch-*' matches no stack. Fix: use one of:")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ bench
def test_bench_passes_every_argument_on(cli, monkeypatch):
    seen: list[list[str]] = []

    def fake_main(argv):
        seen.append(argv)
        return 1

    monkeypatch.setitem(sys.modules, "scripts.bench", types.SimpleNamespace(main=fake_main))
    result = cli("bench", "--quick", "--reps", "2", "--sizes", "1,10")
    assert result.exit_code == 1
    result = cli("bench", "--", "--help")
    assert result.exit_code == 1
    assert seen == [["--quick", "--reps", "2", "--sizes", "1,10"], ["--help"]]


def test_bench_validate_measures_and_checks_for_jsii(capsys):
    from scripts import bench_validate

    assert bench_validate.main(["--runs", "1", "--budget", "60", "--teams", str(TEAMS)]) == 0
    out = capsys.readouterr().out
    assert "end to end, 1 fresh processes: min " in out and "load_org in process, 1 runs: min " in out
    assert "cdktf/jsii imported by validate: no" in out
