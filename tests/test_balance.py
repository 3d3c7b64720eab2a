"""Carbon balance: stocks, Ibulk, Iroot/Iloss, the six estimates, turnover rasters, 2-box model."""

import numpy as np
import pandas as pd
import pytest
from osgeo import gdal, osr

from conftest import ROOT
from wholesoil.core import balance as b
from wholesoil.core.errors import InputError
from wholesoil.core.rasters import read_raster


def _layers():
    return pd.DataFrame({"profile_id": ["p", "p", "p", "q"], "lyr_top": [0, 10, 30, 0], "lyr_bot": [10, 30, 60, 20],
                         "lyr_bd_samp": [1.0, 1.2, np.nan, 1.4], "lyr_c_org": [2.0, 1.0, 1.0, 1.5],
                         "lyr_soc": [np.nan, np.nan, 0.4, np.nan], "lyr_coarse_tot": [np.nan, 25.0, np.nan, 0.0],
                         "age_slow_yr": [100.0, 1000.0, 2000.0, 500.0]})


def test_layer_stock_from_columns_and_from_bd_oc():
    table = _layers()
    stock, _ = b.layer_carbon_stock(table, "lyr_top", "lyr_bot", "lyr_bd_samp", "lyr_c_org", "lyr_soc",
                                    "lyr_coarse_tot")
    # 2 % = 20 g/kg x 1.0 g/cm3 x 10 cm / 10 = 20; 10 g/kg x 1.2 x 20 / 10 x 0.75 = 18; 0.4 g/cm2 = 40 Mg/ha
    # (in 30 cm at 1 % C: bulk density 1.33 g cm-3)
    np.testing.assert_allclose(stock, [20.0, 18.0, 40.0, 42.0])
    out, notes = b.bulk_inputs_table(table)
    np.testing.assert_allclose(out[b.IBULK], [0.2, 0.018, 0.02, 0.084])
    assert not notes
    # an impossible bulk density leaves its row without a stock (named); all of them: the unit is wrong
    stock, notes = b.layer_carbon_stock(table.assign(lyr_bd_samp=[1.0, 1200.0, 1.0, 1.0]), "lyr_top", "lyr_bot",
                                        "lyr_bd_samp", "lyr_c_org")
    np.testing.assert_allclose(stock, [20.0, np.nan, 30.0, 30.0])
    assert len(notes) == 1 and "'lyr_bd_samp'" in notes[0] and notes[0].endswith("row 2")
    with pytest.raises(InputError, match="'lyr_bd_samp': bulk density .* no row has a possible value"):
        b.layer_carbon_stock(table.assign(lyr_bd_samp=table["lyr_bd_samp"] * 1000), "lyr_top", "lyr_bot",
                             "lyr_bd_samp", "lyr_c_org")
    with pytest.raises(InputError, match="need a stock column or both"):
        b.layer_carbon_stock(table.drop(columns=["lyr_soc", "lyr_bd_samp"]), "lyr_top", "lyr_bot", "lyr_bd_samp",
                             "lyr_c_org", "lyr_soc")


def test_bulk_inputs_harmonised_keep_the_flux_of_covered_layers():
    out, _ = b.bulk_inputs_table(_layers(), layers="0,20,40", min_coverage=1.0)
    p = out[out["profile_id"] == "p"].set_index("lyr_top")
    # 0-20: all of 0-10 (0.2) and half of 10-30 (0.009); 20-40: half of 10-30 and a third of 30-60
    np.testing.assert_allclose(p.loc[0, b.IBULK], 0.2 + 0.009)
    np.testing.assert_allclose(p.loc[20, b.IBULK], 0.009 + 0.02 / 3)
    q = out[out["profile_id"] == "q"].set_index("lyr_top")
    assert q.loc[0, b.IBULK] == pytest.approx(0.084) and np.isnan(q.loc[20, b.IBULK])


def test_carbon_balance_by_layer_and_profile():
    table = pd.DataFrame({"site": ["a", "a", "b"], "bnpp": [3.0, 3.0, 2.0], "frac": [0.7, 0.3, 1.0],
                          "ibulk": [0.5, 0.2, 2.5]})
    out, notes = b.carbon_balance_table(table, "ibulk", bnpp="bnpp", fraction="frac", id_col="site")
    np.testing.assert_allclose(out[b.IROOT], [2.1, 0.9, 2.0])
    np.testing.assert_allclose(out[b.ILOSS], [1.6, 0.7, -0.5])
    np.testing.assert_allclose(out[b.ILOSS_FRACTION], [1.6 / 2.1, 0.7 / 0.9, -0.25])
    np.testing.assert_allclose(out["iloss_profile"], [2.3, 2.3, -0.5])
    np.testing.assert_allclose(out["iloss_fraction_profile"], [2.3 / 3.0, 2.3 / 3.0, -0.25])
    via_npp, _ = b.carbon_balance_table(table.assign(npp=[6.0, 6.0, 4.0], f=0.5), "ibulk", npp="npp", fbnpp="f",
                                        fraction="frac")
    np.testing.assert_allclose(via_npp[b.IROOT], out[b.IROOT])
    # an impossible fBNPP leaves its row without a result (named); as a number it is an error
    bad, notes = b.carbon_balance_table(table.assign(npp=6.0, f=[0.5, 0.5, 1.5]), "ibulk", npp="npp", fbnpp="f")
    assert bad[b.IROOT].isna().tolist() == [False, False, True]
    assert len(notes) == 1 and "'f': fBNPP" in notes[0] and notes[0].endswith("row 3")
    with pytest.raises(InputError, match=r"fBNPP .* between 0 and 1 \(got 1.5\)"):
        b.carbon_balance_table(table.assign(npp=6.0), "ibulk", npp="npp", fbnpp=1.5)


def test_six_estimates_use_whatever_inputs_are_given():
    table = pd.DataFrame({"site": ["s", "s"], "bnpp_obs": [4.0, 4.0], "npp": [10.0, 10.0], "fbnpp_obs": [0.3, 0.3],
                          "pdd_pred": [0.75, 0.25], "ibulk_pred": [1.0, 0.5]})
    columns = {name: name for name in ("bnpp_obs", "npp", "fbnpp_obs", "pdd_pred", "ibulk_pred")}
    out, summary, _ = b.loss_estimates_table(table, columns, id_col="site")
    assert summary["estimate"].tolist() == [1, 2]
    np.testing.assert_allclose(out["iloss_e1"], [2.0, 0.5])
    np.testing.assert_allclose(out["iloss_e2"], [1.25, 0.25])
    assert summary.loc[0, "iloss_mean"] == pytest.approx(2.5)
    assert summary.loc[1, "iloss_fraction"] == pytest.approx(1.5 / 3.0)
    with pytest.raises(InputError, match="none of the six estimates"):
        b.loss_estimates_table(table, {"npp": "npp"})
    assert set(b.loss_estimates({n: np.ones(1) for n in b.ESTIMATE_INPUTS})) == {1, 2, 3, 4, 5, 6}


def _raster(path, bands, layers=None):
    driver = gdal.GetDriverByName("GTiff")
    data = driver.Create(str(path), bands[0].shape[1], bands[0].shape[0], len(bands), gdal.GDT_Float32)
    data.SetGeoTransform((0, 1, 0, 10, 0, -1))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    data.SetProjection(srs.ExportToWkt())
    if layers:
        data.SetMetadata({"WHOLESOIL_LAYERS": layers})
    for i, values in enumerate(bands):
        data.GetRasterBand(i + 1).WriteArray(values)
        data.GetRasterBand(i + 1).SetNoDataValue(-9999)
    data = None
    return str(path)


def _band_names(path):
    dataset = gdal.Open(path)
    return [dataset.GetRasterBand(i + 1).GetDescription() for i in range(dataset.RasterCount)]


def test_rasters_bandwise_ibulk_iloss_and_turnover(tmp_path):
    stock = _raster(tmp_path / "stock.tif", [np.full((3, 4), 100.0), np.full((3, 4), 30.0)], "0,20,40")
    ages = np.full((3, 4), 500.0)
    ages[0, 0] = -9999
    age = _raster(tmp_path / "age.tif", [ages, np.full((3, 4), 1500.0)])
    ibulk = b.raster_balance("ibulk", stock, age, tmp_path / "ibulk.tif")
    np.testing.assert_allclose(read_raster(ibulk, 1)[1:], 0.2, rtol=1e-6)
    # nodata in any input band is nodata in every output band (map_blocks convention)
    assert np.isnan(read_raster(ibulk, 2)[0, 0]) and np.allclose(read_raster(ibulk, 2)[1:], 0.02)
    assert _band_names(ibulk) == ["ibulk_0_20", "ibulk_20_40"]
    loss = b.raster_balance("iloss", 1.0, ibulk, tmp_path / "iloss.tif")
    np.testing.assert_allclose(read_raster(loss, 1)[1:], 0.8, rtol=1e-6)   # iloss 0-20 = 1 - 0.2
    np.testing.assert_allclose(read_raster(loss, 4)[1:], 0.98, rtol=1e-6)  # iloss fraction 20-40
    assert _band_names(loss)[:4] == ["iloss_0_20", "iloss_20_40", "iloss_fraction_0_20", "iloss_fraction_20_40"]
    with pytest.raises(InputError, match=r"no pixel got a value: 12 pixels have data in every input and each gave "
                                         r"nodata \(a flux of 0 or below\); nothing was written"):  # τ of flux 0
        b.raster_balance("turnover", stock, _raster(tmp_path / "flux.tif", [np.zeros((3, 4))]), tmp_path / "t.tif")
    assert not (tmp_path / "t.tif").exists()
    with pytest.raises(InputError, match="different numbers of layers"):
        b.raster_balance("ibulk", stock, _raster(tmp_path / "three.tif", [np.ones((3, 4))] * 3), tmp_path / "x.tif")
    assert not (tmp_path / "x.tif").exists()


def test_raster_balance_takes_the_mean_bands_of_a_map_with_sd_bands(tmp_path):
    """The shipped Ibulk map has ibulk_<layer>_mean and _sd bands: the layers are the means only."""
    ibulk = ROOT / "resources" / "sample_data" / "americas_ibulk_0_100.tif"
    loss = b.raster_balance("iloss", 1.5, ibulk, tmp_path / "loss.tif")
    names = _band_names(loss)
    layers = ["0_20", "20_40", "40_60", "60_80", "80_100"]
    assert names == ([f"iloss_{lay}" for lay in layers] + [f"iloss_fraction_{lay}" for lay in layers]
                     + [f"iroot_{lay}" for lay in layers]
                     + ["iroot_profile", "ibulk_profile", "iloss_profile", "iloss_fraction_profile"])
    means = np.array([read_raster(str(ibulk), 2 * i + 1) for i in range(5)])
    expected_profile = means.sum(axis=0)
    profile = read_raster(loss, names.index("ibulk_profile") + 1)
    valid = np.isfinite(profile)
    assert valid.any()
    np.testing.assert_allclose(profile[valid], expected_profile[valid], rtol=1e-5)
    np.testing.assert_allclose(read_raster(loss, 2)[valid], 1.5 - means[1][valid], rtol=1e-5)


def test_turnover_table_flags_nonpositive_flux():
    out, notes = b.turnover_table(pd.DataFrame({"c": [100.0, 50.0], "rh": [2.0, 0.0]}), "c", "rh")
    assert out["tau_yr"].iloc[0] == 50.0 and np.isnan(out["tau_yr"].iloc[1]) and "row 2" in notes[0]


def test_two_box_steady_state_and_seeded_monte_carlo():
    years = np.arange(1901, 2019)
    cveg, csoil = b.two_box_model(np.full(years.size, 60.0), 10.0, 40.0)
    np.testing.assert_allclose(cveg, 600.0)
    np.testing.assert_allclose(csoil, 2400.0)
    npp = np.linspace(55, 65, years.size)
    tau_veg, tau_soil = np.full(years.size, 8.0), np.linspace(25, 21, years.size)
    first, _ = b.two_box_monte_carlo(years, npp, tau_veg, tau_soil, seed=7)
    again, _ = b.two_box_monte_carlo(years, npp, tau_veg, tau_soil, seed=7)
    other, _ = b.two_box_monte_carlo(years, npp, tau_veg, tau_soil, seed=8)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["ctotal_mean"], other["ctotal_mean"])
    # with sd 0 the correction is exact: mean reference τ equals the observation, ensemble sd is 0
    exact, _ = b.two_box_monte_carlo(years, npp, tau_veg, tau_soil, tau_veg_obs=(10.3, 0.0), tau_soil_obs=(38.3, 0.0))
    corrected_soil = tau_soil + 38.3 - tau_soil[(years >= 1982)].mean()
    expected = b.two_box_model(npp, tau_veg + 2.3, corrected_soil)
    np.testing.assert_allclose(exact["csoil_mean"], expected[1])
    np.testing.assert_allclose(exact["ctotal_sd"], 0.0, atol=1e-9)
    assert first["csoil_sd"].iloc[-1] > 0 and first["csoil_mean"].iloc[-1] > first["csoil_sim"].iloc[-1]
    with pytest.raises(InputError, match="consecutive"):
        b.two_box_monte_carlo(years[::2], npp[::2], tau_veg[::2], tau_soil[::2])


def test_two_box_bad_settings_are_clear_errors():
    years = np.arange(1960, 2019)
    series = (years, np.full(years.size, 55.0), np.full(years.size, 9.0), np.full(years.size, 30.0))
    with pytest.raises(InputError, match=r"no year between 1900 and 1950 \(the reference period\)"):
        b.two_box_monte_carlo(*series, reference=(1900, 1950))
    with pytest.raises(InputError, match="draws must be at least 2"):
        b.two_box_monte_carlo(*series, draws=1)
    with pytest.raises(InputError, match=r"sd of the observed τ_veg must not be negative"):
        b.two_box_monte_carlo(*series, tau_veg_obs=(10.0, -1.0))


def test_stock_column_values_impossible_for_the_layer_are_not_used():
    # row 1: 26.1 g C cm-2 in 10 cm at 1.37 % C needs a bulk density of 190 g cm-3 (the value is Mg C ha-1,
    # as in ISRaD's Finstad_2020 entry); row 2 is plausible; row 3 has BD and OC to fall back on
    table = pd.DataFrame({"lyr_top": [0, 0, 0], "lyr_bot": [10, 10, 10], "lyr_soc": [26.1, 0.2, 30.0],
                          "lyr_c_org": [1.37, 1.5, 2.0], "lyr_bd_samp": [np.nan, np.nan, 1.1],
                          "age_slow_yr": [100.0, 100.0, 100.0]})
    out, notes = b.bulk_inputs_table(table)
    np.testing.assert_allclose(out[b.STOCK], [np.nan, 20.0, 22.0])
    assert any("'lyr_soc'" in note and "rows 1, 3" in note for note in notes)
    # without organic C a stock is impossible only above 2.65 g C cm-3 (pure carbon at the largest bulk density)
    out, _ = b.bulk_inputs_table(table.drop(columns=["lyr_c_org", "lyr_bd_samp"]).assign(lyr_soc=[27.0, 26.0, 2.0]))
    np.testing.assert_allclose(out[b.STOCK], [np.nan, 2600.0, 200.0])
    with pytest.raises(InputError, match="impossible .* in every row .* unit"):
        b.bulk_inputs_table(table.iloc[[0]])


def test_israd_topsoil_ibulk_is_plausible(real_data):
    """Seed 001 reports 0.26 Mg C ha-1 yr-1 in 0-20 cm; ISRaD's Finstad_2020 lyr_soc (Mg C ha-1 entered as
    g C cm-2) once made the mean 4.2."""
    from wholesoil.core.radiocarbon import radiocarbon_age_table

    ages, _ = radiocarbon_age_table(pd.read_csv(real_data / "israd" / "israd_layer_14c.csv", low_memory=False))
    out, notes = b.bulk_inputs_table(ages, layers="standard7")
    topsoil = out.loc[out["lyr_top"] == 0, b.IBULK].dropna()
    print(f"ISRaD Ibulk 0-20 cm: mean {topsoil.mean():.3f}, median {topsoil.median():.3f} (n {topsoil.size})")
    assert topsoil.size > 50 and 0.1 < topsoil.median() < topsoil.mean() < 1.0
    assert any("'lyr_soc'" in note for note in notes)
