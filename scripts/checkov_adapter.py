"""The one module that touches checkov's internals (checkov==3.3.30, pinned in pyproject.toml).

`mlops-kit scan` (scripts/scan.py) decides what a finding means (suppressions, skips, exit codes);
this module only drives checkov and reads its results. Everything here depends on checkov behaviour
that is not a documented API; tests/policies/test_checkov_adapter.py checks each piece against the
installed checkov, so an upgrade that changes one fails there, by name, and not somewhere in a scan.
An import-linter contract (pyproject.toml) keeps every other module of the kit off checkov (the
policies/ checks excepted: they are checkov checks).

What is relied on (INTERNALS lists the names):
- offline: `CKV_SKIP_PACKAGE_UPDATE_CHECK`, `BC_SKIP_MAPPING` and `bc_integration.skip_download`
  (checkov's banner asks PyPI for a newer version at import; main.py downloads guidelines);
- the registries of Python checks (resource, data, provider: `checks` and `wildcard_checks`) and of
  graph checks (`get_graph_checks_registry("terraform")`), whose checks all go through `check.run`:
  a crashing Python check becomes UNKNOWN and a crashing graph check's exception is dropped by the
  thread pool, so `Session` wraps `run` to record the crash first;
- `TerraformJsonRunner().run(root_folder=..., runner_filter=...)` returning one `Report`, with
  `parsing_errors`, and the runner's `definitions` (resources with `__startline__`/`__endline__`)
  and `definitions_raw` (the file's lines, for code blocks);
- a Python check's record names its resource `resource.<name>` in terraform_json: the real address
  is found through the record's line range;
- `checkov.terraform_json.parser.prepare_definition` (looked up at call time by `loads`), wrapped to
  drop the state-only blocks `moved`, `import` and `removed`, which the parser cannot read;
- `Record(...)` for a failure the kit reports itself, `CheckResult`, `Sarif(reports, tool).json`,
  `Report.get_test_suite()`, `Report.get_junit_xml_string(suites)` and junit_xml's `TestCase`/`TestSuite`.

No module globals: a `Session` holds the crash log of one scan; checkov's registries are global to
the process, so the wrappers it installs read the session they belong to from the check itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VERIFIED_WITH = "3.3.30"

OFFLINE_ENV = {
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",  # checkov.common.util.banner queries PyPI at import otherwise
    "BC_SKIP_MAPPING": "TRUE",  # no guideline/mapping download
    "CHECKOV_CHECK_FAIL_LEVEL": "ERROR",  # a crashing check is logged as an error
}

# (module, attribute) the adapter uses; the contract test imports each one.
INTERNALS = (
    ("checkov.common.bridgecrew.platform_integration", "bc_integration"),
    ("checkov.terraform_json.parser", "prepare_definition"),
    ("checkov.common.checks_infra.registry", "get_graph_checks_registry"),
    ("checkov.terraform.checks.resource.registry", "resource_registry"),
    ("checkov.terraform.checks.data.registry", "data_registry"),
    ("checkov.terraform.checks.provider.registry", "provider_registry"),
    ("checkov.terraform_json.runner", "TerraformJsonRunner"),
    ("checkov.runner_filter", "RunnerFilter"),
    ("checkov.common.models.enums", "CheckResult"),
    ("checkov.common.output.record", "Record"),
    ("checkov.common.output.report", "Report"),
    ("checkov.common.output.sarif", "Sarif"),
    ("junit_xml", "TestCase"),
    ("junit_xml", "TestSuite"),
)

_GUARD = "_mlk_session"  # attribute on a checkov check: the Session its `run` wrapper reports to
_ORIGINAL_RUN = "_mlk_original_run"


def offline() -> None:
    """Make importing and running checkov offline (call before the first checkov import)."""
    os.environ.update(OFFLINE_ENV)
    from checkov.common.bridgecrew.platform_integration import bc_integration

    bc_integration.skip_download = True


# Top-level Terraform blocks that only steer state (no configuration to check). checkov 3.3's
# terraform_json parser fails the whole file on them (it hclifies every block as a dict of dicts;
# `moved` is a list), so a stack that ships a `moved` block (docs/upgrading.md) could not be scanned.
STATE_ONLY_BLOCKS = ("moved", "import", "removed")
_PATCHED = "_mlops_kit_state_only_blocks_dropped"


def tolerate_state_only_blocks() -> None:
    """Let checkov's JSON parser skip `moved`/`import`/`removed` (once per process)."""
    from checkov.terraform_json import parser

    original = parser.prepare_definition
    if getattr(original, _PATCHED, False):
        return

    def prepare_definition(definition: dict[str, Any]) -> dict[str, Any]:
        return original({k: v for k, v in definition.items() if k not in STATE_ONLY_BLOCKS})

    setattr(prepare_definition, _PATCHED, True)
    parser.prepare_definition = prepare_definition


@dataclass
class StackRun:
    """checkov's view of one stack folder: its report and the resources it parsed."""

    report: Any  # checkov Report
    parsed: int  # resources checkov parsed
    parse_errors: list[str]  # files checkov could not parse
    file_of: dict[str, str]  # address -> absolute file path
    lines_of: dict[str, tuple[int, int]]  # address -> (start line, end line)
    raw: dict[str, list[tuple[int, str]]]  # absolute file path -> numbered lines

    def records(self) -> list[Any]:
        return [*self.report.failed_checks, *self.report.passed_checks, *self.report.skipped_checks]

    def count(self, what: str) -> int:
        """Records of one result: failed, passed or skipped."""
        return len(getattr(self.report, f"{what}_checks"))

    def add_failure(self, address: str, check_id: str, check_name: str, details: list[str], guideline: str,
                    evaluated: str, display: Callable[[Path], str], fallback_file: Path) -> None:
        """Record a failure the kit found itself (a bad suppression) as checkov would."""
        from checkov.common.models.enums import CheckResult
        from checkov.common.output.record import Record

        file = self.file_of.get(address, str(fallback_file))
        start, end = self.lines_of.get(address, (1, 1))
        record = Record(
            check_id=check_id,
            check_name=check_name,
            check_result={"result": CheckResult.FAILED, "evaluated_keys": [evaluated]},
            code_block=self.raw.get(file, [])[max(start - 1, 0):end],
            file_path=f"/{display(Path(file))}",
            file_line_range=[start, end],
            resource=address,
            evaluations=None,
            check_class=__name__,
            file_abs_path=file,
            details=details,
        )
        record.repo_file_path = record.file_path
        record.set_guideline(guideline)
        self.report.add_record(record)

    def skip(self, comments: dict[int, str]) -> None:
        """Turn failed records (by id()) into skipped ones carrying `comment`, as checkov's own skips do."""
        from checkov.common.models.enums import CheckResult

        kept = []
        for record in self.report.failed_checks:
            comment = comments.get(id(record))
            if comment is None:
                kept.append(record)
                continue
            record.check_result = {**record.check_result, "result": CheckResult.SKIPPED, "suppress_comment": comment}
            self.report.skipped_checks.append(record)
        self.report.failed_checks = kept


@dataclass
class Session:
    """One scan: checkov offline, the kit's checks registered, every check's crashes recorded here."""

    crashes: list[tuple[str, str]] = field(default_factory=list)  # (check id, what happened)
    missing: list[str] = field(default_factory=list)  # kit check ids that did not register

    def __post_init__(self) -> None:
        offline()
        tolerate_state_only_blocks()
        import policies

        policies.load()
        registered = set()
        for check in self._all_checks():
            self._guard(check)
            registered.add(check.id)
        self.missing = [i for i in policies.CHECK_IDS if i not in registered]

    @staticmethod
    def _all_checks() -> Iterator[Any]:
        from checkov.common.checks_infra.registry import get_graph_checks_registry
        from checkov.terraform.checks.data.registry import data_registry
        from checkov.terraform.checks.provider.registry import provider_registry
        from checkov.terraform.checks.resource.registry import resource_registry

        graph = get_graph_checks_registry("terraform")
        graph.load_checks()
        for registry in (resource_registry, data_registry, provider_registry):
            for group in (registry.checks, registry.wildcard_checks):
                for checks in group.values():
                    yield from checks
        yield from graph.checks

    def _guard(self, check: Any) -> None:
        """Point the check's `run` wrapper at this session (installed once per check per process)."""
        setattr(check, _GUARD, self)
        if hasattr(check, _ORIGINAL_RUN):
            return
        original = check.run
        setattr(check, _ORIGINAL_RUN, original)

        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return original(*args, **kwargs)
            except Exception as exc:
                kind, name = kwargs.get("entity_type"), kwargs.get("entity_name")
                on = f" on {kind}.{name}" if kind else ""
                getattr(check, _GUARD).crashes.append(
                    (check.id, f"check {check.id} crashed{on}: {type(exc).__name__}: {exc}"))
                raise

        check.run = run

    def run(self, folder: Path, display: Callable[[Path], str]) -> StackRun:
        """Run checkov's terraform_json runner on one stack folder (its own graph: addresses repeat across stacks)."""
        from checkov.runner_filter import RunnerFilter
        from checkov.terraform_json.runner import TerraformJsonRunner

        from policies.mlk_graph import KitGraphCheck

        runner = TerraformJsonRunner()
        report = runner.run(root_folder=str(folder),
                            runner_filter=RunnerFilter(framework=["terraform_json"], show_progress_bar=False))
        if isinstance(report, list):  # run() returns a list only for several frameworks
            raise TypeError(f"checkov returned {len(report)} reports for one terraform_json folder")
        parsed, by_lines, lines_of = _index(runner.definitions)
        kit_graph = {c.id: c for c in self._graph_checks() if isinstance(c, KitGraphCheck)}
        # Real addresses (a Python check's record says `resource.<name>`), paths as shown to the user,
        # and the reasons the kit's graph checks give.
        for record in report.failed_checks + report.passed_checks + report.skipped_checks:
            if record.resource.startswith("resource."):
                start, end = record.file_line_range
                record.resource = by_lines.get((record.file_abs_path, start, end), record.resource)
            path = display(Path(record.file_abs_path))
            record.file_path = f"/{path}"
            record.repo_file_path = f"/{path}"
            if record.check_id in kit_graph and not record.details:
                record.details = list(kit_graph[record.check_id].details.get((record.file_abs_path, record.resource), []))
        file_of = {address: file for (file, _start, _end), address in by_lines.items()}
        return StackRun(report, parsed, list(report.parsing_errors), file_of, lines_of, runner.definitions_raw)

    @staticmethod
    def _graph_checks() -> list[Any]:
        from checkov.common.checks_infra.registry import get_graph_checks_registry

        return list(get_graph_checks_registry("terraform").checks)


def _index(definitions: dict[str, Any]) -> tuple[int, dict[tuple[str, int, int], str], dict[str, tuple[int, int]]]:
    """From checkov's parsed definitions: resource count, (file, start, end) -> address, address -> lines."""
    count = 0
    by_lines: dict[tuple[str, int, int], str] = {}
    lines: dict[str, tuple[int, int]] = {}
    for file, definition in definitions.items():
        for entity in definition.get("resource", []):
            for rtype, named in entity.items():
                for name, conf in named.items():
                    count += 1
                    span = (conf.get("__startline__", 0), conf.get("__endline__", 0))
                    by_lines[(file, *span)] = f"{rtype}.{name}"
                    lines[f"{rtype}.{name}"] = span
    return count, by_lines, lines


def sarif(reports: list[Any], tool: str, errors: list[str]) -> dict[str, Any]:
    """SARIF 2.1.0 through checkov's writer; `errors` (the scan cannot be trusted) as a failed invocation."""
    from checkov.common.output.sarif import Sarif

    doc: dict[str, Any] = Sarif(reports, tool=tool).json
    if errors:  # SARIF's place for "the tool could not do its job"
        doc["runs"][0]["invocations"] = [{
            "executionSuccessful": False,
            "toolExecutionNotifications": [{"level": "error", "message": {"text": e}} for e in errors],
        }]
    return doc


def junit(reports: dict[str, Any], integrity: str, errors: list[str]) -> str:
    """JUnit XML through checkov's writer: one suite per stack, then one integrity case (failed on `errors`)."""
    from checkov.common.output.report import Report
    from junit_xml import TestCase, TestSuite  # type: ignore[import-untyped]  # checkov's dependency, no types

    suites = []
    for name, report in reports.items():
        suite = report.get_test_suite()
        suite.name = name
        suites.append(suite)
    case = TestCase(name=integrity, classname="mlops-kit.scan")
    if errors:
        case.add_failure_info(message="the scan cannot be trusted", output="\n".join(errors))
    suites.append(TestSuite(name="mlops-kit scan integrity", test_cases=[case]))
    return str(Report.get_junit_xml_string(suites))
