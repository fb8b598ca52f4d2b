"""The starter model trains on the sample data and keeps the signature the contract relies on."""

import subprocess
import sys
from pathlib import Path

import yaml


def test_training_writes_an_mlflow_model_with_a_signature(tmp_path: Path) -> None:
    out = tmp_path / "model"
    subprocess.run([sys.executable, "src/train.py", "--data", "data/sample.csv", "--output", str(out)], check=True)
    signature = yaml.safe_load((out / "MLmodel").read_text())["signature"]
    assert "age" in signature["inputs"] and "prediction" in signature["outputs"]
