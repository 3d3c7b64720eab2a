"""Train and predict the same models in two scikit-learn releases (tests/test_learn_portability.py).

  python tests/portability.py train FOLDER        train every kind of model on the SRDB Rh sample and write
                                                  FOLDER/<kind>.wsmodel and FOLDER/<kind>.npz (its predictions)
  python tests/portability.py predict FOLDER OUT  load FOLDER/<kind>.wsmodel and write its predictions to OUT/<kind>.npz
"""

import sys
from pathlib import Path

import numpy as np

from wholesoil.core.learn.modelfile import load_model, save_model
from wholesoil.core.learn.training import predict_table, train_model
from wholesoil.core.tables import read_table

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "sample_data" / "srdb_rh_records.csv"
FEATURES = ["MAT", "MAP", "Latitude", "Biome", "Ecosystem_type"]
CATEGORICAL = ["Biome", "Ecosystem_type"]
#: (model kind, task, target transform): every learner, a log target and a classifier
KINDS = {"random_forest": ("random_forest", "regression", "log"),
         "quantile_forest": ("quantile_forest", "regression", "none"),
         "gradient_boosting": ("gradient_boosting", "regression", "none"),
         "svm": ("svm", "regression", "none"),
         "lasso": ("lasso", "regression", "log1p"),
         "classification": ("random_forest", "classification", "none")}


def sample():
    """The SRDB Rh records with a class target (Rh above the median) for the classifier."""
    table = read_table(SAMPLE)
    table = table[table["Rh_annual"] > 0].reset_index(drop=True)
    table["Rh_class"] = np.where(table["Rh_annual"] > table["Rh_annual"].median(), "high", "low")
    return table


def predictions(trained, table):
    """The prediction columns of ``predict_table`` as {column: array}."""
    frame = predict_table(trained, table.drop(columns=["Rh_annual", "Rh_class"]))
    added = [c for c in frame.columns if c not in table.columns]
    return {c: frame[c].to_numpy().astype(str if c == "predicted" and trained.metadata["task"] == "classification"
                                           else float) for c in added}


def train(folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    table = sample()
    for name, (kind, task, transform) in KINDS.items():
        target = "Rh_class" if task == "classification" else "Rh_annual"
        trained = train_model(table.iloc[::3], target, FEATURES, CATEGORICAL, kind=kind, task=task,
                              group_col="site_key", n_splits=3, n_trees=20, target_transform=transform,
                              permutation_repeats=1,
                              params={"n_estimators": 20} if kind == "gradient_boosting" else None)
        save_model(folder / f"{name}.wsmodel", trained)
        np.savez(folder / f"{name}.npz", **predictions(trained, table))


def predict(folder, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = sample()
    for name in KINDS:
        np.savez(out / f"{name}.npz", **predictions(load_model(Path(folder) / f"{name}.wsmodel"), table))


if __name__ == "__main__":
    {"train": train, "predict": predict}[sys.argv[1]](*sys.argv[2:])
