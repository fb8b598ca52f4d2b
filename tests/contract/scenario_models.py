"""Real MLflow models for the contract scenarios, trained the usual ways on a tiny table.

Each builder saves one model directory; ``ModelShop`` builds a model the first time a test asks for it
and keeps it for the session, so the suite trains each model once. Requirements are given explicitly
(``pip_requirements``) so that saving does not spend seconds inferring them.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import cloudpickle
import mlflow
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import ColSpec, Schema, TensorSpec
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

warnings.filterwarnings("ignore", module="mlflow")
# Pickle the wrapper class by value, so a saved model loads in any process (as code_paths would ship it).
cloudpickle.register_pickle_by_value(sys.modules[__name__])
REQS = ["scikit-learn", "pandas"]

X = pd.DataFrame(
    {
        "age": [34.0, 45, 23, 52, 61, 38, 29, 47],
        "income": [52000.0, 61000.5, 31000, 88000, 72000, 45000, 39000, 58000],
        "region": ["north", "south", None, "east", "north", "south", "east", None],
        "tenure": [1.0, 5, 2, 8, 10, 3, 1, 6],
    }
)
Y = np.array([1.8, 2.4, 0.9, 3.1, 3.5, 1.9, 1.2, 2.6])
CHURN = np.array(["stay", "churn", "stay", "churn", "stay", "churn", "stay", "churn"])
INPUTS = Schema([ColSpec("long", "age"), ColSpec("double", "income"), ColSpec("string", "region", required=False)])
PREDICTION = Schema([ColSpec("double", "prediction")])


def pipeline(estimator, numbers=("age", "income"), unknown="ignore"):
    region = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="unknown"), OneHotEncoder(handle_unknown=unknown)
    )
    columns = ColumnTransformer([("region", region, ["region"]), ("numbers", SimpleImputer(), list(numbers))])
    return make_pipeline(columns, estimator)


def regressor(**kw):
    return pipeline(LinearRegression(), **kw).fit(X, Y)


def classifier(y=CHURN):
    return pipeline(LogisticRegression(max_iter=200)).fit(X, y)


def save_sklearn(path: Path, model, signature) -> None:
    mlflow.sklearn.save_model(
        model, str(path), signature=signature, serialization_format="cloudpickle", pip_requirements=REQS
    )


class Wrapped(mlflow.pyfunc.PythonModel):
    """A pyfunc wrapper around a fitted sklearn model; ``mode`` says what predict returns."""

    def __init__(self, inner, mode: str) -> None:
        self.inner, self.mode = inner, mode

    def predict(self, context, model_input, params=None):
        m, x = self.mode, model_input
        if m == "frame2":  # outputs added: prediction + interval
            p = self.inner.predict(x)
            return pd.DataFrame({"prediction": p, "interval": p * 0.1})
        if m == "frame1":
            return pd.DataFrame({"prediction": self.inner.predict(x)})
        if m == "frame-renamed":
            return pd.DataFrame({"score": self.inner.predict(x)})
        if m == "series":
            return pd.Series(self.inner.predict(x), name="prediction")
        if m == "x1000":
            return self.inner.predict(x) * 1000
        if m == "proba":
            return self.inner.predict_proba(x)[:, list(self.inner.classes_).index("churn")]
        if m == "proba2":
            return self.inner.predict_proba(x)
        if m == "class01":
            return (self.inner.predict(x) == "churn").astype("float64")
        if m == "labels-grown":
            return np.where(x["income"].to_numpy() > 80000, "maybe", self.inner.predict(x))
        if m == "nan":
            p = self.inner.predict(x)
            p[0] = np.nan
            return p
        if m == "none":
            return [None] * len(x)
        if m == "aggregate":
            return np.array([float(self.inner.predict(x).mean())])
        if m == "dict":
            p = self.inner.predict(x)
            return {"prediction": p.tolist(), "interval": (p * 0.1).tolist()}
        if m == "int":
            return np.rint(self.inner.predict(x)).astype("int64")
        raise ValueError(m)


def save_wrapped(path: Path, inner, mode: str, signature) -> None:
    mlflow.pyfunc.save_model(str(path), python_model=Wrapped(inner, mode), signature=signature, pip_requirements=REQS)


def _two(*names):
    return Schema([ColSpec("double", n) for n in names])


def build(name: str, path: Path) -> None:  # noqa: C901 - a catalogue, one branch per model
    if name == "seeded":  # as infra/assets/model/src/train.py: declared signature, imputers, unknown regions ignored
        save_sklearn(path, regressor(), ModelSignature(INPUTS, PREDICTION))
    elif name == "needs-tenure":  # an optional input added that the model in fact needs
        sig = ModelSignature(Schema([*INPUTS.inputs, ColSpec("double", "tenure", required=False)]), PREDICTION)
        save_sklearn(path, regressor(numbers=("age", "income", "tenure")), sig)
    elif name == "inferred":  # infer_signature(X, model.predict(X)): unnamed output, region required
        m = regressor()
        x = X[["age", "income", "region"]].dropna().astype({"age": "int64"})
        save_sklearn(path, m, infer_signature(x, m.predict(x)))
    elif name == "output-renamed":
        save_sklearn(path, regressor(), ModelSignature(INPUTS, Schema([ColSpec("double", "score")])))
    elif name == "income-long":  # the model now declares income as long: MLflow truncates 61000.5 silently
        sig = ModelSignature(Schema([ColSpec("long", "age"), ColSpec("long", "income"), INPUTS.inputs[2]]), PREDICTION)
        save_sklearn(path, regressor(), sig)
    elif name == "age-double":  # widened input
        sig = ModelSignature(Schema([ColSpec("double", "age"), *INPUTS.inputs[1:]]), PREDICTION)
        save_sklearn(path, regressor(), sig)
    elif name == "unknown-error":  # OneHotEncoder(handle_unknown="error"): unseen regions fail
        save_sklearn(path, regressor(unknown="error"), ModelSignature(INPUTS, PREDICTION))
    elif name == "classifier":
        save_sklearn(path, classifier(), ModelSignature(INPUTS, Schema([ColSpec("string", "label")])))
    elif name == "classifier-grown":  # a third class in training data: the label set grows
        y = CHURN.copy()
        y[3] = "maybe"
        save_sklearn(path, classifier(y), ModelSignature(INPUTS, Schema([ColSpec("string", "label")])))
    elif name == "classifier-shrunk":
        y = np.where(CHURN == "churn", "churn", "churn")
        y[0] = "stay"
        save_sklearn(path, classifier(y), ModelSignature(INPUTS, Schema([ColSpec("string", "label")])))
    elif name.startswith("wrap-"):
        mode = name[len("wrap-") :]
        if mode in ("proba", "class01", "labels-grown", "proba2"):
            inner = classifier()
            out = {"proba2": _two("p_churn", "p_stay"), "labels-grown": Schema([ColSpec("string", "label")])}
            save_wrapped(path, inner, mode, ModelSignature(INPUTS, out.get(mode, _two("p_churn"))))
        else:
            out = {"frame2": _two("prediction", "interval"), "frame-renamed": _two("score"), "dict": None}
            out_schema = out.get(mode, PREDICTION)
            if mode == "int":
                out_schema = Schema([ColSpec("long", "prediction")])
            save_wrapped(path, regressor(), mode, ModelSignature(INPUTS, out_schema))
    elif name in ("tensor", "tensor-4"):
        n = 3 if name == "tensor" else 4
        rng = np.random.default_rng(0)
        x = rng.normal(size=(8, n))
        m = LinearRegression().fit(x, x.sum(axis=1))
        sig = ModelSignature(
            Schema([TensorSpec(np.dtype("float64"), (-1, n))]), Schema([TensorSpec(np.dtype("float64"), (-1,))])
        )
        save_sklearn(path, m, sig)
    elif name == "unloadable":  # a flavor whose package the agent does not have
        save_sklearn(path, regressor(), ModelSignature(INPUTS, PREDICTION))
        mlmodel = path / "MLmodel"
        mlmodel.write_text(mlmodel.read_text().replace("loader_module: mlflow.sklearn", "loader_module: xgb_missing"))
    else:
        raise KeyError(name)


class ModelShop:
    def __init__(self, root: Path) -> None:
        self.root, self.built = root, {}

    def __call__(self, name: str) -> Path:
        if name not in self.built:
            path = self.root / name
            build(name, path)
            self.built[name] = path
        return self.built[name]
