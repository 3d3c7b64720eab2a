"""Depth distribution models: exact properties, real published values, fitting."""

import numpy as np
import pandas as pd
import pytest

from wholesoil.core import depth
from wholesoil.core.errors import InputError

RNG = np.random.default_rng(20261121)


def random_logistic(n):
    d50 = RNG.uniform(2, 80, n)
    return d50, d50 * RNG.uniform(1.2, 8, n)


def test_logistic_hits_d50_and_d95_exactly():
    d50, d95 = random_logistic(1000)
    np.testing.assert_allclose(depth.logistic_cumulative(d50, d50, d95), 0.5, rtol=1e-12)
    np.testing.assert_allclose(depth.logistic_cumulative(d95, d50, d95), 0.95, rtol=1e-12)
    assert depth.logistic_cumulative(0.0, 20, 80) == 0.0


def test_logistic_fractions_properties():
    d50, d95 = random_logistic(500)
    fractions = depth.logistic_layer_fractions(d50, d95)
    assert fractions.shape == (500, 7)
    assert (fractions >= 0).all() and (fractions <= 1).all()
    np.testing.assert_allclose(fractions.sum(axis=-1), 1.0, rtol=1e-12)
    raw = depth.logistic_layer_fractions(d50, d95, normalize=False)
    np.testing.assert_allclose(raw.sum(axis=-1), depth.logistic_cumulative(200.0, d50, d95), rtol=1e-12)
    np.testing.assert_allclose(raw[:, 0], depth.logistic_cumulative(20.0, d50, d95), rtol=1e-12)


def test_fractions_broadcast_over_raster_blocks_and_keep_nodata():
    d50 = np.full((3, 4), 20.0)
    d50[1, 2] = np.nan
    fractions = depth.logistic_layer_fractions(d50, 80.0, "0,30,100")
    assert fractions.shape == (3, 4, 2)
    assert np.isnan(fractions[1, 2]).all()
    np.testing.assert_allclose(fractions[0, 0], depth.logistic_layer_fractions(20.0, 80.0, "0,30,100"))


@pytest.mark.parametrize("d50, d95, message", [(80, 20, "D95 must be greater than D50"),
                                               (30, 30, "D95 must be greater than D50"),
                                               (-1, 20, "D50 must be a positive depth")])
def test_impossible_logistic_parameters(d50, d95, message):
    with pytest.raises(InputError, match=message):
        depth.logistic_layer_fractions(d50, d95)


def test_bad_values_in_arrays_are_counted():
    with pytest.raises(InputError, match="2 of 4 values"):
        depth.logistic_layer_fractions([10, 50, 10, 60], [20, 40, 30, 50])


@pytest.mark.parametrize("beta", [0.0, 1.0, 1.2, -0.5])
def test_impossible_beta(beta):
    with pytest.raises(InputError, match="beta must be between 0 and 1"):
        depth.beta_layer_fractions(beta)


def test_jackson_1996_biomes_give_published_cumulative_fractions(real_data):
    """Jackson et al. (1996): 93 % of roots in the top 30 cm for tundra, 83 % for boreal forest."""
    biomes = pd.read_csv(real_data / "roots" / "jackson1996_beta_by_biome.csv").set_index("biome")
    top30 = depth.beta_cumulative(30.0, biomes["beta"].to_numpy())
    assert round(100 * top30[biomes.index.get_loc("tundra")]) == 93
    assert round(100 * top30[biomes.index.get_loc("boreal forest")]) == 83
    # the derived D50/D95 columns of the data set follow from beta
    np.testing.assert_allclose(depth.beta_depth_at_fraction(0.5, biomes["beta"].to_numpy()),
                               biomes["d50_cm_derived"], atol=0.05)
    np.testing.assert_allclose(depth.beta_depth_at_fraction(0.95, biomes["beta"].to_numpy()),
                               biomes["d95_cm_derived"], atol=0.05)
    shares = depth.beta_layer_fractions(biomes["beta"].to_numpy(), "0,30", normalize=False)[:, 0]
    np.testing.assert_allclose(shares, top30, rtol=1e-12)


def test_beta_extrapolation_to_100_cm():
    beta = np.array([0.95, 0.97, 0.9786])
    stock30 = np.array([50.0, 60.0, 70.0])
    x100 = depth.beta_extrapolate(stock30, 30.0, beta)
    np.testing.assert_allclose(x100 / stock30, depth.beta_cumulative(100, beta) / depth.beta_cumulative(30, beta))
    assert (x100 > stock30).all()


def test_partition_total():
    np.testing.assert_allclose(depth.partition_total([2.0, 4.0], [[0.5, 0.5], [0.25, 0.75]]),
                               [[1.0, 1.0], [1.0, 3.0]])


@pytest.mark.parametrize("d50, d95", [(10.0, 40.0), (25.0, 120.0), (5.0, 15.0)])
def test_logistic_fit_recovers_parameters(d50, d95):
    depths = np.array([5, 10, 20, 30, 50, 80, 120, 200.0])
    fitted = depth.LogisticDepthModel().fit(depths, depth.logistic_cumulative(depths, d50, d95))
    assert fitted.converged_
    np.testing.assert_allclose([fitted.d50_, fitted.d95_], [d50, d95], rtol=1e-6)
    assert fitted.rmse_ < 1e-8 and fitted.r2_ > 0.999999


@pytest.mark.parametrize("beta", [0.914, 0.96, 0.985])
def test_beta_fit_recovers_parameter(beta):
    depths = np.array([10, 20, 30, 50, 100.0])
    fitted = depth.BetaDepthModel().fit(depths, depth.beta_cumulative(depths, beta))
    assert abs(fitted.beta_ - beta) < 1e-9
    np.testing.assert_allclose(fitted.predict([30.0]), depth.beta_cumulative(30.0, beta))


def synthetic_profiles(model, params, bottoms=(10, 20, 40, 60, 100, 150, 300, 3000)):
    """Increment amounts of synthetic profiles made with a model (deep enough to hold ~all)."""
    rows = []
    for pid, p in enumerate(params):
        edges = np.concatenate(([0.0], bottoms))
        cum = (depth.logistic_cumulative(edges, *p) if model == "logistic" else depth.beta_cumulative(edges, p))
        for top, bottom, amount in zip(edges[:-1], edges[1:], np.diff(cum)):
            rows.append({"pid": f"p{pid}", "top": top, "bottom": bottom, "mass": 1000 * amount})
    return pd.DataFrame(rows)


def test_table_fits_recover_synthetic_profiles():
    logistic = [(12.0, 50.0), (30.0, 150.0)]
    fits = depth.fit_depth_profiles(synthetic_profiles("logistic", logistic), "pid", "top", "bottom", "mass")
    np.testing.assert_allclose(fits[["d50_cm", "d95_cm"]].to_numpy(), logistic, rtol=0.01)
    betas = [0.93, 0.975]
    fits = depth.fit_depth_profiles(synthetic_profiles("beta", betas), "pid", "top", "bottom", "mass", model="beta")
    np.testing.assert_allclose(fits["beta"], betas, atol=1e-4)
    assert fits["status"].eq("ok").all()


def test_bad_profiles_are_listed_and_others_fitted():
    table = synthetic_profiles("beta", [0.95, 0.96, 0.97])
    table.loc[(table.pid == "p1") & (table.top == 20), "top"] = 15  # overlaps the 10-20 increment
    table.loc[table.pid == "p2", "mass"] = 0.0
    fits = depth.fit_depth_profiles(table, "pid", "top", "bottom", "mass", model="beta").set_index("pid")
    assert fits.loc["p0", "status"] == "ok"
    assert fits.loc["p1", "status"] == "not_fitted" and "overlap" in fits.loc["p1", "message"]
    assert fits.loc["p2", "status"] == "not_fitted" and "no positive values" in fits.loc["p2", "message"]
    assert np.isnan(fits.loc["p1", "beta"])


def test_missing_and_non_numeric_columns_are_named():
    table = pd.DataFrame({"pid": ["a", "a"], "top": [0, 10], "bottom": [10, "x20"], "mass": [1, 2]})
    with pytest.raises(InputError, match="no column 'depth_bottom'"):
        depth.fit_depth_profiles(table, "pid", "top", "depth_bottom", "mass")
    with pytest.raises(InputError, match="column 'bottom' has non-numeric values .*row 2"):
        depth.fit_depth_profiles(table, "pid", "top", "bottom", "mass")


def test_silsoe_fine_root_profiles_fit(real_data):
    raw = pd.read_csv(real_data / "roots" / "silsoe_fine_root_by_depth.csv")
    raw["pid"] = raw["year"].astype(str) + raw["id"] + raw["dist_m"].astype(str)
    raw["top"], raw["bottom"] = raw["depth_cm"] - 15, raw["depth_cm"] + 15
    for model in ("logistic", "beta"):
        fits = depth.fit_depth_profiles(raw, "pid", "top", "bottom", "mass_mg_cm3", model, "density")
        assert len(fits) == 66 and fits["status"].eq("ok").all(), fits[~fits.status.eq("ok")]
        assert (fits["d95_cm"] > fits["d50_cm"]).all()
        assert fits["r2"].median() > 0.7
        # the median profile holds half of its roots within the first two 30 cm increments
        assert 10 < fits["d50_cm"].median() < 60


def test_exponential_share_model_recovers_parameters():
    mid = np.array([10, 30, 50, 70, 90, 125, 175.0])
    model = depth.ExponentialShareModel().fit(mid, 0.6 * np.exp(-0.03 * mid))
    np.testing.assert_allclose([model.a_, model.b_], [0.6, 0.03], rtol=1e-6)
    table = pd.DataFrame({"biome": ["x"] * 7 + ["y"] * 7, "top": np.tile(mid - 5, 2), "bottom": np.tile(mid + 5, 2),
                          "share": np.concatenate([0.6 * np.exp(-0.03 * mid), 0.4 * np.exp(-0.01 * mid)])})
    fits = depth.fit_depth_profiles(table, "biome", "top", "bottom", "share", model="exponential")
    np.testing.assert_allclose(fits["b_per_cm"], [0.03, 0.01], rtol=1e-6)


def test_estimators_follow_scikit_learn_conventions():
    from sklearn.base import clone

    model = depth.LogisticDepthModel(d50=15.0)
    assert clone(model).get_params() == {"d50": 15.0, "d95": None, "truncated": False}
    assert not hasattr(model, "d50_")
    with pytest.raises(Exception, match="not fitted"):
        model.predict([10.0])


def test_truncated_fits_remove_the_bias_of_shallow_profiles():
    """A profile sampled to 100 cm holds less than all roots: the default fit is biased, truncated is not."""
    shallow = (10, 20, 40, 60, 80, 100)
    table = synthetic_profiles("beta", [0.97], bottoms=shallow)
    default = depth.fit_depth_profiles(table, "pid", "top", "bottom", "mass", model="beta")
    truncated = depth.fit_depth_profiles(table, "pid", "top", "bottom", "mass", model="beta", truncated=True)
    assert default.loc[0, "beta"] < 0.968  # biased towards shallow
    assert truncated.loc[0, "beta"] == pytest.approx(0.97, abs=1e-9)
    table = synthetic_profiles("logistic", [(30.0, 150.0)], bottoms=shallow)
    default = depth.fit_depth_profiles(table, "pid", "top", "bottom", "mass")
    truncated = depth.fit_depth_profiles(table, "pid", "top", "bottom", "mass", truncated=True)
    assert default.loc[0, "d95_cm"] < 120
    np.testing.assert_allclose(truncated.loc[0, ["d50_cm", "d95_cm"]].to_numpy(dtype=float), [30.0, 150.0],
                               rtol=1e-5)
    curves = depth.fitted_curves(table, truncated, "pid", "top", "bottom", "mass", "logistic", truncated=True)
    assert curves[0]["curve"](np.array([100.0]))[0] == pytest.approx(1.0)
