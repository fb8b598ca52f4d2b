"""The pure parts of `scripts/bench.py`: generated team files, the report, the docs section swap.

No synth and no timing here: these run in every test run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.config import load_org
from scripts.bench import (
    ALL,
    END_MARKER,
    FLOOR,
    ONE,
    START_MARKER,
    Cell,
    CellResult,
    Run,
    generate_teams,
    import_seconds,
    main,
    parse_result,
    plan_cells,
    ratios,
    render_section,
    render_table,
    replace_section,
    trim_reps,
    write_section,
)
from tests.conftest import ORG


def test_generated_teams_load_as_a_valid_org(tmp_path: Path) -> None:
    names = generate_teams(tmp_path, 3, template=ORG / "example.yaml", platform_file=ORG / "platform.yaml")
    org = load_org(tmp_path)
    assert names == ["t001", "t002", "t003"]
    assert [tf.team.name for tf in org.teams] == names
    assert {tf.team.display_name for tf in org.teams} == {"Benchmark team t001", "Benchmark team t002", "Benchmark team t003"}
    assert org.platform == load_org(ORG).platform
    assert all(tf.team.env_names == ["dev", "staging", "prod"] for tf in org.teams)


def test_a_hundred_generated_teams_pass_the_collision_check(tmp_path: Path) -> None:
    generate_teams(tmp_path, 100, template=ORG / "example.yaml", platform_file=ORG / "platform.yaml")
    org = load_org(tmp_path)  # raises ConfigError on any name collision
    assert len(org.teams) == 100
    assert org.teams[-1].team.name == "t100"


def test_a_fixed_project_name_in_the_template_becomes_the_team_name(tmp_path: Path) -> None:
    template = ORG / "example.yaml"
    custom = tmp_path / "template.yaml"
    text = template.read_text()
    assert "\ndevops:\n" in text, "the example team has a devops block"
    custom.write_text(text.replace("\ndevops:\n", "\ndevops:\n  project_name: Shared Project\n", 1))
    generate_teams(tmp_path / "teams", 2, template=custom)
    org = load_org(tmp_path / "teams")
    assert [tf.team.project_name for tf in org.teams] == ["t001", "t002"]


DOC = f"""# Benchmarks

Intro written by hand.

<!-- bench:scan:start -->
scan numbers
<!-- bench:scan:end -->

{START_MARKER}
old synth numbers
{END_MARKER}

## Notes
kept as is
"""


def test_replace_section_keeps_everything_outside_the_markers() -> None:
    new = replace_section(DOC, "new synth numbers\n")
    assert "old synth numbers" not in new
    assert f"{START_MARKER}\nnew synth numbers\n{END_MARKER}" in new
    before, after = DOC.split(START_MARKER)[0], DOC.split(END_MARKER)[1]
    assert new.startswith(before) and new.endswith(after)
    assert replace_section(new, "new synth numbers\n") == new  # idempotent


def test_replace_section_appends_the_markers_to_a_file_without_them() -> None:
    text = "# Benchmarks\n\n## Scan\nnumbers\n"
    new = replace_section(text, "synth")
    assert new.startswith(text.rstrip("\n"))
    assert new.endswith(f"{START_MARKER}\nsynth\n{END_MARKER}\n")


def test_replace_section_refuses_a_lone_marker() -> None:
    with pytest.raises(ValueError, match="only one of"):
        replace_section(f"# B\n{START_MARKER}\nno end\n", "synth")


def test_write_section_creates_the_file_with_a_title_and_markers(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "benchmarks.md"
    write_section(path, "synth numbers")
    text = path.read_text()
    assert text.startswith("# Benchmarks\n")
    assert f"{START_MARKER}\nsynth numbers\n{END_MARKER}\n" in text
    path.write_text(text + "\n## Another section\nby someone else\n")
    write_section(path, "newer numbers")
    assert "by someone else" in path.read_text() and "newer numbers" in path.read_text()


def _run(wall: float, mb: float = 900.0, stacks: int = 1) -> Run:
    return Run(wall_s=wall, cpu_s=wall * 0.9, python_mb=mb * 0.45, node_mb=mb * 0.55, stacks=stacks,
               phases={"import cdktf": 0.5, "build_app": wall - 3}, rusage_children_mb=400, kernel_mb=400, jsii="stopped")


def _results() -> list[CellResult]:
    return [
        CellResult(Cell(0, FLOOR), 3, [_run(10), _run(9), _run(11)]),
        CellResult(Cell(1, ONE), 3, [_run(10), _run(10.5), _run(11)]),
        CellResult(Cell(1, ALL), 3, [_run(11, stacks=4)] * 3),
        CellResult(Cell(100, ONE), 3, [_run(12), _run(12.6), _run(13)]),
        CellResult(Cell(100, ALL), 1, [_run(80, 3000, 301)]),
    ]


def test_ratios_use_medians_of_the_one_stack_cells_and_the_floor() -> None:
    r = ratios(_results())
    assert r["one:100/1"] == pytest.approx(12.6 / 10.5)
    assert r["one-min:100/1"] == pytest.approx(12 / 10)
    assert r["floor:100:all"] == pytest.approx(80 / 10)
    assert r["floor-mem:100:all"] == pytest.approx(3000 / 900)


def test_the_report_names_the_ratio_the_budgeted_cell_and_the_command() -> None:
    text = render_section(_results(), ".venv/bin/python -m scripts.bench", {
        "nproc": "2", "cpu": "x", "memory": "23 GiB", "load": "0", "python": "3.11", "node": "v20",
        "commit": "abc", "versions": "cdktf 0.21.0"}, "2025-01-01 00:00 UTC", "0", 600)
    assert "One selected stack, 100 teams / 1 team: 1.20x" in text
    assert "within" in text
    assert "| 100 | all stacks | 301 | 1 (budget) |" in text
    assert "`.venv/bin/python -m scripts.bench`" in text
    table = render_table(_results()).splitlines()
    assert len({line.count("|") for line in table}) == 1  # every row has every column


def test_a_failed_cell_is_reported_not_dropped() -> None:
    results = [CellResult(Cell(0, FLOOR), 1, [_run(10)]), CellResult(Cell(1, ALL), 1, [], error="worker exited 1: boom")]
    table = render_table(results)
    assert "failed: worker exited 1: boom" in table
    assert len({line.count("|") for line in table.splitlines()}) == 1


def test_trim_reps_gives_the_slowest_cells_one_rep_until_the_run_fits() -> None:
    results = [CellResult(c, 3) for c in plan_cells((1, 100))]
    first = {r.cell: 10.0 for r in results}
    first[Cell(100, ALL)] = 200.0
    elapsed = sum(first.values())  # 240 s for the first pass
    trimmed = trim_reps(results, first, elapsed, budget=400)
    assert trimmed == [Cell(100, ALL)]  # 240 + 2*40 = 320 <= 400 without its two extra reps
    assert trim_reps([CellResult(c, 3) for c in plan_cells((1,))], dict.fromkeys(plan_cells((1,)), 1.0), 3, 900) == []


def test_parse_result_ignores_other_output() -> None:
    assert parse_result('noise\nBENCH-RESULT {"mode": "one"}\nmore noise\n') == {"mode": "one"}
    with pytest.raises(ValueError):
        parse_result("nothing\n")


def test_plan_has_the_floor_then_one_and_all_per_size() -> None:
    assert plan_cells((1, 10)) == [Cell(0, FLOOR), Cell(1, ONE), Cell(1, ALL), Cell(10, ONE), Cell(10, ALL)]


def test_sizes_without_one_team_are_a_user_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sizes", "10,100"]) == 2
    assert "--sizes must include 1" in capsys.readouterr().err


def test_import_seconds_sums_the_self_times_of_one_package_only() -> None:
    log = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:      1000 |       1000 |     cdktf\n"
        "import time:    500000 |     501500 |   cdktf_cdktf_provider_azurerm._jsii\n"
        "import time:      1500 |       1500 |     cdktf_cdktf_provider_azurerm.aadb2c_directory\n"
        "import time:    250000 |     752500 | cdktf_cdktf_provider_azurerm\n"
        "import time:      7000 |       7000 | cdktf_cdktf_provider_azurermx\n"
        "BENCH-RESULT {}\n"
    )
    assert import_seconds(log, "cdktf_cdktf_provider_azurerm") == pytest.approx(0.7515)
    assert import_seconds(log, "cdktf") == pytest.approx(0.001)
    assert import_seconds("", "cdktf") == 0.0
