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


def test_bnpp_model_trains_on_the_fields_sampled_from_any_covariate_rasters(real_data, resources, tmp_path):
    """The depth-resolved BNPP model with covariate rasters named otherwise than the bundled ones and no
    covariate_names: its forest learns the fields the sampling step named after the layers (it failed in the training
    step, which looked for the bundled rasters' names), and the maps are made."""
    from rasters_util import read_bands

    covariates = [real_data / "covariates" / f"dismo_worldclim14_{name}_americas_0p5deg.asc" for name in ("bio1",
                                                                                                         "bio12")]
    outputs = {"predict_bnpp:bnpp_map": tmp_path / "bnpp.tif", "bnpp_by_depth:bnpp_layers": tmp_path / "layers.tif",
               "bnpp_totals:bnpp_totals": tmp_path / "totals.csv"}
    done = run_qgis_process("run", "wholesoil:depthresolvedbnppmap", "--",
                            f"sites={resources / 'sample_data' / 'srdb_bnpp_sites.gpkg'}",
                            *[f"covariates={path}" for path in covariates],
                            f"beta={resources / 'sample_data' / 'americas_root_beta.tif'}",
                            *[f"{name}={path}" for name, path in outputs.items()], json_output=True)
    for name, path in outputs.items():
        assert done.json["results"][name] == str(path) and path.exists()
    bnpp, names = read_bands(outputs["predict_bnpp:bnpp_map"])
    assert names == ["bnpp_Mg_ha_yr_mean", "bnpp_Mg_ha_yr_sd"]
    assert np.isfinite(bnpp[0]).sum() > 5000 and 0.5 < np.nanmean(bnpp[0]) < 10
    layers, layer_names = read_bands(outputs["bnpp_by_depth:bnpp_layers"])
    assert layer_names[0] == "bnpp_0_20_mean" and len(layer_names) == 21 and np.isfinite(layers[0]).sum() > 5000
