"""CovariateModel: every learner, covariates by name, log target, tuning, ensemble,
classification with class weights, and reproducibility over job counts."""

import numpy as np
import pandas as pd
import pytest

from learn_data import heteroscedastic, profile_layers
from wholesoil.core.errors import InputError
from wholesoil.core.learn.explain import impurity_importance
from wholesoil.core.learn.models import MODEL_KINDS, CovariateModel
from wholesoil.core.learn.training import train_model

FEATURES = ["clim", "soil", "noise1", "depth", "biome"]


@pytest.fixture(scope="module")
def layers():
    return profile_layers(40, seed=1)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_every_learner_fits_and_reads_covariates_by_name(kind, layers):
    X, y = layers[FEATURES], layers["soc"]
    model = CovariateModel(kind=kind, categorical=("biome",), n_trees=30).fit(X, y, groups=layers["profile"])
    predicted = model.predict(X)
    assert np.corrcoef(predicted, y)[0, 1] > 0.5
    np.testing.assert_allclose(model.predict(X[FEATURES[::-1]].assign(extra=1.0)), predicted)
    gap = X.copy()
    gap.loc[3, "clim"] = np.nan
    assert np.isnan(model.predict(gap)[3]) and np.isfinite(model.predict(gap)[4])
    with pytest.raises(InputError, match="lack: soil"):
        model.predict(X.drop(columns=["soil"]))
    assert model.categories_ == {"biome": ["forest", "grass", "savanna"]}


def test_log_target_is_back_transformed(layers):
    X = layers[FEATURES]
    y = np.exp(layers["soc"] / 5)
    model = CovariateModel(target_transform="log", categorical=("biome",), n_trees=40).fit(X, y)
    inner = CovariateModel(categorical=("biome",), n_trees=40).fit(X, np.log(y))
    np.testing.assert_allclose(model.predict(X), np.exp(inner.predict(X)) * model.bias_factor_)
    frame = model.predict_frame(X)
    trees = model.tree_predictions(X)
    np.testing.assert_allclose(frame["sd"], trees.std(axis=1, ddof=1))
    assert (trees > 0).all()
    with pytest.raises(InputError, match=r"log transform needs the target positive: rows 2, 5"):
        CovariateModel(target_transform="log").fit(X[["clim"]].head(6), [1.0, 0.0, 2.0, 3.0, -1.0, 4.0])


def test_grid_search_is_grouped_and_records_every_point(layers):
    grid = {"min_samples_leaf": [1, 20], "max_features": [0.5, 1.0]}
    model = CovariateModel(categorical=("biome",), grid=grid, n_trees=30, tuning_folds=4)
    model.fit(layers[FEATURES], layers["soc"], groups=layers["profile"])
    assert len(model.tuning_) == 4
    best = min(model.tuning_, key=lambda row: row["score"])
    assert model.best_params_ == {"max_features": best["max_features"], "min_samples_leaf": best["min_samples_leaf"]}
    assert model.pipeline_[-1].min_samples_leaf == best["min_samples_leaf"]
    with pytest.raises(InputError, match="unknown parameter colour"):
        CovariateModel(params={"colour": 1}).fit(layers[["clim"]], layers["soc"])


def test_ensemble_stacks_the_three_best(layers):
    model = CovariateModel(kind="ensemble", categorical=("biome",), n_trees=30)
    model.fit(layers[FEATURES], layers["soc"], groups=layers["profile"])
    ensemble = model.pipeline_[-1]
    ranked = sorted(ensemble.candidate_rmse_, key=ensemble.candidate_rmse_.get)
    assert ensemble.chosen_ == ranked[:3]
    assert len(ensemble.members_) == 3 and (ensemble.weights_ >= 0).all()


def test_classification_with_class_weights_and_gini_importance():
    rng = np.random.default_rng(5)
    n = 300
    table = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "site": np.arange(n) // 3})
    table["bimodal"] = np.where(table["a"] + 0.3 * rng.normal(size=n) > 1.2, "bimodal", "unimodal")
    assert (table["bimodal"] == "bimodal").mean() < 0.2
    trained = train_model(table, "bimodal", ["a", "b"], task="classification", group_col="site", n_splits=5,
                          n_trees=60, permutation_repeats=2)
    metrics = trained.metadata["metrics"]
    assert metrics["balanced_accuracy"] > 0.75 and metrics["kappa"] > 0.4
    assert trained.model.pipeline_[-1].class_weight == "balanced"
    gini = impurity_importance(trained.model).set_index("feature")["impurity_importance"]
    assert gini["a"] > gini["b"] and gini.sum() == pytest.approx(100.0)
    assert {"probability_bimodal", "probability_unimodal"} <= set(trained.tables["training"].columns)
    with pytest.raises(InputError, match="classification is done with a random forest"):
        CovariateModel(kind="svm", task="classification").fit(table[["a"]], table["bimodal"])


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_same_seed_same_model_with_one_or_two_jobs(backend):
    data = heteroscedastic(150, seed=7)
    data["site"] = np.arange(150) // 2
    runs = [train_model(data, "y", ["x1", "x2", "x3"], group_col="site", n_splits=4, n_trees=40,
                        permutation_repeats=2, random_state=11, n_jobs=jobs, backend=backend) for jobs in (1, 2)]
    one, two = runs
    assert one.metadata["metrics"] == two.metadata["metrics"]
    assert one.metadata["interval"] == two.metadata["interval"]
    pd.testing.assert_frame_equal(one.tables["training"], two.tables["training"])
    pd.testing.assert_frame_equal(one.tables["importance"], two.tables["importance"])
    for a, b in zip(one.model.pipeline_[-1].estimators_, two.model.pipeline_[-1].estimators_):
        assert np.array_equal(a.tree_.__getstate__()["nodes"], b.tree_.__getstate__()["nodes"])
        assert np.array_equal(a.tree_.__getstate__()["values"], b.tree_.__getstate__()["values"])
    other = train_model(data, "y", ["x1", "x2", "x3"], group_col="site", n_splits=4, n_trees=40,
                        permutation_repeats=2, random_state=12)
    assert other.metadata["metrics"] != one.metadata["metrics"]


def test_tuning_and_stacking_folds_keep_the_layers_of_a_profile_together(layers):
    """The inner folds of tuning and of the ensemble's choice must be grouped too: layers of
    one profile are near-duplicates, so ungrouped inner folds score far too well."""
    X, y = layers[FEATURES], layers["soc"]
    scores = {}
    for name, groups in (("grouped", layers["profile"]), ("rows", None)):
        tuned = CovariateModel(categorical=("biome",), grid={"min_samples_leaf": [1]}, n_trees=30, tuning_folds=4)
        ensemble = CovariateModel(kind="ensemble", categorical=("biome",), n_trees=30)
        scores[name] = (tuned.fit(X, y, groups=groups).tuning_[0]["score"],
                        ensemble.fit(X, y, groups=groups).pipeline_[-1].candidate_rmse_)
    assert scores["grouped"][0] > 1.4 * scores["rows"][0]
    for kind in ("random_forest", "gradient_boosting"):
        assert scores["grouped"][1][kind] > 1.4 * scores["rows"][1][kind]
