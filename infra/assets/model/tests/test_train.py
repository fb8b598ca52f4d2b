"""The starter model trains on real-looking data and keeps the signature the contract relies on."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

HEADER = "age,income,region,target\n"


def train(tmp_path: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "src/train.py", "--data", str(data), "--output", str(tmp_path / "model"), *extra]
    env = {**os.environ, "MLFLOW_TRACKING_URI": (tmp_path / "mlruns").as_uri()}  # local runs: no tracking server
    return subprocess.run(command, check=False, capture_output=True, text=True, env=env)


def signature(model: Path) -> dict:
    raw = yaml.safe_load((model / "MLmodel").read_text())["signature"]
    return {side: {c["name"]: c for c in json.loads(raw[side])} for side in ("inputs", "outputs")}


def test_declared_signature_even_when_the_data_has_no_missing_region(tmp_path: Path) -> None:
    data = tmp_path / "full.csv"
    data.write_text(HEADER + "".join(f"{20 + i},{30000 + 500 * i}.0,north,{i}.5\n" for i in range(10)))
    assert train(tmp_path, data).returncode == 0
    sig = signature(tmp_path / "model")
    assert sig["inputs"]["region"]["required"] is False  # declared, not inferred from this drop
    assert sig["inputs"]["age"]["type"] == "long" and sig["outputs"]["prediction"]["type"] == "double"


def test_a_single_missing_age_is_a_missing_value(tmp_path: Path) -> None:
    data = tmp_path / "drop"
    (data / "part").mkdir(parents=True)
    (data / "part" / "a.csv").write_text(HEADER + "34,52000.0,north,1.8\n,61000.5,south,2.4\n23,31000.0,,0.9\n")
    result = train(tmp_path, data, "--evaluation", str(tmp_path / "evaluation"))
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "evaluation" / "evaluation.json").read_text())["rows"] == 3


def test_a_folder_without_csv_files_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = train(tmp_path, tmp_path / "empty")
    assert result.returncode == 2 and "holds no .csv file" in result.stderr and "Traceback" not in result.stderr


def test_champion_and_candidate_are_scored_on_the_same_rows(tmp_path: Path) -> None:
    data = tmp_path / "rows.csv"
    data.write_text(HEADER + "".join(f"{20 + i},{30000 + 500 * i}.0,{'north' if i % 2 else ''},{i / 3:.3f}\n"
                                     for i in range(30)))
    assert train(tmp_path, Path("data/sample.csv")).returncode == 0
    (tmp_path / "model").rename(tmp_path / "champion")
    result = train(tmp_path, data, "--evaluation", str(tmp_path / "ev"), "--champion", str(tmp_path / "champion"))
    assert result.returncode == 0, result.stderr
    evaluation = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert evaluation["candidate"]["rmse"] < evaluation["champion"]["rmse"]
