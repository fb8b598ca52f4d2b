"""The request the app builds sends exactly the inputs declared in model-contract.json."""

import json
from pathlib import Path

from src.app import build_request


def test_request_matches_the_declared_inputs():
    contract = json.loads(Path("model-contract.json").read_text())
    sent = build_request([{"age": 1, "income": 2.0, "region": "x"}])["input_data"]["columns"]
    assert sent == [field["name"] for field in contract["inputs"]]


def test_recorded_interactions_are_what_build_request_builds():
    """The model side verifies against the recorded requests (contract_check.py verify/replay): they must be
    exactly what this app sends. Re-record an interaction when build_request changes."""
    contract = json.loads(Path("model-contract.json").read_text())
    for interaction in contract.get("interactions", []):
        columns = interaction["request"]["input_data"]["columns"]
        customers = [dict(zip(columns, row, strict=True)) for row in interaction["request"]["input_data"]["data"]]
        assert build_request(customers) == interaction["request"], interaction["name"]
