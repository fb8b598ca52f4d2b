"""Fixtures for the model-app contract gate.

contract_check.py is a standalone script that gets copied into team repos, not a package
module, so it is loaded from its file (and run as a real process in the CLI tests).
"""

from __future__ import annotations

import copy
import json

import pytest
from contract_helpers import EXAMPLE_APP, EXAMPLE_MODEL, Result, load_script


@pytest.fixture(scope="session")
def cc():
    return load_script()


@pytest.fixture
def app_doc():
    """The example app contract: sends age:integer, income:double, region:string (nullable);
    reads prediction:double. Tests mutate a fresh copy."""
    return copy.deepcopy(json.loads(EXAMPLE_APP.read_text()))


@pytest.fixture
def model_doc():
    """The example model contract: accepts age:long, income:double, region:string (nullable);
    produces prediction:double."""
    return copy.deepcopy(json.loads(EXAMPLE_MODEL.read_text()))


@pytest.fixture
def check(cc, tmp_path, capsys, monkeypatch):
    """Run `contract_check.py check` in-process on two dicts (or raw text); return a Result."""
    monkeypatch.delenv("TF_BUILD", raising=False)

    def run(app, model, junit=False):
        app_path, model_path = tmp_path / "model-contract.json", tmp_path / "model-contract.model.json"
        for path, doc in ((app_path, app), (model_path, model)):
            path.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
        argv = ["check", "--app", str(app_path), "--model", str(model_path)]
        junit_path = tmp_path / "out" / "contract.xml"
        if junit:
            argv += ["--junit", str(junit_path)]
        code = cc.main(argv)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err, junit_path if junit else None)

    return run


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    """Real MLflow models (tests/contract/scenario_models.py), each trained and saved once per session."""
    pytest.importorskip("mlflow")
    from scenario_models import ModelShop

    return ModelShop(tmp_path_factory.mktemp("models"))


@pytest.fixture
def verify(cc, tmp_path, capsys, monkeypatch):
    """Run `contract_check.py verify` in-process on an app contract dict and a model directory."""
    monkeypatch.delenv("TF_BUILD", raising=False)

    def run(app, model_dir, *extra):
        app_path = tmp_path / "model-contract.json"
        app_path.write_text(app if isinstance(app, str) else json.dumps(app, indent=2))
        code = cc.main(["verify", "--app", str(app_path), "--model-dir", str(model_dir), *map(str, extra)])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
