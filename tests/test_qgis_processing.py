"""Depth algorithms through processing.run in an in-process QgsApplication."""

import numpy as np
import pytest
from qgis.core import QgsProcessingException

from wholesoil.core.depth import logistic_layer_fractions


def test_logistic_numbers_mode(wholesoil_processing, tmp_path):
    html = tmp_path / "report.html"
    result = wholesoil_processing.run("wholesoil:depthfractionslogistic",
                                      {"D50": 20, "D95": 80, "OUTPUT_HTML": str(html)})
    values = [float(part.split(":")[1]) for part in result["FRACTIONS"].split(";")]
    np.testing.assert_allclose(values, logistic_layer_fractions(20, 80), atol=5e-5)
    assert "<img" in html.read_text()


def test_bad_parameters_raise(wholesoil_processing):
    with pytest.raises(QgsProcessingException, match="D95 must be greater than D50"):
        wholesoil_processing.run("wholesoil:depthfractionslogistic", {"D50": 80, "D95": 20})


def test_table_mode_keeps_points_and_fields(wholesoil_processing, resources, tmp_path):
    from wholesoil.core.tables import read_table

    out = tmp_path / "fractions.gpkg"
    source = resources / "sample_data" / "srdb_bnpp_sites.gpkg"
    wholesoil_processing.run("wholesoil:depthfractionsbeta", {
        "INPUT": str(source), "BETA_FIELD": "beta", "LAYERS": "0,30,100", "NORMALIZE": False, "OUTPUT": str(out)})
    result, original = read_table(out), read_table(source)
    assert len(result) == len(original) and list(result["geometry"]) == list(original["geometry"])
    expected = [0.0 if np.isnan(b) else 1.0 - b ** 30 for b in original["beta"]]
    np.testing.assert_allclose(result["frac_0_30"].fillna(0.0), expected, rtol=1e-9)
    assert result.loc[original["beta"].isna(), "frac_0_30"].isna().all()


def test_raster_mode_and_partition(wholesoil_processing, resources, tmp_path):
    from rasters_util import read_bands

    fractions = tmp_path / "fractions.tif"
    wholesoil_processing.run("wholesoil:depthfractionsbeta", {
        "BETA_RASTER": str(resources / "sample_data" / "americas_root_beta.tif"), "OUTPUT_RASTER": str(fractions)})
    parts = tmp_path / "bnpp.tif"
    wholesoil_processing.run("wholesoil:partitiontotal", {
        "TOTAL": 2.0, "FRACTIONS": str(fractions), "PREFIX": "bnpp", "OUTPUT_RASTER": str(parts)})
    frac, names = read_bands(fractions)
    bnpp, bnpp_names = read_bands(parts)
    assert names[0] == "frac_0_20" and bnpp_names[0] == "bnpp_0_20"
    np.testing.assert_allclose(np.nansum(frac, axis=0)[np.isfinite(frac[0])], 1.0, rtol=1e-5)
    np.testing.assert_allclose(bnpp, 2.0 * frac, rtol=1e-6)


def test_misaligned_rasters_give_an_error_and_no_output(wholesoil_processing, tmp_path):
    from rasters_util import write_raster

    d50 = write_raster(tmp_path / "d50.tif", np.full((3, 3), 20.0))
    d95 = write_raster(tmp_path / "d95.tif", np.full((3, 3), 80.0), epsg=32631)
    out = tmp_path / "f.tif"
    with pytest.raises(QgsProcessingException, match="different CRSs"):
        wholesoil_processing.run("wholesoil:depthfractionslogistic",
                                 {"D50_RASTER": d50, "D95_RASTER": d95, "OUTPUT_RASTER": str(out)})
    assert not out.exists()


def test_fit_depth_model_reports_and_plots(wholesoil_processing, resources, tmp_path):
    from wholesoil.core.tables import read_table

    html = tmp_path / "fits.html"
    result = wholesoil_processing.run("wholesoil:fitdepthmodel", {
        "INPUT": str(resources / "sample_data" / "silsoe_fine_roots.csv"), "ID_FIELD": "profile_id",
        "TOP_FIELD": "top_cm", "BOTTOM_FIELD": "bottom_cm", "VALUE_FIELD": "mass_mg_cm3", "MODEL": 0,
        "VALUE_KIND": 1, "OUTPUT": str(tmp_path / "fits.gpkg"), "OUTPUT_HTML": str(html)})
    fits = read_table(result["OUTPUT"])
    assert len(fits) == 66 and fits["status"].eq("ok").all()
    assert (fits["d95_cm"] > fits["d50_cm"]).all()
    assert html.read_text().count("<img") == 1


def test_progress_reaches_the_feedback(wholesoil_processing, resources, tmp_path):
    from qgis.core import QgsProcessingFeedback

    feedback = QgsProcessingFeedback()
    seen = []
    feedback.progressChanged.connect(seen.append)
    wholesoil_processing.run("wholesoil:depthfractionsbeta", {
        "BETA_RASTER": str(resources / "sample_data" / "americas_root_beta.tif"),
        "OUTPUT_RASTER": str(tmp_path / "f.tif")}, feedback=feedback)
    assert seen and max(seen) == 100


@pytest.mark.parametrize("parameters, message", [
    ({"D50": 20, "D95": 80, "LAYERS": "-5,20,40"}, "negative depth"),
    ({"D50": 20, "D95": 80, "LAYERS": "0-20,10-40"}, "overlaps"),
    ({"D50": 20, "D95": 20}, "D95 must be greater than D50"),
])
def test_bad_input_in_qgis(wholesoil_processing, tmp_path, parameters, message):
    out = tmp_path / "out.html"  # the report (a .gpkg name is now refused as another format)
    with pytest.raises(QgsProcessingException, match=message):
        wholesoil_processing.run("wholesoil:depthfractionslogistic", {**parameters, "OUTPUT_HTML": str(out)})
    assert not out.exists()


def test_table_rows_with_bad_parameters_are_named_in_qgis(wholesoil_processing, tmp_path):
    table = tmp_path / "sites.csv"
    table.write_text("site,d50,d95\na,10,40\nb,50,30\nc,20,60\n")
    out = tmp_path / "out.gpkg"
    with pytest.raises(QgsProcessingException, match=r"D95 must be greater than D50 \(row 2;"):
        wholesoil_processing.run("wholesoil:depthfractionslogistic", {
            "INPUT": str(table), "D50_FIELD": "d50", "D95_FIELD": "d95", "OUTPUT": str(out)})
    assert not out.exists()
