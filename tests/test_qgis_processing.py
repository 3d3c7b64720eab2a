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
