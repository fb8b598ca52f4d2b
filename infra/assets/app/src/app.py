"""Starter app: builds the scoring request the model expects and reads its answer.

`model-contract.json` must describe exactly what `build_request` sends and `read_prediction` reads.
"""

from __future__ import annotations

FIELDS = ("age", "income", "region")


def build_request(customers: list[dict]) -> dict:
    """An Azure ML online-endpoint request for MLflow models (input_data, split orientation)."""
    return {"input_data": {"columns": list(FIELDS), "data": [[c.get(f) for f in FIELDS] for c in customers]}}


def read_prediction(answer: list[float] | dict) -> list[float]:
    values = answer["predictions"] if isinstance(answer, dict) else answer
    return [float(v) for v in values]
