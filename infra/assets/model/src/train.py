"""Train the starter model: a linear regression on age, income and region, saved with MLflow.

Replace the model with yours; keep the MLflow signature (inputs and outputs): the model-app
contract is derived from it, and the release checks it against the app's contract.
"""

import argparse
from glob import glob

import mlflow
import pandas as pd
from mlflow.models import infer_signature
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

FEATURES = ["age", "income", "region"]


def build() -> Pipeline:
    region = make_pipeline(SimpleImputer(strategy="constant", fill_value="unknown"),
                           OneHotEncoder(handle_unknown="ignore"))
    columns = ColumnTransformer([("region", region, ["region"])], remainder="passthrough")
    return make_pipeline(columns, LinearRegression())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="CSV file, or folder of CSV files, with FEATURES and 'target'")
    parser.add_argument("--output", required=True, help="folder for the MLflow model")
    args = parser.parse_args()
    files = [args.data] if args.data.endswith(".csv") else sorted(glob(f"{args.data}/**/*.csv", recursive=True))
    frame = pd.concat(pd.read_csv(f) for f in files)
    x, y = frame[FEATURES].astype({"age": "int64", "income": "float64"}), frame["target"].astype("float64")
    model = build().fit(x, y)
    prediction = pd.Series(model.predict(x), name="prediction")
    mlflow.sklearn.save_model(model, args.output, signature=infer_signature(x, prediction), input_example=x.head(3))


if __name__ == "__main__":
    main()
