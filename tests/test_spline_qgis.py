"""The soil-profile algorithms in real QGIS: processing.run in process and the qgis_process program."""

import pandas as pd
import pytest
from qgis.core import QgsProcessingException

from conftest import run_qgis_process
from wholesoil.core.tables import read_table, write_table

SITES = ["ABBY", "BART", "HEAL", "KONZ"]


@pytest.fixture()
def horizon_points(real_data, tmp_path):
    """NEON horizons of four sites as a point GeoPackage (every horizon at its site's location)."""
    from osgeo import osr
    from shapely.geometry import Point

    horizons = pd.read_csv(real_data / "neon_megapit" / "neon_megapit_soil_horizons.csv")
    part = horizons[horizons["siteID"].isin(SITES)].reset_index(drop=True)
    part["geometry"] = [Point(x, y).wkb for x, y in zip(part["decimalLongitude"], part["decimalLatitude"])]
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    part.attrs["crs_wkt"] = srs.ExportToWkt()
    path = tmp_path / "horizons.gpkg"
    write_table(part, path)
    return path, part


def test_spline_keeps_points_and_attributes(wholesoil_processing, horizon_points, tmp_path):
    from shapely import wkb

    path, part = horizon_points
    out, html, summary = tmp_path / "layers.gpkg", tmp_path / "report.html", tmp_path / "summary.csv"
    result = wholesoil_processing.run("wholesoil:harmoniseprofilesspline", {
        "INPUT": str(path), "ID_FIELD": "siteID", "TOP_FIELD": "horizonTopDepth",
        "BOTTOM_FIELD": "horizonBottomDepth", "VALUE_FIELDS": ["carbonTot", "nitrogenTot"],
        "LAYERS": "standard7", "LAMBDA": 0.1, "OUTPUT": str(out), "OUTPUT_PROFILES": str(summary),
        "OUTPUT_HTML": str(html), "PLOT_PROFILE": "KONZ"})
    layers = read_table(result["OUTPUT"])
    assert len(layers) == len(SITES) * 7
    assert {"carbonTot", "nitrogenTot", "soilOrder", "decimalLatitude"} <= set(layers.columns)
    for _, row in layers.iterrows():
        point = wkb.loads(bytes(row["geometry"]))
        assert (point.x, point.y) == pytest.approx((row["decimalLongitude"], row["decimalLatitude"]))
    statuses = read_table(summary).set_index("siteID")["status"]
    assert statuses["HEAL"] == "incomplete" and statuses["KONZ"] == "ok"
    assert "<img" in html.read_text()


def test_depth_weighted_bad_profiles_listed_and_all_bad_fails(wholesoil_processing, tmp_path):
    table = pd.DataFrame({"id": ["a", "a", "b", "b"], "top": [0, 10, 0, 5], "bottom": [10, 30, 10, 20],
                          "c": [2.0, 1.0, 3.0, 4.0]})
    path = tmp_path / "h.csv"
    table.to_csv(path, index=False)
    params = {"INPUT": str(path), "ID_FIELD": "id", "TOP_FIELD": "top", "BOTTOM_FIELD": "bottom",
              "VALUE_FIELDS": ["c"], "LAYERS": "0,20", "OUTPUT": str(tmp_path / "o.csv"),
              "OUTPUT_PROFILES": str(tmp_path / "p.csv")}
    result = wholesoil_processing.run("wholesoil:harmoniseprofilesdepthweighted", params)
    assert read_table(result["OUTPUT"])["id"].tolist() == ["a"]
    profiles = read_table(result["OUTPUT_PROFILES"]).set_index("id")
    assert "0-10 cm (row 3) and 5-20 cm (row 4) overlap" in profiles.loc["b", "message"]
    table.loc[table["id"] == "a", "top"] = [0, 5]
    table.to_csv(path, index=False)
    with pytest.raises(QgsProcessingException, match="no profile can be harmonised"):
        wholesoil_processing.run("wholesoil:harmoniseprofilesdepthweighted", params)


@pytest.mark.qgis_process
def test_root_bimodality_through_qgis_process(real_data, tmp_path):
    roots = real_data / "neon_megapit" / "neon_deju_megapit_root_samples.csv"
    horizons = real_data / "neon_megapit" / "neon_megapit_soil_horizons.csv"
    out, html = tmp_path / "sites.csv", tmp_path / "roots.html"
    done = run_qgis_process(
        "run", "wholesoil:detectrootbimodality", "--", f"INPUT={roots}", "SITE_FIELD=siteID",
        "PROFILE_FIELD=pitProfileID", "TOP_FIELD=topDepth_cm_from_id", "THICKNESS=10",
        "VALUE_FIELD=incrementRootDensity", "FILTER=rootStatus=live;sizeCategory=<=4mm", f"PROPERTIES={horizons}",
        "PROPERTY_SITE_FIELD=siteID", "PROPERTY_TOP_FIELD=horizonTopDepth",
        "PROPERTY_BOTTOM_FIELD=horizonBottomDepth", "PROPERTY_FIELDS=nitrogenTot", f"OUTPUT={out}",
        f"OUTPUT_HTML={html}", json_output=True)
    sites = read_table(done.json["results"]["OUTPUT"])
    assert sites.loc[0, "siteID"] == "DEJU" and sites.loc[0, "modality"] in ("unimodal", "bimodal")
    assert "rel_nitrogenTot_exponent" in sites.columns
    assert "<img" in html.read_text()


@pytest.mark.qgis_process
def test_bad_layers_through_qgis_process(real_data, tmp_path):
    out = tmp_path / "layers.csv"
    done = run_qgis_process(
        "run", "wholesoil:socstocksbylayer", "--",
        f"INPUT={real_data / 'neon_megapit' / 'neon_megapit_soil_horizons.csv'}", "ID_FIELD=siteID",
        "TOP_FIELD=horizonTopDepth", "BOTTOM_FIELD=horizonBottomDepth", "SOC_FIELD=estimatedOC",
        "BD_FIELD=bulkDen", "LAYERS=0,30,20", f"OUTPUT={out}", check=False)
    assert done.returncode != 0
    assert "depths must increase, but 20 cm follows 30 cm" in done.stderr
    assert not out.exists()


def test_single_horizon_geopackage_profiles_keep_every_layer_row(wholesoil_processing, tmp_path):
    """QGIS reads a GeoPackage's fid as a field; layer rows must not repeat it (rows were lost)."""
    from shapely.geometry import Point

    table = pd.DataFrame({"id": ["a", "b", "c"], "top": [0, 0, 0], "bottom": [30, 40, 25], "v": [1.0, 2.0, 3.0],
                          "geometry": [Point(i, i).wkb for i in range(3)]})
    write_table(table, tmp_path / "one.gpkg")
    out = tmp_path / "layers.gpkg"
    wholesoil_processing.run("wholesoil:harmoniseprofilesdepthweighted", {
        "INPUT": str(tmp_path / "one.gpkg"), "ID_FIELD": "id", "TOP_FIELD": "top", "BOTTOM_FIELD": "bottom",
        "VALUE_FIELDS": ["v"], "LAYERS": "0,10,20", "OUTPUT": str(out)})
    assert read_table(out)["id"].tolist() == ["a", "a", "b", "b", "c", "c"]


@pytest.mark.parametrize("algorithm", ["harmoniseprofilesspline", "harmoniseprofilesdepthweighted"])
def test_unknown_plot_profile_fails_before_writing(algorithm, wholesoil_processing, tmp_path):
    table = pd.DataFrame({"id": ["a", "a"], "top": [0, 10], "bottom": [10, 30], "c": [2.0, 1.0]})
    table.to_csv(tmp_path / "h.csv", index=False)
    out = tmp_path / "o.csv"
    with pytest.raises(QgsProcessingException, match="no harmonised profile 'NOPE'"):
        wholesoil_processing.run(f"wholesoil:{algorithm}", {
            "INPUT": str(tmp_path / "h.csv"), "ID_FIELD": "id", "TOP_FIELD": "top", "BOTTOM_FIELD": "bottom",
            "VALUE_FIELDS": ["c"], "LAYERS": "0,20", "PLOT_PROFILE": "NOPE", "OUTPUT": str(out),
            "OUTPUT_HTML": str(tmp_path / "r.html")})
    assert not out.exists()


def test_soc_stocks_in_percent_and_organic_horizons_in_qgis(wholesoil_processing, resources, tmp_path):
    """ISRaD sample profiles in QGIS: lyr_c_org in % (OC_UNIT 0) gives ISRaD's own lyr_soc; the organic
    horizons above 0 cm are left out (ORGANIC 0) or kept (ORGANIC 1) instead of rejecting the profile."""
    source = resources / "sample_data" / "israd_sample_profiles.csv"
    params = {"INPUT": str(source), "ID_FIELD": "profile_id", "TOP_FIELD": "lyr_top", "BOTTOM_FIELD": "lyr_bot",
              "SOC_FIELD": "lyr_c_org", "BD_FIELD": "lyr_bd_samp_filled", "OC_UNIT": 0, "LAYERS": ""}
    for organic in (0, 1):
        out, summary = tmp_path / f"s{organic}.csv", tmp_path / f"p{organic}.csv"
        wholesoil_processing.run("wholesoil:socstocksbylayer", {**params, "ORGANIC": organic, "OUTPUT": str(out),
                                                                "OUTPUT_PROFILES": str(summary)})
        stocks, profiles = read_table(out), read_table(summary)
        assert profiles["status"].ne("error").all()
        both = stocks["soc_mg_ha"].notna() & stocks["lyr_soc"].notna()
        ratio = stocks.loc[both, "soc_mg_ha"] / (100 * stocks.loc[both, "lyr_soc"])
        assert both.sum() >= 20 and abs(ratio.median() - 1) < 0.02
    raw = read_table(source)
    organic_profiles = raw.loc[raw["lyr_top"] < 0, "profile_id"].unique()
    assert len(organic_profiles) and profiles.set_index("profile_id").loc[organic_profiles, "repairs"].str.contains(
        "kept the organic horizon").all()


def test_nan_parameter_through_qgis_process(tmp_path):
    out = tmp_path / "f.csv"
    done = run_qgis_process("run", "wholesoil:depthfractionslogistic", "--", "D50=nan", "D95=80", f"OUTPUT={out}",
                            check=False)
    assert done.returncode != 0 and "D50 must be a finite number, not nan" in done.stderr and not out.exists()
