"""β per profile: recovery from synthetic profiles, fractions, X100 and the exponential share model."""

import numpy as np
import pandas as pd
import pytest

from wholesoil.core.beta_profiles import fit_beta_profiles
from wholesoil.core.depth import beta_layer_fractions


def synthetic(betas, breaks, total=150.0, noise=0.0, seed=0):
    """Increments whose amounts follow beta**top - beta**bottom (times total), one profile per beta."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, beta in enumerate(betas):
        amounts = total * (beta ** breaks[:-1] - beta ** breaks[1:]) * (1 + noise * rng.standard_normal(len(breaks) - 1))
        rows += [(f"p{i}", "forest" if i % 2 else "grass", t, b, a) for t, b, a in zip(breaks[:-1], breaks[1:], amounts)]
    return pd.DataFrame(rows, columns=["id", "biome", "top", "bottom", "soc"])


def test_recovers_beta_of_deep_profiles():
    betas = [0.90, 0.93, 0.96, 0.975]
    breaks = np.array([0, 5, 15, 30, 60, 100, 200, 400], float)  # deep enough: beta**400 < 1e-4
    result = fit_beta_profiles(synthetic(betas, breaks), "id", "top", "bottom", "soc", layers="standard5")
    np.testing.assert_allclose(result.profiles["beta"], betas, atol=2e-4)
    expected = beta_layer_fractions(np.array(betas), "standard5")
    np.testing.assert_allclose(result.profiles[["frac_0_20", "frac_20_40", "frac_40_60", "frac_60_80",
                                                "frac_80_100"]], expected, atol=2e-3)


def test_x100_extrapolates_a_shallow_stock():
    beta, breaks = 0.97, np.array([0, 10, 20, 30], float)
    table = synthetic([beta], breaks, total=100.0)
    result = fit_beta_profiles(table, "id", "top", "bottom", "soc")
    row = result.profiles.iloc[0]
    assert row["observed_total"] == pytest.approx(100 * (1 - beta ** 30))
    # X100 = (1 - b^100) / (1 - b^30) x X30 with the fitted beta
    assert row["x100"] == pytest.approx((1 - row["beta"] ** 100) / (1 - row["beta"] ** 30) * row["observed_total"])
    assert row["observed_depth_cm"] == 30


def test_share_model_per_group_and_bad_profiles():
    table = synthetic([0.92, 0.97, 0.93, 0.96], np.arange(0, 201, 20.0), noise=0.02, seed=2)
    table = pd.concat([table, pd.DataFrame({"id": ["bad", "bad"], "biome": "grass", "top": [0, 10],
                                            "bottom": [15, 20], "soc": [1.0, 2.0]})], ignore_index=True)
    result = fit_beta_profiles(table, "id", "top", "bottom", "soc", group_col="biome")
    groups = result.groups.set_index("biome")
    assert set(groups.index) == {"grass", "forest"}
    assert (groups["status"] == "ok").all()
    # deeper-rooted (larger beta) forest profiles decline more slowly with depth
    assert groups.loc["forest", "b_per_cm"] < groups.loc["grass", "b_per_cm"]
    bad = result.profiles.set_index("id").loc["bad"]
    assert bad["status"] == "not_fitted" and "overlap" in bad["message"]
    assert result.profiles.set_index("id").loc["p0", "biome"] == "grass"


def test_neon_soc_beta_in_published_range(real_data):
    """β of NEON SOC density profiles against the published global range (seed 002)."""
    from wholesoil.core.stocks import soc_stocks

    horizons = pd.read_csv(real_data / "neon_megapit" / "neon_megapit_soil_horizons.csv")
    stocks = soc_stocks(horizons, "siteID", "horizonTopDepth", "horizonBottomDepth", "estimatedOC", "bulkDen")
    result = fit_beta_profiles(stocks.layers, "siteID", "horizonTopDepth", "horizonBottomDepth", "soc_mg_ha")
    fitted = result.profiles[result.profiles["status"] == "ok"]
    assert len(fitted) >= 40
    assert 0.95 < fitted["beta"].median() < 0.995


def test_points_kept_and_rejected_profiles_written(tmp_path):
    from shapely.geometry import Point

    from wholesoil.core.tables import read_table, write_table

    table = pd.DataFrame({"id": ["a", "a", "b", "b"], "top": [0, 10, 0, 5], "bottom": [10, 30, 10, 20],
                          "soc": [3.0, 1.0, 2.0, 1.0], "geometry": [Point(1, 2).wkb] * 2 + [Point(3, 4).wkb] * 2})
    result = fit_beta_profiles(table, "id", "top", "bottom", "soc")
    write_table(result.profiles, tmp_path / "beta.gpkg")
    written = read_table(tmp_path / "beta.gpkg").set_index("id")
    assert written.loc["a", "geometry"] == Point(1, 2).wkb and written.loc["b", "geometry"] is None
    assert written.loc["b", "status"] == "not_fitted"
