"""The request the app builds sends exactly the inputs declared in model-contract.json."""

import json
from pathlib import Path

from src.app import build_request


def test_request_matches_the_declared_inputs():
    contract = json.loads(Path("model-contract.json").read_text())
    sent = build_request([{"age": 1, "income": 2.0, "region": "x"}])["input_data"]["columns"]
    assert sent == [field["name"] for field in contract["inputs"]]
