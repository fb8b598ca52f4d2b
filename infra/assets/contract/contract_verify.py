"""Consumer-driven verification: judge a model by the answers the app will actually receive.

Loaded by ``contract_check.py verify`` and ``contract_check.py replay`` (it lives beside it). The app's
``model-contract.json`` (contractVersion 2) records *interactions*: requests the app's own code builds
and what the app needs from each answer. This module gets the answer for each request and checks it:

- ``verify`` loads the candidate MLflow model (pyfunc) and passes each request through MLflow's own
  serving code, ``mlflow.pyfunc.scoring_server.invocations`` (input parsing, schema enforcement,
  ``predict``, JSON serialization), as a deployment runs it. Needs mlflow and the model's flavor
  packages (model-ci and release install them); imported only when ``verify`` runs.
- ``replay`` POSTs each request to a scoring URI (a blue/green deployment before traffic moves).
  Standard library only.

Requests with ``input_data`` use the Azure ML no-code MLflow protocol: the body is parsed as MLflow's
``dataframe_split`` (columns/data) or ``inputs`` (tensors) and the answer is the bare predictions.
Other bodies use MLflow's own protocol and get ``{"predictions": ...}``.
"""

from __future__ import annotations

import json
import math
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

BREAKING, UNDECIDED = "breaking", "undecided"
TRUNCATE = 160  # characters of a request/answer shown in a message
SHOWN = 3  # problems shown in full; the rest get one line each


class _NotJSON(float):
    """NaN, Infinity or -Infinity in the answer's text: MLflow writes them, strict JSON parsers reject them."""

    text = "NaN"


def _not_json(name: str) -> _NotJSON:
    value = _NotJSON(name)
    value.text = name
    return value


def _parse_answer(text: str) -> Any:
    return json.loads(text, parse_constant=_not_json)


def _short(value: Any, limit: int = TRUNCATE) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Problem:
    kind: str  # BREAKING or UNDECIDED
    interaction: str | None  # None: a finding of the signature diff that the answers cannot overrule
    need: str  # what the app needs, and what it got instead
    fix_model: str
    fix_app: str
    request: Any = None
    answer: Any = None

    def render(self) -> str:
        title = "BREAKING" if self.kind == BREAKING else "UNDECIDED (outside what the contract can express)"
        where = f"interaction '{self.interaction}'" if self.interaction else "signature diff (static stage)"
        lines = [f"{title}: {where}"]
        if self.request is not None:
            lines.append(f"  request    {_short(self.request)}")
        if self.answer is not None:
            lines.append(f"  answer     {_short(self.answer)}")
        lines += [f"  need       {self.need}", f"  fix model  {self.fix_model}", f"  fix app    {self.fix_app}"]
        return "\n".join(lines)


@dataclass
class Exchange:
    """One interaction's outcome: the answer text, or the error the server gave."""

    status: int
    body: str


@dataclass
class Outcome:
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        kinds = {p.kind for p in self.problems}
        return BREAKING if BREAKING in kinds else (UNDECIDED if kinds else "compatible")


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


def request_rows(request: dict[str, Any]) -> int | None:
    """Rows the app sends (None when the body's form does not say)."""
    for key in ("input_data", "dataframe_split"):
        body = request.get(key)
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            return len(body["data"])
        if key == "input_data" and isinstance(body, list):
            return len(body)
    for key in ("dataframe_records", "instances", "inputs"):
        body = request.get(key)
        if isinstance(body, list):
            return len(body)
        if isinstance(body, dict) and body:
            first = next(iter(body.values()))
            return len(first) if isinstance(first, list) else None
    return None


def to_mlflow_body(request: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The MLflow serving body for a recorded request, and whether the answer is unwrapped (Azure ML)."""
    if "input_data" not in request:
        return request, False
    data = request["input_data"]
    if isinstance(data, dict) and "columns" in data and "data" in data:
        return {"dataframe_split": data}, True
    return {"inputs": data}, True


# ---------------------------------------------------------------------------------------------
# Checking an answer against the app's needs
# ---------------------------------------------------------------------------------------------


def _is_null(value: Any) -> bool:
    return value is None or isinstance(value, _NotJSON) or (isinstance(value, float) and math.isnan(value))


def _type_ok(value: Any, json_type: str) -> bool:
    if json_type == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if json_type == "integer":
        return isinstance(value, int)
    if json_type == "number":
        return isinstance(value, (int, float))
    return isinstance(value, str)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return f"a record with field(s) {', '.join(map(str, value)) or '(none)'}"
    if isinstance(value, list):
        return f"an array of {len(value)} value(s)"
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}"
    if isinstance(value, _NotJSON):
        return value.text
    if isinstance(value, float) and value.is_integer():
        return f"the number {value!r} (written with a fraction part)"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {json.dumps(value)}"
    return "null" if value is None else type(value).__name__


def _where(row: int, label: str) -> str:
    return f"row {row}{label}"


class _Checker:
    def __init__(self, name: str, request: Any, answer: Any, outcome: Outcome) -> None:
        self.name, self.request, self.answer, self.outcome = name, request, answer, outcome
        self.seen: dict[str, list[Any]] = {}

    def fail(self, need: str, fix_model: str, fix_app: str, kind: str = BREAKING) -> None:
        self.outcome.problems.append(Problem(kind, self.name, need, fix_model, fix_app, self.request, self.answer))

    def value(self, value: Any, need: dict[str, Any], where: str, what: str) -> bool:
        """Check one value against a need; False when a problem was recorded."""
        self.seen.setdefault(what, []).append(value)
        json_type = need["type"]
        if isinstance(value, _NotJSON):
            self.fail(
                f"{where}: {what} is {value.text}, which is not JSON: strict parsers (JavaScript, .NET, Java) reject "
                "the whole answer" + ("" if need.get("nullable") else f"; the app needs a {json_type}"),
                f"return null (None) or a finite number instead of {value.text} (fillna, clip, or impute in the model)",
                'declare "nullable": true and parse with a NaN-tolerant reader, if the app can handle it',
            )
            return False
        if _is_null(value):
            if need.get("nullable"):
                return True
            self.fail(
                f"{where}: the app needs a non-null {json_type} for {what}, got null",
                "always return a value for every row (impute or default inside the model)",
                f'handle a missing {what} and declare "nullable": true for it',
            )
            return False
        if not _type_ok(value, json_type):
            self.fail(
                f"{where}: the app reads {what} as {json_type}, got {_describe(value)}",
                f"return {what} as a JSON {json_type} again (cast in predict; for 1.0 vs 1 check the output dtype)",
                f'read {what} as what the model now returns and set "type" accordingly, then re-record',
            )
            return False
        labels = need.get("labels")
        if labels is not None and value not in labels:
            self.fail(
                f"{where}: {what} is {json.dumps(value)}, not one of the labels the app handles {json.dumps(labels)}",
                "return only the labels the app handles, or agree on the new label with the app team first",
                f'handle {json.dumps(value)} and add it to "labels" (expand first), then ship the model',
            )
            return False
        unit = f" {need['unit']}" if need.get("unit") else ""
        for bound, ok in (("minimum", lambda b: value >= b), ("maximum", lambda b: value <= b)):
            if bound in need and isinstance(value, (int, float)) and not ok(need[bound]):
                self.fail(
                    f"{where}: {what} is {value!r}, outside the app's range "
                    f"[{need.get('minimum', '-inf')}, {need.get('maximum', 'inf')}]{unit}",
                    f"return {what} in the agreed unit and range{unit} (a scale or unit change breaks the app)",
                    "if the new range or unit is intended: convert in the app and update minimum/maximum/unit",
                )
                return False
        return True

    def finish(self, needs: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Checks over all values of a need: meanings the answers cannot show."""
        for what, need in needs:
            values = [v for v in self.seen.get(what, []) if isinstance(v, (int, float)) and not _is_null(v)]
            if need.get("unit") and "minimum" not in need and "maximum" not in need:
                self.fail(
                    f"{what} is in unit '{need['unit']}' but the app states no range: a change of unit or scale "
                    "(x1000) cannot be seen in the answers",
                    "keep the unit; say so in the model's release notes",
                    f'add "minimum" and "maximum" for {what} (the values the app can handle in {need["unit"]})',
                    UNDECIDED,
                )
            if need.get("unit") == "probability" and len(values) >= 2 and all(v in (0, 1) for v in values):
                self.fail(
                    f"{what} should be a probability, but every answer is exactly 0 or 1: this looks like a class, "
                    "and the contract cannot tell a class from a very confident probability",
                    "return the probability (predict_proba), not the predicted class",
                    "record an interaction whose answer cannot be certain (a borderline case), then re-run",
                    UNDECIDED,
                )


def check_answer(interaction: dict[str, Any], exchange: Exchange, outcome: Outcome) -> None:
    """Record in ``outcome`` every way the answer fails the app's needs for this interaction."""
    name, request, spec = interaction["name"], interaction["request"], interaction["answer"]
    if exchange.status != 200:
        first = exchange.body.strip().splitlines()[0] if exchange.body.strip() else "(empty body)"
        outcome.problems.append(
            Problem(
                BREAKING,
                name,
                f"an answer (HTTP 200); the model refused the request with HTTP {exchange.status}: {_short(first, 200)}",
                "accept what the app sends (see the error: a column the model now needs, a type, a category)",
                "send what the model now needs (from the app's request builder), then re-record the interaction",
                request,
            )
        )
        return
    try:
        answer = _parse_answer(exchange.body)
    except ValueError as exc:
        outcome.problems.append(
            Problem(
                BREAKING,
                name,
                f"a JSON answer; got text that is not JSON ({exc})",
                "return JSON",
                "nothing: the model's answer is unreadable",
                request,
                exchange.body,
            )
        )
        return
    check = _Checker(name, request, answer, outcome)
    envelope = spec.get("envelope", ["bare", "predictions"])
    rows = answer
    if isinstance(answer, dict) and "predictions" in answer and "predictions" in envelope:
        rows = answer["predictions"]
    elif isinstance(answer, dict) or "bare" not in envelope:
        forms = " or ".join({"bare": "a list", "predictions": 'an object {"predictions": [...]}'}[e] for e in envelope)
        check.fail(
            f"the app reads {forms}; got {_describe(answer)}",
            "return the predictions as one array (one item per row): a dict of outputs is serialized as an object",
            'read the new form and list it in "envelope", then re-record the interaction',
        )
        return
    if not isinstance(rows, list):
        check.fail(
            f"a list of answer rows; got {_describe(rows)}",
            "return one prediction per row",
            "nothing: the app cannot read a single value for a batch",
        )
        return
    expected_rows = spec.get("rows", request_rows(request))
    if expected_rows is not None and len(rows) != expected_rows:
        check.fail(
            f"one answer row per request row: sent {expected_rows}, got {len(rows)}",
            "return exactly one prediction per input row",
            'if the model answers differently on purpose, set "rows" for this interaction',
        )
        return
    items = spec["items"]
    needs: list[tuple[str, dict[str, Any]]] = []
    for index, row in enumerate(rows):
        if items == "value":
            need = spec.get("value", {"type": "number"})
            needs = [("the value", need)]
            if isinstance(row, (dict, list)):
                check.fail(
                    f"row {index}: the app reads each answer row as one {need['type']} (by position); got "
                    f"{_describe(row)}",
                    "return a single output again (select the column the app reads; a DataFrame with more "
                    "columns or a named Series is serialized as records)",
                    'read the rows by name: set "items": "record" with the fields the app reads, then re-record',
                )
                return
            if not check.value(row, need, _where(index, ""), "the value"):
                return
        elif items == "record":
            fields = spec.get("fields", [])
            needs = [(f"field '{f['name']}'", f) for f in fields]
            if not isinstance(row, dict):
                names = ", ".join(f"'{f['name']}'" for f in fields)
                check.fail(
                    f"row {index}: the app reads field(s) {names} of each answer row; got {_describe(row)}",
                    "return the outputs as named columns again (a DataFrame with those columns)",
                    'read the rows by position: set "items": "value" (or "array"), then re-record',
                )
                return
            for need in fields:
                what = f"field '{need['name']}'"
                if need["name"] not in row:
                    if need.get("nullable"):
                        continue
                    close = [k for k in row if k not in {f["name"] for f in fields}]
                    check.fail(
                        f"row {index}: the app reads {what}; the answer has field(s) {', '.join(map(str, row))}"
                        + (f" (renamed to '{close[0]}'?)" if len(close) == 1 else ""),
                        f"return '{need['name']}' again (keep the old name while the app migrates)",
                        'read the new name, update "fields", then re-record the interaction',
                    )
                    return
                if not check.value(row[need["name"]], need, _where(index, f", {what}"), what):
                    return
        else:  # array
            positions = spec.get("positions", [])
            needs = [(f"position {i}", p) for i, p in enumerate(positions)]
            if not isinstance(row, list) or len(row) < len(positions):
                check.fail(
                    f"row {index}: the app reads {len(positions)} value(s) by position from each answer row; got "
                    f"{_describe(row)}",
                    "return the same number of outputs per row, in the same order",
                    'read what the model now returns and update "positions", then re-record',
                )
                return
            for i, need in enumerate(positions):
                if isinstance(row[i], (list, dict)):
                    check.fail(
                        f"row {index}, position {i}: nested {_describe(row[i])}; the vocabulary has no need for "
                        "nested arrays or records",
                        "flatten the output",
                        "judge this change by hand (test the app against the model)",
                        UNDECIDED,
                    )
                    return
                if not check.value(row[i], need, _where(index, f", position {i}"), f"position {i}"):
                    return
    check.finish(needs)
    if not any(p.interaction == name for p in outcome.problems):
        outcome.checked.append(name)


def check_labels_offered(interactions: Sequence[dict[str, Any]], classes: Sequence[Any] | None, outcome: Outcome):
    """A classifier that can answer a label the app does not handle breaks the app, seen in the answers or not."""
    if classes is None:
        return
    offered = [c.item() if hasattr(c, "item") else c for c in classes]
    for interaction in interactions:
        need = interaction["answer"].get("value") if interaction["answer"]["items"] == "value" else None
        if not need or "labels" not in need:
            continue
        extra = [c for c in offered if c not in need["labels"]]
        if extra:
            outcome.problems.append(
                Problem(
                    BREAKING,
                    interaction["name"],
                    f"answers from the labels {json.dumps(need['labels'])}; the model's classes are "
                    f"{json.dumps(offered)}, so it can answer {json.dumps(extra)} (the label set grew)",
                    "train on the labels the app handles, or map the new classes to them in the model",
                    f'handle {json.dumps(extra)} and add them to "labels" first (expand), then ship the model',
                )
            )
            return


def sends_null(request: dict[str, Any], name: str) -> bool:
    """Whether a recorded request sends null for (or leaves out) input ``name``."""
    for key in ("input_data", "dataframe_split"):
        body = request.get(key)
        if isinstance(body, dict) and isinstance(body.get("columns"), list) and isinstance(body.get("data"), list):
            if name not in body["columns"]:
                return True
            index = body["columns"].index(name)
            return any(isinstance(row, list) and (len(row) <= index or row[index] is None) for row in body["data"])
    records = request.get("dataframe_records")
    if isinstance(records, list):
        return any(isinstance(r, dict) and r.get(name) is None for r in records)
    return False


def overrule_static(findings: Sequence[Any], interactions: Sequence[dict[str, Any]], outcome: Outcome) -> list[str]:
    """Split the signature diff's breaking findings: the answers decide, except where they cannot see.

    Kept as breaking: an input type the model narrowed or changed (MLflow converts silently at scoring,
    e.g. 61000.5 -> 61000 for a long), and an input the model now requires where no passing interaction
    sends null. Returned as notes (the answers decide): outputs (the app's needs on the answer replace
    them), renamed or removed inputs (a missing one makes the request fail), shapes (enforced by MLflow).
    """
    passed = [i for i in interactions if i["name"] in outcome.checked]
    notes = []
    for f in findings:
        if not f.breaking:
            continue
        kept = f.side == "input" and f.problem.startswith(("narrowed type", "incompatible type"))
        if f.side == "input" and f.problem.startswith("nullability"):
            kept = not any(sends_null(i["request"], f.field) for i in passed)
        if not kept:
            notes.append(f.message)
            continue
        if f.problem.startswith("nullability"):
            why = "no recorded request sends null for it, so the answers cannot show whether the model accepts null"
            fix_model = "declare the input optional (required=False) and impute inside the model"
            fix_app = (
                f"record a request with '{f.field}' null (if the model accepts it, this passes), or always send it"
            )
        else:
            why = "the answers cannot show this: MLflow converts the values at scoring without an error (61000.5 -> 61000)"
            fix_model = "declare and accept the input as the app sends it (e.g. double)"
            fix_app = 'send the type the model declares and update "inputs"'
        outcome.problems.append(Problem(BREAKING, None, f"{f.message}; {why}", fix_model, fix_app))
    return notes


# ---------------------------------------------------------------------------------------------
# Getting the answers: the model in-process (verify) or a live deployment (replay)
# ---------------------------------------------------------------------------------------------


class ModelUnavailable(Exception):
    """The model cannot be loaded here (missing flavor package, no mlflow): verify cannot run it."""


def _mlflow_error(exc: Exception) -> str:
    """The real cause of an MLflow serving error (MLflow wraps predict's exception and keeps the trace)."""
    message = str(getattr(exc, "message", exc)).strip()
    trace = getattr(exc, "json_kwargs", {}).get("stack_trace")
    if "unexpected error while evaluating the model" in message and trace:
        lines = [line for line in str(trace).strip().splitlines() if line.strip()]
        message = lines[-1].strip() if lines else message
    return " ".join(message.split())


class LocalModel:
    """An MLflow model loaded as pyfunc, answering through MLflow's scoring server code."""

    def __init__(self, model_dir: str) -> None:
        try:
            import mlflow.pyfunc
            from mlflow.pyfunc import scoring_server
        except ImportError as exc:
            raise ModelUnavailable(f"mlflow is not installed ({exc}); pip install mlflow-skinny") from None
        try:
            self.model = mlflow.pyfunc.load_model(model_dir)
        except ImportError as exc:
            raise ModelUnavailable(f"a package the model's flavor needs is missing: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - an unloadable model is reported, never a traceback
            raise ModelUnavailable(f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}") from None
        self.scoring_server = scoring_server
        self.schema = self.model.metadata.get_input_schema()

    def classes(self) -> Sequence[Any] | None:
        try:
            raw = self.model.get_raw_model()
        except Exception:  # noqa: BLE001 - no raw model (older MLflow, a flavor without one)
            return None
        classes = getattr(raw, "classes_", None)
        return list(classes) if classes is not None else None

    def answer(self, request: dict[str, Any]) -> Exchange:
        body, unwrap = to_mlflow_body(request)
        try:
            result = self.scoring_server.invocations(json.dumps(body), "application/json", self.model, self.schema)
        except Exception as exc:  # noqa: BLE001 - the server turns these into HTTP 400 answers
            return Exchange(400, _mlflow_error(exc))
        if result.status != 200 or not unwrap:
            return Exchange(result.status, result.response)
        # Azure ML's MLflow scoring script answers the predictions themselves, not {"predictions": ...}.
        text = result.response
        prefix = '{"predictions": '
        if text.startswith(prefix) and text.endswith("}"):
            text = text[len(prefix) : -1]
        return Exchange(200, text)


def post(uri: str, request: dict[str, Any], deployment: str | None, token: str | None, timeout: float) -> Exchange:
    """POST one recorded request to a scoring URI. The token is sent, never printed."""
    headers = {"Content-Type": "application/json"}
    if deployment:
        headers["azureml-model-deployment"] = deployment  # route to the idle deployment, not the live traffic
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(uri, data=json.dumps(request).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310 - the URI is the caller's
            return Exchange(response.status, response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        return Exchange(exc.code, exc.read().decode("utf-8", "replace"))


def read_token(env_var: str, token_file: str | None) -> str | None:
    if token_file:
        with open(token_file, encoding="utf-8") as handle:
            return handle.read().strip() or None
    return os.environ.get(env_var) or None


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def format_outcome(outcome: Outcome, total: int, target: str, static_notes: Sequence[str]) -> str:
    verdict = outcome.verdict
    head = {
        "compatible": f"COMPATIBLE: the app's {total} interaction(s) got answers it can read from {target}",
        BREAKING: f"BREAKING: {target} gives answers the app cannot use",
        UNDECIDED: f"UNDECIDED: {target} may break the app in a way the contract cannot express; a person must judge",
    }[verdict]
    parts = [head, ""]
    parts += [p.render() + "\n" for p in outcome.problems[:SHOWN]]
    rest = outcome.problems[SHOWN:]
    if rest:  # one screen: the first problems in full, the others one line each
        parts += [f"and {len(rest)} more:"] + [f"  - interaction '{p.interaction}': {p.need}" for p in rest] + [""]
    if outcome.checked:
        parts.append("interactions that passed: " + ", ".join(f"'{n}'" for n in outcome.checked))
    for note in outcome.notes:
        parts.append(f"note: {note}")
    if static_notes:
        parts.append("signature diff (static stage; the answers above decide):")
        parts += [f"  - {n}" for n in static_notes]
    return "\n".join(parts).rstrip() + "\n"
