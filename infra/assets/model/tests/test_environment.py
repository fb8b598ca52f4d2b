"""The training environment (environment/conda.yml) pins what CI tests with (requirements.txt)."""

from pathlib import Path

import yaml


def pins(lines: list[str]) -> list[str]:
    return sorted(line.strip() for line in lines if line.strip() and not line.strip().startswith("#"))


def test_conda_environment_pins_exactly_the_requirements() -> None:
    conda = yaml.safe_load(Path("environment/conda.yml").read_text())
    pip = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert pins(pip) == pins(Path("requirements.txt").read_text().splitlines())
