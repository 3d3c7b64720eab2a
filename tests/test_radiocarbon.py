"""One-pool radiocarbon model: forward, inverse (all roots), statuses and the ISRaD check."""

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import solve_ivp

from wholesoil.core import radiocarbon as rc
from wholesoil.core.errors import InputError

K = np.array([1e-5, 3e-4, 2e-3, 0.02, 0.3, 1.0])


def test_pre_bomb_steady_state_is_exact():
    for pre in (0.0, -25.0):
        modelled = rc.forward_d14c(K, 1949, "NH1", pre_d14c=pre)
        np.testing.assert_array_equal(rc.d14c_to_ratio(modelled),
                                      rc.d14c_to_ratio(rc.ratio_to_d14c(K / (K + rc.DECAY) * (1 + pre / 1000))))
        ages = rc.radiocarbon_ages(modelled, np.full(K.size, 1900), 0, pre_d14c=pre)
        np.testing.assert_allclose(ages.k_slow, K, rtol=1e-9)
        assert list(ages.status) == ["ok"] * K.size and list(ages.n_roots) == [1] * K.size
    # a pre-1950 sample at or above the pre-bomb atmosphere has no age
    assert rc.radiocarbon_ages([0.0, 5.0], [1940, 1940], [0, 0]).status.tolist() == ["out_of_range"] * 2


def _ode_reference(k, year, zone, curve, pre_d14c):
    """Δ14C at year + 0.5 by numerical integration of the ODE, one calendar year at a time."""
    atm = rc.d14c_to_ratio(curve.d14c(np.arange(1950, year + 1), zone))
    a = k / (k + rc.DECAY) * rc.d14c_to_ratio(pre_d14c)
    for i, forcing in enumerate(atm):
        span = 0.5 if i == len(atm) - 1 else 1.0
        solution = solve_ivp(lambda t, y, f=forcing: k * f - (k + rc.DECAY) * y, (0, span), [a],
                             method="DOP853", rtol=1e-12, atol=1e-14)
        a = solution.y[0, -1]
    return rc.ratio_to_d14c(a)


@pytest.mark.parametrize("zone, year", [("NH1", 1963), ("SH3", 1990), ("NH3", 2018)])
def test_forward_matches_numerical_integration(zone, year):
    curve = rc.load_curve("hua2021")
    for k in (1e-4, 0.01, 0.2, 2.0):
        expected = _ode_reference(k, year, zone, curve, -10.0)
        assert rc.forward_d14c(k, year, zone, curve, pre_d14c=-10.0) == pytest.approx(expected, abs=1e-7)


def test_inverse_recovers_k_from_1e5_to_1_over_1955_2018():
    rng = np.random.default_rng(20240601)
    n = 20000
    k = np.exp(rng.uniform(np.log(1e-5), np.log(1.0), n))
    year = rng.integers(1955, 2019, n)
    zone = rng.integers(0, 5, n)
    d14c = rc.forward_d14c(k, year, zone)
    ages = rc.radiocarbon_ages(d14c, year, zone)
    error = np.nanmin(np.abs(ages.roots - k[:, None]) / k[:, None], axis=1)
    assert np.all(error < 1e-6), f"worst relative error {np.nanmax(error):.2e}"
    assert set(ages.status) <= {"ok", "two_roots"}
    assert np.all(ages.n_roots >= 1) and (ages.n_roots >= 2).any()
    # every root reported reproduces the measurement
    row, column = np.nonzero(np.isfinite(ages.roots))
    back = rc.forward_d14c(ages.roots[row, column], year[row], zone[row])
    np.testing.assert_allclose(back, d14c[row], atol=1e-6)
    # the default (slow) age is the smallest root
    np.testing.assert_array_equal(ages.k_slow, np.nanmin(ages.roots, axis=1))


def test_every_root_is_found_against_a_fine_scan():
    """Sign changes of forward(k) - value on a fine k scan = n_roots, for values across the range."""
    scan = np.exp(np.linspace(np.log(1e-7), np.log(1e3), 20001))
    for year, zone in ((1966, "NH1"), (1980, "SH12"), (2010, "NH2")):
        curve = rc.forward_d14c(scan, year, zone)
        values = np.linspace(curve.min() + 1, curve.max() - 1, 25)
        ages = rc.radiocarbon_ages(values, year, zone)
        crossings = [(np.diff(np.sign(curve - v)) != 0).sum() for v in values]
        assert ages.n_roots.tolist() == crossings


def test_out_of_range_missing_and_impossible_values():
    highest = rc.forward_d14c(np.exp(np.linspace(-12, 5, 4000)), 1970, "NH1").max()
    ages = rc.radiocarbon_ages([highest + 5, np.nan, -50.0, -50.0, -1000.0], [1970, 1970, np.nan, 1970, 1970],
                               [0, 0, 0, -1, 0])
    assert ages.status.tolist() == ["out_of_range", "missing_input", "missing_input", "missing_input",
                                    "out_of_range"]
    assert np.isnan(ages.k_slow).all() and ages.n_roots.tolist() == [0] * 5
    assert any("rows 1, 5" in note for note in ages.notes)
    with pytest.raises(InputError, match="Δ14C .* at least -1000 .* row 2"):
        rc.radiocarbon_ages([-10.0, -1001.0], [2000, 2000], [0, 0])


def test_samples_after_the_record_are_extrapolated_and_flagged():
    ages = rc.radiocarbon_ages([-100.0, -100.0], [2018, 2020], ["NH1", "NH1"])
    assert ages.status.tolist() == ["ok", "extrapolated_curve"]
    assert np.isfinite(ages.k_slow).all()
    assert any("extrapolated" in note and "row 2" in note for note in ages.notes)


def test_lag_shifts_the_forcing_by_whole_years(tmp_path):
    years = np.arange(1950, 2021)
    values = 600 * np.exp(-((years - 1964) / 12.0) ** 2)
    path, shifted = tmp_path / "c.csv", tmp_path / "shifted.csv"
    pd.DataFrame({"year": years, "Z": values}).to_csv(path, index=False)
    pd.DataFrame({"year": years + 2, "Z": values}).to_csv(shifted, index=False)
    pd.concat([pd.DataFrame({"year": [1950, 1951], "Z": [0.0, 0.0]}),
               pd.read_csv(shifted)]).to_csv(shifted, index=False)
    k = np.array([0.002, 0.05, 0.5])
    lagged = rc.forward_d14c(k, 1990, 0, str(path), lag=2.0)
    np.testing.assert_allclose(lagged, rc.forward_d14c(k, 1990, 0, str(shifted)), rtol=1e-12)
    assert not np.allclose(lagged, rc.forward_d14c(k, 1990, 0, str(path)))
    half = rc.forward_d14c(k, 1990, 0, str(path), lag=0.5)
    assert np.all(np.isfinite(half))
    back = rc.radiocarbon_ages(half, 1990, 0, str(path), lag=0.5)
    assert np.nanmin(np.abs(back.roots - k[:, None]) / k[:, None], axis=1).max() < 1e-6


def test_table_uses_fm_where_d14c_is_missing_and_names_missing_columns():
    table = pd.DataFrame({"lyr_14c": [-100.0, np.nan], "lyr_fraction_modern": [np.nan, 0.9],
                          "lyr_obs_date_y": [2001, 2001], "pro_lat": [45.0, -45.0], "note": ["a", "b"]})
    out, _ = rc.radiocarbon_age_table(table)
    assert list(out.columns) == list(table.columns) + list(rc.AGE_COLUMNS)
    expected = rc.radiocarbon_ages([-100.0, rc.fm_to_d14c(0.9, 2001)], [2001, 2001], ["NH1", "SH3"])
    np.testing.assert_allclose(out["k_slow"], expected.k_slow)
    with pytest.raises(InputError, match="neither column 'lyr_14c' nor 'lyr_fraction_modern'"):
        rc.radiocarbon_age_table(table.drop(columns=["lyr_14c", "lyr_fraction_modern"]))
    with pytest.raises(InputError, match="no column 'lyr_obs_date_y'"):
        rc.radiocarbon_age_table(table.drop(columns=["lyr_obs_date_y"]))
    with pytest.raises(InputError, match="'pro_lat' has non-numeric values .* row 2"):
        rc.radiocarbon_age_table(table.assign(pro_lat=["45", "north"]))


def test_forward_table_round_trip():
    table = pd.DataFrame({"age": [50.0, 800.0], "year": [1995, 2019], "zone": ["NH2", "SH12"]})
    out, notes = rc.radiocarbon_forward_table(table, age_col="age", year_col="year", zone_col="zone")
    assert out["status"].tolist() == ["ok", "extrapolated_curve"] and notes
    back = rc.radiocarbon_ages(out["d14c_model"], table["year"], table["zone"])
    assert np.nanmin(np.abs(1 / back.roots - table["age"].to_numpy()[:, None]), axis=1).max() < 1e-3


def test_israd_every_layer_gets_an_age_or_a_status(real_data):
    table = pd.read_csv(real_data / "israd" / "israd_layer_14c.csv", low_memory=False)
    out, _ = rc.radiocarbon_age_table(table)
    aged = out["age_slow_yr"].notna()
    assert set(out["status"]) <= set(rc.STATUSES)
    assert (aged == out["status"].isin(["ok", "two_roots", "extrapolated_curve"])).all()
    assert aged.mean() > 0.95
    assert np.all(np.isfinite(out.loc[aged, "age_slow_yr"]) & (out.loc[aged, "age_slow_yr"] > 0))
    assert (out.loc[out["lyr_obs_date_y"] < 1950, "status"] == "ok").all()
    assert (out.loc[out["lyr_obs_date_y"] > 2018, "status"].isin(["extrapolated_curve", "out_of_range"])).all()
    # plausibility against seed 001 (982 yr in 0-30 cm, 3,862 yr in 0-200 cm): controls, no peat,
    # mineral layers (top >= 0) lying within the depth range, slow root, mean over layers
    mineral = out["pro_treatment"].eq("control") & ~out["pro_peatland"].eq("yes") & (out["lyr_top"] >= 0)
    mean_30 = out.loc[mineral & (out["lyr_bot"] <= 30), "age_slow_yr"].mean()
    mean_200 = out.loc[mineral & (out["lyr_bot"] <= 200), "age_slow_yr"].mean()
    print(f"ISRaD mean age 0-30 cm {mean_30:.0f} yr, 0-200 cm {mean_200:.0f} yr")
    assert 300 < mean_30 < 3000 and 1000 < mean_200 < 12000 and mean_30 < mean_200


def test_forward_keeps_the_broadcast_shape_and_zone_indices_are_checked():
    assert np.shape(rc.forward_d14c(0.01, 2000, "NH1")) == ()
    assert rc.forward_d14c(np.full((3, 4), 0.01), 2000, 0).shape == (3, 4)
    both = rc.forward_d14c([0.01, 0.1], [[2000], [1990]], 0)
    assert both.shape == (2, 2) and both[1, 0] == rc.forward_d14c(0.01, 1990, 0)
    assert np.isnan(rc.forward_d14c(0.01, 2000, -1))  # -1: unknown zone, as from zone_for_latitude
    with pytest.raises(InputError, match="zone index out of range"):
        rc.radiocarbon_ages([-50.0], [2000], [7])
