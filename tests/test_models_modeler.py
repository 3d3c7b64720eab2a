"""The shipped Graphical Modeler model chains wholesoil algorithms (in-process and qgis_process)."""

import numpy as np
import pytest

from conftest import ROOT, run_qgis_process
from rasters_util import read_bands
from wholesoil.core.depth import beta_layer_fractions

MODELS = ROOT / "resources" / "models"
MODEL = MODELS / "bnpp_by_depth.model3"


def check_outputs(fractions, by_layer, beta_path, total):
    frac, names = read_bands(fractions)
    parts, part_names = read_bands(by_layer)
    beta, _ = read_bands(beta_path)
    assert names[0] == "frac_0_30" and part_names == ["bnpp_0_30", "bnpp_30_100"]
    valid = np.isfinite(beta[0])
    expected = beta_layer_fractions(beta[0][valid], "0,30,100")
    np.testing.assert_allclose(np.moveaxis(frac[:, valid], 0, -1), expected, rtol=1e-5)
    np.testing.assert_allclose(parts, total * frac, rtol=1e-6)


@pytest.mark.parametrize("path", sorted(MODELS.glob("*.model3")), ids=lambda path: path.stem)
def test_shipped_model_is_valid(wholesoil_processing, path):
    """QGIS's own check (the Modeler draws a step with a missing mandatory value red and asks to run anyway)."""
    from qgis.core import QgsProcessingModelAlgorithm

    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(path))
    assert model.validate() == (True, [])


def test_model_runs_in_process(wholesoil_processing, resources, tmp_path):
    from qgis.core import QgsProcessingModelAlgorithm

    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(MODEL))
    beta = resources / "sample_data" / "americas_root_beta.tif"
    result = wholesoil_processing.run(model, {
        "beta": str(beta), "total": 3.0, "layers": "0,30,100",
        "root_fractions:fractions": str(tmp_path / "f.tif"), "split_total:by_layer": str(tmp_path / "b.tif")})
    check_outputs(result["root_fractions:fractions"], result["split_total:by_layer"], beta, 3.0)


@pytest.mark.qgis_process
def test_model_runs_in_qgis_process(resources, tmp_path):
    beta = resources / "sample_data" / "americas_root_beta.tif"
    run_qgis_process("run", MODEL, "--", f"beta={beta}", "total=2.5", "layers=0,30,100",
                     f"root_fractions:fractions={tmp_path / 'f.tif'}", f"split_total:by_layer={tmp_path / 'b.tif'}")
    check_outputs(tmp_path / "f.tif", tmp_path / "b.tif", beta, 2.5)


@pytest.mark.parametrize("algorithm_id, raster, expected", [
    ("native:slope", "INPUT", "my_output"),
    ("wholesoil:depthfractionsbetaraster", "BETA_RASTER", "my_output (fraction)")])
def test_model_output_loads_with_the_model_s_name_as_qgis_s_own_algorithms_do(wholesoil_processing, resources,
                                                                             algorithm_id, raster, expected):
    """The name QGIS gives a model output's layer is kept; a wholesoil step adds its unit at most."""
    from processing.tools import dataobjects
    from qgis.core import (QgsProcessingFeedback, QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                           QgsProcessingModelChildParameterSource, QgsProcessingModelOutput,
                           QgsProcessingModelParameter, QgsProcessingOutputLayerDefinition,
                           QgsProcessingParameterRasterLayer, QgsProject)

    model = QgsProcessingModelAlgorithm("one step", "tests")
    model.addModelParameter(QgsProcessingParameterRasterLayer("raster", "Raster"),
                            QgsProcessingModelParameter("raster"))
    child = QgsProcessingModelChildAlgorithm(algorithm_id)
    child.setChildId("step")
    child.addParameterSources(raster, [QgsProcessingModelChildParameterSource.fromModelParameter("raster")])
    output = QgsProcessingModelOutput("my_output", "My output (described)")
    output.setChildId("step")
    output.setChildOutputName("OUTPUT")
    child.setModelOutputs({"my_output": output})
    model.addChildAlgorithm(child)
    feedback = QgsProcessingFeedback()
    context = dataobjects.createContext(feedback)
    _, ok = model.run({"raster": str(resources / "sample_data" / "americas_root_beta.tif"),
                       "step:my_output": QgsProcessingOutputLayerDefinition("TEMPORARY_OUTPUT",
                                                                            QgsProject.instance())}, context, feedback)
    assert ok
    assert [details.name for details in context.layersToLoadOnCompletion().values()] == [expected]
