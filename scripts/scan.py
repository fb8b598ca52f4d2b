"""`mlops-kit scan`: the policy gate on the synthesized stacks (checkov, pinned, offline, fail-closed).

What it does, per stack folder `cdktf.out/stacks/<stack>/`:
1. reads every `*.tf.json` itself (strict JSON) and indexes the resources and the suppressions that
   `infra.suppressions.suppress()` recorded in each resource's `//` metadata block;
2. runs checkov's terraform_json runner on the folder: checkov's built-in checks (Python and graph)
   plus the kit's checks from `policies/` (CKV_MLK_*, CKV2_MLK_*; docs/policies.md);
3. turns a failure into "suppressed" when the resource carries a valid suppression for that check,
   or when `policies/skips.yaml` skips the check globally, keeping the reason on the record;
   a suppression without a usable reason is itself a failure (CKV_MLK_0) and suppresses nothing;
4. writes SARIF and JUnit with checkov's own writers, and prints a summary per stack.

checkov itself is driven by scripts/checkov_adapter.py, the one module that touches its internals;
this module never imports checkov. How checkov runs, and why: in-process, through `TerraformJsonRunner`
alone (one runner per stack), not through the checkov CLI in a subprocess nor through `RunnerRegistry`:
- checkov's CLI exits 0 when a file fails to parse and ignores skip comments in JSON (checkov issues
  #4634, #7454); in-process, the scan sees `report.parsing_errors`, checkov's own definitions (how
  many resources it parsed) and every check's exceptions (checkov turns a crashing Python check into
  UNKNOWN and drops a crashing graph check's exception in its thread pool; the scan wraps each
  check's `run` to notice), so it can fail closed on each;
- one runner per stack: checkov builds one graph per run and resolves `${type.name.id}` by address,
  so two stacks with the same addresses (every env stack has `azurerm_resource_group.resource_group`)
  must not share a graph; cdktf stacks are separate Terraform roots anyway;
- `RunnerRegistry` would import every framework's runner (~1 s more) to run one; the kit rewrites
  the records it needs (address, file path, suppression) and hands them to checkov's `Sarif` and
  `Report.get_test_suite`/`get_junit_xml_string`, so the files are the ones checkov would write;
- the kit's checks are imported as Python modules (`policies.load()`), not through checkov's
  external-checks loader, which logs and skips a check that fails to import; an import error here
  is a crash (exit 3), and the scan verifies that every id in `policies.CHECK_IDS` registered.

Offline: no API key is read, `CKV_SKIP_PACKAGE_UPDATE_CHECK=true` stops the PyPI version query that
checkov's banner module makes at import, `BC_SKIP_MAPPING=TRUE` and `bc_integration.skip_download`
stop the guidelines/mapping download (checkov/main.py), and no platform call is made because the
platform integration is never set up. The tests run a scan with sockets disabled.

Exit codes (scripts/cli.py): 0 no failed check; 1 failed checks remain; 2 user error (no stacks,
a pattern that matches none, a bad skips file); 3 the scan cannot be trusted (a stack that does not
parse, a stack with 0 resources, checkov parsed fewer resources than the file has, a check crashed,
a kit check did not register, checkov itself raised).
"""

from __future__ import annotations

import fnmatch
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infra.suppressions import CHECK_ID, MIN_REASON_LENGTH, suppressions_of
from scripts import checkov_adapter
from scripts.entry import EXIT_FINDINGS, EXIT_OK, EXIT_TOOL_FAILURE, EXIT_USER_ERROR

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SKIPS = REPO / "policies" / "skips.yaml"
SUPPRESSION_CHECK_ID = "CKV_MLK_0"
SUPPRESSION_CHECK_NAME = f"Suppression carries a written reason (>= {MIN_REASON_LENGTH} characters) and a valid check id"


class UserError(Exception):
    """A mistake the user fixes (exit 2); one line per problem."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


# -- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GlobalSkip:
    check_id: str
    reason: str


def load_skips(path: Path | None) -> list[GlobalSkip]:
    """policies/skips.yaml: `skips: [{id, reason}]`; every entry needs a valid id and a real reason."""
    if path is None or not path.exists():
        if path is not None and path != DEFAULT_SKIPS:
            raise UserError([f"{path}: no such skips file"])
        return []
    import yaml

    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise UserError([f"{path}: not valid YAML: {e}".replace("\n", " ")]) from None
    entries = doc.get("skips", []) if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise UserError([f"{path}: expected `skips:` with a list of {{id, reason}} entries"])
    problems: list[str] = []
    skips: list[GlobalSkip] = []
    for i, entry in enumerate(entries):
        where = f"{path}: skips[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected {{id: CKV_..., reason: ...}}")
            continue
        check_id, reason = entry.get("id"), entry.get("reason")
        mine = []
        if not isinstance(check_id, str) or not CHECK_ID.match(check_id):
            mine.append(f"{where}: id {check_id!r} is not a checkov check id (like CKV_AZURE_33)")
        elif check_id == SUPPRESSION_CHECK_ID:
            mine.append(f"{where}: {SUPPRESSION_CHECK_ID} (suppressions need reasons) cannot be skipped")
        if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
            mine.append(f"{where}: reason missing or shorter than {MIN_REASON_LENGTH} characters; say why the check never applies")
        problems.extend(mine)
        if not mine and isinstance(check_id, str) and isinstance(reason, str):
            skips.append(GlobalSkip(check_id, reason.strip()))
    if problems:
        raise UserError(problems)
    return skips


def find_stacks(outdir: Path, patterns: list[str] | None = None) -> list[Path]:
    stacks_dir = outdir / "stacks"
    if not stacks_dir.is_dir():
        raise UserError([f"{stacks_dir}: no synthesized stacks; run `mlops-kit synth` first"])
    found = sorted(p for p in stacks_dir.iterdir() if p.is_dir())
    if not found:
        raise UserError([f"{stacks_dir}: no stack folders; run `mlops-kit synth` first"])
    if patterns:
        chosen = [p for p in found if any(fnmatch.fnmatchcase(p.name, pat) for pat in patterns)]
        unmatched = [pat for pat in patterns if not any(fnmatch.fnmatchcase(p.name, pat) for p in found)]
        if unmatched:
            raise UserError([f"stack pattern {pat!r} matches none of: {', '.join(p.name for p in found)}" for pat in unmatched])
        found = chosen
    return found


# -- results ----------------------------------------------------------------------------------


@dataclass
class Suppression:
    stack: str
    resource: str  # type.name
    check_id: str
    reason: str
    source: str  # "resource" (cdktf metadata) or the skips file
    applied: int = 0


@dataclass
class StackResult:
    name: str
    folder: Path
    resources: int = 0
    run: checkov_adapter.StackRun | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def report(self) -> Any:
        """checkov's Report of this stack (None when checkov did not run on it)."""
        return self.run.report if self.run is not None else None

    def count(self, what: str) -> int:
        return self.run.count(what) if self.run is not None else 0


@dataclass
class ScanResult:
    stacks: list[StackResult]
    suppressions: list[Suppression]
    skips: list[GlobalSkip]
    skip_use: Counter[str]
    errors: list[str]  # why the scan cannot be trusted
    seconds: float
    warnings: list[str] = field(default_factory=list)  # crashes of globally skipped checks

    @property
    def failed(self) -> list[Any]:
        return [r for s in self.stacks for r in (s.report.failed_checks if s.report else [])]

    @property
    def unused(self) -> list[Suppression]:
        return [s for s in self.suppressions if s.source == "resource" and not s.applied]

    @property
    def exit_code(self) -> int:
        if self.errors:
            return EXIT_TOOL_FAILURE
        return EXIT_FINDINGS if self.failed else EXIT_OK


# -- one stack ----------------------------------------------------------------------------------


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def _read_stack(stack: StackResult) -> dict[str, dict[str, object]] | None:
    """Read the stack's files as strict JSON: count its resources; address -> suppressions as recorded."""
    files = sorted(stack.folder.rglob("*.tf.json"))
    if not files:
        stack.errors.append(f"{stack.name}: no *.tf.json in {stack.folder}")
        return None
    own: dict[str, dict[str, object]] = {}
    for f in files:
        try:
            doc = json.loads(f.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            stack.errors.append(f"{stack.name}: {_display_path(f)} is not valid JSON ({e})")
            continue
        if not isinstance(doc, dict):
            stack.errors.append(f"{stack.name}: {_display_path(f)} is not a Terraform JSON object")
            continue
        for rtype, named in (doc.get("resource") or {}).items():
            for name, body in (named or {}).items():
                stack.resources += 1
                own[f"{rtype}.{name}"] = suppressions_of(body if isinstance(body, dict) else {})
    return own


def _suppression_problems(check_id: object, reason: object) -> list[str]:
    problems = []
    if not isinstance(check_id, str) or not CHECK_ID.match(check_id):
        problems.append(f"{check_id!r} is not a checkov check id")
    elif check_id == SUPPRESSION_CHECK_ID:
        problems.append(f"{SUPPRESSION_CHECK_ID} cannot be suppressed")
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
        problems.append(
            f"suppression of {check_id} has reason {reason!r}: write why the finding is by design "
            f"(>= {MIN_REASON_LENGTH} characters)"
        )
    return problems


def _scan_stack(session: checkov_adapter.Session, stack: StackResult, suppressions: list[Suppression],
                skips: list[GlobalSkip], skip_use: Counter[str]) -> None:
    own = _read_stack(stack)
    if own is None:
        return
    run = stack.run = session.run(stack.folder, _display_path)
    for path in run.parse_errors:
        stack.errors.append(f"{stack.name}: checkov could not parse {_display_path(Path(path))}")
    if stack.resources == 0 and not stack.errors:
        stack.errors.append(f"{stack.name}: 0 resources to scan (an empty stack is a synth problem)")
    elif run.parsed != stack.resources and not stack.errors:
        stack.errors.append(f"{stack.name}: checkov parsed {run.parsed} resources, the files have {stack.resources}")

    # Suppressions: validate (a bad one is a CKV_MLK_0 failure and suppresses nothing), then apply.
    valid: dict[tuple[str, str], Suppression] = {}
    fallback = sorted(stack.folder.rglob("*.tf.json"))[0]
    for address, recorded in sorted(own.items()):
        for check_id, reason in sorted(recorded.items()):
            problems = _suppression_problems(check_id, reason)
            if problems:
                run.add_failure(address, SUPPRESSION_CHECK_ID, SUPPRESSION_CHECK_NAME, problems,
                                guideline="docs/policies.md#ckv-mlk-0", evaluated="//.mlops_kit.suppressions",
                                display=_display_path, fallback_file=fallback)
                continue
            assert isinstance(reason, str)  # checked above
            s = Suppression(stack.name, address, check_id, reason.strip(), "resource")
            suppressions.append(s)
            valid[(address, check_id)] = s

    by_id = {g.check_id: g for g in skips}
    comments: dict[int, str] = {}
    for record in run.report.failed_checks:
        own_skip = valid.get((record.resource, record.check_id))
        if own_skip is not None:
            own_skip.applied += 1
            comments[id(record)] = f"mlops-kit suppression: {own_skip.reason}"
        elif record.check_id != SUPPRESSION_CHECK_ID and (g := by_id.get(record.check_id)) is not None:
            skip_use[g.check_id] += 1
            comments[id(record)] = f"policies/skips.yaml: {g.reason}"
    run.skip(comments)


def scan(outdir: Path, skips_file: Path | None = DEFAULT_SKIPS, patterns: list[str] | None = None,
         progress: Callable[[str], None] | None = None) -> ScanResult:
    """Scan the stacks under `outdir` (raises UserError for exit-2 problems)."""
    started = time.perf_counter()
    say = progress or (lambda _m: None)
    skips = load_skips(skips_file)
    folders = find_stacks(outdir, patterns)
    say("loading checkov and the kit's checks")
    session = checkov_adapter.Session()
    errors: list[str] = []
    if session.missing:
        errors.append(f"kit checks did not register: {', '.join(session.missing)}")
    stacks = [StackResult(p.name, p) for p in folders]
    suppressions: list[Suppression] = []
    skip_use: Counter[str] = Counter()
    for stack in stacks:
        say(f"scanning {stack.name}")
        try:
            _scan_stack(session, stack, suppressions, skips, skip_use)
        except Exception as exc:  # checkov (or the kit) raised: the scan is incomplete
            stack.errors.append(f"{stack.name}: the scan crashed: {type(exc).__name__}: {exc}")
        errors.extend(stack.errors)
    # A crash fails the scan, unless skips.yaml skips that check with a reason (the escape hatch for
    # a built-in check that breaks on the kit's JSON); then it is a warning.
    skipped = {g.check_id for g in skips}
    warnings: list[str] = []
    for check_id, message in dict.fromkeys(session.crashes):
        (warnings if check_id in skipped else errors).append(message)
    return ScanResult(stacks, suppressions, skips, skip_use, errors, time.perf_counter() - started, warnings)


# -- outputs ----------------------------------------------------------------------------------


def write_reports(result: ScanResult, sarif: Path, junit: Path) -> None:
    """SARIF 2.1.0 and JUnit XML through checkov's writers; scan-integrity errors become failures."""
    sarif.parent.mkdir(parents=True, exist_ok=True)
    junit.parent.mkdir(parents=True, exist_ok=True)
    reports = {f"mlops-kit scan: {s.name}": s.report for s in result.stacks if s.report is not None}
    doc = checkov_adapter.sarif(list(reports.values()), "Checkov (mlops-kit scan)", result.errors)
    sarif.write_text(json.dumps(doc, indent=2))
    integrity = "scan integrity (parsed, resources scanned, checks ran, kit checks loaded)"
    junit.write_text(checkov_adapter.junit(reports, integrity, result.errors))


def _loc(record: Any) -> str:
    return f"{record.file_path.lstrip('/')}:{record.file_line_range[0]}"


def render(result: ScanResult, console: Console, sarif: Path | None = None, junit: Path | None = None) -> None:
    table = Table(title=f"mlops-kit scan: checkov on {len(result.stacks)} stack(s) ({result.seconds:.1f} s)")
    for col in ("stack", "resources", "passed", "failed", "suppressed"):
        table.add_column(col, justify="left" if col == "stack" else "right")
    for stack in result.stacks:
        failed = stack.count("failed")
        table.add_row(stack.name, str(stack.resources), str(stack.count("passed")),
                      f"[red]{failed}[/red]" if failed else "0", str(stack.count("skipped")))
    console.print(table)

    if result.failed:
        console.print(f"[bold]failed checks ({len(result.failed)})[/bold]")
        for r in sorted(result.failed, key=lambda r: (r.file_path, r.resource, r.check_id)):
            console.print(f"  [red]{r.check_id}[/red] {escape(r.resource)}  [dim]{escape(_loc(r))}[/dim]", highlight=False, soft_wrap=True)
            console.print(f"      {r.check_name}", markup=False, highlight=False, soft_wrap=True)
            for d in r.details:
                console.print(f"      - {d}", markup=False, highlight=False, soft_wrap=True)
    applied = sorted((s for s in result.suppressions if s.applied), key=lambda s: (s.check_id, s.reason, s.stack))
    if applied or result.skip_use:
        console.print(f"[bold]suppressed by design ({sum(s.applied for s in applied) + sum(result.skip_use.values())})[/bold]")
        by_reason: dict[tuple[str, str], list[str]] = defaultdict(list)
        for s in applied:
            by_reason[(s.check_id, s.reason)].append(f"{s.stack}/{s.resource}")
        for (check_id, reason), where in by_reason.items():
            console.print(f"  [yellow]{check_id}[/yellow] {escape(reason)}", highlight=False, soft_wrap=True)
            for w in where:
                console.print(f"      {w}", markup=False, highlight=False, soft_wrap=True)
        for g in result.skips:
            if result.skip_use[g.check_id]:
                console.print(f"  [yellow]{g.check_id}[/yellow] (global, {result.skip_use[g.check_id]} finding(s)) {escape(g.reason)}",
                              highlight=False, soft_wrap=True)
    for s in result.unused:
        console.print(f"[yellow]warning[/yellow]: unused suppression {s.check_id} on {escape(s.stack)}/{escape(s.resource)} "
                      "(the check passed or does not apply): remove it")
    for w in result.warnings:
        console.print(f"[yellow]warning[/yellow]: {escape(w)} (skipped in skips.yaml)", soft_wrap=True)
    for e in result.errors:
        console.print(f"[red]error[/red]: {escape(e)}", soft_wrap=True)
    if sarif and junit:
        console.print(f"reports: {escape(str(sarif))}, {escape(str(junit))}", soft_wrap=True)
    code = result.exit_code
    verdict = {
        EXIT_OK: "[green]passed[/green]: no failed check",
        EXIT_FINDINGS: f"[red]failed[/red]: {len(result.failed)} failed check(s)",
        EXIT_TOOL_FAILURE: "[red]error[/red]: the scan cannot be trusted (see errors above)",
    }[code]
    console.print(f"{verdict} (exit {code})")


def baseline_markdown(result: ScanResult) -> str:
    """docs/checkov-baseline.md: every suppression and global skip, with its reason (generated)."""
    lines = [
        "# checkov baseline: what the scan suppresses, and why",
        "",
        "Generated by `python -m scripts.scan --write-baseline docs/checkov-baseline.md` from the",
        "suppressions recorded in the synthesized example (`teams/`), i.e. from `suppress(...)` calls",
        "in `infra/` and `stacks/` (infra/suppressions.py) and from `policies/skips.yaml`.",
        "tests/policies keep it equal to the scan's view; regenerate it after changing a suppression.",
        "",
        "## Per-resource suppressions",
        "",
        "| check | reason | resources (stack: address) |",
        "| --- | --- | --- |",
    ]
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for s in result.suppressions:
        mark = "" if s.applied else " (unused)"
        grouped[(s.check_id, s.reason)].append(f"{s.stack}: `{s.resource}`{mark}")
    for (check_id, reason), where in sorted(grouped.items()):
        lines.append(f"| {check_id} | {reason.replace('|', '/')} | {'<br>'.join(sorted(where))} |")
    if not grouped:
        lines.append("| (none) | | |")
    lines += ["", "## Global skips (policies/skips.yaml)", ""]
    if result.skips:
        lines += ["| check | reason | findings absorbed |", "| --- | --- | --- |"]
        lines += [f"| {g.check_id} | {g.reason.replace('|', '/')} | {result.skip_use[g.check_id]} |" for g in result.skips]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


# -- the command ------------------------------------------------------------------------------


PATTERNS_ARG = typer.Argument(None, help="Stack name globs, e.g. 'example-*' (default: all)")
OUT_OPTION = typer.Option(Path("cdktf.out"), "--out", help="cdktf output folder (has stacks/<stack>/)")
REPORTS_OPTION = typer.Option(Path("reports"), "--reports", help="Folder for checkov.sarif and checkov.junit.xml")
SKIPS_OPTION = typer.Option(DEFAULT_SKIPS, "--skips", help="Global skips file (check id + reason)",
                            show_default="policies/skips.yaml")
BASELINE_OPTION = typer.Option(None, "--write-baseline", help="Also write the suppression baseline (markdown)")


def scan_command(
    patterns: list[str] | None = PATTERNS_ARG,
    outdir: Path = OUT_OPTION,
    reports: Path = REPORTS_OPTION,
    skips: Path = SKIPS_OPTION,
    write_baseline: Path | None = BASELINE_OPTION,
) -> None:
    """Policy scan of the synthesized stacks: checkov + the kit's checks, offline, fail-closed."""
    err = Console(stderr=True)
    out = Console()
    try:
        with err.status("scan") as status:
            result = scan(outdir, skips, patterns, progress=lambda m: status.update(m))
    except UserError as e:
        for line in e.lines:
            err.print(f"error: {line}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USER_ERROR) from None
    except Exception as exc:  # checkov failed to import or to load the kit's checks
        err.print(f"error: the scan could not run: {type(exc).__name__}: {exc}", markup=False)
        raise typer.Exit(EXIT_TOOL_FAILURE) from None
    sarif, junit = reports / "checkov.sarif", reports / "checkov.junit.xml"
    try:
        write_reports(result, sarif, junit)
        if write_baseline:
            write_baseline.write_text(baseline_markdown(result))
    except OSError as exc:
        err.print(f"error: could not write the reports: {exc}", markup=False)
        raise typer.Exit(EXIT_TOOL_FAILURE) from None
    render(result, out, sarif, junit)
    raise typer.Exit(result.exit_code)


def main() -> None:
    """`python -m scripts.scan`: the same command as `mlops-kit scan`, without loading the rest of the CLI."""
    app = typer.Typer(add_completion=False)
    app.command()(scan_command)
    app()


def iter_records(result: ScanResult) -> Iterator[Any]:
    for s in result.stacks:
        if s.run is not None:
            yield from s.run.records()


if __name__ == "__main__":
    main()
