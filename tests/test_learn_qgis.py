"""The predictive-model algorithms in QGIS: in-process (processing.run) and through qgis_process."""

import pickle

import numpy as np
import pytest
from osgeo import ogr, osr

from conftest import run_qgis_process
from learn_data import profile_layers
from rasters_util import read_bands, write_raster
from wholesoil.core.learn.modelfile import load_model
from wholesoil.core.tables import read_table, write_table

FEATURES = ["clim", "soil", "noise1", "depth", "biome"]


@pytest.fixture(scope="module")
def layers_gpkg(tmp_path_factory):
    """Profile layers as points (EPSG:4326): the layers of a profile share one location."""
    folder = tmp_path_factory.mktemp("qgis_learn")
    table = profile_layers(30, seed=12, profile_sd=0.5)
    table["geometry"] = [bytes(ogr.CreateGeometryFromWkt(f"POINT ({x} {y})").ExportToWkb())
                         for x, y in zip(table["x"], table["y"])]
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    table.attrs["crs_wkt"] = srs.ExportToWkt()
    return write_table(table, folder / "layers.gpkg")


def test_sample_train_evaluate_explain_in_process(wholesoil_processing, layers_gpkg, tmp_path):
    raster = write_raster(tmp_path / "relief.tif", np.add.outer(np.arange(60.0), np.arange(40.0)),
                          origin=(-60.0, 0.0), pixel=0.5)
    sampled = wholesoil_processing.run("wholesoil:samplerastersatpoints", {
        "INPUT": str(layers_gpkg), "RASTERS": [raster], "OUTPUT": str(tmp_path / "sampled.gpkg")})
    table = read_table(sampled["OUTPUT"])
    assert table["relief"].notna().all() and "geometry" in table.columns

    model = tmp_path / "soc.wsmodel"
    html = tmp_path / "train.html"
    trained = wholesoil_processing.run("wholesoil:trainmodel", {
        "INPUT": sampled["OUTPUT"], "TARGET": "soc", "FEATURES": FEATURES + ["relief"], "CATEGORICAL": ["biome"],
        "FOLDS": 3, "TREES": 30, "UNITS": "kg m-2", "OUTPUT_MODEL": str(model), "OUTPUT_HTML": str(html),
        "OUTPUT": "memory:"})
    saved = load_model(model)
    assert saved.metadata["groups"] == "point location"  # grouped by default, without a group field
    assert trained["R2"] == pytest.approx(saved.metadata["metrics"]["r2"])
    assert 0.0 < trained["COVERAGE"] <= 1.0 and "<img" in html.read_text()
    assert trained["OUTPUT_HTML"] == str(html)  # a path QGIS can open in the results viewer
    assert trained["OUTPUT"].featureCount() == len(table)

    evaluated = wholesoil_processing.run("wholesoil:evaluatemodel", {
        "MODEL": str(model), "INPUT": sampled["OUTPUT"], "OUTPUT": str(tmp_path / "pred.gpkg"),
        "OUTPUT_HTML": str(tmp_path / "eval.html")})
    predictions = read_table(evaluated["OUTPUT"])
    assert {"predicted", "sd", "lower", "upper"} <= set(predictions.columns) and "geometry" in predictions
    assert evaluated["RMSE"] < saved.metadata["metrics"]["rmse"]  # in-sample
    assert evaluated["OUTPUT_HTML"] == str(tmp_path / "eval.html")

    explained = wholesoil_processing.run("wholesoil:explainmodel", {
        "MODEL": str(model), "GROUPS": "site: clim, soil; depth: depth", "RANDOM_EFFECT": "biome",
        "OUTPUT": "memory:", "OUTPUT_HTML": str(tmp_path / "explain.html")})
    assert explained["OUTPUT"].featureCount() == 6
    assert "Mixed model" in (tmp_path / "explain.html").read_text()
    assert explained["OUTPUT_HTML"] == str(tmp_path / "explain.html")


def test_a_csv_trains_on_the_same_rows_in_qgis_and_the_cli(wholesoil_processing, resources, tmp_path):
    """Issue 11 items 11 and 13: QGIS reads a CSV through OGR, which gives '' for an empty
    text cell (the same records trained on 480 rows in QGIS and 474 in the CLI), and a
    table without geometry had no extent or CRS: the x and y fields give them."""
    csv = resources / "sample_data" / "srdb_rh_records.csv"
    features, categorical = ["MAT", "MAP", "Latitude", "Biome", "Ecosystem_type", "Leaf_habit"], ["Biome", "Leaf_habit"]
    model = tmp_path / "rh.wsmodel"
    wholesoil_processing.run("wholesoil:trainmodel", {
        "INPUT": str(csv), "TARGET": "Rh_annual", "FEATURES": features, "CATEGORICAL": categorical + ["Ecosystem_type"],
        "GROUP_FIELD": "site_key", "X_FIELD": "Longitude", "Y_FIELD": "Latitude", "FOLDS": 3, "TREES": 10,
        "OUTPUT_MODEL": str(model)})
    metadata = load_model(model).metadata
    records = read_table(csv)  # as the command line reads it (pandas)
    used = records[records[features + ["Rh_annual"]].notna().all(axis=1)]
    assert metadata["n_rows"] == len(used)
    assert "" not in metadata["categorical"]["Leaf_habit"]
    assert metadata["extent"] == [used["Longitude"].min(), used["Latitude"].min(), used["Longitude"].max(),
                                  used["Latitude"].max()]
    assert "WGS 84" in metadata["crs_wkt"]


def test_bad_input_raises_with_the_message(wholesoil_processing, layers_gpkg, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="categorical covariates depth are not among the covariates"):
        wholesoil_processing.run("wholesoil:trainmodel", {
            "INPUT": str(layers_gpkg), "TARGET": "soc", "FEATURES": ["clim"], "CATEGORICAL": ["depth"],
            "OUTPUT_MODEL": str(tmp_path / "m.wsmodel")})
    assert not (tmp_path / "m.wsmodel").exists()


def test_sampled_columns_differing_only_in_case_are_refused_before_sampling(wholesoil_processing, layers_gpkg,
                                                                           tmp_path):
    """A raster named SOC beside the points' soc field: refused before any point is sampled."""
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    class Recorder(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.steps = []
            self.progressChanged.connect(self.steps.append)

    raster = write_raster(tmp_path / "SOC.tif", np.ones((60, 40)), origin=(-60.0, 0.0), pixel=0.5)
    feedback = Recorder()
    with pytest.raises(QgsProcessingException, match="the columns 'soc' and 'SOC' differ only in case"):
        wholesoil_processing.run("wholesoil:samplerastersatpoints", {
            "INPUT": str(layers_gpkg), "RASTERS": [raster], "OUTPUT": str(tmp_path / "sampled.gpkg")},
            feedback=feedback)
    assert not [step for step in feedback.steps if step > 0]  # no point was sampled
    assert not (tmp_path / "sampled.gpkg").exists()


def test_columns_differing_only_in_case_are_refused_before_anything_is_written(wholesoil_processing, tmp_path):
    """QGIS layers and GeoPackages ignore the case of field names: the sink would fail half-way."""
    from qgis.core import QgsProcessingException

    table = profile_layers(5, seed=3)
    table["Biome"] = table["biome"].astype(str) + " forest"
    csv = write_table(table, tmp_path / "cased.csv")
    model = tmp_path / "m.wsmodel"
    train_model_file(csv, model)
    for output in ("pred.gpkg", "pred.csv"):
        with pytest.raises(QgsProcessingException, match="the columns 'biome' and 'Biome' differ only in case"):
            wholesoil_processing.run("wholesoil:predicttable", {"INPUT": str(csv), "MODEL": str(model),
                                                                 "OUTPUT": str(tmp_path / output)})
        assert not (tmp_path / output).exists()


def test_predicttable_cancelled_while_predicting_writes_nothing(wholesoil_processing, layers_gpkg, tmp_path,
                                                                monkeypatch):
    """A cancel pressed while the model predicts was ignored and the predictions written; now nothing is (the core
    checks between blocks of rows, and the algorithm before it writes)."""
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    import wholesoil.core.learn.training as training

    class Feedback(QgsProcessingFeedback):
        cancelled = False

        def isCanceled(self):  # noqa: N802
            return self.cancelled

    def cancelled_while_predicting(*args, **kwargs):
        feedback.cancelled = True  # the user presses Cancel while the model predicts
        return original(*args, **kwargs)

    model = tmp_path / "m.wsmodel"
    train_model_file(layers_gpkg, model)
    original, feedback = training.predict_table, Feedback()
    monkeypatch.setattr(training, "predict_table", cancelled_while_predicting)
    with pytest.raises(QgsProcessingException, match="Cancelled; nothing was written"):
        wholesoil_processing.run("wholesoil:predicttable", {"MODEL": str(model), "INPUT": str(layers_gpkg),
                                                             "OUTPUT": str(tmp_path / "pred.gpkg")},
                                 feedback=feedback)
    assert feedback.cancelled and not (tmp_path / "pred.gpkg").exists()


def test_predicttable_reports_progress(wholesoil_processing, layers_gpkg, tmp_path):
    from qgis.core import QgsProcessingFeedback

    class Recorder(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.steps = []
            self.progressChanged.connect(self.steps.append)

    model = tmp_path / "m.wsmodel"
    train_model_file(layers_gpkg, model)
    feedback = Recorder()
    wholesoil_processing.run("wholesoil:predicttable", {"MODEL": str(model), "INPUT": str(layers_gpkg),
                                                        "OUTPUT": str(tmp_path / "pred.gpkg")}, feedback=feedback)
    assert [step for step in feedback.steps if 0 < step < 100] and feedback.steps[-1] == 100


def test_predicttable_and_samplerastersatpoints_write_a_temporary_layer_by_default(wholesoil_processing, layers_gpkg,
                                                                                   tmp_path):
    """Without OUTPUT, as QGIS's own algorithms and the map algorithms (the run failed: no value specified)."""
    from qgis.core import QgsVectorLayer

    raster = write_raster(tmp_path / "relief.tif", np.add.outer(np.arange(60.0), np.arange(40.0)),
                          origin=(-60.0, 0.0), pixel=0.5)
    sampled = wholesoil_processing.run("wholesoil:samplerastersatpoints", {"INPUT": str(layers_gpkg),
                                                                           "RASTERS": [raster]})["OUTPUT"]
    assert isinstance(sampled, QgsVectorLayer) and sampled.featureCount() == len(read_table(layers_gpkg))
    assert "relief" in sampled.fields().names()
    model = tmp_path / "m.wsmodel"
    train_model_file(layers_gpkg, model)
    predicted = wholesoil_processing.run("wholesoil:predicttable", {"MODEL": str(model),
                                                                    "INPUT": sampled})["OUTPUT"]
    assert isinstance(predicted, QgsVectorLayer) and predicted.featureCount() == sampled.featureCount()
    assert {"relief", "predicted"} <= set(predicted.fields().names())


def test_samplerastersatpoints_covariate_names_name_fields_as_the_command_line_and_predictraster_does(
        wholesoil_processing, layers_gpkg, tmp_path):
    """COVARIATE_NAMES names the fields (qgis_process names layers after their files), one per raster or one per
    band of every raster (a 2-band stack without band descriptions), as sample-rasters' NAME=RASTER:BAND items; a
    model trained on those fields maps with predictraster given the same names."""
    from wholesoil.core.cli import main
    from wholesoil.core.learn.modelfile import save_model
    from wholesoil.core.learn.training import train_model

    rng = np.random.default_rng(5)
    relief = write_raster(tmp_path / "relief.tif", np.add.outer(np.arange(60.0), np.arange(40.0)),
                          origin=(-60.0, 0.0), pixel=0.5)
    stack = write_raster(tmp_path / "stack.tif", rng.uniform(0, 100, (2, 60, 40)), origin=(-60.0, 0.0), pixel=0.5)
    names = "elevation, wet, dry"
    sampled = wholesoil_processing.run("wholesoil:samplerastersatpoints", {
        "INPUT": str(layers_gpkg), "RASTERS": [relief, stack], "COVARIATE_NAMES": names,
        "OUTPUT": str(tmp_path / "sampled.gpkg")})
    table = read_table(sampled["OUTPUT"])
    assert main(["sample-rasters", str(layers_gpkg), str(tmp_path / "cli.gpkg"), f"elevation={relief}",
                 f"wet={stack}:1", f"dry={stack}:2", "--quiet"]) == 0
    cli = read_table(tmp_path / "cli.gpkg")
    points = read_table(layers_gpkg).columns
    added = [c for c in table.columns if c not in points]
    assert added == ["elevation", "wet", "dry"]
    np.testing.assert_array_equal(table[added].to_numpy(), cli[added].to_numpy())
    assert table["wet"].notna().all() and not np.array_equal(table["wet"], table["dry"])

    per_raster = wholesoil_processing.run("wholesoil:samplerastersatpoints", {  # an empty entry: the layer's names
        "INPUT": str(layers_gpkg), "RASTERS": [relief, stack], "COVARIATE_NAMES": "elevation,",
        "OUTPUT": str(tmp_path / "per_raster.gpkg")})
    assert [c for c in read_table(per_raster["OUTPUT"]).columns if c not in points] == ["elevation", "stack_b1",
                                                                                         "stack_b2"]
    per_band = wholesoil_processing.run("wholesoil:samplerastersatpoints", {
        "INPUT": str(layers_gpkg), "RASTERS": [relief, stack], "COVARIATE_NAMES": ",wet,",
        "OUTPUT": str(tmp_path / "per_band.gpkg")})
    assert [c for c in read_table(per_band["OUTPUT"]).columns if c not in points] == ["relief", "wet", "stack_b2"]

    model = tmp_path / "m.wsmodel"
    save_model(model, train_model(table, "soc", ["elevation", "wet", "dry"], group_col="profile", n_splits=3,
                                  n_trees=5, permutation_repeats=1))
    mapped = wholesoil_processing.run("wholesoil:predictraster", {
        "MODELS": [str(model)], "COVARIATES": [relief, stack], "COVARIATE_NAMES": names, "OUTPUTS": [0],
        "OUTPUT": str(tmp_path / "map.tif")})
    bands, band_names = read_bands(mapped["OUTPUT"])
    assert band_names == ["soc_mean"] and np.isfinite(bands).all()



def test_samplerastersatpoints_returns_the_names_of_the_fields_it_added(wholesoil_processing, layers_gpkg, tmp_path):
    """COVARIATES: the fields added, in order, ';'-separated (the covariates of Train a predictive model in the
    shipped models, whatever the rasters' names): the layers' names, else the covariate names given."""
    relief = write_raster(tmp_path / "relief.tif", np.add.outer(np.arange(60.0), np.arange(40.0)),
                          origin=(-60.0, 0.0), pixel=0.5)
    stack = write_raster(tmp_path / "stack.tif", np.ones((2, 60, 40)), origin=(-60.0, 0.0), pixel=0.5)
    points = read_table(layers_gpkg).columns
    cases = (("", "relief;stack_b1;stack_b2"), ("elevation, wet, dry", "elevation;wet;dry"),
             ("elevation,", "elevation;stack_b1;stack_b2"))
    for k, (names, expected) in enumerate(cases):
        sampled = wholesoil_processing.run("wholesoil:samplerastersatpoints", {
            "INPUT": str(layers_gpkg), "RASTERS": [relief, stack], "COVARIATE_NAMES": names,
            "OUTPUT": str(tmp_path / f"sampled{k}.gpkg")})
        assert sampled["COVARIATES"] == expected
        assert [c for c in read_table(sampled["OUTPUT"]).columns if c not in points] == expected.split(";")

@pytest.mark.qgis_process
def test_train_and_screen_through_qgis_process(layers_gpkg, tmp_path):
    model = tmp_path / "soc.wsmodel"
    done = run_qgis_process("run", "wholesoil:trainmodel", "--", f"INPUT={layers_gpkg}", "TARGET=soc",
                            "FEATURES=clim;soil;depth;biome", "CATEGORICAL=biome", "GROUP_FIELD=profile",
                            "MODEL=2", "FOLDS=3", f"OUTPUT_MODEL={model}", json_output=True)
    results = done.json["results"]
    saved = load_model(model)
    assert saved.metadata["kind"] == "gradient_boosting" and saved.metadata["groups"] == "column profile"
    assert results["NSE"] == pytest.approx(saved.metadata["metrics"]["nse"])
    screen = tmp_path / "screen.csv"
    run_qgis_process("run", "wholesoil:screencovariates", "--", f"INPUT={layers_gpkg}",
                     "FEATURES=clim;soil;depth;x;y", f"OUTPUT={screen}")
    assert list(read_table(screen)["feature"]) == ["clim", "soil", "depth", "x", "y"]


@pytest.mark.qgis_process
def test_a_model_file_made_to_run_code_fails_in_qgis_process(layers_gpkg, tmp_path):
    marker = tmp_path / "pwned"

    class RunsCode:
        def __reduce__(self):
            import os

            return os.system, (f"touch {marker}",)

    hostile = tmp_path / "hostile.wsmodel"
    hostile.write_bytes(pickle.dumps(RunsCode()))
    out = tmp_path / "pred.gpkg"
    done = run_qgis_process("run", "wholesoil:evaluatemodel", "--", f"MODEL={hostile}", f"INPUT={layers_gpkg}",
                            f"OUTPUT={out}", check=False)
    assert done.returncode != 0 and "does not open pickle or joblib files" in done.stderr
    assert not out.exists() and not marker.exists()


@pytest.mark.qgis_process
def test_a_model_file_that_would_crash_on_use_fails_in_qgis_process(layers_gpkg, tmp_path):
    """Issue 10 item 6: a crafted tree with 2^62 outputs loaded and then crashed; now the
    algorithm fails with the loader's message and writes nothing."""
    from test_learn_modelfile import edit_model_file, find, set_learned, trees

    model = tmp_path / "m.wsmodel"
    train_model_file(layers_gpkg, model)
    edit_model_file(model, lambda manifest, arrays: set_learned("n_outputs_", 2 ** 62)(
        find(manifest["model"], trees), manifest, arrays))
    out = tmp_path / "pred.gpkg"
    done = run_qgis_process("run", "wholesoil:evaluatemodel", "--", f"MODEL={model}", f"INPUT={layers_gpkg}",
                            f"OUTPUT={out}", check=False)
    assert done.returncode != 0 and "a malformed set of trees" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def train_model_file(table_path, model):
    from wholesoil.core.learn.modelfile import save_model
    from wholesoil.core.learn.training import train_model

    table = read_table(table_path)
    save_model(model, train_model(table, "soc", ["clim", "soil", "depth"], group_col="profile", n_splits=3,
                                  n_trees=5, permutation_repeats=1))
