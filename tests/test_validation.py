"""Peer checks recorded in docs/validation.md, as they run in the suite.

* mpspline2 0.1.9 (obrl-soil/mpspline2, commit 88651e97, tests/testthat/test_mpspline.R and
  test_multivar.R): its numeric and structural expectations, ported where wholesoil's
  behaviour is meant to be the same (the differences are listed in docs/validation.md).
* ISRaD (International-Soil-Radiocarbon-Database/ISRaD, Rpkg/R/convert_fm_d14c.R,
  ISRaD.extra.fill_14c.R): the Δ14C <-> Fm formula and its documented example; ISRaD's own
  atmospheric Δ14C per layer (lyr_atm14c) against wholesoil's atm_d14c.
* The one-pool model as SoilR solves it (an ODE integrated numerically, forced by SoilR's
  C14Atm_NH record): R is not installable here, so scipy's integrator stands in for SoilR.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import solve_ivp

from wholesoil.core import radiocarbon as rc
from wholesoil.core.spline import fit_splines, spline_profiles

D = [0, 5, 15, 30, 60, 100, 200]  # mpspline2's test depths (cm)


def _fit(top, bottom, values, vhigh=np.inf):
    n = len(top)
    return fit_splines(np.zeros(n, int), np.asarray(top, float), np.asarray(bottom, float), np.asarray(values, float),
                       1, lam=0.1, vlow=0.0, vhigh=vhigh)


def _one_cm(fit, depth=200):
    """mpspline2's est_1cm: one value per whole centimetre 0-1, 1-2, ... (here the exact 1-cm means)."""
    return fit.layer_means(np.arange(depth), np.arange(1, depth + 1))[0]


def test_mpspline2_est1_parameters():
    fit = _fit([0, 10, 20, 30], [10, 20, 30, 40], [5.4, 5.3, 5.6, 7.0])
    # s_bar[1], b0[1], b1[1], gamma[1], alfa[1] of "mpspline_est1 does the thing"
    assert fit.fitted[0, 0] == pytest.approx(5.3938765799840498, abs=1e-13)
    assert fit.c1[0, 0] == 0.0
    assert fit.c1[0, 0] + 2 * fit.c2[0, 0] * 10 == pytest.approx(-0.015308550039877671, abs=1e-15)
    assert fit.c2[0, 0] == pytest.approx(-0.00076542750199388358, abs=1e-16)
    assert fit.c0[0, 0] == pytest.approx(5.4193908300505127, abs=1e-13)


def test_mpspline2_rmse1():
    values = np.array([6, 4, 3, 10.0])
    fit = _fit([0, 20, 30, 50], [20, 30, 50, 70], values, vhigh=14)
    assert fit.rmse[0] == pytest.approx(0.19001524938836459, abs=1e-15)
    iqr = np.subtract(*np.percentile(values, [75, 25]))  # R's IQR (type 7)
    assert fit.rmse[0] / iqr == pytest.approx(0.058466230581035256, abs=1e-15)


def test_mpspline2_fit1_expectations():
    single = _fit([0], [10], [5.4], vhigh=14)
    one_cm = _one_cm(single)
    np.testing.assert_allclose(one_cm[:10], 5.4, rtol=1e-14)
    assert np.isnan(one_cm[10])
    means = single.layer_means(D[:-1], D[1:])[0]
    assert means[0] == pytest.approx(5.4, rel=1e-14) and np.isnan(means[2])
    normal = _fit([0, 20, 30, 50], [20, 30, 50, 70], [6, 4, 3, 10], vhigh=14)
    gaps = _fit([0, 30, 50], [20, 50, 70], [6, 3, 10], vhigh=14)
    for fit in (normal, gaps):
        one_cm = _one_cm(fit)
        assert one_cm.size == 200 and np.isnan(one_cm).sum() == 130
        assert np.nanmax(one_cm) <= 14 and np.nanmin(one_cm) >= 0
        means = fit.layer_means(D[:-1], D[1:])[0]
        assert means.size == 6 and np.isfinite(means[:4]).all() and np.isnan(means[5])
    # "deeper than max d - should just truncate"
    short = normal.layer_means(D[:3], D[1:4])[0]
    assert not np.isnan(_one_cm(normal, 30)).any() and short.size == 3
    np.testing.assert_array_equal(short, normal.layer_means(D[:-1], D[1:])[0][:3])
    # "starts below surface": no extrapolation, only interpolation
    below = _one_cm(_fit([20, 30, 50], [30, 50, 70], [4, 3, 10], vhigh=14), 100)
    assert np.isnan(below[:20]).all() and np.isnan(below[70:100]).all()


def test_mpspline2_single_horizon_and_multivariable_value():
    # mpspline(): site "C" has one horizon, 0-10 cm, 3.5: its fitted value is 3.5
    assert _fit([0], [10], [3.5], vhigh=14).fitted[0, 0] == 3.5
    # test_multivar.R, VAL4 of site 4: 0-10 cm = 11 and 0-5 cm empty: 11 over 0-10 cm, nothing below
    one_cm = _one_cm(fit_splines(np.zeros(2, int), np.array([0.0, 0.0]), np.array([10.0, 5.0]),
                                 np.array([11.0, np.nan]), 1))
    np.testing.assert_allclose(one_cm[:10], 11, rtol=1e-14)
    assert np.isnan(one_cm[10:]).all()


def test_mpspline2_datchk_cases_wholesoil_treats_alike():
    def run(tops, bottoms, values):
        table = pd.DataFrame({"SID": "A", "UD": tops, "LD": bottoms, "VAL": values})
        return spline_profiles(table, "SID", "UD", "LD", ["VAL"], layers=",".join(map(str, D)), vhigh=14)

    with pytest.raises(rc.InputError, match="overlap"):  # mpspline2: NA
        run([0, 30, 50, 90], [30, 60, 100, 120], [1, 2, 3, 4])
    dropped = run([0, 30, 50, 90], [30, 30, 80, 120], [1, 2, 3, 4])  # zero-thickness horizon dropped
    clean = run([0, 50, 90], [30, 80, 120], [1, 3, 4])
    np.testing.assert_array_equal(dropped.layers["VAL"], clean.layers["VAL"])
    assert run([0, 30, 60, 90], [30, 60, 90, 120], [np.nan] * 4).layers["VAL"].isna().all()  # all NA


def test_israd_fm_d14c_formula_and_example():
    lam = 0.00012097  # convert_fm_d14c.R
    expected = (0.97057 * np.exp(lam * (1950 - 2005)) - 1) * 1000
    assert rc.fm_to_d14c(0.97057, 2005) == pytest.approx(expected, abs=1e-3)
    assert expected == pytest.approx(-35.86611, abs=1e-3)  # the example pair of its documentation
    assert rc.d14c_to_fm(-35.86611, 2005) == pytest.approx(0.97057, abs=1e-6)


def test_israd_atmosphere_per_layer(real_data):
    """ISRaD.extra's lyr_atm14c (Graven 2017 zones, pro_graven_zone) against wholesoil's atm_d14c."""
    israd = pd.read_csv(real_data / "israd" / "israd_layer_14c.csv", low_memory=False)
    out, _ = rc.radiocarbon_age_table(israd, curve="graven2017", zone_col="pro_graven_zone")
    inside = israd["lyr_obs_date_y"].between(1950, 2015) & israd["lyr_atm14c"].notna()
    same = (out["atm_d14c"] - israd["lyr_atm14c"]).abs() <= 0.01
    print(f"ISRaD lyr_atm14c reproduced in {int((same & inside).sum())} of {int(inside.sum())} layers (1950-2015)")
    assert (same & inside).sum() / inside.sum() > 0.99
    graven = rc.load_curve("graven2017")
    for _, row in israd[inside & ~same].iterrows():  # the rest carry another Graven zone's value
        values = [graven.d14c(int(row["lyr_obs_date_y"]), zone) for zone in graven.zones]
        assert np.min(np.abs(np.array(values) - row["lyr_atm14c"])) <= 0.01


def test_one_pool_model_as_soilr_solves_it(shared_data, real_data, tmp_path):
    """Ages found with SoilR's C14Atm_NH forcing reproduce each observed Δ14C when the model is
    integrated numerically (scipy DOP853; SoilR uses deSolve's lsoda), from steady state at 0 ‰."""
    curve = tmp_path / "c14atm_nh.csv"
    atmosphere = pd.read_csv(shared_data / "atm_14c" / "soilr_c14atm_nh_annual.csv")
    atmosphere.to_csv(curve, index=False)
    israd = pd.read_csv(real_data / "israd" / "israd_layer_14c.csv", low_memory=False)
    sample = israd[(israd["pro_lat"] >= 40) & israd["lyr_obs_date_y"].between(1960, 2010)].iloc[::40]
    out, _ = rc.radiocarbon_age_table(sample, curve=str(curve), zone_col=None)
    forcing = atmosphere.set_index("year")["d14c"] / 1000 + 1
    worst = 0.0
    for (_, row), k in zip(sample.iterrows(), out["k_slow"]):
        if not np.isfinite(k):
            continue
        a = k / (k + rc.DECAY)
        for year in range(1950, int(row["lyr_obs_date_y"]) + 1):
            span = 0.5 if year == int(row["lyr_obs_date_y"]) else 1.0
            a = solve_ivp(lambda t, y, f=forcing[year]: k * f - (k + rc.DECAY) * y, (0, span), [a],
                          method="DOP853", rtol=1e-12, atol=1e-14).y[0, -1]
        worst = max(worst, abs((a - 1) * 1000 - row["lyr_14c"]))
    print(f"one-pool model integrated numerically: worst |Δ14C - observed| {worst:.1e} ‰ over {len(sample)} layers")
    assert worst < 1e-5
