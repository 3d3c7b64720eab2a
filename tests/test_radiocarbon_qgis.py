"""Radiocarbon and carbon-balance algorithms in real QGIS: in-process and through qgis_process."""

import numpy as np
import pandas as pd
import pytest
from qgis.core import QgsProcessingException

from wholesoil.core import radiocarbon as rc
from wholesoil.core.rasters import read_raster
from wholesoil.core.tables import read_table, write_table

from conftest import run_qgis_process
from test_balance import _raster


@pytest.fixture()
def israd_sample(real_data, tmp_path):
    """Three real ISRaD profiles as a GeoPackage table (typed fields)."""
    table = pd.read_csv(real_data / "israd" / "israd_layer_14c.csv", low_memory=False)
    ids = table["profile_id"].drop_duplicates().iloc[:3]
    sample = table[table["profile_id"].isin(ids)].reset_index(drop=True)
    path, bad = tmp_path / "israd.gpkg", tmp_path / "impossible.gpkg"
    write_table(sample, path)
    write_table(sample.assign(lyr_obs_date_y=99999), bad)  # every sampling year impossible: the wrong column
    return sample, path, bad


def test_radiocarbon_age_in_process_with_report(wholesoil_processing, israd_sample, tmp_path):
    sample, path, bad = israd_sample
    html, output = tmp_path / "report.html", tmp_path / "ages.gpkg"
    wholesoil_processing.run("wholesoil:radiocarbonage", {"INPUT": str(path), "OUTPUT": str(output),
                                                          "OUTPUT_HTML": str(html)})
    out = read_table(output)
    expected, _ = rc.radiocarbon_age_table(sample)
    np.testing.assert_allclose(out["k_slow"].astype(float), expected["k_slow"], rtol=1e-12)
    assert out["status"].tolist() == expected["status"].tolist()
    assert "<img" in html.read_text()
    with pytest.raises(QgsProcessingException, match="sampling year .* no row has a possible value"):
        wholesoil_processing.run("wholesoil:radiocarbonage", {"INPUT": str(bad), "OUTPUT": str(tmp_path / "no.gpkg")})
    assert not (tmp_path / "no.gpkg").exists()
    with pytest.raises(QgsProcessingException, match="no profile 'nope'"):
        wholesoil_processing.run("wholesoil:radiocarbonage", {"INPUT": str(path), "OUTPUT": str(tmp_path / "no.gpkg"),
                                                              "OUTPUT_HTML": str(tmp_path / "no.html"), "PROFILE": "nope"})
    assert not (tmp_path / "no.gpkg").exists()
    with pytest.raises(QgsProcessingException, match="no column 'no_such_field'"):
        wholesoil_processing.run("wholesoil:radiocarbonage", {"INPUT": str(path), "YEAR_FIELD": "no_such_field",
                                                              "OUTPUT": str(tmp_path / "no.gpkg")})


def test_bulk_inputs_raster_and_two_box_in_process(wholesoil_processing, tmp_path):
    stock = _raster(tmp_path / "stock.tif", [np.full((2, 3), 90.0)])
    age = _raster(tmp_path / "age.tif", [np.full((2, 3), 300.0)])
    result = wholesoil_processing.run("wholesoil:bulkinputsraster",
                                      {"STOCK": stock, "AGE": age, "OUTPUT": str(tmp_path / "ibulk.tif")})
    np.testing.assert_allclose(read_raster(result["OUTPUT"]), 0.3, rtol=1e-6)
    years = np.arange(1950, 2019)
    series = tmp_path / "series.gpkg"
    write_table(pd.DataFrame({"year": years, "npp": 60.0, "tau_veg": 9.0, "tau_soil": 30.0}), series)
    result = wholesoil_processing.run("wholesoil:twoboxmodel", {"INPUT": str(series), "DRAWS": 20, "SEED": 3,
                                                                "OUTPUT": str(tmp_path / "stocks.gpkg")})
    stocks = read_table(result["OUTPUT"])
    assert len(stocks) == years.size and (stocks["ctotal_sd"] > 0).all()
    renamed = tmp_path / "renamed.gpkg"
    write_table(pd.DataFrame({"yr": years, "npp": 60.0, "tau_veg": 9.0, "tau_soil": 30.0}), renamed)
    with pytest.raises(QgsProcessingException, match="no column 'year'"):
        wholesoil_processing.run("wholesoil:twoboxmodel", {"INPUT": str(renamed), "OUTPUT": str(tmp_path / "no.gpkg")})


@pytest.mark.qgis_process
def test_radiocarbon_age_through_qgis_process(israd_sample, tmp_path):
    sample, path, bad = israd_sample
    output = tmp_path / "ages.csv"
    run_qgis_process("run", "wholesoil:radiocarbonage", "--", f"INPUT={path}", f"OUTPUT={output}",
                     "CURVE=1", "ZONE_FIELD=pro_graven_zone")
    out = pd.read_csv(output)
    expected, _ = rc.radiocarbon_age_table(sample, zone_col="pro_graven_zone", curve="graven2017")
    np.testing.assert_allclose(out["age_slow_yr"], expected["age_slow_yr"], rtol=1e-9)
    failed = run_qgis_process("run", "wholesoil:radiocarbonage", "--", f"INPUT={bad}",
                              f"OUTPUT={tmp_path / 'bad.csv'}", check=False)
    assert failed.returncode != 0 and "no row has a possible value" in failed.stdout + failed.stderr
    assert not (tmp_path / "bad.csv").exists()
    worse = run_qgis_process("run", "wholesoil:radiocarbonage", "--", f"INPUT={path}", "CURVE=2",
                             f"OUTPUT={tmp_path / 'worse.csv'}", check=False)
    assert worse.returncode != 0 and "CURVE_FILE" in worse.stdout + worse.stderr
    assert not (tmp_path / "worse.csv").exists()


def test_table_and_raster_balance_algorithms_match_the_core(wholesoil_processing, israd_sample, tmp_path):
    from wholesoil.core import balance as b

    sample, _, _ = israd_sample
    ages, _ = rc.radiocarbon_age_table(sample)
    ages["lyr_soc"] = 0.05 * (ages["lyr_bot"] - ages["lyr_top"])  # g C cm-2: these profiles report no stock
    ages_path = tmp_path / "ages.gpkg"
    write_table(ages, ages_path)

    def run(name, **parameters):
        return wholesoil_processing.run(f"wholesoil:{name}", {"INPUT": str(ages_path), **parameters})

    forward = read_table(run("radiocarbonforward", AGE_FIELD="age_slow_yr", OUTPUT=str(tmp_path / "f.gpkg"))["OUTPUT"])
    aged = ages["age_slow_yr"].notna().to_numpy()
    np.testing.assert_allclose(forward["d14c_model"].astype(float)[aged], ages["lyr_14c"][aged], atol=1e-6)
    layers = read_table(run("bulkinputs", LAYERS="0,10,20", OUTPUT=str(tmp_path / "ib.gpkg"))["OUTPUT"])
    expected, _ = b.bulk_inputs_table(ages, layers="0,10,20")
    assert expected[b.IBULK].notna().sum() >= 3
    np.testing.assert_allclose(layers[b.IBULK].astype(float), expected[b.IBULK])
    write_table(expected.assign(bnpp=3.0, frac=0.5), ages_path)
    balance = read_table(run("carbonbalance", BNPP_FIELD="bnpp", FRACTION_FIELD="frac", ID_FIELD="profile_id",
                             OUTPUT=str(tmp_path / "cb.gpkg"))["OUTPUT"])
    np.testing.assert_allclose(balance[b.ILOSS].astype(float), 1.5 - expected[b.IBULK])
    result = run("lossestimates", BNPP_OBS="bnpp", PDD_PRED="frac", IBULK_PRED="ibulk_mg_ha_yr",
                 OUTPUT=str(tmp_path / "le.gpkg"), SUMMARY=str(tmp_path / "summary.gpkg"))
    summary = read_table(result["SUMMARY"])
    assert summary["estimate"].tolist() == [1]
    assert float(summary["ibulk_mean"].iloc[0]) == pytest.approx(expected[b.IBULK].mean())
    tau = read_table(run("turnovertime", STOCK_FIELD="c_stock_mg_ha", FLUX_FIELD="ibulk_mg_ha_yr",
                         OUTPUT=str(tmp_path / "tau.gpkg"))["OUTPUT"])
    np.testing.assert_allclose(tau["tau_yr"].astype(float), expected[b.STOCK] / expected[b.IBULK])
    iroot, ibulk = (_raster(tmp_path / f"{n}.tif", [np.full((2, 3), v)]) for n, v in (("iroot", 2.0), ("ibulk", 0.5)))
    loss = wholesoil_processing.run("wholesoil:carbonbalanceraster",
                                    {"IROOT": iroot, "IBULK": ibulk, "OUTPUT": str(tmp_path / "iloss.tif")})["OUTPUT"]
    np.testing.assert_allclose(read_raster(loss, 1), 1.5)
    np.testing.assert_allclose(read_raster(loss, 2), 0.75)
    tau = wholesoil_processing.run("wholesoil:turnovertime", {"STOCK_RASTER": iroot, "FLUX": 0.5,
                                                               "OUTPUT_RASTER": str(tmp_path / "tau.tif")})
    np.testing.assert_allclose(read_raster(tau["OUTPUT_RASTER"]), 4.0)


def test_history_prefer_coverage_and_attributes_in_process(wholesoil_processing, israd_sample, tmp_path):
    from wholesoil.core import balance as b

    sample, path, _ = israd_sample
    result = wholesoil_processing.run("wholesoil:radiocarbonage", {"INPUT": str(path), "PRE_BOMB_HISTORY": True,
                                                                   "PREFER": 1, "OUTPUT": str(tmp_path / "a.gpkg")})
    out = read_table(result["OUTPUT"])
    expected, _ = rc.radiocarbon_age_table(sample, pre_d14c="history", prefer="fm")
    np.testing.assert_allclose(out["k_slow"].astype(float), expected["k_slow"], rtol=1e-12)
    assert out["zone"].tolist() == expected["zone"].tolist()
    np.testing.assert_allclose(out["atm_d14c"].astype(float), expected["atm_d14c"])
    ages = expected.assign(lyr_soc=0.05 * (expected["lyr_bot"] - expected["lyr_top"]))
    ages_path = tmp_path / "ages.gpkg"
    write_table(ages, ages_path)
    layers = read_table(wholesoil_processing.run("wholesoil:bulkinputs", {
        "INPUT": str(ages_path), "LAYERS": "0,10,20", "OUTPUT": str(tmp_path / "ib.gpkg")})["OUTPUT"])
    assert {"pro_land_cover", "pro_lat", "age_slow_yr"} <= set(layers.columns)
    ibulk, _ = b.bulk_inputs_table(ages)
    write_table(ibulk.assign(bnpp=3.0, frac=0.1), ages_path)
    balance = read_table(wholesoil_processing.run("wholesoil:carbonbalance", {
        "INPUT": str(ages_path), "BNPP_FIELD": "bnpp", "FRACTION_FIELD": "frac", "ID_FIELD": "profile_id",
        "OUTPUT": str(tmp_path / "cb.gpkg")})["OUTPUT"])
    expected, _ = b.carbon_balance_table(ibulk.assign(bnpp=3.0, frac=0.1), b.IBULK, bnpp="bnpp", fraction="frac",
                                         id_col="profile_id")
    assert balance["complete"].astype(bool).tolist() == expected["complete"].tolist()
    np.testing.assert_allclose(balance["profile_bottom_cm"].astype(float), expected["profile_bottom_cm"])
