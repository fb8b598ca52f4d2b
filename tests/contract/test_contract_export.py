"""`export` derives the model side from an MLmodel file without importing mlflow.

The MLmodel texts below follow what MLflow writes (ModelSignature.to_dict: `inputs`, `outputs`
and `params` are JSON strings; ColSpec `{"type", "name", "required"}`; TensorSpec
`{"name", "type": "tensor", "tensor-spec": {"dtype", "shape"}}`), including the way PyYAML folds
a long quoted string over several lines.
"""

from __future__ import annotations

import json

import pytest
from contract_helpers import EXAMPLE_APP, EXAMPLE_MODEL

SKLEARN_MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.5.1
mlflow_version: 2.16.0
model_size_bytes: 1969
model_uuid: 5e4a0f4b2b7c4f5e9f3f2c3f0f5b8a11
run_id: 0d7c1e9b8d3a4b6f9a2e5c4d3b2a1f00
signature:
  inputs: '[{"type": "long", "name": "age", "required": true}, {"type": "double", "name":
    "income", "required": true}, {"type": "string", "name": "region", "required": false}]'
  outputs: '[{"type": "double", "name": "prediction", "required": true}]'
  params: null
utc_time_created: '2024-09-02 08:15:04.221395'
"""

TENSOR_MLMODEL = """\
flavors:
  python_function:
    loader_module: mlflow.pytorch
mlflow_version: 2.16.0
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 28, 28]}, "name": "image"},
    {"type": "tensor", "tensor-spec": {"dtype": "datetime64[ns]", "shape": [-1]}, "name": "taken_at"}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 10]}}]'
  params: null
"""

MLFLOW_1_MLMODEL = """\
flavors: {}
signature:
  inputs: '[{"name": "age", "type": "long"}, {"name": "income", "type": "double"}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
"""


@pytest.fixture
def export(cc, tmp_path, capsys):
    def run(text, *, as_dir=False):
        model_dir = tmp_path / "model"
        model_dir.mkdir(exist_ok=True)
        (model_dir / "MLmodel").write_text(text)
        out = tmp_path / "contract" / "model-contract.model.json"
        target = model_dir if as_dir else model_dir / "MLmodel"
        code = cc.main(["export", "--mlmodel", str(target), "--out", str(out)])
        captured = capsys.readouterr()
        contract = json.loads(out.read_text()) if out.exists() else None
        return code, contract, captured

    return run


def test_export_column_signature(export):
    code, contract, captured = export(SKLEARN_MLMODEL)
    assert code == 0, captured.err
    assert contract["contractVersion"] == 1
    assert contract["inputs"] == [
        {"name": "age", "type": "long", "nullable": False},
        {"name": "income", "type": "double", "nullable": False},
        {"name": "region", "type": "string", "nullable": True},  # required: false
    ]
    assert contract["outputs"] == [{"name": "prediction", "type": "double", "nullable": False}]
    assert contract["source"] == {
        "format": "mlflow-signature",
        "runId": "0d7c1e9b8d3a4b6f9a2e5c4d3b2a1f00",
        "modelUuid": "5e4a0f4b2b7c4f5e9f3f2c3f0f5b8a11",
        "createdUtc": "2024-09-02 08:15:04.221395",
    }
    assert "wrote " in captured.out and "3 inputs, 1 outputs" in captured.out


def test_exported_column_contract_matches_the_example_and_passes_the_app_check(export, cc, capsys):
    _, contract, _ = export(SKLEARN_MLMODEL)
    example = json.loads(EXAMPLE_MODEL.read_text())
    assert contract["inputs"] == example["inputs"]
    assert contract["outputs"] == example["outputs"]
    app = cc.load_contract(str(EXAMPLE_APP))
    model = cc.parse_contract(contract, "exported")
    assert not [f for f in cc.compare(app, model) if f.breaking]


def test_export_tensor_signature(export):
    code, contract, captured = export(TENSOR_MLMODEL, as_dir=True)  # a model directory works too
    assert code == 0, captured.err
    assert contract["inputs"] == [
        {"name": "image", "type": "float32", "nullable": False, "shape": [-1, 28, 28]},
        {"name": "taken_at", "type": "datetime", "nullable": False, "shape": [-1]},
    ]
    # unnamed specs are named by position, as MLflow's Schema.input_names() does
    assert contract["outputs"] == [{"name": "0", "type": "float32", "nullable": False, "shape": [-1, 10]}]
    assert contract["source"] == {"format": "mlflow-signature"}


def test_export_mlflow_1_signature_without_required_means_not_nullable(export):
    code, contract, _ = export(MLFLOW_1_MLMODEL)
    assert code == 0
    assert [f["nullable"] for f in contract["inputs"]] == [False, False]
    assert contract["outputs"] == [{"name": "0", "type": "int64", "nullable": False, "shape": [-1]}]


def test_unnamed_output_is_reported_with_a_rename_hint(export, cc):
    _, contract, _ = export(MLFLOW_1_MLMODEL)
    app_doc = {
        "contractVersion": 1,
        "inputs": contract["inputs"],
        "outputs": [{"name": "prediction", "type": "long", "nullable": False}],
    }
    app = cc.parse_contract(app_doc, "app")
    (finding,) = [f for f in cc.compare(app, cc.parse_contract(contract, "model")) if f.breaking]
    assert finding.message == (
        "output 'prediction': app reads long, model no longer produces 'prediction' "
        "(output removed or renamed; renamed to '0' (int64)?)"
    )


def test_export_to_stdout(cc, tmp_path, capsys):
    mlmodel = tmp_path / "MLmodel"
    mlmodel.write_text(SKLEARN_MLMODEL)
    assert cc.main(["export", "--mlmodel", str(mlmodel), "--out", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["inputs"][0] == {"name": "age", "type": "long", "nullable": False}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "flavors: {}\nmlflow_version: 2.16.0\n",
            "the model has no input signature; log it with one "
            "(e.g. signature=mlflow.models.infer_signature(X, model.predict(X)))",
        ),
        (
            'signature:\n  inputs: \'[{"type": "array", "items": {"type": "string"}, "name": "tags"}]\'\n',
            "input 'tags': MLflow type 'array' is not supported by the contract gate yet",
        ),
        (
            'signature:\n  inputs: \'[{"type": "decimal", "name": "amount"}]\'\n',
            "input 'amount': unknown MLflow type 'decimal'; known types: boolean, integer, long",
        ),
        (
            'signature:\n  inputs: \'[{"type": "long", "name": "a"}]\'\n'
            '  outputs: \'[{"type": "tensor", "tensor-spec": {"dtype": "complex128", "shape": [-1]}}]\'\n',
            "output '0': unknown tensor dtype 'complex128'",
        ),
        ('signature:\n  inputs: \'[{"type": "long", "name": "a"\'\n', "signature.inputs is not valid JSON"),
        (
            'signature:\n  inputs: \'[{"type": "long", "name": "a"}, {"type": "long", "name": "a"}]\'\n',
            "inputs: duplicate input 'a'",
        ),
        ("signature: [unclosed\n", "invalid YAML"),
    ],
    ids=["no-signature", "array", "unknown-type", "unknown-dtype", "bad-json", "duplicate", "bad-yaml"],
)
def test_export_errors_are_one_line_naming_the_file(export, text, expected):
    code, contract, captured = export(text)
    assert code == 2
    assert contract is None
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("contract_check: error: ")
    assert "MLmodel" in line
    assert expected in line


def test_export_missing_file(cc, tmp_path, capsys):
    assert cc.main(["export", "--mlmodel", str(tmp_path / "MLmodel"), "--out", str(tmp_path / "c.json")]) == 2
    assert capsys.readouterr().err.strip().endswith("MLmodel: file not found")
