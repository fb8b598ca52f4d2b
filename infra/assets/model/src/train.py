"""Train the starter model: a linear regression on age, income and region, saved with MLflow.

Replace the model with yours; keep SIGNATURE true: the model-app contract is exported from it, and
the release checks it against the app's contract. The signature is declared, never inferred from
the data, so a drop without missing regions cannot turn `region` into a required input.

    python src/train.py --data data/sample.csv --output /tmp/model
    python src/train.py --data <folder of CSVs> --output <dir> --evaluation <dir> [--champion <model dir>]

With --evaluation, the candidate (and the champion, when given) are scored on the same held-out
rows; the RMSEs go to MLflow and to <evaluation>/evaluation.json, which the training pipeline reads
to decide whether the candidate replaces the champion. Bad data ends with one `error:` line and
exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

TARGET = "target"
# Column -> pandas dtype it is read as. Nullable types: one missing `age` is a missing value, not a crash.
DTYPES = {"age": "Int64", "income": "Float64", "region": "string", TARGET: "Float64"}
FEATURES = ["age", "income", "region"]
SIGNATURE = ModelSignature(
    inputs=Schema([
        ColSpec("long", "age"),
        ColSpec("double", "income"),
        ColSpec("string", "region", required=False),  # the app may send no region
    ]),
    outputs=Schema([ColSpec("double", "prediction")]),
)
HOLDOUT = 0.2  # share of rows kept for scoring candidate and champion
MIN_HOLDOUT_ROWS = 2


class DataError(Exception):
    """Training data the model cannot learn from; the message says what and where."""


def csv_files(data: Path) -> list[Path]:
    if data.is_file():
        return [data]
    if not data.is_dir():
        raise DataError(f"--data {data}: no such file or folder")
    files = sorted(p for p in data.rglob("*") if p.is_file() and p.suffix.lower() == ".csv")
    if not files:
        raise DataError(f"--data {data}: the folder holds no .csv file (searched recursively)")
    return files


def read(files: list[Path]) -> pd.DataFrame:
    frames = []
    for f in files:
        try:
            raw = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
        except (pd.errors.ParserError, UnicodeDecodeError) as e:
            raise DataError(f"{f}: not a readable CSV file ({str(e).splitlines()[0]})") from None
        except pd.errors.EmptyDataError:
            raise DataError(f"{f}: empty file (expected a header row: {', '.join(DTYPES)})") from None
        missing = [c for c in DTYPES if c not in raw.columns]
        if missing:
            raise DataError(f"{f}: missing column(s) {', '.join(missing)} (has: {', '.join(raw.columns)})")
        frames.append(typed(raw[list(DTYPES)], f))
    return pd.concat(frames, ignore_index=True)


def typed(raw: pd.DataFrame, where: Path) -> pd.DataFrame:
    out = pd.DataFrame(index=raw.index)
    for column, dtype in DTYPES.items():
        if dtype == "string":
            out[column] = raw[column].astype("string")
            continue
        numbers = pd.to_numeric(raw[column], errors="coerce")
        bad = raw[column][numbers.isna() & raw[column].notna()]
        if len(bad):
            raise DataError(f"{where}: column {column}: {len(bad)} value(s) are not numbers, e.g. {bad.iloc[0]!r} "
                            f"(row {bad.index[0] + 2})")
        if dtype == "Int64" and ((numbers.dropna() % 1) != 0).any():
            raise DataError(f"{where}: column {column}: expected whole numbers, got {numbers[numbers % 1 != 0].iloc[0]}")
        out[column] = numbers.astype(dtype)
    return out


def features(frame: pd.DataFrame) -> pd.DataFrame:
    """What the model sees: numbers as float (missing = NaN, imputed in the pipeline), region as object."""
    x = frame[FEATURES].copy()
    x["age"] = x["age"].astype("float64")
    x["income"] = x["income"].astype("float64")
    x["region"] = x["region"].astype(object).where(x["region"].notna(), None)
    return x


def build() -> Pipeline:
    region = make_pipeline(SimpleImputer(strategy="constant", fill_value="unknown"),
                           OneHotEncoder(handle_unknown="ignore"))
    numbers = SimpleImputer(strategy="median")
    columns = ColumnTransformer([("region", region, ["region"]), ("numbers", numbers, ["age", "income"])])
    return make_pipeline(columns, LinearRegression())


def rmse(y: pd.Series, predicted) -> float:
    return math.sqrt(float(((y.to_numpy(dtype="float64") - pd.Series(predicted).to_numpy(dtype="float64")) ** 2).mean()))


def scorable(x: pd.DataFrame) -> pd.Series:
    """Rows both models can score: every input the signature requires is present (what the app sends)."""
    required = [c.name for c in SIGNATURE.inputs.inputs if c.required]
    return x[required].notna().all(axis=1)


def request(x: pd.DataFrame) -> pd.DataFrame:
    """Held-out rows as the endpoint receives them: typed as SIGNATURE declares."""
    return x.astype({"age": "int64", "income": "float64"})


def champion_rmse(path: Path, x: pd.DataFrame, y: pd.Series) -> tuple[float | None, str | None]:
    try:
        model = mlflow.pyfunc.load_model(str(path))
        answer = model.predict(request(x))
    except Exception as e:  # noqa: BLE001 - a champion that cannot score today's data loses, with the reason
        return None, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    column = answer["prediction"] if isinstance(answer, pd.DataFrame) else answer
    return rmse(y, column), None


def train(data: Path, output: Path, evaluation: Path | None, champion: Path | None) -> dict:
    frame = read(csv_files(data))
    unlabeled = int(frame[TARGET].isna().sum())
    frame = frame[frame[TARGET].notna()]
    if frame.empty:
        raise DataError(f"--data {data}: no row has a '{TARGET}' value")
    x, y = features(frame), frame[TARGET].astype("float64")
    holdout = len(frame) * HOLDOUT >= MIN_HOLDOUT_ROWS
    x_fit, x_test, y_fit, y_test = train_test_split(x, y, test_size=HOLDOUT, random_state=0) if holdout else (x, x, y, y)
    model = build().fit(x_fit, y_fit)
    keep = scorable(x_test)
    if not keep.any():
        raise DataError(f"--data {data}: no held-out row has every required input ({', '.join(FEATURES[:2])})")
    x_test, y_test = x_test[keep], y_test[keep]
    result = {"rows": len(frame), "unlabeled_rows_dropped": unlabeled, "scored_rows": len(x_test),
              "holdout": holdout, "candidate": {"rmse": rmse(y_test, model.predict(request(x_test)))}, "champion": None}
    if champion is not None:
        score, error = champion_rmse(champion, x_test, y_test)
        result["champion"] = {"rmse": score, "error": error} if error else {"rmse": score}
    with mlflow.start_run(nested=mlflow.active_run() is not None):
        mlflow.log_metrics({"rmse": result["candidate"]["rmse"], "rows": result["rows"]})
        if result["champion"] and result["champion"]["rmse"] is not None:
            mlflow.log_metric("champion_rmse", result["champion"]["rmse"])
    mlflow.sklearn.save_model(model, str(output), signature=SIGNATURE)
    if evaluation is not None:
        evaluation.mkdir(parents=True, exist_ok=True)
        (evaluation / "evaluation.json").write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="CSV file, or folder of CSV files, with "
                        f"{', '.join(FEATURES)} and '{TARGET}'")
    parser.add_argument("--output", required=True, type=Path, help="folder for the MLflow model")
    parser.add_argument("--evaluation", type=Path, help="folder for evaluation.json (candidate vs champion)")
    parser.add_argument("--champion", type=Path, help="the current champion's MLflow model folder")
    args = parser.parse_args(argv)
    try:
        result = train(args.data, args.output, args.evaluation, args.champion)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
