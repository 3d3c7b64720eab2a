"""Importance, group importance via per-group PCA, partial dependence, mixed model, partial correlations."""

import numpy as np
import pandas as pd
import pytest

from learn_data import profile_layers
from wholesoil.core.errors import InputError
from wholesoil.core.learn.explain import (group_importance, mixed_model, parse_feature_groups,
                                          partial_correlations, partial_dependence)
from wholesoil.core.learn.training import explain_model, train_model


@pytest.fixture(scope="module")
def trained():
    table = profile_layers(60, seed=4, profile_sd=0.3)
    return table, train_model(table, "soc", ["clim", "soil", "noise1", "depth", "biome"], ["biome"],
                              group_col="profile", n_splits=4, n_trees=40, permutation_repeats=3)


def test_importance_ranks_the_drivers_with_spread(trained):
    _, model = trained
    importance = model.tables["importance"].set_index("feature")
    assert importance.loc["clim", "permutation_importance"] > 3 * abs(importance.loc["noise1", "permutation_importance"])
    assert importance.loc["depth", "permutation_importance"] > importance.loc["noise1", "permutation_importance"]
    assert (importance["permutation_sd"] > 0).all()
    assert importance["impurity_importance"].sum() == pytest.approx(100.0)


def test_partial_dependence_follows_the_effects(trained):
    table, model = trained
    curves = partial_dependence(model.model, table[model.metadata["features"]], ["depth", "biome"], grid_points=10)
    depth = curves[curves["feature"] == "depth"]
    assert len(depth) == 10 and depth["mean_prediction"].iloc[0] > depth["mean_prediction"].iloc[-1]
    biome = curves[curves["feature"] == "biome"].set_index("level")["mean_prediction"]
    assert list(biome.index) == ["forest", "grass", "savanna"]
    assert biome["forest"] > biome["grass"]


def test_group_importance_via_pca():
    rng = np.random.default_rng(8)
    n = 400
    table = pd.DataFrame({"MAT": rng.normal(size=n), "clay": rng.normal(size=n), "sand": rng.normal(size=n)})
    table["MAP"] = table["MAT"] * 0.5 + rng.normal(size=n)
    y = 2 * table["MAT"] + 0.2 * rng.normal(size=n)
    groups, components, fit = group_importance(table, y, parse_feature_groups("climate: MAT, MAP; soil: clay, sand"),
                                               n_trees=60)
    shares = groups.set_index("group")["importance"]
    assert shares["climate"] > 80 and shares.sum() == pytest.approx(100.0)
    assert fit["r2"] > 0.8 and fit["grouped"] == "rows independent" and fit["n"] == n
    noise = group_importance(table, rng.normal(size=n), parse_feature_groups("climate: MAT, MAP; soil: clay, sand"),
                             n_trees=60)[2]
    assert noise["r2"] < 0.1 and noise["nse"] < 0.05
    assert list(components["component"]) == ["climate_PC1", "climate_PC2", "soil_PC1", "soil_PC2"]
    assert groups["explained_variance"].tolist() == pytest.approx([100.0, 100.0])
    with pytest.raises(InputError, match="should read 'name: column, column'"):
        parse_feature_groups("climate MAT")
    table["biome"] = np.where(table["MAT"] > 0, "forest", "grassland")
    with pytest.raises(InputError, match=r"feature groups take numeric covariates only .* leave categorical ones "
                                         r"out: column 'biome' has non-numeric values"):
        group_importance(table, y, parse_feature_groups("climate: MAT, MAP; land: biome"), n_trees=10)


def test_mixed_model_recovers_slope_and_biome_variance():
    rng = np.random.default_rng(9)
    biome = np.repeat([f"b{i}" for i in range(12)], 30)
    intercepts = dict(zip(np.unique(biome), rng.normal(scale=2.0, size=12)))
    x = rng.normal(size=biome.size)
    table = pd.DataFrame({"x": x, "noise": rng.normal(size=biome.size), "biome": biome,
                          "y": 1.5 * x + np.vectorize(intercepts.get)(biome) + rng.normal(scale=0.5, size=biome.size)})
    coefficients, summary = mixed_model(table, "y", ["x", "noise"], "biome", standardize=False)
    row = coefficients.set_index("term").loc["x"]
    assert row["ci_low"] < 1.5 < row["ci_high"] and row["p"] < 1e-10
    assert coefficients.set_index("term").loc["noise", "p"] > 0.001
    assert 1.5 < summary["random_effect_variance"] < 8 and summary["residual_variance"] == pytest.approx(0.25, rel=0.2)
    assert summary["conditional_r2"] > summary["marginal_r2"] > 0.1 and summary["groups"] == 12


def test_partial_correlation_removes_a_shared_depth_trend():
    rng = np.random.default_rng(10)
    depth = rng.uniform(0, 200, 300)
    table = pd.DataFrame({"depth": depth, "clay": depth * 0.1 + rng.normal(size=300),
                          "roots": rng.normal(size=300)})
    table["soc"] = -0.05 * depth + 0.8 * table["roots"] + rng.normal(scale=0.5, size=300)
    assert abs(np.corrcoef(table["clay"], table["soc"])[0, 1]) > 0.5
    result = partial_correlations(table, "soc", ["clay", "roots"], "depth").set_index("covariate")
    assert abs(result.loc["clay", "partial_r"]) < 0.15 and result.loc["clay", "p"] > 0.01
    assert result.loc["roots", "partial_r"] > 0.6 and result.loc["roots", "p"] < 1e-20


def test_explain_model_on_training_or_new_data(trained):
    table, model = trained
    stored = explain_model(model, feature_groups={"site": ["clim", "soil"], "depth": ["depth"]},
                           random_effect="biome", control="depth", n_trees=30)
    assert stored.permutation_source == "held-out CV folds"
    assert stored.curves is model.tables["partial_dependence"]
    assert set(stored.groups["group"]) == {"site", "depth"}
    assert "clim" in set(stored.mixed["term"]) and "depth" not in set(stored.partial["covariate"])
    fresh = explain_model(model, profile_layers(20, seed=11), pd_features=["clim"], permutation_repeats=2)
    assert fresh.permutation_source == "the given data" and set(fresh.curves["feature"]) == {"clim"}
    with pytest.raises(InputError, match="has no column 'soil'"):
        explain_model(model, table.drop(columns=["soil"]))
    with pytest.raises(InputError, match=r"permutation repeats must be at least 1 \(got 0\)"):
        explain_model(model, table, permutation_repeats=0)
    with pytest.raises(InputError, match=r"number of trees must be at least 1 \(got 0\)"):
        explain_model(model, feature_groups={"site": ["clim"]}, n_trees=0)
