"""`mlops-kit bench`: synth wall time and peak memory (Python + node) for orgs of 1, 10 and 100 teams.

Every measurement runs in a fresh subprocess that does what `python main.py` does (`load_org` +
`build_app` + `synth` into a temporary outdir), so the interpreter start, the jsii kernel start and
the import of the azurerm bindings are paid each time, as with `cdktf synth`. Cells:

  floor           `import infra.azurerm` + an empty `App().synth()` with one empty TerraformStack,
                  with the garbage collector paused as `build_app` does
  all stacks      every stack of the org (bootstrap + 3 environments per team, + whatever exists)
  one stack       `MLOPS_KIT_STACKS=t001-dev`

Peak memory is the Python process's max RSS (`RUSAGE_SELF`) plus the node processes' max RSS. jsii
starts two node processes: a small wrapper (`jsii-runtime.js`) that spawns the real kernel
(`program.js`). `RUSAGE_CHILDREN` reports only the largest reaped descendant (the kernel, never the
sum), so the worker reads `VmHWM` of each of its descendants from /proc right after synth (a
high-water mark, exact without sampling), then stops the jsii kernel and cross-checks that the
kernel was reaped and counted by `RUSAGE_CHILDREN`.

Team files are generated from `teams/example.yaml` (names t001, t002, ...) next to a copy of
`teams/platform.yaml` in temporary folders. Progress goes to stderr, the markdown table to stdout;
`--write docs/benchmarks.md` replaces only the section between the bench:synth markers.
Nothing here imports cdktf in the parent process: only the workers pay for it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from scripts.exit_codes import EXIT_TOOL_FAILURE, EXIT_USER_ERROR

REPO = Path(__file__).resolve().parent.parent
TEAMS = REPO / "teams"
TEMPLATE = TEAMS / "example.yaml"
PLATFORM = TEAMS / "platform.yaml"

START_MARKER = "<!-- bench:synth:start -->"
END_MARKER = "<!-- bench:synth:end -->"
DOC_TITLE = "# Benchmarks\n"
RESULT_PREFIX = "BENCH-RESULT "
AZURERM_PACKAGE = "cdktf_cdktf_provider_azurerm"
SELECT_VAR = "MLOPS_KIT_STACKS"
TARGET_RATIO = 1.3

FLOOR, ALL, ONE = "floor", "all", "one"
WHAT = {FLOOR: "floor: import azurerm + empty synth", ALL: "all stacks", ONE: "one selected stack"}
DEFAULT_SIZES = (1, 10, 100)
QUICK_SIZES = (1, 10)
DEFAULT_BUDGET_S = 900.0
RUN_TIMEOUT_S = 1800.0


# ---------------------------------------------------------------- team files
def team_name(i: int) -> str:
    return f"t{i:03d}"


def generate_teams(dest: Path, count: int, template: Path = TEMPLATE, platform_file: Path = PLATFORM) -> list[str]:
    """Write platform.yaml and `count` team files (t001, t002, ...) copied from `template` into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(platform_file, dest / "platform.yaml")
    base = yaml.safe_load(template.read_text(encoding="utf-8"))
    names = []
    for i in range(1, count + 1):
        name = team_name(i)
        doc = json.loads(json.dumps(base))  # deep copy of plain YAML data
        doc["name"] = name
        doc["display_name"] = f"Benchmark team {name}"
        if isinstance(doc.get("devops"), dict) and doc["devops"].get("project_name"):
            doc["devops"]["project_name"] = name  # a fixed project name would be shared by every copy
        for env in (doc.get("environments") or {}).values():
            _own_network(env.get("network") if isinstance(env, dict) else None, name)
        (dest / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        names.append(name)
    return names


def _own_network(network: object, name: str) -> None:
    """Give a copy its own virtual network: teams sharing one must bring hub DNS zones (config rule)."""
    if not isinstance(network, dict):
        return
    for key, value in network.items():
        if isinstance(value, str) and "/virtualNetworks/" in value:
            head, tail = value.split("/virtualNetworks/", 1)
            vnet, _, rest = tail.partition("/")
            network[key] = f"{head}/virtualNetworks/{vnet}-{name}/{rest}"


# ---------------------------------------------------------------- worker (runs in the fresh subprocess)
def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _proc_info(pid: int) -> dict | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None
    m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return {"pid": pid, "cmd": cmdline[:160], "hwm_kb": int(m.group(1)) if m else 0}


def _stop_jsii() -> str:
    """Stop the jsii kernel now (it would stop at exit) so that RUSAGE_CHILDREN can count it."""
    try:
        import jsii._runtime as runtime

        runtime.kernel.provider._process.stop()  # type: ignore[attr-defined]  # private API: jsii 1.x ProcessProvider
        return "stopped"
    except Exception as e:  # the cross-check is lost, the VmHWM figures are not
        return f"not stopped ({type(e).__name__}: {e})"


def worker(mode: str, teams_dir: Path, outdir: Path) -> dict:
    """What `python main.py` does (or the floor), with phase times and peak memory."""
    t0 = time.perf_counter()
    phases: dict[str, float] = {}

    def lap(name: str, since: list[float] = [t0]) -> None:  # noqa: B006 - a mutable clock on purpose
        now = time.perf_counter()
        phases[name] = now - since[0]
        since[0] = now

    if mode == FLOOR:
        from cdktf import App, TerraformStack

        from stacks import without_gc_pauses

        lap("import cdktf")
        with without_gc_pauses():  # the same garbage-collector policy as build_app: a fair floor
            import infra.azurerm  # noqa: F401

            lap("import azurerm")
            app = App(outdir=str(outdir))
            TerraformStack(app, "empty")
        app.synth()
        lap("synth")
    else:
        from infra.config import load_org

        lap("import config")
        from cdktf import App

        from scripts.entry import stack_patterns
        from scripts.package import synth_context
        from stacks import build_app
        from stacks.function_package import PACKAGE_CONTEXT

        lap("import cdktf")
        org = load_org(teams_dir)
        lap("load_org")
        app = App(outdir=str(outdir), context={PACKAGE_CONTEXT: synth_context()})  # as main.py does
        build_app(org, app=app, patterns=stack_patterns(app))  # MLOPS_KIT_STACKS, as in main.py
        lap("build_app")
        app.synth()
        lap("synth")
    stacks = sorted(p.parent.name for p in outdir.glob("stacks/*/cdk.tf.json"))
    node = [info for pid in _descendants(os.getpid()) if (info := _proc_info(pid))]
    stopped = _stop_jsii()
    lap("jsii stop")
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "mode": mode,
        "stacks": len(stacks),
        "first_stacks": stacks[:3],
        "phases": phases,
        "in_process_s": time.perf_counter() - t0,
        "python_kb": self_kb,
        "node_kb": sum(p["hwm_kb"] for p in node),
        "node_procs": node,
        "rusage_children_kb": children_kb,
        "jsii": stopped,
    }


def _worker_main(args: argparse.Namespace) -> int:
    result = worker(args.worker, Path(args.teams) if args.teams else TEAMS, Path(args.out))
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


# ---------------------------------------------------------------- parent: runs, statistics, report
@dataclass(frozen=True)
class Cell:
    teams: int  # 0 for the floor
    mode: str

    @property
    def label(self) -> str:
        return WHAT[FLOOR] if self.mode == FLOOR else f"{self.teams} team{'s' if self.teams != 1 else ''}, {WHAT[self.mode]}"


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    python_mb: float
    node_mb: float
    stacks: int
    phases: dict[str, float]
    rusage_children_mb: float
    kernel_mb: float
    jsii: str
    azurerm_import_s: float = 0.0

    @property
    def total_mb(self) -> float:
        return self.python_mb + self.node_mb


@dataclass
class CellResult:
    cell: Cell
    planned_reps: int
    runs: list[Run] = field(default_factory=list)
    error: str | None = None

    def median(self, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.runs)

    def minimum(self, attr: str) -> float:
        return min(getattr(r, attr) for r in self.runs)

    def phase_medians(self) -> dict[str, float]:
        names = list(self.runs[0].phases) if self.runs else []
        return {n: statistics.median(r.phases.get(n, 0.0) for r in self.runs) for n in names}


def plan_cells(sizes: tuple[int, ...]) -> list[Cell]:
    cells = [Cell(0, FLOOR)]
    for n in sizes:
        cells += [Cell(n, ONE), Cell(n, ALL)]
    return cells


def parse_result(stdout: str) -> dict:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    raise ValueError("the worker printed no result line")


def import_seconds(importtime_log: str, package: str) -> float:
    """Seconds spent importing `package` and its submodules (self times from `python -X importtime`).

    Self times exclude the modules they import in turn (cdktf, constructs, ...), so this is the
    bindings' own cost, wherever in the run they were first imported (build_app imports them lazily).
    """
    total_us = 0
    for m in re.finditer(r"^import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)\s*$", importtime_log, re.M):
        name = m.group(2)
        if name == package or name.startswith(package + "."):
            total_us += int(m.group(1))
    return total_us / 1e6


def run_once(cell: Cell, teams_dir: Path | None, workdir: Path) -> Run:
    """One fresh subprocess; wall time from spawn to exit (interpreter, imports, jsii exit included)."""
    outdir = Path(tempfile.mkdtemp(prefix="out.", dir=workdir))
    env = dict(os.environ)
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.pop(SELECT_VAR, None)
    if cell.mode == ONE:
        env[SELECT_VAR] = f"{team_name(1)}-dev"
    cmd = [sys.executable, "-X", "importtime", "-m", "scripts.bench", "--worker", cell.mode, "--out", str(outdir)]
    if teams_dir is not None:
        cmd += ["--teams", str(teams_dir)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    finally:
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        shutil.rmtree(outdir, ignore_errors=True)
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise RuntimeError(f"worker exited {proc.returncode}: {tail}")
    r = parse_result(proc.stdout)
    kernel = max((p["hwm_kb"] for p in r["node_procs"]), default=0)
    return Run(
        wall_s=wall, cpu_s=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), python_mb=r["python_kb"] / 1024, node_mb=r["node_kb"] / 1024, stacks=r["stacks"],
        phases=r["phases"], rusage_children_mb=r["rusage_children_kb"] / 1024, kernel_mb=kernel / 1024, jsii=r["jsii"],
        azurerm_import_s=import_seconds(proc.stderr, AZURERM_PACKAGE),
    )


def trim_reps(results: list[CellResult], first_pass_s: dict[Cell, float], elapsed: float, budget: float) -> list[Cell]:
    """After the first pass, drop the extra reps of the slowest cells until the projection fits the budget."""
    def projected() -> float:
        return elapsed + sum(first_pass_s.get(r.cell, 0.0) * (r.planned_reps - 1) for r in results if r.error is None)

    trimmed = []
    for res in sorted(results, key=lambda r: -first_pass_s.get(r.cell, 0.0)):
        if projected() <= budget:
            break
        if res.planned_reps > 1 and res.error is None:
            res.planned_reps = 1
            trimmed.append(res.cell)
    return trimmed


def run_all(sizes: tuple[int, ...], reps: int, budget: float, say=lambda msg: print(msg, file=sys.stderr)) -> list[CellResult]:
    results = [CellResult(c, reps) for c in plan_cells(sizes)]
    started = time.perf_counter()
    first_pass: dict[Cell, float] = {}
    done = 0
    with tempfile.TemporaryDirectory(prefix="mlops-kit-bench.") as tmp:
        work = Path(tmp)
        dirs = {n: work / f"teams-{n}" for n in sizes}
        for n, d in dirs.items():
            generate_teams(d, n)
        for rep in range(1, reps + 1):
            if rep == 2:
                for cell in trim_reps(results, first_pass, time.perf_counter() - started, budget):
                    say(f"budget {budget:.0f} s: {cell.label} gets 1 rep (its first took {first_pass[cell]:.0f} s)")
            for res in results:
                if res.error is not None or rep > res.planned_reps:
                    continue
                done += 1
                total = sum(r.planned_reps for r in results if r.error is None) + sum(
                    len(r.runs) + 1 for r in results if r.error is not None)
                say(f"[{done}/{total}] {res.cell.label}, rep {rep} ...")
                t = time.perf_counter()
                try:
                    run = run_once(res.cell, dirs.get(res.cell.teams), work)
                except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
                    res.error = str(e)[:300]
                    say(f"    failed: {res.error}")
                    continue
                first_pass.setdefault(res.cell, time.perf_counter() - t)
                res.runs.append(run)
                say(f"    {run.wall_s:.1f} s, {run.stacks} stacks, python {run.python_mb:.0f} MB + node {run.node_mb:.0f} MB"
                    f" = {run.total_mb:.0f} MB")
    return results


# ---------------------------------------------------------------- rendering
def _mb(x: float) -> str:
    return f"{x:,.0f}"


def _find(results: list[CellResult], teams: int, mode: str) -> CellResult | None:
    for r in results:
        if r.cell.teams == teams and r.cell.mode == mode and r.runs:
            return r
    return None


def ratios(results: list[CellResult]) -> dict[str, float]:
    """Median-wall ratios: one selected stack at the largest size / 1 team, and every cell / the floor."""
    out: dict[str, float] = {}
    floor = _find(results, 0, FLOOR)
    sizes = sorted({r.cell.teams for r in results if r.cell.mode != FLOOR and r.runs})
    one_small = _find(results, 1, ONE)
    one_big = _find(results, sizes[-1], ONE) if sizes else None
    if one_small and one_big and one_big is not one_small:
        out[f"one:{sizes[-1]}/1"] = one_big.median("wall_s") / one_small.median("wall_s")
        out[f"one-min:{sizes[-1]}/1"] = one_big.minimum("wall_s") / one_small.minimum("wall_s")
        out[f"one-cpu:{sizes[-1]}/1"] = one_big.median("cpu_s") / one_small.median("cpu_s")
        out[f"one-mem:{sizes[-1]}/1"] = one_big.median("total_mb") / one_small.median("total_mb")
    if floor:
        for r in results:
            if r.runs and r.cell.mode != FLOOR:
                out[f"floor:{r.cell.teams}:{r.cell.mode}"] = r.median("wall_s") / floor.median("wall_s")
                out[f"floor-mem:{r.cell.teams}:{r.cell.mode}"] = r.median("total_mb") / floor.median("total_mb")
    return out


def render_table(results: list[CellResult]) -> str:
    ratio = ratios(results)
    head = ("| teams | what | stacks | reps | wall median (s) | wall min (s) | x floor | CPU median (s) "
            "| Python peak (MB) | node peak (MB) | sum (MB) | where the wall time goes (median s) |")
    lines = [head, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        teams = "-" if r.cell.mode == FLOOR else str(r.cell.teams)
        what = WHAT[r.cell.mode]
        if not r.runs:
            lines.append(f"| {teams} | {what} | - | 0 | failed: {r.error or 'not run'} | | | | | | | |")
            continue
        reps = str(len(r.runs))
        if r.planned_reps == 1 and len(r.runs) == 1 and _reps_note(results):
            reps += " (budget)"
        if r.error:
            reps += f" (then failed: {r.error})"
        x = "1.00" if r.cell.mode == FLOOR else f"{ratio.get(f'floor:{r.cell.teams}:{r.cell.mode}', 0):.2f}"
        azurerm = r.median("azurerm_import_s")
        phases = ", ".join(
            f"{k} {v:.1f}" + (f" (azurerm import {azurerm:.1f})" if k == "build_app" and azurerm >= 0.05 else "")
            for k, v in r.phase_medians().items()
        )
        exit_s = r.median("wall_s") - sum(r.phase_medians().values())
        phases += f", interpreter start+teardown {exit_s:.1f}"
        lines.append(
            f"| {teams} | {what} | {r.runs[0].stacks} | {reps} | {r.median('wall_s'):.1f} | {r.minimum('wall_s'):.1f} | {x} | {r.median('cpu_s'):.1f} "
            f"| {_mb(r.median('python_mb'))} | {_mb(r.median('node_mb'))} | {_mb(r.median('total_mb'))} | {phases} |"
        )
    return "\n".join(lines) + "\n"


def _reps_note(results: list[CellResult]) -> bool:
    """True when some cells got fewer reps than others (the budget trimmed them)."""
    return len({r.planned_reps for r in results if r.runs}) > 1


def machine_info() -> dict[str, str]:
    def run(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    mem = "?"
    try:
        found = re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M)
        mem = f"{int(found.group(1)) / 1024 / 1024:.1f} GiB" if found else "?"
    except OSError:
        pass
    cpu = "?"
    try:
        m = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = m.group(1).strip() if m else "?"
    except OSError:
        pass
    dirty = run("git", "status", "--porcelain", "--untracked-files=no")
    from importlib.metadata import PackageNotFoundError, version

    def ver(pkg: str) -> str:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "?"

    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "node": run("node", "--version"),
        "commit": run("git", "rev-parse", "--short", "HEAD") + (" (working tree with uncommitted changes)" if dirty else ""),
        "versions": f"cdktf {ver('cdktf')}, azurerm bindings {ver('cdktf-cdktf-provider-azurerm')}, jsii {ver('jsii')}",
    }


def render_section(results: list[CellResult], command: str, info: dict[str, str], date: str, load_after: str,
                   elapsed_s: float) -> str:
    ratio = ratios(results)
    sizes = sorted({r.cell.teams for r in results if r.cell.mode != FLOOR and r.runs})
    big = sizes[-1] if sizes else 0
    one = ratio.get(f"one:{big}/1")
    out = ["## Synth: wall time and peak memory", ""]
    out.append(f"Command: `{command}` (the same as `mlops-kit bench` with these arguments); "
               f"run {date}, {elapsed_s / 60:.1f} min in all.")
    out.append("")
    out.append(f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} memory, Python {info['python']}, "
               f"node {info['node']}, {info['versions']}; commit {info['commit']}; "
               f"load average {info['load']} before, {load_after} after.")
    out.append("")
    out.append(render_table(results).rstrip("\n"))
    out.append("")
    if one is not None:
        verdict = "within" if one <= TARGET_RATIO else "over"
        out.append(f"- **One selected stack, {big} teams / 1 team: {one:.2f}x** median wall time (target <= {TARGET_RATIO}x: "
                   f"{verdict}); {ratio[f'one-min:{big}/1']:.2f}x by min wall time, {ratio[f'one-cpu:{big}/1']:.2f}x CPU time, "
                   f"{ratio[f'one-mem:{big}/1']:.2f}x peak memory.")
    for n in sizes:
        for mode in (ONE, ALL):
            key = f"floor:{n}:{mode}"
            if key in ratio:
                out.append(f"- {n} team{'s' if n != 1 else ''}, {WHAT[mode]}: {ratio[key]:.2f}x the floor's wall time, "
                           f"{ratio[f'floor-mem:{n}:{mode}']:.2f}x its memory.")
    if _reps_note(results):
        out.append("- `(budget)`: the cell's first run was too slow for every rep within the run's time budget, "
                   "so it was measured once.")
    out.append("")
    out.append(
        "How: each run is a fresh `python` subprocess doing what `python main.py` does (`load_org` + `build_app` + "
        "`synth` into a temporary outdir; the selected stack through `MLOPS_KIT_STACKS=t001-dev`), so the interpreter, "
        "the jsii kernel and the azurerm bindings import are paid every time, as with `cdktf synth`. Team files are "
        "`teams/example.yaml` renamed t001, t002, ... next to `teams/platform.yaml` (so every org also has the "
        "`platform-bootstrap` stack). The floor imports `infra.azurerm` and synthesizes an empty `App` with one empty "
        "`TerraformStack`. Wall time is spawn to exit of the subprocess; the phases are timed inside it, and "
        "\"interpreter start+teardown\" is the rest (mostly Python's finalization after synth); \"azurerm import\" is the "
        "self time of the `cdktf_cdktf_provider_azurerm` modules (the workers run with `-X importtime`), which "
        "`build_app` imports lazily. CPU = user+system "
        "time of the subprocess and its node children (less sensitive than wall time to other work on the machine). "
        "Python peak = the process's `RUSAGE_SELF` max RSS. Node peak = the sum of `VmHWM` of the process's "
        "descendants read right after synth: jsii runs a small wrapper node process (`jsii-runtime.js`, ~50 MB) "
        "that spawns the kernel (`program.js`); `RUSAGE_CHILDREN` after stopping the kernel reports only the "
        "largest of them (the kernel, which it does count), never their sum."
    )
    checks = [f"{r.cell.label}: RUSAGE_CHILDREN {_mb(r.median('rusage_children_mb'))} MB vs kernel VmHWM "
              f"{_mb(r.median('kernel_mb'))} MB" for r in results if r.runs]
    if checks:
        out.append("")
        out.append("Cross-check (median): " + "; ".join(checks) + ".")
    return "\n".join(out) + "\n"


def replace_section(text: str | None, body: str, start: str = START_MARKER, end: str = END_MARKER) -> str:
    """`text` with only the part between the markers replaced by `body`; markers appended if absent."""
    block = f"{start}\n{body.rstrip()}\n{end}"
    if text is None:
        return f"{DOC_TITLE}\n{block}\n"
    i, j = text.find(start), text.find(end)
    if i != -1 and j != -1 and j > i:
        return text[:i] + block + text[j + len(end):]
    if (i == -1) != (j == -1) or (i != -1 and j < i):
        raise ValueError(f"found only one of {start} / {end} (or in the wrong order); fix the markers by hand")
    return text.rstrip("\n") + f"\n\n{block}\n"


def write_section(path: Path, body: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    new = replace_section(text, body)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(path)


# ---------------------------------------------------------------- CLI
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mlops-kit bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=3, help="repetitions per cell (default 3; median and min reported)")
    p.add_argument("--quick", action="store_true", help="1 rep, only 1 and 10 teams (smoke test)")
    p.add_argument("--sizes", default=None, help="comma-separated team counts (default 1,10,100; --quick: 1,10)")
    p.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S,
                   help="seconds for the whole run; slow cells get 1 rep to fit (default %(default)s)")
    p.add_argument("--write", type=Path, default=None, metavar="FILE",
                   help="replace the bench:synth section of FILE (e.g. docs/benchmarks.md)")
    p.add_argument("--worker", choices=[FLOOR, ALL, ONE], help=argparse.SUPPRESS)
    p.add_argument("--teams", default=None, help=argparse.SUPPRESS)
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.worker:
        return _worker_main(args)
    try:
        sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    except ValueError:
        sizes = ()  # not a list of integers: the same one-line usage error as below
    if 1 not in sizes or any(n < 1 for n in sizes):
        print("error: --sizes must include 1 (the selected stack is t001-dev) and be positive. "
              "Fix: e.g. --sizes 1,10,100", file=sys.stderr)
        return EXIT_USER_ERROR
    reps = 1 if args.quick else args.reps
    from infra.config import ConfigError
    from scripts.package import require_package

    try:
        require_package()  # every cell synthesizes t001-dev, which deploys the function: built first
    except ConfigError as e:
        print(f"error: {e.lines[0]}", file=sys.stderr)
        return EXIT_USER_ERROR
    info = machine_info()
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    started = time.perf_counter()
    results = run_all(sizes, max(reps, 1), args.budget)
    elapsed = time.perf_counter() - started
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    command = shlex.join([".venv/bin/python", "-m", "scripts.bench", *argv])
    section = render_section(results, command, info, date, load_after, elapsed)
    sys.stdout.write(section)
    if args.write:
        path = args.write if args.write.is_absolute() else Path.cwd() / args.write
        write_section(path, section)
        print(f"wrote the bench:synth section of {args.write}", file=sys.stderr)
    return EXIT_TOOL_FAILURE if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
