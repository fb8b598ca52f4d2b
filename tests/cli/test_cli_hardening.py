"""Issue 14 on the command line: no command destroys data, every bad argument is one line, Ctrl-C is one line.

Each test failed on the kit before: `synth --out .` replaced the checkout, `new-team --force` wrote
through a symlink with mode 0600, `diagram` replaced any file, bad arguments gave tracebacks.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from scripts.cli import main
from scripts.synth import check_outdir, clean_staging
from tests.cli.test_new_team import flags
from tests.conftest import ORG, REPO, function_package


def run(*argv: str | Path, cwd: Path | None = None) -> tuple[int, str, str]:
    """`mlops-kit ARGV` through the console entry point, in-process (the catch-all included)."""
    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(a) for a in argv])
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def error_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("error: ")]


# ------------------------------------------------------------------ bad command lines: one line each, exit 2
BAD_ARGS = [
    ["validate", "--no-such-flag"],
    ["validate", "--teams"],
    ["validate", "--teams", "/nonexistent"],
    ["validate", "--teams", "/dev/null"],
    ["validate", "--teams", "/etc/passwd"],
    ["validate", "extra-argument"],
    ["synth", "--out"],
    ["synth", "--teams", str(ORG), "--out", "."],
    ["synth", "--teams", str(ORG), "--out", ".."],
    ["synth", "--teams", str(ORG), "--out", "README.md"],
    ["synth", "--teams", str(ORG), "--out", "README.md/sub"],
    ["synth", "--teams", str(ORG), "--out", "docs"],
    ["synth", "--teams", str(ORG), "--out", str(ORG)],
    ["synth", "--teams", str(ORG), "--out", str(ORG / "inside")],
    ["synth", "--teams", str(ORG), "--team", "nope", "--out", "/tmp/never-written"],
    ["synth", "nomatch-*", "--teams", str(ORG), "--out", "/tmp/never-written"],
    ["synth", "--teams", "/nonexistent", "--out", "/tmp/never-written"],
    ["package", "--out", "README.md"],
    ["package", "--nope"],
    ["new-team"],
    ["new-team", "Bad_Name", "--yes"],
    ["new-team", "no", "--yes"],
    ["new-team", "null", "--yes"],
    ["new-team", "x" * 5000, "--yes"],
    ["new-team", "fraud", "--yes"],
    ["new-team", "fraud", "--teams", str(ORG), *flags(), "--network", "dev=mars"],
    ["new-team", "fraud", "--teams", "/nonexistent", *flags()],
    ["diagram"],
    ["diagram", "nope", "--teams", str(ORG)],
    ["diagram", "example", "--teams", str(ORG), "--out", "README.md"],
    ["diagram", "example", "--teams", str(ORG), "--out", "/proc/version/x"],
    ["preflight", "--timeout", "abc"],
    ["preflight", "--timeout", "-1"],
    ["preflight", "--teams", str(ORG), "--team", "nope"],
    ["scan", "--no-such-flag"],
    ["bench", "--sizes", "abc"],
    ["bench", "--sizes", "0"],
    ["no-such-command"],
    ["--no-such-global"],
    ["validate", "--teams", "\x00"],
    ["validate", "--teams", "a" * 5000],
]


@pytest.mark.parametrize("argv", BAD_ARGS, ids=[" ".join(a)[:60] for a in BAD_ARGS])
def test_bad_arguments_are_one_line_and_exit_2(argv, tmp_path):
    code, out, err = run(*argv, cwd=REPO)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err + out
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("warning: ")]
    assert lines and all(ln.startswith("error: ") and "Fix: " in ln and len(ln) < 500 for ln in lines), err
    assert len(lines) == (5 if argv[:3] == ["new-team", "fraud", "--yes"] else 1), lines  # one per missing flag
    assert not Path("/tmp/never-written").exists()


# Other commands' own messages (scan, bench's argparse) have their own shape: no traceback, a short answer.
OTHER_BAD_ARGS = [
    ["scan", "--out", "/nonexistent"],
    ["scan", "--out", "README.md"],
    ["scan", "--skips", "/nonexistent.yaml"],
    ["scan", "--skips", "README.md"],
    ["scan", "nomatch-*"],
    ["bench", "--reps", "abc"],
    ["bench", "--nope"],
    ["preflight", "--teams", "/nonexistent"],
    ["synth", "team:", "--teams", str(ORG), "--out", "/tmp/never-written"],
    ["synth", "--team", "", "--teams", str(ORG), "--out", "/tmp/never-written"],
    ["synth", "--teams", str(ORG), "--out", "/tmp/never-written", "--out", "."],
    ["new-team", "fraud", "--teams", str(ORG), *flags(), "--network", "qa=public"],
    ["new-team", "fraud", "--teams", str(ORG), *flags(), "--compute-subnet", "dev"],
    ["new-team", "fraud", "--teams", str(ORG), *flags(), "--dev-subscription", "x" * 300],
    ["validate", "--teams", str(ORG / "example.yaml")],
    ["diagram", "example", "--teams", str(ORG), "--out", "/dev/null"],
    ["-h"],
]


@pytest.mark.parametrize("argv", OTHER_BAD_ARGS, ids=[" ".join(a)[:60] for a in OTHER_BAD_ARGS])
def test_other_bad_arguments_never_show_a_traceback(argv):
    code, out, err = run(*argv, cwd=REPO)
    assert code in (2, 3), (code, out[-500:], err[-500:])
    assert "Traceback" not in err + out and 'File "' not in err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("warning: ")]
    assert 1 <= len(lines) <= 3 and all(len(ln) < 500 for ln in lines), err
    assert not Path("/tmp/never-written").exists()


def test_the_checkout_survives_synth_out_dot():
    before = sorted(p.name for p in REPO.iterdir())
    code, _out, err = run("synth", "platform-bootstrap", "--teams", ORG, "--out", ".", cwd=REPO)
    assert code == 2 and "which synth would replace" in err
    assert sorted(p.name for p in REPO.iterdir()) == before


def test_debug_shows_the_traceback_of_an_unexpected_error(monkeypatch):
    import scripts.cli as cli

    def boom(*_a, **_k):
        raise RuntimeError("kit bug\nsecond line")

    monkeypatch.setattr(cli, "_load", boom)
    code, _out, err = run("validate")
    assert code == 3 and err == (
        "error: unexpected RuntimeError: kit bug second line. Fix: rerun with --debug for "
        "the traceback, and report it with the command\n"
    )
    with pytest.raises(RuntimeError):
        main(["--debug", "validate"])


# ------------------------------------------------------------------ synth --out
def _old_output(folder: Path) -> Path:
    (folder / "stacks" / "x").mkdir(parents=True)
    (folder / "stacks" / "x" / "cdk.tf.json").write_text("{}")
    (folder / "manifest.json").write_text(json.dumps({"version": "0.21.0", "stacks": {}}))
    return folder


@pytest.mark.parametrize(
    "setup, allowed",
    [
        ("missing", True),
        ("empty", True),
        ("old output", True),
        ("file", False),
        ("symlink", False),
        ("other folder", False),
        ("old output + a user file", False),
        ("manifest without stacks", False),
    ],
)
def test_check_outdir(tmp_path, setup, allowed):
    target = tmp_path / "out"
    if setup == "empty":
        target.mkdir()
    elif setup == "old output":
        _old_output(target)
    elif setup == "file":
        target.write_text("notes")
    elif setup == "symlink":
        _old_output(tmp_path / "real")
        target.symlink_to(tmp_path / "real")
    elif setup == "other folder":
        target.mkdir()
        (target / "thesis.tex").write_text("x")
    elif setup == "old output + a user file":
        _old_output(target)
        (target / "notes.md").write_text("x")
    elif setup == "manifest without stacks":
        target.mkdir()
        (target / "manifest.json").write_text('{"name": "my web app"}')
    if allowed:
        check_outdir(target, [tmp_path / "teams"])
    else:
        from infra.config import ConfigError

        with pytest.raises(ConfigError) as exc:
            check_outdir(target, [tmp_path / "teams"])
        (line,) = exc.value.lines
        assert line.startswith(f"{target}: --out: ") and "Fix: " in line


def test_stale_staging_folders_are_removed_and_fresh_ones_kept(tmp_path):
    out = tmp_path / "cdktf.out"
    stale = [tmp_path / ".cdktf.out.staging-abcd1234", tmp_path / ".cdktf.out.k2j4h5g6", tmp_path / ".cdktf.out.old"]
    fresh = tmp_path / ".cdktf.out.staging-zzzz9999"  # a synth running right now
    unrelated = tmp_path / ".cdktf.out.mine"
    for p in [*stale, fresh, unrelated]:
        p.mkdir()
    old = time.time() - 3600
    for p in stale:
        os.utime(p, (old, old))
    removed = clean_staging(out)
    assert sorted(removed) == sorted(stale)
    assert fresh.exists() and unrelated.exists()


def test_local_state_stays_in_the_project_root_with_any_out(tmp_path):
    """`synth --out elsewhere`: the state path, resolved from the stack's folder, is still ./terraform.*.tfstate."""
    from infra.config import load_org
    from scripts.synth import synth

    out = tmp_path / "deep" / "elsewhere" / "cdktf.out"
    project = tmp_path / "project"
    project.mkdir()
    old = Path.cwd()
    os.chdir(project)
    try:
        synth(load_org(ORG), out, ["platform-bootstrap"])
    finally:
        os.chdir(old)
    stack_dir = out / "stacks" / "platform-bootstrap"
    doc = json.loads((stack_dir / "cdk.tf.json").read_text())
    path = doc["terraform"]["backend"]["local"]["path"]
    assert (stack_dir / path).resolve() == project / "terraform.platform-bootstrap.tfstate"
    assert not list(out.parent.glob(".cdktf.out.*"))  # no staging left behind


def test_default_out_keeps_the_relative_state_path(example):
    """The default ./cdktf.out keeps `../../..`: the address snapshot and committed JSON do not move."""
    path = example["platform-bootstrap"]["terraform"]["backend"]["local"]["path"]
    assert path == "../../../terraform.platform-bootstrap.tfstate"


# ------------------------------------------------------------------ new-team --force, modes, names
def test_force_never_writes_through_a_symlink(cli, make_teams):
    teams = make_teams()
    other = teams / "_other-team.src"
    other.write_text("# another team's file\n")
    (teams / "fraud.yaml").symlink_to(other)
    result = cli("new-team", "fraud", "--teams", teams, *flags(), "--force")
    assert result.exit_code == 2
    assert "fraud.yaml: is a symlink; the kit does not write through links" in result.stderr
    assert other.read_text() == "# another team's file\n" and (teams / "fraud.yaml").is_symlink()


def test_new_files_are_0644_and_force_keeps_the_mode(cli, make_teams):
    teams = make_teams()
    old_mask = os.umask(0o022)
    try:
        assert cli("new-team", "fraud", "--teams", teams, *flags()).exit_code == 0
        assert stat.S_IMODE((teams / "fraud.yaml").stat().st_mode) == 0o644
        os.chmod(teams / "fraud.yaml", 0o640)
        assert cli("new-team", "fraud", "--teams", teams, *flags(), "--force").exit_code == 0
        assert stat.S_IMODE((teams / "fraud.yaml").stat().st_mode) == 0o640
    finally:
        os.umask(old_mask)


@pytest.mark.parametrize("name", ["no", "on", "yes", "null", "off", "true"])
def test_names_yaml_reads_as_booleans_are_refused(cli, make_teams, name):
    teams = make_teams()
    result = cli("new-team", name, "--teams", teams, *flags())
    assert result.exit_code == 2 and "is reserved (YAML reads it as a boolean or null" in result.stderr
    assert not (teams / f"{name}.yaml").exists()


def test_the_name_is_written_quoted(cli, make_teams):
    teams = make_teams()
    assert cli("new-team", "fraud", "--teams", teams, *flags()).exit_code == 0
    assert 'name: "fraud"' in (teams / "fraud.yaml").read_text()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_teams_folder_is_one_line(cli, make_teams):
    teams = make_teams()
    os.chmod(teams, 0o555)
    try:
        result = cli("new-team", "fraud", "--teams", teams, *flags())
    finally:
        os.chmod(teams, 0o755)
    assert result.exit_code == 2 and "cannot create a file there" in result.stderr


def test_read_only_teams_folder_is_one_line_even_as_root(make_teams, monkeypatch):
    """The same path as above, forced: mkstemp fails with EACCES."""
    import tempfile

    from infra.config import ConfigError
    from scripts import new_team

    def denied(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    teams = make_teams()
    answers = new_team.TeamAnswers(
        name="fraud", display_name="F", cost_center="C", data_scientists="x", app_developers="y"
    )
    with pytest.raises(ConfigError) as exc:
        new_team.create_team_file(teams, answers)
    assert exc.value.lines == [
        f"{teams}: cannot create a file there (Permission denied). Fix: check the folder's "
        "permissions, or pass --teams a folder you can write"
    ]


# ------------------------------------------------------------------ diagram never replaces a file it did not write
def test_diagram_refuses_a_file_it_did_not_write(cli, tmp_path):
    page = tmp_path / "example.md"
    page.write_text("# my own notes\n")
    result = cli("diagram", "example", "--teams", ORG, "--out", tmp_path)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {page}: exists and was not written by mlops-kit. Fix: move it away, or pass --force to replace it\n"
    )
    assert page.read_text() == "# my own notes\n"
    assert cli("diagram", "example", "--teams", ORG, "--out", tmp_path, "--force").exit_code == 0
    assert "Generated by mlops-kit" in page.read_text()
    assert cli("diagram", "example", "--teams", ORG, "--out", tmp_path).exit_code == 0  # its own page: replaced
    assert stat.S_IMODE(page.stat().st_mode) & 0o044  # readable by the team, not mkstemp's 0600


def test_diagram_never_writes_through_a_symlink(cli, tmp_path):
    target = tmp_path / "elsewhere.md"
    target.write_text("Generated by mlops-kit, but a link\n")
    (tmp_path / "example.md").symlink_to(target)
    result = cli("diagram", "example", "--teams", ORG, "--out", tmp_path, "--force")
    assert result.exit_code == 2 and "is a symlink" in result.stderr
    assert target.read_text() == "Generated by mlops-kit, but a link\n"


# ------------------------------------------------------------------ Ctrl-C
def _interrupt(args: list[str], wait_for: str) -> subprocess.CompletedProcess[str]:
    """Start `mlops-kit ARGS`, wait until stdout shows `wait_for`, send SIGINT (what Ctrl-C sends)."""
    import select

    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.cli", *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None
    seen, deadline = b"", time.time() + 120
    while wait_for.encode() not in seen and time.time() < deadline and proc.poll() is None:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            seen += os.read(proc.stdout.fileno(), 4096)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(args, proc.returncode, (seen + out).decode(), err.decode())


def test_ctrl_c_at_a_prompt_is_one_line_and_130(make_teams, tmp_path):
    teams = make_teams()
    done = _interrupt(["new-team", "fraud", "--teams", str(teams)], "Display name")
    assert done.returncode == 130, (done.stdout, done.stderr)
    assert [ln for ln in done.stderr.splitlines() if ln.strip()] == ["interrupted"]
    assert not (teams / "fraud.yaml").exists()


def test_ctrl_c_during_synth_is_one_line_130_and_leaves_nothing(tmp_path):
    """SIGINT reaches python and jsii's node process alike; jsii's error after it is still just `interrupted`."""
    out = tmp_path / "cdktf.out"
    function_package()  # synth checks it before jsii starts
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.cli", "synth", "--teams", str(ORG), "--out", str(out)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(6)  # jsii is starting or the stacks are being built (a full synth takes far longer)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C signals the terminal's whole process group
    _stdout, stderr = proc.communicate(timeout=120)
    lines = [
        ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith(("warning: ", "mlops-kit: no `state:`"))
    ]
    assert proc.returncode == 130, stderr[-2000:]
    assert lines == ["interrupted"], stderr[-2000:]
    assert not out.exists() and not list(tmp_path.glob(".cdktf.out.*"))


def test_diagram_into_a_folder_it_cannot_write_is_one_line(cli, tmp_path, monkeypatch):
    """mkstemp failing as in a read-only folder (the tests run as root, for whom chmod does not stop writes)."""
    import tempfile

    def denied(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    result = cli("diagram", "example", "--teams", ORG, "--out", tmp_path)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {tmp_path}: cannot be written (Permission denied). Fix: choose a folder you can write to\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_main_py_keeps_local_state_in_the_project_root_with_another_outdir(tmp_path):
    """`npx cdktf synth --output X` runs main.py with CDKTF_OUTDIR=X: the state path still leads to ./"""
    out = tmp_path / "elsewhere" / "out"
    out.parent.mkdir()  # the cdktf CLI creates it; App() itself does not create parents
    env = {**os.environ, "CDKTF_OUTDIR": str(out), "MLOPS_KIT_TEAMS_DIR": str(ORG), "MLOPS_KIT_STACKS": "platform-bootstrap"}
    proc = subprocess.run([sys.executable, "main.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    stack_dir = out / "stacks" / "platform-bootstrap"
    path = json.loads((stack_dir / "cdk.tf.json").read_text())["terraform"]["backend"]["local"]["path"]
    assert (stack_dir / path).resolve() == REPO / "terraform.platform-bootstrap.tfstate"


def test_after_ctrl_c_only_jsiis_stderr_copy_is_muted():
    """CI saw `Error on jsii API channel to child process: Error: read ECONNRESET` after `interrupted`:
    node gets the terminal's SIGINT too and jsii's sink thread prints its report. After an interrupt
    that thread's writes are dropped; every other thread's still arrive."""
    code = textwrap.dedent(
        """
        import sys, threading
        from scripts import entry
        def sink(): print("Error on jsii API channel to child process: Error: read ECONNRESET", file=sys.stderr)
        def other(): print("from another thread", file=sys.stderr)
        entry._mute_jsii_after_interrupt()
        for name, target in ((entry.JSII_STDERR_THREAD, sink), ("worker", other)):
            t = threading.Thread(target=target, name=name); t.start(); t.join()
        print("interrupted", file=sys.stderr)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == ["from another thread", "interrupted"]
