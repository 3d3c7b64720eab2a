"""Mass-preserving spline: properties, bad input, and the NEON megapit horizons."""

import numpy as np
import pandas as pd
import pytest

from wholesoil.core.errors import InputError
from wholesoil.core.spline import clamped_integral, fit_splines, spline_profiles

NEON = ("siteID", "horizonTopDepth", "horizonBottomDepth")


def random_profiles(n, seed, gaps=False):
    """n random profiles (2-8 horizons, some with gaps) with two properties."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n):
        k = int(rng.integers(1, 9))
        breaks = np.sort(rng.choice(np.arange(1, 250), k, replace=False)).astype(float)
        tops = np.concatenate(([0.0], breaks[:-1]))
        bottoms = breaks.copy()
        if gaps and k > 1:
            bottoms[:-1] -= rng.integers(0, 2, k - 1) * np.minimum(3.0, (bottoms[:-1] - tops[:-1]) / 2)
        for top, bottom in zip(tops, bottoms):
            rows.append((f"p{p}", top, bottom, rng.gamma(2.0, 10.0), rng.normal(1.3, 0.2)))
    return pd.DataFrame(rows, columns=["id", "top", "bottom", "soc", "bd"])


def horizon_means(result, table):
    """Curve means over each input horizon, aligned with the table's rows."""
    fit_rows = []
    for name in ("soc", "bd"):
        fit = result.fits[name]
        h = result.horizons
        means = np.empty(len(h.top))
        for p in range(h.n_profiles):
            a, b = h.starts[p], h.starts[p + 1]
            cumulative = fit.cumulative(np.concatenate([h.top[a:b], h.bottom[a:b]])[None, :].repeat(h.n_profiles, 0))
            means[a:b] = (cumulative[p, b - a:] - cumulative[p, :b - a]) / (h.bottom[a:b] - h.top[a:b])
        fit_rows.append(means)
    return np.column_stack(fit_rows), result.horizons.values


@pytest.mark.parametrize("gaps", [False, True])
def test_lambda_zero_reproduces_every_horizon_mean(gaps):
    table = random_profiles(60, seed=3, gaps=gaps)
    result = spline_profiles(table, "id", "top", "bottom", ["soc", "bd"], lam=0.0, vlow=-np.inf)
    means, values = horizon_means(result, table)
    np.testing.assert_allclose(means, values, rtol=1e-11, atol=1e-11)
    assert np.nanmax(result.profiles[["rmse_soc", "rmse_bd"]].to_numpy()) < 1e-11


def test_smoothing_departs_from_the_means_and_reports_the_fit_error():
    table = random_profiles(40, seed=4)
    result = spline_profiles(table, "id", "top", "bottom", ["soc"], lam=1.0, vlow=-np.inf)
    multi = result.profiles["n_horizons"] > 2
    assert (result.profiles.loc[multi, "rmse_soc"] > 1e-3).all()


def test_layer_means_are_invariant_to_horizon_order():
    table = random_profiles(50, seed=5, gaps=True)
    shuffled = table.sample(frac=1.0, random_state=1).reset_index(drop=True)
    first = spline_profiles(table, "id", "top", "bottom", ["soc", "bd"], layers="0,5,15,30,60,100,200",
                            extrapolate=True)
    second = spline_profiles(shuffled, "id", "top", "bottom", ["soc", "bd"], layers="0,5,15,30,60,100,200",
                             extrapolate=True)
    merged = first.layers.merge(second.layers, on=["id", "top", "bottom"])
    assert len(merged) == len(first.layers)
    np.testing.assert_allclose(merged["soc_x"], merged["soc_y"], rtol=1e-12)
    np.testing.assert_allclose(merged["bd_x"], merged["bd_y"], rtol=1e-12)
    assert second.profiles["repairs"].str.contains("sorted").any()


def test_clamped_integral_is_exact():
    # f(u) = u^2 - 4u + 3 crosses 0 at u = 1 and 3; min(max(f, 0), 2) integrated on [0, 4]
    u = np.linspace(0.0, 4.0, 400001)
    f = np.clip(u ** 2 - 4 * u + 3, 0.0, 2.0)
    numeric = np.trapz(f, u)
    assert clamped_integral(3.0, -4.0, 1.0, 0.0, 4.0, 0.0, 2.0) == pytest.approx(numeric, abs=1e-8)
    assert clamped_integral(3.0, -4.0, 1.0, 0.0, 4.0) == pytest.approx(64 / 3 - 32 + 12)


def test_clamp_keeps_layer_means_in_range_and_is_reported():
    # a steep decline the unclamped spline would overshoot below 0
    table = pd.DataFrame({"id": "a", "top": [0, 5, 10, 60], "bottom": [5, 10, 60, 100],
                          "soc": [300.0, 40.0, 1.0, 0.5]})
    result = spline_profiles(table, "id", "top", "bottom", ["soc"], layers="0,2,5,10,20,40,60,80,100")
    assert (result.layers["soc"] >= 0).all()
    assert "clamped" in result.profiles.loc[0, "repairs"]
    unclamped = fit_splines(np.zeros(4, int), table["top"], table["bottom"], table["soc"], 1, vlow=-np.inf)
    assert np.nanmin(unclamped.evaluate(np.arange(0, 100.0))) < 0


def test_single_horizon_and_no_extrapolation_unless_asked():
    table = pd.DataFrame({"id": ["one", "deep", "deep"], "top": [0, 0, 30], "bottom": [30, 30, 45],
                          "soc": [12.0, 20.0, 10.0]})
    result = spline_profiles(table, "id", "top", "bottom", ["soc"], layers="0,10,30,60")
    one = result.layers[result.layers["id"] == "one"]["soc"].to_numpy()
    np.testing.assert_allclose(one[:2], 12.0)
    assert np.isnan(one[2])
    status = result.profiles.set_index("id")["status"]
    assert status["one"] == "incomplete" and "below 30 cm" in result.profiles.set_index("id")["message"]["one"]
    extended = spline_profiles(table, "id", "top", "bottom", ["soc"], layers="0,10,30,60", extrapolate=True)
    deep = extended.layers[extended.layers["id"] == "deep"]["soc"].to_numpy()
    fit = extended.fits["soc"]
    end = fit.evaluate(np.array([45.0]))[1, 0]
    # 30-60: the fitted 30-45 part plus the end value carried over 45-60
    part = (fit.cumulative(np.array([45.0]))[1, 0] - fit.cumulative(np.array([30.0]))[1, 0])
    assert deep[2] == pytest.approx((part + 15 * end) / 30)


def test_missing_values_are_bridged_and_listed():
    table = pd.DataFrame({"id": "a", "top": [0, 10, 20, 40], "bottom": [10, 20, 40, 60],
                          "soc": [30.0, np.nan, 10.0, 5.0], "bd": [1.0, 1.2, np.nan, 1.5]})
    result = spline_profiles(table, "id", "top", "bottom", ["soc", "bd"], layers="0,20,40,60", lam=0.0,
                             vlow=-np.inf)
    assert result.layers["soc"].notna().all() and result.layers["bd"].notna().all()
    repairs = result.profiles.loc[0, "repairs"]
    assert "soc: no value in row(s) 2" in repairs and "bd: no value in row(s) 3" in repairs
    # the horizons that have values keep their means exactly (lam = 0)
    assert result.layers["soc"].iloc[2] == pytest.approx(5.0)


def test_bad_profiles_are_named_and_the_others_processed():
    good = random_profiles(3, seed=8)
    bad = pd.DataFrame({
        "id": ["overlap", "overlap", "negative", "inverted", "text", "text"],
        "top": [0, 15, -5, 30, 0, 10], "bottom": [20, 30, 10, 20, 10, 20],
        "soc": ["5", "4", "3", "2", "n.d.", "1"], "bd": [1.0] * 6})
    table = pd.concat([good, bad], ignore_index=True)
    result = spline_profiles(table, "id", "top", "bottom", ["soc", "bd"])
    messages = result.profiles.set_index("id")["message"]
    status = result.profiles.set_index("id")["status"]
    assert set(status[status == "error"].index) == {"overlap", "negative", "inverted", "text"}
    first = len(good) + 1
    assert f"0-20 cm (row {first}) and 15-30 cm (row {first + 1}) overlap" in messages["overlap"]
    assert "spans the mineral soil surface" in messages["negative"] and f"row {first + 2}" in messages["negative"]
    assert "inverted horizon 30-20 cm" in messages["inverted"]
    assert "'soc' has non-numeric values ('n.d.')" in messages["text"]
    assert set(result.layers["id"]) == set(good["id"])


def test_missing_column_is_an_error():
    with pytest.raises(InputError, match="no column 'oc'"):
        spline_profiles(random_profiles(2, seed=1), "id", "top", "bottom", ["oc"])
    with pytest.raises(InputError, match="lam"):
        spline_profiles(random_profiles(2, seed=1), "id", "top", "bottom", ["soc"], lam=-1)


def test_zero_thickness_horizon_dropped(real_data):
    horizons = pd.read_csv(real_data / "neon_megapit" / "neon_megapit_soil_horizons.csv")
    result = spline_profiles(horizons[horizons["siteID"] == "OAES"], *NEON, ["carbonTot"])
    assert "dropped zero-thickness horizon(s) at 46 cm" in result.profiles.loc[0, "repairs"]


def test_all_neon_sites_to_200_cm(real_data):
    """Every NEON megapit site reaching 200 cm is harmonised to 0-200 cm; the others say why."""
    horizons = pd.read_csv(real_data / "neon_megapit" / "neon_megapit_soil_horizons.csv")
    result = spline_profiles(horizons, *NEON, ["carbonTot", "nitrogenTot", "bulkDen"], layers="standard7")
    profiles = result.profiles.set_index("siteID")
    assert len(profiles) == 47 and (profiles["status"] != "error").all()
    complete = result.layers.groupby("siteID")[["carbonTot", "nitrogenTot", "bulkDen"]] \
        .apply(lambda f: f.notna().all().all())
    deep_enough = horizons.groupby("siteID")["horizonBottomDepth"].max() >= 200
    # sites whose horizons reach 200 cm are complete unless a top or bottom horizon lacks a value
    incomplete = complete[~complete].index
    for site in incomplete:
        message = profiles.loc[site, "message"]
        assert "no value for layers reaching" in message, site
    assert complete[deep_enough].sum() >= 35
    assert not complete[~deep_enough].any()
    # with lam = 0 the 0-200 cm carbon of the sites whose horizons end at 200 cm is kept exactly
    exact = spline_profiles(horizons, *NEON, ["carbonTot"], layers="standard7", lam=0.0, vlow=-np.inf)
    thickness = exact.layers["horizonBottomDepth"] - exact.layers["horizonTopDepth"]
    layer_mass = (exact.layers["carbonTot"] * thickness).groupby(exact.layers["siteID"]).sum(min_count=7)
    thick = horizons["horizonBottomDepth"] - horizons["horizonTopDepth"]
    horizon_mass = (horizons["carbonTot"] * thick).groupby(horizons["siteID"]).sum(min_count=1)
    ends_at_200 = horizons.groupby("siteID")["horizonBottomDepth"].max() == 200
    complete_values = horizons.groupby("siteID")["carbonTot"].apply(lambda v: v.notna().all())
    sites = ends_at_200[ends_at_200 & complete_values].index
    assert len(sites) == 19
    np.testing.assert_allclose(layer_mass[sites], horizon_mass[sites], rtol=1e-12)


def test_infinite_depths_or_values_reject_their_profile():
    table = pd.DataFrame({"id": ["deep", "deep", "hot", "hot", "ok", "ok"], "top": [0, 10, 0, 10, 0, 10],
                          "bottom": [10, "inf", 10, 20, 10, 20], "soc": [1.0, 2.0, 3.0, np.inf, 1.0, 2.0]})
    result = spline_profiles(table, "id", "top", "bottom", ["soc"], layers="0,20")
    profiles = result.profiles.set_index("id")
    assert profiles.loc["deep", "status"] == "error"
    assert "column 'bottom' has infinite values in row 2" in profiles.loc["deep", "message"]
    assert profiles.loc["hot", "status"] == "error"
    assert "column 'soc' has infinite values in row 4" in profiles.loc["hot", "message"]
    assert result.layers["id"].tolist() == ["ok"]
