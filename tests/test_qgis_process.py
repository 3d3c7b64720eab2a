"""The real qgis_process (headless QGIS) with the plugin enabled through scripts/qgis-process."""

import numpy as np
import pytest

from conftest import run_qgis_process
from wholesoil.core.depth import logistic_layer_fractions
from wholesoil.processing_provider.provider import ALGORITHMS

pytestmark = pytest.mark.qgis_process


def test_list_shows_every_algorithm():
    listing = run_qgis_process("list").stdout
    for cls in ALGORITHMS:
        assert f"wholesoil:{cls.NAME}" in listing


def test_run_with_numbers_and_json():
    done = run_qgis_process("run", "wholesoil:depthfractionslogistic", "--", "D50=20", "D95=80", json_output=True)
    text = done.json["results"]["FRACTIONS"]
    values = [float(part.split(":")[1]) for part in text.split(";")]
    np.testing.assert_allclose(values, logistic_layer_fractions(20, 80), atol=5e-5)
    plain = run_qgis_process("run", "wholesoil:depthfractionslogistic", "--", "D50=20", "D95=80")
    assert "FRACTIONS:" in plain.stdout and "0-20 cm: 0.5038" in plain.stdout


def test_table_run_writes_a_geopackage(resources, tmp_path):
    from wholesoil.core.tables import read_table

    out = tmp_path / "fits.gpkg"
    run_qgis_process("run", "wholesoil:fitdepthmodel", "--",
                     f"INPUT={resources / 'sample_data' / 'silsoe_fine_roots.csv'}", "ID_FIELD=profile_id",
                     "TOP_FIELD=top_cm", "BOTTOM_FIELD=bottom_cm", "VALUE_FIELD=mass_mg_cm3", "MODEL=1",
                     "VALUE_KIND=1", f"OUTPUT={out}")
    fits = read_table(out)
    assert len(fits) == 66 and fits["beta"].between(0.85, 1).all()


def test_bad_input_fails_with_the_message_and_no_output(tmp_path):
    out = tmp_path / "f.csv"
    done = run_qgis_process("run", "wholesoil:depthfractionslogistic", "--", "D50=90", "D95=30",
                            f"OUTPUT={out}", check=False)
    assert done.returncode == 1 and done.stdout == "" or "Results" not in done.stdout
    assert "D95 must be greater than D50" in done.stderr
    assert not out.exists()


def test_help_is_plain_text():
    text = run_qgis_process("help", "wholesoil:partitiontotal").stdout
    assert "Splits a profile total" in text and "<p>" not in text
