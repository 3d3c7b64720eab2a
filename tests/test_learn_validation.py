"""Grouped, stratified folds; metrics; leakage between layers of one profile."""

import numpy as np
import pandas as pd
import pytest

from learn_data import profile_layers
from wholesoil.core.errors import CancelledError, InputError
from wholesoil.core.learn.validation import (group_kfold, holdout_split, regression_metrics, resolve_groups,
                                             run_batches)
from wholesoil.core.learn.training import train_model


def test_group_kfold_keeps_groups_and_balances_strata():
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(120), rng.integers(1, 8, 120))
    zone_of_group = rng.choice(["tropical", "temperate", "boreal"], 120, p=[0.15, 0.55, 0.3])
    strata = zone_of_group[groups]
    folds = group_kfold(groups, 10, strata, random_state=5)
    assert pd.Series(folds).groupby(groups).nunique().max() == 1
    assert set(folds) == set(range(10))
    share = pd.crosstab(folds, strata, normalize="columns")
    assert share.max().max() < 0.2  # each zone spread over the 10 folds (~0.1 each)
    assert np.array_equal(folds, group_kfold(groups, 10, strata, random_state=5))
    assert not np.array_equal(folds, group_kfold(groups, 10, strata, random_state=6))
    sizes = np.bincount(group_kfold(groups, 10, random_state=5))
    assert sizes.max() - sizes.min() <= 8  # at most about one group's size apart


def test_holdout_is_a_grouped_80_20_split():
    groups = np.repeat(np.arange(50), 4)
    test = holdout_split(groups, 0.2, random_state=1)
    assert test.mean() == pytest.approx(0.2)
    assert not set(groups[test]) & set(groups[~test])


def test_too_few_groups_is_an_input_error():
    with pytest.raises(InputError, match="only 3 groups"):
        group_kfold(["a", "a", "b", "c"], 5)


def test_regression_metrics_by_hand():
    observed = np.array([1.0, 2.0, 3.0, 4.0])
    predicted = np.array([2.0, 2.0, 4.0, 4.0])
    metrics = regression_metrics(observed, predicted)
    assert metrics["rmse"] == pytest.approx(np.sqrt(0.5))
    assert metrics["bias"] == pytest.approx(0.5)
    assert metrics["nse"] == pytest.approx(1 - 2.0 / 5.0)
    assert metrics["r2"] == pytest.approx(np.corrcoef(observed, predicted)[0, 1] ** 2)


def test_groups_default_to_point_location_and_naive_needs_asking():
    table = profile_layers(8)
    labels, description = resolve_groups(table, x_col="x", y_col="y")
    assert description.startswith("location") and len(set(labels)) == 8
    with pytest.raises(InputError, match="independent rows"):
        resolve_groups(table.drop(columns=["x", "y"]))
    labels, description = resolve_groups(table, independent_rows=True)
    assert len(set(labels)) == len(table)


def test_grouped_cv_is_used_by_default_and_scores_below_naive_cv():
    """Leakage: layers of a profile are near-duplicates, so naive CV flatters the model."""
    table = profile_layers(60)
    common = dict(target="soc", features=["clim", "soil", "noise1", "depth", "biome"], categorical=["biome"],
                  n_splits=5, n_trees=60, permutation_repeats=1, random_state=2)
    grouped = train_model(table, x_col="x", y_col="y", **common)
    training = grouped.tables["training"]
    assert grouped.metadata["groups"] == "location (x, y)"
    assert training.groupby("group")["fold"].nunique().max() == 1
    naive = train_model(table, independent_rows=True, **common)
    assert naive.metadata["groups"] == "independent rows"
    assert naive.tables["training"].assign(profile=table["profile"]).groupby("profile")["fold"].nunique().max() > 1
    r2_grouped, r2_naive = grouped.metadata["metrics"]["r2"], naive.metadata["metrics"]["r2"]
    assert r2_naive > 0.7
    assert r2_grouped < r2_naive - 0.3
    split = train_model(table, x_col="x", y_col="y", holdout=0.2, **common).metadata["holdout"]
    assert split["test_fraction"] == pytest.approx(0.2) and split["n"] == 60
    assert split["r2"] < r2_naive - 0.3
    with pytest.raises(InputError, match="no group column and no point locations"):
        train_model(table.drop(columns=["x", "y"]), **common)


def test_cancel_stops_between_batches():
    calls = []
    with pytest.raises(CancelledError):
        run_batches(lambda i: calls.append(i), [(i,) for i in range(10)], n_jobs=2,
                    is_cancelled=lambda: len(calls) >= 4)
    assert len(calls) == 4


def test_progress_and_cancel_reach_into_the_cv_loop():
    table = profile_layers(20)
    common = dict(target="soc", features=["clim", "depth"], group_col="profile", n_splits=5, n_trees=10,
                  permutation_repeats=1)
    seen = []
    train_model(table, progress=seen.append, **common)
    assert seen == sorted(seen) and seen[-1] == 100.0
    assert sum(0 < p <= 50 for p in seen) >= 5  # after each of the 5 folds
    seen.clear()
    with pytest.raises(CancelledError):
        train_model(table, progress=seen.append, is_cancelled=lambda: len(seen) >= 2, **common)
    assert max(seen) <= 20  # stopped after the second fold of five (each fold 10 %)
    grid = {"min_samples_leaf": [1, 2, 3, 4]}
    calls = []

    def cancel_in_tuning():
        calls.append(1)
        return len(calls) > 3  # inside the grid search of the first fold

    with pytest.raises(CancelledError):
        train_model(table, grid=grid, is_cancelled=cancel_in_tuning, **common)
    assert len(calls) == 4


def test_a_fold_predicting_a_class_it_does_not_observe_is_scored_without_a_warning():
    """balanced_accuracy_score warned for every such fold (about 40 lines over train-model's progress bar); the
    score is scikit-learn's: mean recall over the observed classes."""
    import warnings

    from wholesoil.core.learn.validation import classification_metrics

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = classification_metrics(["a", "a", "b", "b"], ["a", "c", "b", "b"])
    assert scores["balanced_accuracy"] == pytest.approx((0.5 + 1.0) / 2) and scores["accuracy"] == 0.75
