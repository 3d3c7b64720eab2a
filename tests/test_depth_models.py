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


# ---------------------------------------------------------------------------------------------
# Profiles whose surface is missing (issue 11, item 1)


def neon_soc_increments(real_data):
    """SOC per horizon (Mg C ha-1) of the 47 NEON megapits, computed here from estimatedOC x bulkDen."""
    horizons = pd.read_csv(real_data / "neon_megapit" / "neon_megapit_soil_horizons.csv")
    horizons["soc"] = (horizons["estimatedOC"] * horizons["bulkDen"] / 10
                       * (horizons["horizonBottomDepth"] - horizons["horizonTopDepth"]))
    return horizons.rename(columns={"siteID": "site", "horizonTopDepth": "top", "horizonBottomDepth": "bottom"})


def conditional_beta(top, bottom, amount, surface):
    """β fitted here, independently: least squares of (β^s - β^d) / β^s on the observed cumulative share."""
    from scipy.optimize import minimize_scalar

    cum = np.cumsum(amount) / np.sum(amount)
    loss = lambda beta: np.sum((1 - beta ** (bottom - surface) - cum) ** 2)  # noqa: E731
    grid = 1 - np.logspace(-6, 0, 20001)[:-1]  # global search, then a local refinement
    best = grid[np.argmin(np.sum((1 - grid[:, None] ** (bottom - surface) - cum) ** 2, axis=1))]
    bounds = (max(best - 1e-3, 1e-9), min(best + 1e-3, 1 - 1e-12))
    return minimize_scalar(loss, bounds=bounds, method="bounded", options={"xatol": 1e-12}).x


def test_profiles_missing_their_surface_are_never_ok(real_data):
    """NEON TOOL, BARR and PUUM lack bulk density at the top: their first SOC value starts below 0 cm."""
    table = neon_soc_increments(real_data)
    fits = depth.fit_depth_profiles(table, "site", "top", "bottom", "soc", model="beta").set_index("site")
    for site in ("TOOL", "BARR", "PUUM"):
        assert fits.loc[site, "status"] == "not_fitted" and "surface is missing" in fits.loc[site, "message"]
        assert np.isnan(fits.loc[site, "beta"])
    tolerant = depth.fit_depth_profiles(table, "site", "top", "bottom", "soc", model="beta",
                                        surface_tolerance=2.0).set_index("site")
    assert tolerant.loc["PUUM", "status"] == "ok" and "within the surface tolerance" in tolerant.loc["PUUM", "message"]
    conditional = depth.fit_depth_profiles(table, "site", "top", "bottom", "soc", model="beta",
                                           missing_surface="conditional").set_index("site")
    assert conditional.loc["TOOL", "status"] == "conditional" and conditional.loc["TOOL", "covered_top_cm"] == 21
    # a lone 40-60 cm increment is not a profile
    lone = table[(table["site"] == "HARV") & (table["top"] >= 40)].head(1)
    for rule in ("refuse", "conditional"):
        fit = depth.fit_depth_profiles(lone, "site", "top", "bottom", "soc", model="beta", missing_surface=rule)
        assert fit.loc[0, "status"] == "not_fitted"


def test_conditional_fit_recovers_beta_of_profiles_cut_at_20_cm(real_data):
    """Drop the 0-20 cm horizons of the complete NEON profiles: the conditional fit is the independent
    least-squares β of the covered depths, and its X100 (1 - β^100) / (β^20 - β^D) x X stays near the full
    profile's, while the old fit (the missing top taken as holding nothing) loses most of the stock."""
    from wholesoil.core.beta_profiles import fit_beta_profiles

    table = neon_soc_increments(real_data)
    full = fit_beta_profiles(table, "site", "top", "bottom", "soc").profiles.set_index("site")
    cut = table[table["top"] >= 20]
    fits = fit_beta_profiles(cut, "site", "top", "bottom", "soc", missing_surface="conditional").profiles
    fits = fits.set_index("site")
    x100_conditional, x100_naive = [], []
    for site, part in cut.dropna(subset=["soc"]).groupby("site"):
        if full.loc[site, "status"] != "ok" or fits.loc[site, "status"] != "conditional" or len(part) < 3 \
                or part.sort_values("top")["soc"].iloc[0] > 0.99 * part["soc"].sum():  # no shape left to fit
            continue
        part = part.sort_values("top")
        top, bottom, amount = (part[c].to_numpy() for c in ("top", "bottom", "soc"))
        assert fits.loc[site, "beta"] == pytest.approx(conditional_beta(top, bottom, amount, top[0]), abs=2e-6)
        naive = conditional_beta(top, bottom, amount, 0.0)
        x100_naive.append(amount.sum() * (1 - naive ** 100) / (1 - naive ** bottom.max()) / full.loc[site, "x100"])
        x100_conditional.append(fits.loc[site, "x100"] / full.loc[site, "x100"])
    assert len(x100_conditional) >= 30
    assert abs(np.median(x100_conditional) - 1) < 0.1 and np.median(x100_naive) < 0.6


def test_conditional_logistic_fit_on_silsoe_profiles_without_their_top_increment(real_data):
    """Silsoe fine roots without the 0-30 cm increment: D50/D95 minimise the conditional least squares."""
    from scipy.optimize import least_squares

    raw = pd.read_csv(real_data / "roots" / "silsoe_fine_root_by_depth.csv")
    raw["pid"] = raw["year"].astype(str) + raw["id"] + raw["dist_m"].astype(str)
    raw["top"], raw["bottom"] = raw["depth_cm"] - 15, raw["depth_cm"] + 15
    cut = raw[raw["top"] >= 30]
    fits = depth.fit_depth_profiles(cut, "pid", "top", "bottom", "mass_mg_cm3", "logistic", "density",
                                    missing_surface="conditional").set_index("pid")
    assert fits["status"].isin(["conditional", "not_converged"]).all()
    for pid in list(fits.index[fits["status"].eq("conditional")])[:8]:
        part = cut[cut["pid"] == pid].sort_values("top")
        cum = np.cumsum(part["mass_mg_cm3"]) / part["mass_mg_cm3"].sum()
        F = lambda d, d50, d95: 1 / (1 + (d / d50) ** (-np.log10(19) / np.log10(d95 / d50)))  # noqa: E731

        def loss(p, part=part, cum=cum):
            return (F(part["bottom"], *p) - F(30.0, *p)) / (1 - F(30.0, *p)) - cum

        ours = fits.loc[pid, ["d50_cm", "d95_cm"]].to_numpy(dtype=float)
        theirs = least_squares(loss, ours * 1.1, bounds=([1e-3, 1e-3], [1e5, 1e6])).x
        assert np.sum(loss(ours) ** 2) <= np.sum(loss(theirs) ** 2) + 1e-10


# ---------------------------------------------------------------------------------------------
# Fractions of layers that cover part of the profile (issue 11, item 4) and finite parameters (issue 10, item 7)


def test_fractions_are_shares_of_the_0_200_cm_profile(real_data):
    biomes = pd.read_csv(real_data / "roots" / "jackson1996_beta_by_biome.csv")
    beta = biomes["beta"].to_numpy()
    shares = depth.beta_layer_fractions(beta, "30,100")[:, 0]
    np.testing.assert_allclose(shares, (beta ** 30 - beta ** 100) / (1 - beta ** 200), rtol=1e-12)
    assert (shares < 0.5).all()  # not renormalised to 1 over 30-100 cm
    np.testing.assert_allclose(depth.beta_layer_fractions(beta, "0,50,100", profile_depth=100).sum(axis=1), 1.0)
    d50, d95 = 20.0, 80.0
    F = lambda d: 1 / (1 + (d / d50) ** (-np.log10(19) / np.log10(d95 / d50)))  # noqa: E731
    assert depth.logistic_layer_fractions(d50, d95, "30,100")[0] == pytest.approx((F(100) - F(30)) / F(200))
    note = depth.coverage_note("30,100", fractions=depth.logistic_layer_fractions(d50, d95, "30,100"))
    assert "30-100 cm, not the whole 0-200 cm profile" in note and f"({(F(100) - F(30)) / F(200):.3g})" in note
    assert depth.coverage_note("standard7") is None and depth.coverage_note("30,100", normalize=False) is None
    with pytest.raises(InputError, match=r"layers reach 300 cm, below the profile depth .*: give a profile depth of "
                                         r"at least 300 cm, or layers that end above 200 cm$"):  # no option to unset
        depth.beta_layer_fractions(0.96, "0,100,300")


@pytest.mark.parametrize("call, message", [
    (lambda: depth.logistic_layer_fractions(np.nan, 80.0), "D50 must be a finite number, not nan"),
    (lambda: depth.logistic_layer_fractions(20.0, np.inf), "D95 must be a finite number, not inf"),
    (lambda: depth.beta_layer_fractions(float("nan")), "beta must be a finite number"),
    (lambda: depth.beta_extrapolate(50.0, 30.0, 0.97, np.nan), "target depth must be a finite number"),
    (lambda: depth.beta_depth_at_fraction(np.nan, 0.97), "fraction must be a finite number"),
    (lambda: depth.partition_total(np.nan, [0.5, 0.5]), "total must be a finite number"),
    (lambda: depth.beta_layer_fractions(0.96, profile_depth=np.nan), "profile depth must be a finite number"),
])
def test_scalar_parameters_must_be_finite(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_nodata_in_arrays_stays_nodata():
    fractions = depth.beta_layer_fractions(np.array([0.96, np.nan]))
    assert np.isfinite(fractions[0]).all() and np.isnan(fractions[1]).all()
