"""Per-tree spread, the Coulston et al. (2016) interval and quantile forests."""

import numpy as np
import pandas as pd
import pytest

from learn_data import heteroscedastic
from wholesoil.core.learn.models import CovariateModel
from wholesoil.core.learn.training import predict_table, train_model
from wholesoil.core.learn.uncertainty import (QuantileForestRegressor, coulston_interval, coulston_tau, coverage,
                                              fold_coverage, tau_quantile)


@pytest.fixture(scope="module")
def heteroscedastic_models():
    train, test = heteroscedastic(600, seed=0), heteroscedastic(2000, seed=100)
    models = {kind: train_model(train, "y", ["x1", "x2", "x3"], kind=kind, independent_rows=True, n_splits=5,
                                n_trees=100, permutation_repeats=1, random_state=0)
              for kind in ("random_forest", "quantile_forest")}
    return models, test


def test_coulston_interval_covers_about_95_percent_of_new_data(heteroscedastic_models):
    models, test = heteroscedastic_models
    trained = models["random_forest"]
    predicted = predict_table(trained, test)
    share = coverage(test["y"], predicted["lower"], predicted["upper"])
    assert 0.90 <= share <= 0.99
    assert 0.90 <= trained.metadata["interval"]["coverage_mean"] <= 0.99  # the held-out check at training
    width = predicted["upper"] - predicted["lower"]
    noisy = np.abs(test["x1"]) > 0.7
    quiet = np.abs(test["x1"]) < 0.3
    assert width[noisy].mean() > 1.3 * width[quiet].mean()  # wider where the noise is larger
    np.testing.assert_allclose(width, 2 * trained.metadata["interval"]["tau"] * predicted["sd"])


def test_seed_001_hold_out_repeats_give_a_similar_tau():
    train, test = heteroscedastic(400, seed=1), heteroscedastic(1500, seed=101)
    common = dict(independent_rows=True, n_splits=5, n_trees=60, permutation_repeats=1, random_state=1)
    folds = train_model(train, "y", ["x1", "x2", "x3"], **common)
    repeats = train_model(train, "y", ["x1", "x2", "x3"], interval_repeats=6, **common)
    interval = repeats.metadata["interval"]
    assert interval["calibration"].startswith("tau of 6 grouped 80/20 hold-out repeats")
    assert interval["n_tau"] == 6 * 80
    assert interval["tau"] == pytest.approx(folds.metadata["interval"]["tau"], rel=0.2)
    predicted = predict_table(repeats, test)
    assert 0.90 <= coverage(test["y"], predicted["lower"], predicted["upper"]) <= 0.99


def test_quantile_forest_interval_covers_new_data(heteroscedastic_models):
    models, test = heteroscedastic_models
    predicted = predict_table(models["quantile_forest"], test)
    assert (predicted["q_lower"] < predicted["q_upper"]).all()
    assert 0.90 <= coverage(test["y"], predicted["q_lower"], predicted["q_upper"]) <= 0.99
    held_out = models["quantile_forest"].metadata["interval"]["quantile_coverage"]  # out-of-fold, at training
    assert 0.90 <= held_out <= 0.99


def test_quantile_forest_of_one_leaf_gives_the_empirical_quantiles():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(101, 2)), rng.gamma(2.0, size=101)
    forest = QuantileForestRegressor(n_estimators=1, bootstrap=False, min_samples_split=1000).fit(X, y)
    quantiles = forest.predict_quantiles(X[:3], [0.1, 0.5, 0.9])
    expected = np.quantile(y, [0.1, 0.5, 0.9], method="inverted_cdf")
    np.testing.assert_allclose(quantiles, np.tile(expected, (3, 1)))


def test_spread_is_the_sd_of_the_tree_predictions():
    data = heteroscedastic(200, seed=4)
    model = CovariateModel(n_trees=30, screen=False).fit(data[["x1", "x2"]], data["y"])
    frame = model.predict_frame(data[["x1", "x2"]].head(5))
    forest = model.pipeline_[-1]
    trees = np.column_stack([t.predict(data[["x1", "x2"]].head(5).to_numpy(np.float32)) for t in forest.estimators_])
    np.testing.assert_allclose(frame["sd"], trees.std(axis=1, ddof=1))
    np.testing.assert_allclose(frame["predicted"], trees.mean(axis=1))
    np.testing.assert_allclose(frame["cv"], frame["sd"] / frame["predicted"])


def test_tau_by_hand():
    np.testing.assert_allclose(coulston_tau([1.0, 5.0, 2.0], [2.0, 1.0, 2.0], [0.5, 2.0, 0.0]), [2.0, 2.0, 0.0])
    assert coulston_tau([1.0], [2.0], [0.0])[0] == np.inf
    assert tau_quantile(np.arange(1.0, 101.0), 0.95) == 96.0


def test_fold_coverage_takes_tau_from_the_other_folds():
    folds = np.repeat([0, 1, 2], 100)
    observed = np.zeros(300)
    sd = np.ones(300)
    predicted = np.concatenate([np.full(100, 5.0), np.linspace(-1, 1, 200)])  # fold 0 is far off
    table = fold_coverage(observed, predicted, sd, folds, 0.95)
    assert list(table["fold"]) == [1, 2, 3]
    assert table["coverage"].iloc[0] == 0.0  # its own large errors did not widen its interval
    assert table["coverage"].iloc[1:].min() == 1.0
    assert isinstance(table, pd.DataFrame)


def test_an_infinite_tau_level_gives_no_interval_where_sd_is_0_without_a_warning():
    """inf × 0 is NaN: no interval for a row without spread when the level is infinite (numpy warned in QGIS)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lower, upper = coulston_interval(np.array([1.0, 2.0]), np.array([0.0, 0.5]), np.inf)
    np.testing.assert_array_equal(lower, [np.nan, -np.inf])
    np.testing.assert_array_equal(upper, [np.nan, np.inf])



def test_predict_table_in_blocks_of_rows_gives_the_same_table_with_progress_and_cancel(heteroscedastic_models,
                                                                                      monkeypatch):
    """Rows are predicted PREDICT_ROWS at a time (progress and a cancel check between blocks): the same columns, in
    the same order, as in one block."""
    import wholesoil.core.learn.training as training
    from wholesoil.core.errors import CancelledError

    models, test = heteroscedastic_models
    new = test.head(100)
    for trained in models.values():  # the quantile forest's q_lower and q_upper too
        whole = predict_table(trained, new)
        monkeypatch.setattr(training, "PREDICT_ROWS", 7)
        steps = []
        blocks = predict_table(trained, new, progress=steps.append)
        monkeypatch.undo()
        pd.testing.assert_frame_equal(blocks, whole)
        assert len(steps) >= 15 and steps[-1] == pytest.approx(100)
        with pytest.raises(CancelledError):
            predict_table(trained, new, is_cancelled=lambda: True)
    assert list(whole.columns[-4:]) == ["lower", "upper", "q_lower", "q_upper"]
