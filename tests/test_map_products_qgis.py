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
        "BNPP_RASTER": bnpp, "BNPP_BAND": 1, "BNPP_SD_RASTER": bnpp, "BNPP_SD_BAND": 2, "BETA_RASTER": BETA,
        "LAYERS": "0,30,100",
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


# ---------------------------------------------------------------------------------------------
# What the command line can do: constants, sd rasters of the layered inputs, per-band units and sd bands


SHAPE = (192, 186)


def named_raster(path, arrays, names):
    """A raster on the bundled maps' grid with these band descriptions."""
    from osgeo import gdal

    write_raster(path, np.stack(arrays), **GRID)
    dataset = gdal.Open(str(path), gdal.GA_Update)
    for i, name in enumerate(names, start=1):
        dataset.GetRasterBand(i).SetDescription(name)
    dataset = None
    return str(path)


@pytest.mark.parametrize("qgis, core", [
    ({"BNPP": 3.0, "BETA_RASTER": BETA}, {"bnpp": 3.0, "beta": BETA}),
    ({"BNPP_RASTER": BIO12, "FLUX_UNIT": 2, "BETA": 0.96}, {"bnpp": BIO12, "unit": "g_m2_yr", "beta": 0.96}),
    ({"BNPP_RASTER": BIO12, "FLUX_UNIT": 2, "D50": 20, "D95": 80},
     {"bnpp": BIO12, "unit": "g_m2_yr", "d50": 20.0, "d95": 80.0}),
    ({"BNPP_RASTER": BIO12, "FLUX_UNIT": 2, "D50": 20, "D95_RASTER": "SD"},
     {"bnpp": BIO12, "unit": "g_m2_yr", "d50": 20.0, "d95": "SD"}),
    ({"NPP": 6.0, "FBNPP_RASTER": BETA, "BETA": 0.95}, {"npp": 6.0, "fbnpp": BETA, "beta": 0.95}),
    ({"BNPP_RASTER": BIO12, "FLUX_UNIT": 2, "BETA": 0.96, "BETA_SD_RASTER": "SD"},
     {"bnpp": BIO12, "unit": "g_m2_yr", "beta": 0.96, "beta_sd": "SD"})])
def test_constant_bnpp_npp_beta_d50_d95_give_the_core_map_of_the_same_numbers(wholesoil_processing, tmp_path, qgis,
                                                                                core):
    """As `wholesoil bnpp-by-depth --beta 0.96` (or --bnpp 3, --d50 20 --d95 80...): each a number in QGIS too."""
    from wholesoil.core.maps.products import RootInputs, bnpp_by_depth

    sd = write_raster(tmp_path / "sd.tif", np.full(SHAPE, 60.0 if "d95" in core else 0.01), **GRID)
    swap = {"SD": sd}
    result = wholesoil_processing.run("wholesoil:bnppbydepthmap", {
        **{k: swap.get(v, v) for k, v in qgis.items()}, "LAYERS": "0,30,100", "PROFILE_DEPTH": 100,
        "OUTPUT": str(tmp_path / "q.tif")})
    expected = bnpp_by_depth(tmp_path / "c.tif", RootInputs(**{k: swap.get(v, v) for k, v in core.items()},
                                                           layers="0,30,100", profile_depth=100))
    got, names = read_bands(result["OUTPUT"])
    want, want_names = read_bands(expected)
    assert names == want_names and np.isfinite(got[0]).sum() > 5000
    np.testing.assert_array_equal(got, want)


def test_constant_beta_gives_the_core_subsoil_soc_map(wholesoil_processing, tmp_path):
    """As `wholesoil subsoil-soc --beta 0.95 --topsoil ...`."""
    from wholesoil.core.maps.products import subsoil_soc

    result = wholesoil_processing.run("wholesoil:subsoilsocmap", {
        "BETA": 0.95, "TOPSOIL_RASTER": BIO12, "OUTPUT": str(tmp_path / "q.tif")})
    got, names = read_bands(result["OUTPUT"])
    want, want_names = read_bands(subsoil_soc(tmp_path / "c.tif", 0.95, BIO12))
    assert names == want_names and np.isfinite(got[0]).sum() > 5000
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("qgis, core", [
    ({"STOCK": 80, "FLUX_RASTER": BIO12, "FLUX_UNIT": 2}, {"stock": 80.0, "flux": BIO12, "flux_unit": "g_m2_yr"}),
    ({"STOCK": 80, "STOCK_SD": 8, "FLUX_RASTER": BIO12, "FLUX_UNIT": 2},
     {"stock": 80.0, "stock_sd": 8.0, "flux": BIO12, "flux_unit": "g_m2_yr"}),
    ({"STOCK_RASTER": BIO12, "STOCK_UNIT": 2, "FLUX": 2.5}, {"stock": BIO12, "stock_unit": "g_m2", "flux": 2.5})])
def test_constant_stock_or_flux_gives_the_core_turnover_map_of_the_same_number(wholesoil_processing, tmp_path, qgis,
                                                                                core):
    """As `wholesoil turnover-map --stock 80 --flux flux.tif`: the stock (or the flux) a number in QGIS too."""
    from wholesoil.core.maps.products import turnover_map

    result = wholesoil_processing.run("wholesoil:turnovertimemap", {**qgis, "OUTPUT": str(tmp_path / "q.tif")})
    got, names = read_bands(result["OUTPUT"])
    want, want_names = read_bands(turnover_map(tmp_path / "c.tif", **core))
    assert names == want_names == ["tau", "tau_sd", "tau_lower", "tau_upper"] and np.isfinite(got[0]).sum() > 5000
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("qgis, core", [
    ({"BETA_RASTER": BETA, "TOPSOIL": 45}, {"beta": BETA, "topsoil": 45.0}),
    ({"BETA_RASTER": BETA, "TOPSOIL": 4.5, "TOPSOIL_SD": 0.5, "STOCK_UNIT": 2},
     {"beta": BETA, "topsoil": 4.5, "topsoil_sd": 0.5, "stock_unit": "g_m2"})])
def test_constant_topsoil_stock_gives_the_core_subsoil_soc_map(wholesoil_processing, tmp_path, qgis, core):
    """As `wholesoil subsoil-soc --beta beta.tif --topsoil 45`."""
    from wholesoil.core.maps.products import subsoil_soc

    result = wholesoil_processing.run("wholesoil:subsoilsocmap", {**qgis, "OUTPUT": str(tmp_path / "q.tif")})
    got, names = read_bands(result["OUTPUT"])
    want, want_names = read_bands(subsoil_soc(tmp_path / "c.tif", core.pop("beta"), core.pop("topsoil"), **core))
    assert names == want_names and names[-1] == "soc_20_100_sd" and np.isfinite(got[0]).sum() > 5000
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("algorithm, parameters, message", [
    ("turnovertimemap", {"FLUX_RASTER": BIO12},
     r"^give C stock: a C stock map \(STOCK_RASTER\) or a constant C stock \(STOCK\)$"),
    ("turnovertimemap", {"STOCK": 80}, r"^give flux: a flux map \(FLUX_RASTER\) or a constant flux \(FLUX\)$"),
    ("subsoilsocmap", {"BETA_RASTER": BETA},
     r"^give topsoil SOC stock: a topsoil SOC stock map \(TOPSOIL_RASTER\) or a constant topsoil SOC stock "
     r"\(TOPSOIL\)$"),
    ("turnovertimemap", {"STOCK_RASTER": BIO12, "STOCK": 80, "FLUX_RASTER": BIO12},
     r"^STOCK_RASTER and STOCK both given: give STOCK as a raster or as a constant, not both$"),
    ("turnovertimemap", {"STOCK_RASTER": BIO12, "FLUX_RASTER": BIO12, "FLUX": 2}, r"^FLUX_RASTER and FLUX both given"),
    ("subsoilsocmap", {"BETA_RASTER": BETA, "TOPSOIL_RASTER": BIO12, "TOPSOIL": 45},
     r"^TOPSOIL_RASTER and TOPSOIL both given"),
    ("turnovertimemap", {"STOCK": 80, "FLUX": 2}, r"^give at least one input as a raster$"),
    ("subsoilsocmap", {"BETA": 0.9, "TOPSOIL": 45}, r"^give at least one input as a raster$")])
def test_stock_flux_or_topsoil_given_neither_or_both_as_raster_and_number_is_refused_naming_the_parameters(
        wholesoil_processing, tmp_path, algorithm, parameters, message):
    from qgis.core import QgsProcessingException

    output = tmp_path / "never.tif"
    with pytest.raises(QgsProcessingException, match=message):
        wholesoil_processing.run(f"wholesoil:{algorithm}", {**parameters, "OUTPUT": str(output)})
    assert not output.exists()


@pytest.mark.parametrize("algorithm, parameters, message", [
    ("turnovertimemap", {"STOCK": BIO12, "FLUX_RASTER": BIO12},
     r"(?m)^STOCK: '.*worldclim_bio12_americas.tif' is not a number \(give a raster as STOCK_RASTER\)$"),
    ("subsoilsocmap", {"BETA_RASTER": BETA, "TOPSOIL": "45 Mg"}, r"(?m)^TOPSOIL: '45 Mg' is not a number"),
    ("turnovertimemap", {"STOCK_RASTER": BIO12, "STOCK_SD": "abc", "FLUX": 2},
     r"(?m)^STOCK_SD: 'abc' is not a number \(give a raster as STOCK_SD_RASTER\)$"),
    ("bnppbydepthmap", {"BNPP": "1e400", "BETA_RASTER": BETA}, r"(?m)^BNPP must be a finite number, not 1e400$")])
def test_text_given_for_a_number_is_refused_not_read_as_0(wholesoil_processing, tmp_path, algorithm, parameters,
                                                          message):
    """QGIS 3.22 takes any text in an optional number and reads it as 0: STOCK=csoil.tif made an all-zero τ map
    (exit 0), STOCK_SD=csoil.tif an sd of 0."""
    from qgis.core import QgsProcessingException

    output = tmp_path / "never.tif"
    with pytest.raises(QgsProcessingException, match=message):
        wholesoil_processing.run(f"wholesoil:{algorithm}", {**parameters, "OUTPUT": str(output)})
    assert not output.exists()


def test_an_sd_band_without_an_sd_raster_is_a_band_of_the_raster_itself(wholesoil_processing, tmp_path):
    """STOCK_SD_BAND without STOCK_SD_RASTER was ignored (tau_sd 0, 'taken as exact')."""
    stock = write_raster(tmp_path / "stock.tif", [np.full(SHAPE, 80.0), np.full(SHAPE, 8.0)], **GRID)
    runs = [wholesoil_processing.run("wholesoil:turnovertimemap", {
        "STOCK_RASTER": stock, "STOCK_BAND": 1, "STOCK_SD_BAND": 2, **extra, "FLUX": 2.0,
        "OUTPUT": str(tmp_path / f"{i}.tif")}) for i, extra in enumerate([{}, {"STOCK_SD_RASTER": stock}])]
    beside, apart = (read_bands(run["OUTPUT"])[0] for run in runs)
    np.testing.assert_array_equal(beside, apart)
    assert beside[1].max() == pytest.approx(4.0)  # sd 8 / flux 2

@pytest.mark.parametrize("algorithm, parameters, message", [
    ("bnppbydepthmap", {"BNPP_RASTER": BIO12, "BNPP": 3.0, "BETA_RASTER": BETA},
     r"^BNPP_RASTER and BNPP both given: give BNPP as a raster or as a constant, not both$"),
    ("bnppbydepthmap", {"NPP_RASTER": BIO12, "NPP": 3.0, "FBNPP": 0.3, "BETA_RASTER": BETA},
     r"^NPP_RASTER and NPP both given"),
    ("bnppbydepthmap", {"BNPP_RASTER": BIO12, "BETA_RASTER": BETA, "BETA": 0.9}, r"^BETA_RASTER and BETA both given"),
    ("carbonlossmaps", {"BNPP_RASTER": BIO12, "D50_RASTER": BETA, "D50": 20, "D95": 80, "IBULK": [BIO12]},
     r"^D50_RASTER and D50 both given"),
    ("bnppbydepthmap", {"BNPP_RASTER": BIO12, "D50": 20, "D95": 80, "D95_RASTER": BIO12},
     r"^D95_RASTER and D95 both given"),
    ("bnppbydepthmap", {"BNPP": 3.0, "BETA": 0.9}, r"^give at least one input as a raster$"),
    ("subsoilsocmap", {"BETA_RASTER": BETA, "BETA": 0.9, "TOPSOIL_RASTER": BIO12}, r"^BETA_RASTER and BETA both given"),
    ("subsoilsocmap", {"TOPSOIL_RASTER": BIO12}, r"^give β: a β map \(BETA_RASTER\) or a constant β \(BETA\)$")])
def test_a_value_given_as_raster_and_constant_is_refused_in_one_line(wholesoil_processing, tmp_path, algorithm,
                                                                     parameters, message):
    from qgis.core import QgsProcessingException

    output = tmp_path / "never.tif"
    with pytest.raises(QgsProcessingException, match=message):
        wholesoil_processing.run(f"wholesoil:{algorithm}", {**parameters, "OUTPUT": str(output)})
    assert not output.exists()


def loss_inputs(tmp_path):
    """Ibulk (two layers, 0-50 and 50-100 cm), its sd as one two-band raster and as two one-band rasters, and a
    raster of named _mean and _sd bands whose _sd bands are that sd."""
    ibulk = write_raster(tmp_path / "ibulk.tif", np.stack([np.full(SHAPE, 0.4), np.full(SHAPE, 0.2)]), **GRID)
    sd = [np.full(SHAPE, 0.15), np.linspace(0.01, 0.2, SHAPE[0] * SHAPE[1]).reshape(SHAPE)]
    both = write_raster(tmp_path / "ibulk_sd.tif", np.stack(sd), **GRID)
    apart = [write_raster(tmp_path / f"ibulk_sd{i}.tif", band, **GRID) for i, band in enumerate(sd)]
    named = named_raster(tmp_path / "named.tif", [np.full(SHAPE, 9.0), sd[0], np.full(SHAPE, 9.0), sd[1]],
                         ["x_0_50_mean", "x_0_50_sd", "x_50_100_mean", "x_50_100_sd"])
    return ibulk, both, apart, named


LOSS = {"BNPP_RASTER": BIO12, "FLUX_UNIT": 2, "BETA_RASTER": BETA, "LAYERS": "0,50,100", "PROFILE_DEPTH": 100,
        "DRAWS": 20, "SEED": 3}


def core_loss(path, **given):
    from wholesoil.core.maps.products import RootInputs, loss_maps

    shares = given.pop("shares", None)
    roots = RootInputs(bnpp=BIO12, unit="g_m2_yr", beta=None if shares else BETA, layers="0,50,100",
                       profile_depth=100, shares=shares, shares_sd=given.pop("shares_sd", None))
    return read_bands(loss_maps(path, roots, draws=20, seed=3, **given))


@pytest.mark.parametrize("form", ["one raster", "one raster per layer", "the _sd bands of a raster"])
def test_ibulk_sd_rasters_give_the_core_loss_maps(wholesoil_processing, tmp_path, form):
    """As `wholesoil loss-maps --ibulk ibulk.tif --ibulk-sd sd.tif:1 sd.tif:2`."""
    ibulk, both, apart, named = loss_inputs(tmp_path)
    given = {"one raster": [both], "one raster per layer": apart, "the _sd bands of a raster": [named]}[form]
    result = wholesoil_processing.run("wholesoil:carbonlossmaps", {
        **LOSS, "IBULK": [ibulk], "IBULK_SD": given, "OUTPUT": str(tmp_path / "q.tif")})
    got, names = read_bands(result["OUTPUT"])
    want, want_names = core_loss(tmp_path / "c.tif", ibulk=[ibulk], ibulk_sd=[f"{both}:1", f"{both}:2"])
    assert names == want_names
    np.testing.assert_array_equal(got, want)
    exact = core_loss(tmp_path / "exact.tif", ibulk=[ibulk])[0]
    ibulk_sd = names.index("ibulk_50_100_sd")
    assert np.nanmax(exact[ibulk_sd]) == 0 and np.nanmin(got[ibulk_sd]) > 0


def test_stock_age_and_share_sd_rasters_give_the_core_maps(wholesoil_processing, tmp_path):
    """As --stock-sd and --age-sd of `wholesoil loss-maps`, and --shares-sd of `wholesoil bnpp-by-depth`."""
    from wholesoil.core.maps.products import RootInputs, bnpp_by_depth

    _, both, apart, _ = loss_inputs(tmp_path)
    stock = write_raster(tmp_path / "stock.tif", np.stack([np.full(SHAPE, 40.0), np.full(SHAPE, 20.0)]), **GRID)
    age = write_raster(tmp_path / "age.tif", np.stack([np.full(SHAPE, 100.0), np.full(SHAPE, 400.0)]), **GRID)
    age_sd = write_raster(tmp_path / "age_sd.tif", np.stack([np.full(SHAPE, 30.0), np.full(SHAPE, 50.0)]), **GRID)
    result = wholesoil_processing.run("wholesoil:carbonlossmaps", {
        **LOSS, "STOCK": [stock], "STOCK_SD": apart, "AGE": [age], "AGE_SD": [age_sd],
        "OUTPUT": str(tmp_path / "q.tif")})
    got, names = read_bands(result["OUTPUT"])
    want, want_names = core_loss(tmp_path / "c.tif", stock=[stock], stock_sd=apart, age=[age],
                                 age_sd=[f"{age_sd}:1", f"{age_sd}:2"])
    assert names == want_names
    np.testing.assert_array_equal(got, want)
    assert not np.array_equal(got, core_loss(tmp_path / "exact.tif", stock=[stock], age=[age])[0])

    shares = write_raster(tmp_path / "shares.tif", np.stack([np.full(SHAPE, 0.6), np.full(SHAPE, 0.4)]), **GRID)
    result = wholesoil_processing.run("wholesoil:bnppbydepthmap", {
        "BNPP": 3.0, "SHARES": [shares], "SHARES_SD": [both], "LAYERS": "0,50,100", "PROFILE_DEPTH": 100,
        "OUTPUT": str(tmp_path / "b.tif")})
    got, names = read_bands(result["OUTPUT"])
    want, want_names = read_bands(bnpp_by_depth(tmp_path / "bc.tif", RootInputs(
        bnpp=3.0, shares=[shares], shares_sd=[f"{both}:1", f"{both}:2"], layers="0,50,100", profile_depth=100)))
    assert names == want_names and np.nanmin(got[names.index("bnpp_0_50_sd")]) > 0
    np.testing.assert_array_equal(got, want)
    result = wholesoil_processing.run("wholesoil:carbonlossmaps", {
        **{k: v for k, v in LOSS.items() if k != "BETA_RASTER"}, "SHARES": [shares], "SHARES_SD": [both],
        "IBULK": [both], "OUTPUT": str(tmp_path / "ql.tif")})
    want = core_loss(tmp_path / "cl.tif", shares=[shares], shares_sd=[f"{both}:1", f"{both}:2"], ibulk=[both])
    np.testing.assert_array_equal(read_bands(result["OUTPUT"])[0], want[0])


@pytest.mark.parametrize("given, message", [
    ({"STOCK": ["STOCK"], "AGE": ["STOCK"], "IBULK_SD": ["SD"]},
     r"^IBULK_SD gives the sd of IBULK: give IBULK too, or leave IBULK_SD empty$"),
    ({"IBULK": ["STOCK"], "IBULK_SD": ["SD0"]}, r"^Ibulk: 1 sd band\(s\) for 2 band\(s\)"),
    ({"IBULK": ["STOCK"], "SHARES_SD": ["SD"]}, r"^SHARES_SD gives the sd of SHARES"),
    ({"STOCK": ["STOCK"], "AGE": ["STOCK"], "AGE_SD": ["SD", "SD"]}, r"^C age: 4 sd band\(s\) for 2 band\(s\)")])
def test_layered_sd_rasters_that_do_not_fit_are_refused_in_one_line(wholesoil_processing, tmp_path, given, message):
    from qgis.core import QgsProcessingException

    _, both, apart, _ = loss_inputs(tmp_path)
    swap = {"SD": both, "SD0": apart[0], "STOCK": both}
    output = tmp_path / "never.tif"
    with pytest.raises(QgsProcessingException, match=message):
        wholesoil_processing.run("wholesoil:carbonlossmaps", {
            **LOSS, **{k: [swap[v] for v in values] for k, values in given.items()}, "OUTPUT": str(output)})
    assert not output.exists()


def aggregate_map(tmp_path):
    """A flux band, its sd band not named as such, and a β band; no units metadata."""
    return named_raster(tmp_path / "map.tif", [np.full(SHAPE, 300.0), np.full(SHAPE, 30.0), np.full(SHAPE, 0.9)],
                        ["flux", "flux_spread", "beta"])


def test_aggregate_band_units_and_sd_bands_give_the_core_table(wholesoil_processing, tmp_path):
    """As `wholesoil aggregate map.tif --units 1 "flux=g C m-2 yr-1" 2="g C m-2 yr-1" --sd-band flux=flux_spread`."""
    from wholesoil.core.maps.aggregate import aggregate_raster
    from wholesoil.core.tables import read_table

    path = aggregate_map(tmp_path)
    result = wholesoil_processing.run("wholesoil:aggregateraster", {
        "INPUT": path, "UNITS": "1", "BAND_UNITS": " flux = g C m-2 yr-1;2=g C m-2 yr-1; ",
        "SD_BANDS": "flux=flux_spread", "OUTPUT": str(tmp_path / "out.gpkg")})
    got = read_table(result["OUTPUT"]).drop(columns=["fid"], errors="ignore").reset_index(drop=True)
    expected, _ = aggregate_raster(path, units="1", band_units={"flux": "g C m-2 yr-1", "2": "g C m-2 yr-1"},
                                   sd_bands={"flux": "flux_spread"})
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12)
    flux = got.set_index("band").loc["flux"]
    assert flux["unit"] == "g C m-2 yr-1" and flux["total_pg_unit"] == "Pg C yr-1" and flux["total_sd_correlated"] > 0


@pytest.mark.parametrize("parameters, message", [
    ({"BAND_UNITS": "flux g C m-2 yr-1"},
     r"^BAND_UNITS: 'flux g C m-2 yr-1' should be BAND=UNIT, pairs separated by ; \(e\.g\. BAND=UNIT; BAND=UNIT\)$"),
    ({"BAND_UNITS": "flux=; beta=1"}, r"^BAND_UNITS: 'flux=' should be BAND=UNIT"),
    ({"SD_BANDS": "=flux_spread"}, r"^SD_BANDS: '=flux_spread' should be BAND=SD_BAND"),
    ({"SD_BANDS": "flux=flux_spread, beta=flux_spread"},
     r"^SD_BANDS: 'flux=flux_spread, beta=flux_spread' should be BAND=SD_BAND, pairs separated by ;"),
    ({"SD_BANDS": "flux=flux_spread; flux=beta"}, r"^SD_BANDS: band 'flux' is given twice$"),
    ({"BAND_UNITS": "nope=1"}, r"^units: the raster has no band 'nope' \(it has: flux, flux_spread, beta\)$"),
    ({"UNITS": "flux=g C m-2 yr-1"},
     r"^UNITS: 'flux=g C m-2 yr-1' is one unit for every band; give BAND=UNIT pairs in BAND_UNITS$")])
def test_aggregate_malformed_band_units_and_sd_bands_are_refused_in_one_line(wholesoil_processing, tmp_path,
                                                                             parameters, message):
    from qgis.core import QgsProcessingException

    output = tmp_path / "never.csv"
    with pytest.raises(QgsProcessingException, match=message):
        wholesoil_processing.run("wholesoil:aggregateraster", {"INPUT": aggregate_map(tmp_path), **parameters,
                                                               "OUTPUT": str(output)})
    assert not output.exists()


def test_a_raster_of_several_layers_without_a_band_is_refused_as_on_the_command_line(wholesoil_processing, tmp_path):
    """Turnover time from the 0-20 cm band of a stock raster of five layers, without a word: now refused; a mean band
    given as an sd is refused too; a raster of one _mean band and its _sd band stands for them."""
    from qgis.core import QgsProcessingException

    layers = write_raster(tmp_path / "stock5.tif", [np.full((192, 186), 10.0 * (i + 1)) for i in range(5)], **GRID)
    flux = write_raster(tmp_path / "flux.tif", np.full((192, 186), 2.0), **GRID)
    with pytest.raises(QgsProcessingException, match="stock: raster .*stock5.tif has 5 bands .*in QGIS its band "
                                                     "parameter"):
        wholesoil_processing.run("wholesoil:turnovertimemap", {"STOCK_RASTER": layers, "FLUX_RASTER": flux,
                                                               "OUTPUT": str(tmp_path / "t.tif")})
    paired = named_raster(tmp_path / "stock.tif", [np.full((192, 186), 40.0), np.full((192, 186), 4.0)],
                          ["soc_mean", "soc_sd"])
    result = wholesoil_processing.run("wholesoil:turnovertimemap", {"STOCK_RASTER": paired, "FLUX_RASTER": flux,
                                                                    "OUTPUT": str(tmp_path / "t.tif")})
    bands, names = read_bands(result["OUTPUT"])
    assert bands[names.index("tau")][0, 0] == pytest.approx(20.0) and bands[names.index("tau_sd")][0, 0] > 0
    with pytest.raises(QgsProcessingException, match="stock sd: band .*soc_mean is a mean band"):
        wholesoil_processing.run("wholesoil:turnovertimemap", {
            "STOCK_RASTER": paired, "STOCK_BAND": 1, "STOCK_SD_RASTER": paired, "STOCK_SD_BAND": 1,
            "FLUX_RASTER": flux, "OUTPUT": str(tmp_path / "t2.tif")})


def test_an_sd_given_as_a_number_gives_the_core_map(wholesoil_processing, tmp_path):
    """--beta 0.96 --beta-sd 0.01 on the command line; in QGIS BETA and BETA_SD (a biome's β ± sd)."""
    from qgis.core import QgsProcessingException

    from wholesoil.core.maps.products import RootInputs, bnpp_by_depth, turnover_map

    bnpp = write_raster(tmp_path / "bnpp.tif", np.full((192, 186), 3.0), **GRID)
    result = wholesoil_processing.run("wholesoil:bnppbydepthmap", {
        "BNPP_RASTER": bnpp, "BNPP_SD": 0.6, "BETA": 0.96, "BETA_SD": 0.01, "LAYERS": "0,30,100",
        "PROFILE_DEPTH": 100, "OUTPUT": str(tmp_path / "q.tif")})
    core = bnpp_by_depth(tmp_path / "c.tif", RootInputs(bnpp=bnpp, bnpp_sd=0.6, beta=0.96, beta_sd=0.01,
                                                        layers="0,30,100", profile_depth=100))
    np.testing.assert_array_equal(read_bands(result["OUTPUT"])[0], read_bands(core)[0])
    assert np.nanmax(read_bands(result["OUTPUT"])[0][1]) > 0.6 * 0.7  # the sds count
    result = wholesoil_processing.run("wholesoil:turnovertimemap", {
        "STOCK_RASTER": bnpp, "STOCK_SD": 0.3, "FLUX_RASTER": bnpp, "OUTPUT": str(tmp_path / "t.tif")})
    np.testing.assert_array_equal(read_bands(result["OUTPUT"])[0],
                                  read_bands(turnover_map(tmp_path / "tc.tif", stock=bnpp, stock_sd=0.3, flux=bnpp))[0])
    with pytest.raises(QgsProcessingException, match="BETA_SD_RASTER and BETA_SD both given"):
        wholesoil_processing.run("wholesoil:bnppbydepthmap", {
            "BNPP_RASTER": bnpp, "BETA": 0.96, "BETA_SD": 0.01, "BETA_SD_RASTER": bnpp,
            "OUTPUT": str(tmp_path / "never.tif")})
