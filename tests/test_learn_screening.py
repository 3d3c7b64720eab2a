"""Screening transformers: linear combinations, caret's correlation rule, iterative VIF, one-hot."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.outliers_influence import variance_inflation_factor

from wholesoil.core.errors import InputError
from wholesoil.core.learn.screening import (CategoricalEncoder, CorrelationFilter, LinearCombinationFilter,
                                            VIFFilter, variance_inflation)
from wholesoil.core.learn.training import evaluate_model, predict_table, screen_covariates, train_model
from wholesoil.core.outputs import OutputTransaction


def data_with_correlation(matrix, n=200, seed=0):
    """A table whose sample correlation matrix is exactly ``matrix``."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, len(matrix)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)
    values = z @ np.linalg.cholesky(matrix).T
    return pd.DataFrame(values, columns=[f"x{i + 1}" for i in range(len(matrix))])


def test_correlation_filter_follows_caret():
    # caret's findCorrelation help example R2, with a small x1-x2 correlation to break the tie of mean |r|
    matrix = np.eye(5)
    matrix[1, 2] = matrix[2, 1] = 0.7
    matrix[4, 2] = matrix[2, 4] = -0.7
    matrix[3, 0] = matrix[0, 3] = -0.67
    matrix[0, 1] = matrix[1, 0] = 0.05
    data = data_with_correlation(matrix)
    np.testing.assert_allclose(data.corr().to_numpy(), matrix, atol=1e-10)
    fitted = CorrelationFilter(0.65).fit(data)
    assert [d["feature"] for d in fitted.dropped_] == ["x3", "x1"]
    assert "x2" in fitted.dropped_[0]["reason"] and "0.700" in fitted.dropped_[0]["reason"]
    assert fitted.kept_ == ["x2", "x4", "x5"]
    assert list(fitted.transform(data).columns) == ["x2", "x4", "x5"]
    assert CorrelationFilter(0.75).fit(data).dropped_ == []


def test_vif_matches_statsmodels_and_removes_until_below_threshold():
    rng = np.random.default_rng(1)
    data = pd.DataFrame(rng.normal(size=(150, 3)), columns=["a", "b", "c"])
    data["d"] = data["a"] + data["b"] + rng.normal(scale=0.2, size=150)
    data["e"] = data["c"] * 2 + rng.normal(scale=0.1, size=150)
    design = np.column_stack([np.ones(150), data.to_numpy()])
    expected = [variance_inflation_factor(design, i + 1) for i in range(5)]
    np.testing.assert_allclose(variance_inflation(data), expected, rtol=1e-8)
    fitted = VIFFilter(10).fit(data)
    # e (VIF 286, just above c's 286) goes first; then the VIFs are recomputed and d (33) goes
    assert [d["feature"] for d in fitted.dropped_] == ["e", "d"]
    assert fitted.dropped_[1]["reason"].startswith("VIF 33.4 > 10")
    assert fitted.kept_ == ["a", "b", "c"]
    assert variance_inflation(data[fitted.kept_]).max() <= 10


def test_linear_combinations_and_constants():
    rng = np.random.default_rng(2)
    sand = rng.uniform(10, 60, 80).round()
    silt = rng.uniform(10, 30, 80).round()
    data = pd.DataFrame({"sand": sand, "silt": silt, "clay": 100 - sand - silt, "ph": rng.normal(6, 1, 80),
                         "flat": np.full(80, 3.0)})
    fitted = LinearCombinationFilter().fit(data)
    reasons = {d["feature"]: d["reason"] for d in fitted.dropped_}
    assert set(reasons) == {"clay", "flat"}
    assert reasons["flat"] == "constant"
    assert "-1 * sand" in reasons["clay"] and "-1 * silt" in reasons["clay"] and "+ 100" in reasons["clay"]
    data["noisy"] = data["sand"] + rng.normal(scale=1.0, size=80)
    assert "noisy" not in {d["feature"] for d in LinearCombinationFilter().fit(data).dropped_}


def test_filters_leave_text_columns_alone():
    data = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0) * 2, "biome": list("xyxyxyxyxy")})
    for step in (LinearCombinationFilter(), CorrelationFilter(), VIFFilter()):
        assert "biome" in step.fit(data).transform(data).columns


def test_categorical_encoder_levels_and_unknowns():
    train = pd.DataFrame({"t": [1.0, 2.0, 3.0, 4.0], "biome": [7.0, 3.0, 7.0, np.nan]})
    encoder = CategoricalEncoder(("biome",)).fit(train)
    assert encoder.levels_ == {"biome": ["3", "7"]}
    out = encoder.transform(train)
    assert list(out.columns) == ["t", "biome=3", "biome=7"]
    np.testing.assert_array_equal(out["biome=7"].to_numpy()[:3], [1.0, 0.0, 1.0])
    assert np.isnan(out["biome=7"].iloc[3])  # a missing class is nodata
    new = pd.DataFrame({"t": [1.0, 2.0], "biome": ["7", "12"]})
    np.testing.assert_array_equal(encoder.transform(new)[["biome=3", "biome=7"]].to_numpy(), [[0, 1], [0, 0]])
    with pytest.raises(InputError, match=r"levels not seen in training \('12'\) in row 2"):
        CategoricalEncoder(("biome",), handle_unknown="error").fit(train).transform(new)
    with pytest.raises(InputError, match="hold text"):
        CategoricalEncoder().fit(pd.DataFrame({"biome": ["a", "b"]}))
    units = pd.DataFrame({"mukey": [1234567, 1234568, 1234567.0]})  # map-unit keys are 6-7 digit codes
    assert CategoricalEncoder(("mukey",)).fit(units).levels_ == {"mukey": ["1234567", "1234568"]}


def test_numeric_codes_read_as_text_are_the_classes_of_a_model_trained_on_numbers():
    """QGIS may read a CSV's class codes as text ('1.0', '02'): they predict as the numbers the CLI reads."""
    rng = np.random.default_rng(4)
    table = pd.DataFrame({"a": rng.normal(size=90), "biome": rng.integers(1, 4, 90)})
    table["y"] = table["a"] + 2 * (table["biome"] == 2) + rng.normal(scale=0.1, size=90)
    trained = train_model(table, "y", ["a", "biome"], ["biome"], independent_rows=True, n_trees=10, n_splits=3)
    numbers = pd.DataFrame({"a": [0.1, -0.5, 0.3, 0.0], "biome": [1, 2, 3, 1]})
    with OutputTransaction() as outputs:
        predicted = predict_table(trained, numbers.assign(biome=["1.0", "02", " 3 ", "01"]))
    assert outputs.notes == []
    expected = predict_table(trained, numbers)
    pd.testing.assert_frame_equal(predicted.drop(columns="biome"), expected.drop(columns="biome"))
    classes = table.assign(zone=(table["a"] > 0).astype(int) + 1)  # classes 1 and 2, observed as '1.0' and '02'
    classifier = train_model(classes, "zone", ["a"], task="classification", independent_rows=True, n_trees=10,
                             n_splits=3)
    as_text = evaluate_model(classifier, classes.assign(zone=classes["zone"].map({1: "1.0", 2: "02"})))
    assert as_text.metrics == evaluate_model(classifier, classes).metrics and as_text.metrics["accuracy"] > 0.9
    encoder = CategoricalEncoder(("biome",)).fit(pd.DataFrame({"biome": ["01", "02", "A1"]}))  # codes that are text
    new = pd.DataFrame({"biome": ["1", "01", "A1", "a1"]})
    np.testing.assert_array_equal(encoder.transform(new).to_numpy(), [[0, 0, 0], [1, 0, 0], [0, 0, 1], [0, 0, 0]])


def test_screen_covariates_reports_every_covariate():
    rng = np.random.default_rng(3)
    table = pd.DataFrame({"MAT": rng.normal(size=60), "MAP": rng.normal(size=60), "biome": rng.choice(list("ab"), 60)})
    table["MAT_copy"] = table["MAT"] * 1.01 + rng.normal(scale=0.01, size=60)
    table.loc[5, "MAP"] = np.nan
    result = screen_covariates(table, ["MAT", "MAP", "MAT_copy", "biome"], ["biome"])
    report = result.report.set_index("feature")
    dropped = report.index[report["action"] == "dropped"].tolist()
    assert len(dropped) == 1 and dropped[0] in ("MAT", "MAT_copy") and report.loc[dropped[0], "step"] == "correlation"
    kept = "MAT_copy" if dropped[0] == "MAT" else "MAT"
    assert report.loc["biome", "action"] == "one-hot encoded"
    assert report.loc[kept, "vif"] == pytest.approx(variance_inflation(table.drop(index=5)[[kept, "MAP"]])[0])
    assert result.n_rows == 59 and result.dropped_rows == 1
    assert dropped[0] not in result.table.columns and len(result.table) == 60
    with pytest.raises(InputError, match="non-numeric values"):
        screen_covariates(table.assign(MAP=["x"] * 60), ["MAT", "MAP"])
