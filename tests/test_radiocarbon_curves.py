"""Atmospheric records: shipped files, zones, user curves, conversions on real data."""

import numpy as np
import pandas as pd
import pytest

from wholesoil.core import radiocarbon as rc
from wholesoil.core.errors import InputError


def test_hua_annual_means_recomputed_from_monthly(real_data):
    monthly = pd.read_csv(real_data / "atm_14c" / "hua2021_monthly_long.csv")
    monthly["calendar"] = np.floor(monthly["year"]).astype(int)
    grouped = monthly.groupby(["zone", "calendar"])["d14c"].agg(["mean", "size"]).reset_index()
    complete = grouped[grouped["size"] == 12]
    curve = rc.load_curve("hua2021")
    assert curve.zones == ("NH1", "NH2", "NH3", "SH12", "SH3")
    assert (curve.first_year, curve.last_year("NH1")) == (1942, 2018)
    for zone in curve.zones:
        part = complete[complete["zone"] == zone]
        np.testing.assert_allclose(curve.d14c(part["calendar"], zone), part["mean"], atol=5e-5)
    assert "10.1017/RDC.2021.95" in curve.source


def test_graven_matches_source_file(real_data):
    original = pd.read_csv(real_data / "atm_14c" / "graven2017_annual_d14c.csv")
    curve = rc.load_curve("graven2017")
    assert curve.zones == ("NH", "Tropics", "SH")
    np.testing.assert_array_equal(curve.years, np.floor(original["year"]).astype(int))
    np.testing.assert_array_equal(curve.values, original[["NH", "Tropics", "SH"]].to_numpy())
    # ISRaD's pro_graven_zone names are accepted
    np.testing.assert_array_equal(curve.zone_indices(["NHc14", "tropicsc14", "SHc14", ""]), [0, 1, 2, -1])


@pytest.mark.parametrize("name", ["intcal20", "shcal20"])
def test_calibration_extracts_match_the_shared_records(name, resources, shared_data):
    """resources/atm14c/{intcal20,shcal20}.csv: the shared records' cal_bp and d14c up to AD 1849, unchanged."""
    original = pd.read_csv(shared_data / "atm_14c" / f"{name}.csv", dtype=str)
    shipped = pd.read_csv(resources / "atm14c" / f"{name}.csv", dtype=str)
    expected = original[original["cal_bp"].astype(int) >= 101][["cal_bp", "d14c"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(shipped, expected)
    assert name in rc.CALIBRATION_CURVES and "doi:10.1017/RDC.2020" in rc.CALIBRATION_CURVES[name][1]


def test_zone_from_latitude_follows_methods_rule():
    curve = rc.load_curve("hua2021")
    lat = [90, 40, 39.9, 20, 19.9, 0, -0.1, -40, -40.1, -90, np.nan]
    names = [curve.zones[i] if i >= 0 else None for i in curve.zone_for_latitude(lat)]
    assert names == ["NH1", "NH1", "NH2", "NH2", "NH3", "NH3", "SH12", "SH12", "SH3", "SH3", None]
    with pytest.raises(InputError, match="in row 2$"):
        curve.zone_for_latitude([10, 95])
    graven = rc.load_curve("graven2017")
    names = [graven.zones[i] for i in graven.zone_for_latitude([30, 29.9, -30, -30.1])]
    assert names == ["NH", "Tropics", "Tropics", "SH"]  # as documented: SH beyond 30° S


def test_unknown_zone_names_rows():
    with pytest.raises(InputError, match=r"unknown atmospheric zone 'NH9' in row 3"):
        rc.load_curve("hua2021").zone_indices(["NH1", "SH3", "NH9"])


def test_user_curve_csv(tmp_path):
    path = tmp_path / "mine.csv"
    pd.DataFrame({"year": np.arange(1949.5, 2001.5), "d14c": np.linspace(0, 100, 52)}).to_csv(path, index=False)
    curve = rc.load_curve(str(path))
    assert curve.zones == ("d14c",) and curve.first_year == 1949 and curve.last_year("d14c") == 2000
    np.testing.assert_array_equal(curve.zone_for_latitude([45.0, -80.0, np.nan]), [0, 0, -1])
    late = tmp_path / "late.csv"
    pd.DataFrame({"year": [1960, 1961], "d14c": [1.0, 2.0]}).to_csv(late, index=False)
    with pytest.raises(InputError, match="starts in 1960"):
        rc.forward_d14c(0.01, 1961, 0, str(late))
    with pytest.raises(InputError, match="no 'year' column"):
        bad = tmp_path / "bad.csv"
        pd.DataFrame({"when": [1950], "d14c": [0.0]}).to_csv(bad, index=False)
        rc.load_curve(str(bad))


def test_conversions_round_trip_and_reproduce_hua_f14c(real_data):
    rng = np.random.default_rng(3)
    d14c, year = rng.uniform(-999, 900, 1000), rng.uniform(1900, 2030, 1000)
    np.testing.assert_allclose(rc.fm_to_d14c(rc.d14c_to_fm(d14c, year), year), d14c, rtol=0, atol=1e-9)
    np.testing.assert_allclose(rc.ratio_to_d14c(rc.d14c_to_ratio(d14c)), d14c, atol=1e-9)
    hua = pd.read_csv(real_data / "atm_14c" / "hua2021_monthly_long.csv")
    np.testing.assert_allclose(rc.d14c_to_fm(hua["d14c"], hua["year"]), hua["f14c"], atol=1.01e-4)


def test_extrapolation_continues_an_exponential_decline(tmp_path):
    years = np.arange(1950, 2011)
    excess = 500 * np.exp(-0.07 * (years - 1950))
    path = tmp_path / "exp.csv"
    pd.DataFrame({"year": years, "Z": excess - 20.0}).to_csv(path, index=False)
    forcing = rc.build_forcing(str(path), 2015, pre_d14c=-20.0)
    expected = 500 * np.exp(-0.07 * (np.arange(2011, 2016) - 1950)) - 20.0
    np.testing.assert_allclose(rc.ratio_to_d14c(forcing.ratios[0, -5:]), expected, rtol=1e-9)
    assert rc.model_extrapolated([2010, 2011], 0, str(path)).tolist() == [False, True]
    with pytest.raises(InputError, match="cannot extrapolate"):
        rc.build_forcing(str(path), 2015, pre_d14c=400.0)
