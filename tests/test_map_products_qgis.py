"""The map-product algorithms in QGIS: the same numbers as the core, HTML report with the quick-look,
PNG output, one-line errors, enum codes equal to the core's, and a run through qgis_process."""

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, run_qgis_process
from rasters_util import read_bands, write_raster

SAMPLE = ROOT / "resources" / "sample_data"
BETA = str(SAMPLE / "americas_root_beta.tif")
BIO12 = str(SAMPLE / "worldclim_bio12_americas.tif")   # mm: used as a stand-in positive flux map
GRID = {"origin": (-125.0, 40.0), "pixel": 0.5}


def test_enum_codes_are_the_core_codes():
    from wholesoil.core.maps.bands import UNITS
    from wholesoil.core.maps.products import LOSS_QUANTITIES
    from wholesoil.processing_provider import products_base
    from wholesoil.processing_provider.algorithms import carbon_loss_maps

    assert carbon_loss_maps.QUANTITIES == list(LOSS_QUANTITIES)
    assert [c for c, _ in products_base.FLUX_UNIT_CHOICES[1:]] == list(UNITS["flux"])
    assert [c for c, _ in products_base.STOCK_UNIT_CHOICES[1:]] == list(UNITS["stock"])


def test_bnpp_by_depth_map_equals_the_core_and_reports(wholesoil_processing, tmp_path):
    from wholesoil.core.maps.products import RootInputs, bnpp_by_depth

    bnpp = write_raster(tmp_path / "bnpp.tif", np.stack([np.full((192, 186), 3.0), np.full((192, 186), 0.9)]),
                        **GRID)
    result = wholesoil_processing.run("wholesoil:bnppbydepthmap", {
        "BNPP_RASTER": bnpp, "BNPP_SD_RASTER": bnpp, "BNPP_SD_BAND": 2, "BETA_RASTER": BETA, "LAYERS": "0,30,100",
        "PROFILE_DEPTH": 100, "OUTPUT": str(tmp_path / "q.tif"), "OUTPUT_HTML": str(tmp_path / "r.html"),
        "QUICKLOOK": str(tmp_path / "q.png")})
    core = bnpp_by_depth(tmp_path / "c.tif", RootInputs(bnpp=f"{bnpp}:1", bnpp_sd=f"{bnpp}:2", beta=BETA,
                                                        layers="0,30,100", profile_depth=100))
    qgis_bands, names = read_bands(result["OUTPUT"])
    assert names == ["bnpp_0_30_mean", "bnpp_0_30_sd", "bnpp_0_30_utotal", "bnpp_30_100_mean", "bnpp_30_100_sd",
                     "bnpp_30_100_utotal"]
    np.testing.assert_array_equal(qgis_bands, read_bands(core)[0])
    assert np.nanmax(qgis_bands[2]) == pytest.approx(0.3, rel=1e-6)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "bnpp_30_100_utotal" in page and "Mg C ha-1 yr-1" in page
    assert (tmp_path / "q.png").read_bytes()[:4] == b"\x89PNG"


def test_loss_subsoil_and_turnover_algorithms_run(wholesoil_processing, tmp_path):
    shape = (192, 186)
    ibulk = write_raster(tmp_path / "ibulk.tif", np.stack([np.full(shape, 0.4), np.full(shape, 0.2)]), **GRID)
    result = wholesoil_processing.run("wholesoil:carbonlossmaps", {
        "BNPP_RASTER": BIO12, "FLUX_UNIT": 2, "BETA_RASTER": BETA, "LAYERS": "0,50,100", "PROFILE_DEPTH": 100,
        "IBULK": [ibulk], "DRAWS": 20, "QUANTITIES": [2], "OUTPUT": str(tmp_path / "loss.tif"),
        "OUTPUT_HTML": str(tmp_path / "loss.html")})
    bands, names = read_bands(result["OUTPUT"])
    assert names[:4] == ["iloss_0_50_mean", "iloss_0_50_sd", "iloss_0_50_lower", "iloss_0_50_upper"]
    assert len(names) == 12 and np.isfinite(bands[0]).sum() > 5000
    assert "iloss_profile_mean" in (tmp_path / "loss.html").read_text(encoding="utf-8")
    result = wholesoil_processing.run("wholesoil:subsoilsocmap", {
        "BETA_RASTER": BETA, "TOPSOIL_RASTER": BIO12, "OUTPUT": str(tmp_path / "soc.tif")})
    assert read_bands(result["OUTPUT"])[1][-1] == "soc_20_100_sd"
    result = wholesoil_processing.run("wholesoil:turnovertimemap", {
        "STOCK_RASTER": BIO12, "FLUX_RASTER": BIO12, "OUTPUT": str(tmp_path / "tau.tif")})
    tau = read_bands(result["OUTPUT"])[0][0]
    assert np.nanmin(tau) == pytest.approx(1.0) and np.nanmax(tau) == pytest.approx(1.0)


def test_loss_maps_with_the_default_layers_take_those_the_ibulk_bands_are_named_for(wholesoil_processing, tmp_path):
    """The bundled Ibulk map (0-100 cm in five layers) with Depth layers left at their default: refused before
    with "5 band(s) for 7 layers"."""
    result = wholesoil_processing.run("wholesoil:carbonlossmaps", {
        "BNPP_RASTER": BIO12, "FLUX_UNIT": 2, "BETA_RASTER": BETA, "IBULK": [str(SAMPLE / "americas_ibulk_0_100.tif")],
        "DRAWS": 10, "QUANTITIES": [2], "OUTPUT": str(tmp_path / "loss.tif")})
    names = read_bands(result["OUTPUT"])[1]
    assert names[0] == "iloss_0_20_mean" and "iloss_80_100_mean" in names and len(names) == 6 * 4


def test_bad_input_is_one_line_and_nothing_is_written(wholesoil_processing, tmp_path):
    from qgis.core import QgsProcessingException

    output = tmp_path / "never.tif"
    with pytest.raises(QgsProcessingException, match="give the depth shares one way"):
        wholesoil_processing.run("wholesoil:bnppbydepthmap", {"BNPP_RASTER": BIO12, "OUTPUT": str(output)})
    with pytest.raises(QgsProcessingException, match="Ibulk: band .*ibulk_0_20_mean is named for 0-20 cm but is given "
                                                     "for the layer 0-10 cm"):
        wholesoil_processing.run("wholesoil:carbonlossmaps", {
            "BNPP_RASTER": BIO12, "FLUX_UNIT": 2, "BETA_RASTER": BETA, "LAYERS": "0,10,20,30,40,50",
            "IBULK": [str(SAMPLE / "americas_ibulk_0_100.tif")], "DRAWS": 20, "OUTPUT": str(output)})
    assert not output.exists()


@pytest.mark.qgis_process
def test_bnpp_by_depth_map_in_qgis_process(tmp_path):
    done = run_qgis_process("run", "wholesoil:bnppbydepthmap", "--", f"BNPP_RASTER={BIO12}", "FLUX_UNIT=2",
                            f"BETA_RASTER={BETA}", f"OUTPUT={tmp_path / 'b.tif'}", f"QUICKLOOK={tmp_path / 'b.png'}",
                            json_output=True)
    assert done.json["results"]["OUTPUT"] == str(tmp_path / "b.tif")
    bands, names = read_bands(tmp_path / "b.tif")
    assert names[0] == "bnpp_0_20_mean" and len(names) == 21 and (tmp_path / "b.png").exists()
    bio12 = read_bands(BIO12)[0][0]
    assert np.nansum(bands[0::3], axis=0)[np.isfinite(bands[0])] == pytest.approx(
        (bio12 / 100)[np.isfinite(bands[0])], rel=1e-5)


SITES = str(SAMPLE / "srdb_bnpp_sites.gpkg")
COVARIATES = [str(SAMPLE / "worldclim_bio1_americas.tif"), BIO12]


def test_depth_resolved_bnpp_model_splits_its_bnpp_map(wholesoil_processing, tmp_path):
    """The model's BNPP layers sum to its BNPP map, the map is a forest of the SRDB sites' BNPP, and its
    totals table holds each layer's total over the map and per 1° latitude band."""
    totals_path = tmp_path / "totals.csv"
    results = wholesoil_processing.run("wholesoil:depthresolvedbnppmap", {
        "sites": SITES, "covariates": COVARIATES, "beta": BETA, "bnpp_totals:bnpp_totals": str(totals_path)})
    totals = pd.read_csv(totals_path)
    whole = totals[(totals["zoning"] == "all") & totals["band"].str.endswith("_mean")]
    assert len(whole) == 7 and (whole["total_pg_unit"] == "Pg C yr-1").all() and (whole["total_pg"] > 0).all()
    assert (totals["zoning"] == "latitude").sum() > 7 * 50  # the Americas span more than 50 one-degree bands
    bnpp, names = read_bands(results["predict_bnpp:bnpp_map"])
    assert names == ["bnpp_Mg_ha_yr_mean", "bnpp_Mg_ha_yr_sd"]
    layers, layer_names = read_bands(results["bnpp_by_depth:bnpp_layers"])
    assert layer_names[0] == "bnpp_0_20_mean" and len(layer_names) == 21
    valid = np.isfinite(layers[0])
    assert valid.sum() > 5000
    np.testing.assert_allclose(layers[0::3].sum(axis=0)[valid], bnpp[0][valid], rtol=1e-5)
    assert 0.5 < np.nanmean(bnpp[0]) < 10   # Mg C ha-1 yr-1: the sites' BNPP range


@pytest.mark.qgis_process
def test_depth_resolved_bnpp_model_in_qgis_process(tmp_path):
    """The shipped model through the real qgis_process on the bundled data, its two outputs saved: BNPP by layer is
    the BNPP map x the β fractions of each layer."""
    from wholesoil.core.depth import beta_layer_fractions

    bnpp_map, by_layer = tmp_path / "bnpp.tif", tmp_path / "layers.tif"
    done = run_qgis_process("run", "wholesoil:depthresolvedbnppmap", "--", f"sites={SITES}",
                            *[f"covariates={c}" for c in COVARIATES], f"beta={BETA}",
                            f"predict_bnpp:bnpp_map={bnpp_map}", f"bnpp_by_depth:bnpp_layers={by_layer}",
                            json_output=True)
    assert done.json["results"]["bnpp_by_depth:bnpp_layers"] == str(by_layer)
    bnpp, names = read_bands(bnpp_map)
    layers, layer_names = read_bands(by_layer)
    assert names == ["bnpp_Mg_ha_yr_mean", "bnpp_Mg_ha_yr_sd"]
    assert layer_names[:3] == ["bnpp_0_20_mean", "bnpp_0_20_sd", "bnpp_0_20_utotal"] and len(layer_names) == 21
    beta = read_bands(BETA)[0][0]
    valid = np.isfinite(layers[0])
    assert valid.sum() > 5000 and 0.5 < np.nanmean(bnpp[0]) < 10
    np.testing.assert_allclose(np.moveaxis(layers[0::3][:, valid], 0, -1),
                               bnpp[0][valid][:, None] * beta_layer_fractions(beta[valid]), rtol=1e-4)


def test_root_carbon_loss_model_runs_on_the_bundled_data(wholesoil_processing):
    results = wholesoil_processing.run("wholesoil:rootcarbonlossmap", {
        "sites": SITES, "covariates": COVARIATES, "beta": BETA, "ibulk": [str(SAMPLE / "americas_ibulk_0_100.tif")],
        "draws": 40})
    bands, names = read_bands(results["loss_maps:loss_maps"])
    assert names[:2] == ["iroot_0_20_mean", "iroot_0_20_sd"] and "iloss_profile_upper" in names, names
    iroot, ibulk, iloss = (bands[names.index(f"{q}_profile_mean")] for q in ("iroot", "ibulk", "iloss"))
    valid = np.isfinite(iloss)
    assert valid.sum() > 5000
    np.testing.assert_allclose(iloss[valid], (iroot - ibulk)[valid], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("quantities, name, suffix", [
    ([3, 0], "Iloss / Iroot and Iroot", ""),  # band 1 is the ratio (units metadata '1'): no unit
    ([2], "Iloss (Mg C ha-1 yr-1)", " Mg C ha-1 yr-1")])
def test_loss_map_layer_is_named_after_its_quantities_with_the_unit_of_its_first_band(
        wholesoil_processing, tmp_path, quantities, name, suffix):
    from qgis.core import QgsProject

    ibulk = write_raster(tmp_path / "ibulk.tif", np.stack([np.full((192, 186), 0.4), np.full((192, 186), 0.2)]),
                         **GRID)
    before = set(QgsProject.instance().mapLayers())
    wholesoil_processing.runAndLoadResults("wholesoil:carbonlossmaps", {
        "BNPP_RASTER": BIO12, "FLUX_UNIT": 2, "BETA_RASTER": BETA, "LAYERS": "0,50,100", "PROFILE_DEPTH": 100,
        "IBULK": [ibulk], "DRAWS": 5, "QUANTITIES": quantities, "OUTPUT": str(tmp_path / "loss.tif")})
    added = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before]
    try:
        assert [layer.name() for layer in added] == [name]
        assert added[0].renderer().shader().rasterShaderFunction().legendSettings().suffix() == suffix
    finally:
        QgsProject.instance().removeMapLayers([layer.id() for layer in added])


def two_raster_geopackage(path, tmp_path):
    """A GeoPackage holding two rasters, 'bnpp' (3 everywhere) and 'beta' (the bundled β map), made with GDAL."""
    from osgeo import gdal

    bnpp = write_raster(tmp_path / "bnpp.tif", np.full((192, 186), 3.0), **GRID)
    gdal.Translate(str(path), bnpp, format="GPKG", creationOptions=["RASTER_TABLE=bnpp"])
    gdal.Translate(str(path), BETA, format="GPKG", creationOptions=["RASTER_TABLE=beta", "APPEND_SUBDATASET=YES"])
    return str(path)


def test_raster_of_a_file_holding_several_is_read_as_that_table(wholesoil_processing, tmp_path):
    """QGIS shows one table of the GeoPackage: the core reads that table (GPKG:file:table), not the file."""
    from qgis.core import QgsProject, QgsRasterLayer

    from wholesoil.core.maps.aggregate import aggregate_raster

    gpkg = two_raster_geopackage(tmp_path / "two.gpkg", tmp_path)
    beta, bnpp = (QgsRasterLayer(f"GPKG:{gpkg}:{table}", f"my {table}", "gdal") for table in ("beta", "bnpp"))
    assert beta.isValid() and bnpp.isValid() and beta.bandCount() == 1
    QgsProject.instance().addMapLayers([beta, bnpp])
    try:
        table_run = wholesoil_processing.run("wholesoil:bnppbydepthmap", {
            "BNPP_RASTER": BIO12, "FLUX_UNIT": 2, "BETA_RASTER": beta.id(), "OUTPUT": str(tmp_path / "table.tif")})
        wholesoil_processing.run("wholesoil:aggregateraster", {"INPUT": bnpp.id(), "UNITS": "Mg_ha_yr",
                                                               "OUTPUT": str(tmp_path / "totals.csv")})
    finally:
        QgsProject.instance().removeMapLayers([beta.id(), bnpp.id()])
    file_run = wholesoil_processing.run("wholesoil:bnppbydepthmap", {
        "BNPP_RASTER": BIO12, "FLUX_UNIT": 2, "BETA_RASTER": BETA, "OUTPUT": str(tmp_path / "file.tif")})
    np.testing.assert_array_equal(read_bands(table_run["OUTPUT"])[0], read_bands(file_run["OUTPUT"])[0])
    totals = pd.read_csv(tmp_path / "totals.csv")
    expected = aggregate_raster(str(tmp_path / "bnpp.tif"), units="Mg_ha_yr")[0]
    np.testing.assert_allclose(totals[["count", "area_ha", "total"]], expected[["count", "area_ha", "total"]])
    assert totals["mean"].tolist() == [3.0]


def test_raster_in_a_zip_file_is_read_from_the_zip(wholesoil_processing, tmp_path):
    """A layer /vsizip/file.zip/beta.tif is that raster, not the zip (which holds two)."""
    import zipfile

    from qgis.core import QgsProject, QgsRasterLayer

    archive = tmp_path / "rasters.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(BIO12, "bio12.tif")
        zipped.write(BETA, "beta.tif")
    layer = QgsRasterLayer(f"/vsizip/{archive}/beta.tif", "zipped beta", "gdal")
    QgsProject.instance().addMapLayer(layer)
    try:
        zipped_run = wholesoil_processing.run("wholesoil:bnppbydepthmap", {
            "BNPP_RASTER": BIO12, "FLUX_UNIT": 2, "BETA_RASTER": layer.id(), "OUTPUT": str(tmp_path / "zipped.tif")})
    finally:
        QgsProject.instance().removeMapLayers([layer.id()])
    plain_run = wholesoil_processing.run("wholesoil:bnppbydepthmap", {
        "BNPP_RASTER": BIO12, "FLUX_UNIT": 2, "BETA_RASTER": BETA, "OUTPUT": str(tmp_path / "plain.tif")})
    np.testing.assert_array_equal(read_bands(zipped_run["OUTPUT"])[0], read_bands(plain_run["OUTPUT"])[0])


def test_raster_without_crs_whose_layer_has_one_in_qgis_is_refused_with_how_to_assign_it(wholesoil_processing,
                                                                                           tmp_path):
    """The CRS set in Layer Properties is QGIS's only: wholesoil reads the file, so it says to write it there."""
    from osgeo import gdal
    from qgis.core import QgsCoordinateReferenceSystem, QgsProcessingException, QgsProject, QgsRasterLayer

    path = tmp_path / "beta_no_crs.tif"
    gdal.Translate(str(path), BETA)
    dataset = gdal.Open(str(path), gdal.GA_Update)
    dataset.SetProjection("")
    dataset = None
    assert gdal.Open(str(path)).GetProjection() == ""
    layer = QgsRasterLayer(str(path), "beta without CRS", "gdal")
    layer.setCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    QgsProject.instance().addMapLayer(layer)
    output = tmp_path / "never.tif"
    try:
        with pytest.raises(QgsProcessingException, match=(
                r"^layer 'beta without CRS': .*beta_no_crs\.tif has no CRS; the CRS set in QGIS \(EPSG:4326\) is not "
                r"used by wholesoil: assign it to the file with gdal_edit\.py -a_srs EPSG:4326 .*beta_no_crs\.tif$")):
            wholesoil_processing.run("wholesoil:bnppbydepthmap", {"BNPP_RASTER": BIO12, "FLUX_UNIT": 2,
                                                                  "BETA_RASTER": layer.id(), "OUTPUT": str(output)})
    finally:
        QgsProject.instance().removeMapLayers([layer.id()])
    assert not output.exists()
