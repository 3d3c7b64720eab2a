"""Maps of saved models (core.maps): agreement with scikit-learn, invariance, nodata, classes,
errors naming both sides, cancel, Dask, the numba-free fallback, CLI and Processing (issue 8)."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import REAL_DATA, ROOT, run_qgis_process
from rasters_util import read_bands, write_geopackage, write_netcdf, write_raster
from wholesoil.core.cli import main
from wholesoil.core.errors import CancelledError, InputError
from wholesoil.core.learn.modelfile import load_model, save_model
from wholesoil.core.learn.sampling import sample_rasters
from wholesoil.core.learn.training import predict_table, train_model
from wholesoil.core.maps import kernels
from wholesoil.core.maps.predict import predict_raster
from wholesoil.core.outputs import OutputTransaction
from wholesoil.core.rasters import read_raster

COVARIATES = {"bio1": "dismo_worldclim14_bio1_americas_0p5deg.asc",
              "bio12": "dismo_worldclim14_bio12_americas_0p5deg.asc",
              "biome": "dismo_biome_americas_0p5deg.asc"}


@pytest.fixture(scope="module")
def srdb_map_model(tmp_path_factory):
    """A random forest of SRDB-V5 Rh on WorldClim bio1, bio12 and the biome class sampled at the sites."""
    folder = tmp_path_factory.mktemp("srdb_map")
    rasters = [f"{name}={REAL_DATA / 'covariates' / file}" for name, file in COVARIATES.items()]
    records = pd.read_csv(REAL_DATA / "srdb" / "srdb_v5_rh_annual.csv", low_memory=False)
    records = records[records["Rh_annual"].notna() & records["Latitude"].notna()]
    sampled = sample_rasters(records, [r.split("=", 1)[1] for r in rasters], names=list(COVARIATES),
                             x_col="Longitude", y_col="Latitude").table
    trained = train_model(sampled, "Rh_annual", list(COVARIATES), ["biome"], group_col="site_key", n_trees=60,
                          n_splits=5, units="g C m-2 yr-1", random_state=1)
    path = folder / "rh.wsmodel"
    save_model(path, trained)
    return path, rasters, folder


def pixel_table(rasters):
    """Every pixel of the covariate rasters as a table (one column per covariate)."""
    return pd.DataFrame({item.split("=", 1)[0]: read_raster(item.split("=", 1)[1]).ravel() for item in rasters})


def test_map_equals_the_model_on_every_pixel(srdb_map_model):
    model, rasters, folder = srdb_map_model
    run = predict_raster([model], rasters, folder / "rh.tif", block=64)
    bands, names = read_bands(run)
    assert names == ["Rh_annual_mean", "Rh_annual_sd", "Rh_annual_cv", "Rh_annual_lower", "Rh_annual_upper"]
    trained = load_model(model)
    pixels = pixel_table(rasters)
    expected = predict_table(trained, pixels)
    seen = pixels["biome"].map(lambda v: f"{v:.15g}").isin(trained.metadata["categorical"]["biome"])
    known = expected["predicted"].notna().to_numpy() & seen.to_numpy()
    assert known.sum() > 5000
    assert np.isnan(bands[0].ravel()[~seen.to_numpy()]).all()
    for band, column in zip(bands, ["predicted", "sd", "cv", "lower", "upper"]):
        values = band.ravel()
        reference = expected[column].to_numpy()
        usable = known & np.isfinite(reference)
        np.testing.assert_allclose(values[usable], reference[usable].astype(np.float32), rtol=2e-6, atol=1e-6)
    mean = bands[0].ravel()
    assert np.array_equal(mean[known], expected["predicted"].to_numpy()[known].astype(np.float32))


def test_forest_kernels_equal_scikit_learn(srdb_map_model):
    """Compiled and fallback kernels: the mean bit for bit, the sd to rounding, on real covariates."""
    model = load_model(srdb_map_model[0]).model
    table = pixel_table(srdb_map_model[1]).dropna()
    encoded = model.pipeline_[:-1].transform(table)
    forest = model.pipeline_[-1]
    packed = kernels.PackedForest(forest)
    reference_mean = forest.predict(encoded)
    reference_sd = model.tree_predictions(table).std(axis=1, ddof=1)
    for compiled in ([True, False] if kernels.numba is not None else [False]):
        mean, sd = kernels.forest_statistics(packed, encoded.to_numpy(dtype=np.float32), compiled=compiled)
        assert np.array_equal(mean, reference_mean)
        np.testing.assert_allclose(sd, reference_sd, rtol=1e-10, atol=1e-9)


def test_synthetic_heteroscedastic_forest_sd_matches_per_tree_spread():
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 8)).astype(np.float32)
    y = 1000 + 50 * X[:, 0] + rng.normal(size=3000) * (1 + np.abs(X[:, 1]))   # large mean, small spread
    forest = RandomForestRegressor(40, random_state=0).fit(X, y)
    new = rng.normal(size=(5000, 8)).astype(np.float32)
    trees = np.column_stack([t.predict(new) for t in forest.estimators_])
    for compiled in ([True, False] if kernels.numba is not None else [False]):
        mean, sd = kernels.forest_statistics(kernels.PackedForest(forest), new, compiled=compiled)
        assert np.array_equal(mean, forest.predict(new))
        np.testing.assert_allclose(sd, trees.std(axis=1, ddof=1), rtol=1e-9)


@pytest.mark.skipif(kernels.numba is None, reason="numba is not installed: only the fallback kernel runs")
def test_pixel_groups_give_each_pixel_its_own_leaf():
    """The compiled kernel sends groups of consecutive rows down a tree together while their box
    lies on one side of every split: on smooth rows in Z order (groups go deep), on rows lying
    exactly on split thresholds, shuffled, and for a classifier, every pixel gets scikit-learn's
    answer."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    rows, columns = np.mgrid[0:70, 0:90] / 30.0                  # not a power of two: partial groups
    grid = np.stack([rows, columns, np.sin(3 * rows) * columns, np.cos(2 * columns) + rows], axis=-1)
    X = np.ascontiguousarray(grid.reshape(-1, 4)[kernels.z_order(70, 90)], dtype=np.float32)
    rng = np.random.default_rng(5)
    y = X[:, 0] * X[:, 1] + np.sin(4 * X[:, 2]) + rng.normal(scale=0.05, size=len(X))
    forest = RandomForestRegressor(30, random_state=0).fit(X[::3], y[::3])
    packed = kernels.PackedForest(forest)
    on_split = packed.threshold32[np.isfinite(packed.threshold32) & ((packed.code & 0xFFFF) == 0)][:40]
    X[:len(on_split) * 16, 0] = np.repeat(on_split, 16)          # whole groups exactly on a threshold
    shuffled = X[rng.permutation(len(X))]
    for rows_ in (X, shuffled):
        mean, sd = kernels.forest_statistics(packed, rows_, compiled=True)
        trees = np.column_stack([t.predict(rows_) for t in forest.estimators_])
        assert np.array_equal(mean, forest.predict(rows_))
        np.testing.assert_allclose(sd, trees.std(axis=1, ddof=1), rtol=1e-9, atol=1e-12)
    classes = np.digitize(y, [0.5, 1.5])
    classifier = RandomForestClassifier(20, random_state=0).fit(X[::3], classes[::3])
    probabilities, _ = kernels.forest_statistics(kernels.PackedForest(classifier), X, compiled=True)
    np.testing.assert_allclose(probabilities, classifier.predict_proba(X), rtol=0, atol=1e-15)


def test_z_order_runs_are_squares():
    order = kernels.z_order(8, 8)
    assert sorted(order) == list(range(64))
    rows, columns = np.divmod(order, 8)
    for start in range(0, 64, 4):                                  # runs of 4 are 2 x 2 squares
        assert np.ptp(rows[start:start + 4]) == 1 and np.ptp(columns[start:start + 4]) == 1
    odd = kernels.z_order(5, 7)
    assert sorted(odd) == list(range(35))


def test_identical_for_any_worker_count_and_block_size(srdb_map_model):
    model, rasters, folder = srdb_map_model
    reference = read_bands(predict_raster([model], rasters, folder / "a.tif", block=512))[0]
    for name, engine in {"threads": {"n_jobs": 2, "backend": "threading", "block": 37},
                         "processes": {"n_jobs": 2, "backend": "loky", "block": 100},
                         "fallback": {"compiled": False, "block": 50}}.items():
        other = read_bands(predict_raster([model], rasters, folder / f"{name}.tif", **engine))[0]
        assert np.array_equal(np.isnan(other), np.isnan(reference)), name
        assert np.array_equal(other[~np.isnan(other)], reference[~np.isnan(reference)]), name


def test_workers_receive_the_model_file_not_the_forest(srdb_map_model, tmp_path):
    import pickle
    import shutil

    from wholesoil.core.maps.predict import MapModel, file_checksum

    model, rasters, folder = srdb_map_model
    copy = tmp_path / "rh.wsmodel"
    shutil.copy(model, copy)
    prepared = MapModel.from_trained(load_model(copy), outputs=["mean", "sd"], file=str(copy),
                                     checksum=file_checksum(copy))
    sent = pickle.dumps(prepared)
    assert len(sent) < 2000  # the file name and checksum, not the trees
    received = pickle.loads(sent)
    assert received.band_names() == prepared.band_names() and received.checksum == prepared.checksum
    with open(copy, "ab") as changed:
        changed.write(b"retrained meanwhile")
    from wholesoil.core.maps import predict as predict_module
    predict_module._PREPARED.clear()
    with pytest.raises(InputError, match="changed while the map was being made"):
        pickle.loads(sent)


def test_nodata_in_any_covariate_and_unseen_classes(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    table = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "soil": rng.integers(1, 4, n)})
    table["y"] = 2 * table.a + (table.soil == 2) + rng.normal(scale=0.1, size=n)
    save_model(tmp_path / "m.wsmodel", train_model(table, "y", ["a", "b", "soil"], ["soil"], independent_rows=True,
                                                   n_trees=20, n_splits=3))
    a, b = rng.normal(size=(40, 50)), rng.normal(size=(40, 50))
    soil = rng.integers(1, 4, size=(40, 50)).astype(float)
    a[0, :5] = np.nan
    b[1, :7] = np.nan
    soil[2, :9] = 7                      # a class the model never saw
    soil[3, :3] = np.nan
    items = [f"{n}={write_raster(tmp_path / f'{n}.tif', v)}" for n, v in (("a", a), ("b", b), ("soil", soil))]
    run = predict_raster([tmp_path / "m.wsmodel"], items, tmp_path / "out.tif", outputs=["mean", "sd"])
    bands, _ = read_bands(run)
    assert np.isnan(bands[:, 0, :5]).all() and np.isnan(bands[:, 1, :7]).all()
    assert np.isnan(bands[:, 2, :9]).all() and np.isnan(bands[:, 3, :3]).all()
    assert np.isfinite(bands[:, 4:]).all()
    assert run.valid[0] == 40 * 50 - 5 - 7 - 9 - 3
    assert run.notes[0] == "y: 9 pixels have soil classes the model never saw (7: 9); they are nodata"
    ranges = load_model(tmp_path / "m.wsmodel").metadata["covariate_ranges"]
    usable = np.isfinite(a) & np.isfinite(b) & np.isfinite(soil) & (soil != 7)  # the pixels the model maps
    outside = {c: usable & ((v < ranges[c]["min"]) | (v > ranges[c]["max"])) for c, v in (("a", a), ("b", b))}
    assert run.notes[1] == (f"y: {(outside['a'] | outside['b']).sum()} pixels have covariates outside their range in "
                            f"the training data (a: {outside['a'].sum()}, b: {outside['b'].sum()}); the model "
                            "extrapolates there")

    # the same pixels as a table: the same values, and no prediction where the map has nodata, with a note
    pixels = pd.DataFrame({"a": a.ravel(), "b": b.ravel(), "soil": soil.ravel()})
    with OutputTransaction() as outputs:
        predicted = predict_table(load_model(tmp_path / "m.wsmodel"), pixels)
    np.testing.assert_allclose(predicted["predicted"], bands[0].ravel(), rtol=1e-6)
    assert np.array_equal(np.isnan(predicted["sd"].to_numpy()), np.isnan(bands[1].ravel()))
    assert outputs.notes[0].startswith("soil: classes not seen in training (7) in rows 101, 102, 103, 104, 105 (and 4 more); no prediction")
    assert outputs.notes[1].startswith("15 of 2000 rows lack a covariate and have no prediction")

    # every pixel of a class the model never saw (a land-cover raster given as the soil classes): refused, no file
    with pytest.raises(InputError, match=r"no pixel got a value: 1988 pixels have data in every input and each gave "
                                         r"nodata \(y: 1988 pixels have soil classes the model never saw \(7: 1988\)"):
        predict_raster([tmp_path / "m.wsmodel"], items[:2] + [f"soil={write_raster(tmp_path / 'lc.tif', 7 + a * 0)}"],
                       tmp_path / "never.tif")
    assert not (tmp_path / "never.tif").exists()
    # a covariate with no data at all: the map is empty, and the note names the covariate
    blank = write_raster(tmp_path / "blank_b.tif", np.full((40, 50), np.nan))
    run = predict_raster([tmp_path / "m.wsmodel"], [items[0], f"b={blank}", items[2]], tmp_path / "empty.tif")
    assert run.notes[0] == f"input b ({blank}) has no valid pixel (all nodata)"
    # a covariate in other units (x 100): most pixels outside its training range, and the note says what to check
    scaled = write_raster(tmp_path / "a100.tif", a * 100)
    run = predict_raster([tmp_path / "m.wsmodel"], [f"a={scaled}"] + items[1:], tmp_path / "scaled.tif")
    assert run.notes[-1].endswith("the model extrapolates there; most pixels lie outside the range of a: check the "
                                  "units (e.g. °C × 10 against °C) and the nodata value of that raster")
    assert "most pixels" not in " ".join(predict_raster([tmp_path / "m.wsmodel"], items, tmp_path / "ok.tif").notes)


def test_classification_map(tmp_path):
    rng = np.random.default_rng(1)
    n = 400
    table = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    table["kind"] = np.where(table.a + 0.3 * rng.normal(size=n) > 0, "bimodal", "unimodal")
    trained = train_model(table, "kind", ["a", "b"], task="classification", independent_rows=True, n_trees=30,
                          n_splits=3)
    save_model(tmp_path / "c.wsmodel", trained)
    grid = {"a": rng.normal(size=(30, 20)), "b": rng.normal(size=(30, 20))}
    items = [f"{n}={write_raster(tmp_path / f'{n}.tif', v)}" for n, v in grid.items()]
    bands, names = read_bands(predict_raster([tmp_path / "c.wsmodel"], items, tmp_path / "c.tif"))
    assert names == ["kind_class", "kind_p_bimodal", "kind_p_unimodal"]
    frame = pd.DataFrame({k: v.ravel() for k, v in grid.items()})
    probabilities = trained.model.predict_proba(frame)
    np.testing.assert_allclose(bands[1].ravel(), probabilities[:, 0], rtol=1e-6)
    labels = np.where(bands[0].ravel() == 1, "bimodal", "unimodal")
    assert (labels == trained.model.predict(frame)).all()
    large = [f"{n}={write_raster(tmp_path / f'{n}_large.tif', rng.normal(size=(520, 520)))}" for n in grid]
    from osgeo import gdal

    dataset = gdal.Open(predict_raster([tmp_path / "c.wsmodel"], large, tmp_path / "cog.tif", cog=True))
    overview = dataset.GetRasterBand(1).GetOverview(0).ReadAsArray()  # a zoomed-out view shows real classes
    assert set(np.unique(overview)) == {1.0, 2.0}
    # a probability band's unit is 1, so aggregate totals it to the class's expected area (ha)
    assert [dataset.GetRasterBand(i).GetMetadataItem("units") for i in (1, 2, 3)] == [None, "1", "1"]


def test_bands_asked_for_go_to_the_models_of_their_kind(tmp_path):
    """A regression and a classification model in one run: every --outputs list was refused (each model
    had to give every band asked for)."""
    rng = np.random.default_rng(2)
    table = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    table["y"] = table.a + rng.normal(scale=0.2, size=300)
    table["kind"] = np.where(table.b > 0, "wet", "dry")
    for target, task in (("y", "regression"), ("kind", "classification")):
        save_model(tmp_path / f"{target}.wsmodel", train_model(table, target, ["a", "b"], task=task, n_trees=20,
                                                                independent_rows=True, n_splits=3))
    items = [f"{n}={write_raster(tmp_path / f'{n}.tif', rng.normal(size=(12, 10)))}" for n in ("a", "b")]
    models = [tmp_path / "y.wsmodel", tmp_path / "kind.wsmodel"]
    run = predict_raster(models, items, tmp_path / "both.tif", outputs="mean,sd,class")
    assert run.band_names == ["y_mean", "y_sd", "kind_class"]
    with pytest.raises(InputError, match=r"model kind is a classification model and gives none of the bands asked "
                                         r"for \(mean, sd\); add some of class, p"):
        predict_raster(models, items, tmp_path / "x.tif", outputs="mean,sd")
    with pytest.raises(InputError, match=r"no model of this run gives p \(the models: y \(regression\)\)"):
        predict_raster(models[:1], items, tmp_path / "x.tif", outputs="mean,p")
    with pytest.raises(InputError, match=r"unknown output meen \(regression models give mean"):
        predict_raster(models, items, tmp_path / "x.tif", outputs="meen")
    assert not (tmp_path / "x.tif").exists()


def test_class_and_aoa_bands_load_in_qgis_as_labelled_classes(wholesoil_processing, tmp_path):
    """A class map loaded as a continuous ramp (legend 1, 1.25, 1.5 ...), its labels unused."""
    from qgis.core import QgsProject

    rng = np.random.default_rng(3)
    table = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    table["kind"] = np.where(table.a > 0, "wet", "dry")
    save_model(tmp_path / "k.wsmodel", train_model(table, "kind", ["a", "b"], task="classification", n_trees=10,
                                                   independent_rows=True, n_splits=3))
    layers = [write_raster(tmp_path / f"{n}.tif", rng.normal(size=(10, 12))) for n in ("a", "b")]
    before = set(QgsProject.instance().mapLayers())
    for outputs in ([7], [6]):  # class; aoa
        wholesoil_processing.runAndLoadResults("wholesoil:predictraster", {
            "MODELS": [str(tmp_path / "k.wsmodel")], "COVARIATES": layers, "OUTPUTS": outputs,
            "OUTPUT": str(tmp_path / f"k{outputs[0]}.tif")})
    added = {layer.source(): layer for layer in (QgsProject.instance().mapLayer(i)
                                                  for i in set(QgsProject.instance().mapLayers()) - before)}
    try:
        for output, expected in (("k7.tif", [(1.0, "dry"), (2.0, "wet")]),
                                 ("k6.tif", [(0.0, "outside the area of applicability"),
                                             (1.0, "inside the area of applicability")])):
            renderer = added[str(tmp_path / output)].renderer()
            assert renderer.type() == "paletted"
            assert [(c.value, c.label) for c in renderer.classes()] == expected
    finally:
        QgsProject.instance().removeMapLayers([layer.id() for layer in added.values()])


@pytest.mark.qgis
def test_processing_quicklook_is_the_command_lines(wholesoil_processing, tmp_path):
    """QUICKLOOK writes the PNG predict-raster --quicklook writes: each model's mean or class band."""
    from matplotlib.image import imread

    rng = np.random.default_rng(4)
    table = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    table["y"], table["kind"] = 2 * table.a - table.b, np.where(table.a > 0, "wet", "dry")
    for target, task in (("y", "regression"), ("kind", "classification")):
        save_model(tmp_path / f"{target}.wsmodel", train_model(table, target, ["a", "b"], task=task, n_trees=10,
                                                               independent_rows=True, n_splits=3))
    models = [str(tmp_path / "y.wsmodel"), str(tmp_path / "kind.wsmodel")]
    layers = [write_raster(tmp_path / f"{n}.tif", rng.normal(size=(10, 12))) for n in ("a", "b")]
    result = wholesoil_processing.run("wholesoil:predictraster", {
        "MODELS": models, "COVARIATES": layers, "OUTPUT": str(tmp_path / "q.tif"),
        "QUICKLOOK": str(tmp_path / "q.png")})
    assert result["QUICKLOOK"] == str(tmp_path / "q.png")
    assert (tmp_path / "q.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["predict-raster", *models, "--covariates", *layers, "--output", str(tmp_path / "cli.tif"),
                 "--quicklook", str(tmp_path / "cli.png")]) == 0
    assert np.array_equal(imread(tmp_path / "q.png"), imread(tmp_path / "cli.png"))  # y_mean and kind_class
    without = wholesoil_processing.run("wholesoil:predictraster", {
        "MODELS": models, "COVARIATES": layers, "OUTPUT": str(tmp_path / "n.tif")})
    assert "QUICKLOOK" not in without and not list(tmp_path.glob("n*.png"))


def test_pixels_whose_mean_is_0_say_why_their_cv_is_nodata(tmp_path):
    """cv = sd / mean is nodata where a forest predicts exactly 0 (a flux that is 0 below a threshold): a note
    says so; the band was silently emptier than the mean band."""
    rng = np.random.default_rng(6)
    table = pd.DataFrame({"a": rng.uniform(-1, 1, 400)})
    table["y"] = np.maximum(table["a"], 0.0)
    save_model(tmp_path / "z.wsmodel", train_model(table, "y", ["a"], independent_rows=True, n_trees=20, n_splits=3))
    covariate = write_raster(tmp_path / "a.tif", np.linspace(-1, 1, 120).reshape(10, 12))
    run = predict_raster([tmp_path / "z.wsmodel"], [f"a={covariate}"], tmp_path / "z.tif", outputs="mean,cv")
    bands, _ = read_bands(run)
    zero = int((bands[0] == 0).sum())
    assert zero > 10 and np.isnan(bands[1][bands[0] == 0]).all()
    assert f"y: {zero} pixels have a mean of 0, where cv (sd / mean) is undefined: nodata in y_cv" in run.notes


def test_several_models_read_each_window_once(srdb_map_model, tmp_path):
    model, rasters, _ = srdb_map_model
    run = predict_raster([model, model], rasters, tmp_path / "two.tif", names=["first", "second"], outputs=["mean"])
    bands, names = read_bands(run)
    assert names == ["first_mean", "second_mean"] and np.array_equal(bands[0], bands[1], equal_nan=True)
    with pytest.raises(InputError, match="several models are named"):
        predict_raster([model, model], rasters, tmp_path / "x.tif")


def test_a_model_maps_the_same_alone_or_beside_models_on_other_covariates(srdb_map_model, tmp_path, capsys):
    """A model without biome keeps the pixels where only biome is nodata when mapped beside one with biome,
    and the extrapolation count covers the pixels a model maps (not those of classes it never saw)."""
    model, rasters, _ = srdb_map_model
    sampled = pixel_table(rasters).dropna().sample(400, random_state=0)
    sampled["y"] = sampled["bio1"] / 10 + sampled["bio12"] / 100
    save_model(tmp_path / "climate.wsmodel", train_model(sampled, "y", ["bio1", "bio12"], independent_rows=True,
                                                         n_trees=10, n_splits=3))
    alone = predict_raster([tmp_path / "climate.wsmodel"], rasters, tmp_path / "alone.tif", outputs=["mean", "sd"])
    both = predict_raster([model, tmp_path / "climate.wsmodel"], rasters, tmp_path / "both.tif",
                          outputs=["mean", "sd"])
    climate, _ = read_bands(alone)
    together, names = read_bands(both)
    assert names[2:] == ["y_mean", "y_sd"] and np.array_equal(together[2:], climate, equal_nan=True)
    pixels = pixel_table(rasters)
    only_biome_missing = pixels[["bio1", "bio12"]].notna().all(axis=1) & pixels["biome"].isna()
    assert only_biome_missing.sum() > 0 and np.isfinite(together[2].ravel()[only_biome_missing]).all()
    assert both.valid_pixels == {"Rh_annual": both.valid[0], "y": both.valid[2]}
    assert both.valid[2] > both.valid[0]
    mapped = np.isfinite(together[0].ravel())
    ranges = load_model(model).metadata["covariate_ranges"]
    beyond = {c: mapped & ((pixels[c] < np.float32(ranges[c]["min"])) | (pixels[c] > np.float32(ranges[c]["max"])))
              for c in ("bio1", "bio12")}
    assert both.counts[("outside", "Rh_annual", None)] == (beyond["bio1"] | beyond["bio12"]).sum()
    assert both.counts[("outside", "Rh_annual", "bio1")] == beyond["bio1"].sum()
    from wholesoil.core.cli import main

    assert main(["predict-raster", str(model), str(tmp_path / "climate.wsmodel"), "--covariates", *rasters,
                 "--output", str(tmp_path / "cli.tif"), "--outputs", "mean", "--quiet"]) == 0
    assert f"valid pixels: Rh_annual {both.valid[0]}, y {both.valid[2]}" in capsys.readouterr().err


def test_mismatches_name_both_sides(srdb_map_model, tmp_path):
    model, rasters, _ = srdb_map_model
    with pytest.raises(InputError, match=r"lack 'biome' \(the model needs: .*bio1.*; the rasters give: bio1, bio12"):
        predict_raster([model], rasters[:2], tmp_path / "x.tif")
    shifted = write_raster(tmp_path / "shifted.tif", read_raster(rasters[0].split("=", 1)[1]), origin=(-124.0, 40.0))
    with pytest.raises(InputError, match=r"shifted.tif:1\) and bio12 .*different origins or pixel sizes.*--grid"):
        predict_raster([model], [f"bio1={shifted}"] + rasters[1:], tmp_path / "x.tif")
    other_crs = write_raster(tmp_path / "laea.tif", read_raster(rasters[0].split("=", 1)[1]), epsg=3035)
    with pytest.raises(InputError, match=r"laea.tif:1\) is EPSG:3035, bio12 .* is WGS 84.*--grid"):
        predict_raster([model], [f"bio1={other_crs}"] + rasters[1:], tmp_path / "x.tif")
    with pytest.raises(InputError, match="cannot give lower"):
        no_interval = load_model(model)
        no_interval.metadata["interval"] = None
        save_model(tmp_path / "plain.wsmodel", no_interval)
        predict_raster([tmp_path / "plain.wsmodel"], rasters, tmp_path / "x.tif", outputs=["mean", "lower"])
    with pytest.raises(InputError, match="output mean asked for twice"):
        predict_raster([model], rasters, tmp_path / "x.tif", outputs=["mean", "sd", "mean"])
    assert not list(tmp_path.glob("x.tif"))
    assert predict_raster([model], rasters, tmp_path / "s.tif", outputs="mean, sd").band_names == \
        ["Rh_annual_mean", "Rh_annual_sd"]  # the library also takes the command line's comma-separated text
    # a raster the model does not use may lie on another grid (a folder of covariates given whole)
    assert predict_raster([model], rasters + [f"elevation={other_crs}"], tmp_path / "u.tif", outputs="mean")


def test_a_refused_input_ends_the_program_without_waiting_for_the_kernel(srdb_map_model, tmp_path):
    """numba compiles the kernel on its first use after an installation (about a minute);
    a missing covariate is reported and the program ends at once, not after the compilation."""
    model, rasters, _ = srdb_map_model
    script = ("import sys, time\n"
              "from wholesoil.core.maps import predict\n"
              "predict.load_compiled = lambda: time.sleep(120)  # a kernel still compiling\n"
              "from wholesoil.core.cli import program\n"
              f"sys.argv = ['wholesoil', 'predict-raster', {str(model)!r}, '--covariates', *{rasters[:2]!r}, "
              f"'--output', {str(tmp_path / 'x.tif')!r}]\n"
              "program()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "lack 'biome'" in done.stderr and not (tmp_path / "x.tif").exists()


def test_grid_warps_covariates_on_the_fly(srdb_map_model, tmp_path):
    """A covariate on a finer, shifted grid is warped to the reference grid (bilinear; classes nearest)."""
    model, rasters, _ = srdb_map_model
    bio1 = read_raster(rasters[0].split("=", 1)[1])
    fine = write_raster(tmp_path / "bio1_fine.tif", np.repeat(np.repeat(bio1, 2, axis=0), 2, axis=1), pixel=0.25,
                        origin=(-125.0, 40.0))
    reference = rasters[2].split("=", 1)[1]
    warped = predict_raster([model], [f"bio1={fine}"] + rasters[1:], tmp_path / "w.tif", grid=reference,
                            outputs=["mean"])
    aligned = predict_raster([model], rasters, tmp_path / "a.tif", outputs=["mean"])
    a, w = read_bands(aligned)[0][0], read_bands(warped)[0][0]
    both = np.isfinite(a) & np.isfinite(w)
    assert both.sum() > 0.9 * np.isfinite(a).sum()
    assert np.median(np.abs(a[both] - w[both])) < 1e-3 * np.nanmean(np.abs(a))
    shape = read_raster(reference).shape
    assert f"covariates warped on the fly to the grid of {reference} ({shape[1]} x {shape[0]} pixels): nearest " \
           "neighbour for biome; bilinear for bio1, bio12" in warped.notes


def test_grid_leaves_pixels_outside_a_covariate_without_nodata_value_empty(tmp_path):
    """GDAL's warp filled the pixels outside a raster that has no nodata value with 0, a value the
    model then predicted from (whole-number classes too)."""
    from osgeo import gdal

    from wholesoil.core.maps.stack import CovariateStack
    from wholesoil.core.rasters import open_raster, read_window

    inside = write_raster(tmp_path / "small.tif", np.full((4, 4), 5.0), nodata=None)
    classes = str(tmp_path / "classes.tif")
    gdal.Translate(classes, inside, outputType=gdal.GDT_Byte)
    reference = write_raster(tmp_path / "grid.tif", np.zeros((8, 8)), origin=(-11.0, 51.0))
    stack = CovariateStack([inside, classes], grid=reference, categorical={"classes"})
    for name in ("small", "classes"):
        values = read_window(open_raster(stack.layers[name][0]), (0, 0, 8, 8))[0]
        assert np.isnan(values[[0, 1, 6, 7]]).all() and np.isnan(values[:, [0, 1, 6, 7]]).all(), name
        assert (values[2:6, 2:6] == 5).all(), name


def test_metadata_records_absolute_paths_and_the_interval(srdb_map_model, tmp_path, monkeypatch):
    """Provenance a map carries elsewhere: absolute paths, the checksum, the interval's level and truncation."""
    from osgeo import gdal

    model, rasters, _ = srdb_map_model
    monkeypatch.chdir(model.parent)
    run = predict_raster([model.name], rasters, tmp_path / "m.tif", outputs=["mean", "lower"])
    dataset = gdal.Open(str(run))
    metadata = dataset.GetMetadata()
    assert metadata["model_1"] == str(model) and len(metadata["model_1_sha256"]) == 64
    assert all(os.path.isabs(item.split("=", 1)[1]) for item in metadata["covariates"].split("; "))
    lower = dataset.GetRasterBand(2).GetMetadata()
    trained = load_model(model)
    assert lower["level"] == f"{trained.metadata['interval']['level']:g}" and "Coulston" in lower["interval"]
    assert lower["truncated_at"] == f"{trained.metadata['target']['lower_limit']:g}"
    assert dataset.GetRasterBand(1).GetUnitType() == "g C m-2 yr-1"  # GDAL's unit field too (gdalinfo, QGIS)


def test_grid_interpolates_whole_number_rasters_without_rounding(tmp_path):
    """bio1 is stored as whole tenths of a degree: bilinear values between pixels are fractions."""
    from osgeo import gdal

    from wholesoil.core.maps.stack import CovariateStack
    from wholesoil.core.rasters import open_raster, read_window

    coarse = gdal.GetDriverByName("GTiff").Create(str(tmp_path / "t.tif"), 3, 3, 1, gdal.GDT_Int16)
    coarse.SetGeoTransform((0.0, 1.0, 0.0, 3.0, 0.0, -1.0))
    coarse.SetProjection(gdal.osr.SRS_WKT_WGS84_LAT_LONG)
    coarse.GetRasterBand(1).WriteArray(np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]], dtype=np.int16))
    coarse = None
    reference = write_raster(tmp_path / "grid.tif", np.zeros((6, 6)), origin=(0.0, 3.0), pixel=0.5)
    layers = CovariateStack([f"t={tmp_path / 't.tif'}", f"c={tmp_path / 't.tif'}"], grid=reference,
                            categorical={"c"}).layers
    warped, classes = (read_window(open_raster(layers[n][0]), (0, 0, 6, 6), [1])[0] for n in ("t", "c"))
    expected = gdal.Warp("", str(tmp_path / "t.tif"), format="MEM", outputBounds=(0, 0, 3, 3), width=6, height=6,
                         resampleAlg="bilinear", outputType=gdal.GDT_Float32).ReadAsArray()
    assert np.any(warped % 1 != 0) and np.allclose(warped, expected)
    assert np.all(classes % 1 == 0)  # classes stay whole (nearest)


def test_the_library_never_writes_over_what_it_reads(srdb_map_model, tmp_path):
    """From Python (no command transaction) a map written to its model file, or with a grid to a covariate or the
    grid itself, destroyed that file; a .png name got a GeoTIFF."""
    import hashlib
    import shutil

    from osgeo import gdal

    model, rasters, _ = srdb_map_model
    copies = {"model": shutil.copy(model, tmp_path / "model.tif")}  # a model file is read whatever its name
    for name, item in (("bio1", rasters[0]), ("grid", rasters[2])):
        copies[name] = str(tmp_path / f"{name}.tif")
        gdal.Translate(copies[name], item.split("=", 1)[1]).FlushCache()
    before = {name: hashlib.sha256(open(path, "rb").read()).hexdigest() for name, path in copies.items()}
    covariates = [f"bio1={copies['bio1']}"] + rasters[1:]
    for output, grid in ((copies["model"], None), (copies["bio1"], copies["grid"]), (copies["grid"], copies["grid"])):
        with pytest.raises(InputError, match="is also an input"):
            predict_raster([copies["model"]], covariates, output, grid=grid)
    assert before == {name: hashlib.sha256(open(path, "rb").read()).hexdigest() for name, path in copies.items()}
    for output in (tmp_path / "o.png", model):
        with pytest.raises(InputError, match=r"(o.png|rh.wsmodel): wholesoil writes GeoTIFF rasters; name it .tif"):
            predict_raster([model], rasters, output)
    assert predict_raster(str(model), rasters, tmp_path / "one.tif", outputs="mean").band_names == ["Rh_annual_mean"]


def test_a_compiling_kernel_is_announced_and_a_cancel_stops_the_wait(srdb_map_model, tmp_path, monkeypatch):
    """The first map after an installation waited about a minute for numba, silent and deaf to QGIS's Cancel."""
    import time

    from wholesoil.core.maps import predict

    model, rasters, _ = srdb_map_model
    monkeypatch.setattr(predict, "load_compiled", lambda: time.sleep(60))  # a kernel still compiling
    told, start = [], time.perf_counter()
    with pytest.raises(CancelledError), OutputTransaction(tell=told.append):
        predict_raster([model], rasters, tmp_path / "c.tif", is_cancelled=lambda: time.perf_counter() - start > 3)
    assert time.perf_counter() - start < 10 and not list(tmp_path.iterdir())
    assert told == ["compiling the forest kernel with numba (once after an installation or update, about a minute)"]


def test_cancel_leaves_nothing(srdb_map_model, tmp_path):
    model, rasters, _ = srdb_map_model
    calls = []
    with pytest.raises(CancelledError):
        predict_raster([model], rasters, tmp_path / "c.tif", block=32,
                       progress=calls.append, is_cancelled=lambda: len(calls) >= 3)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_dask_cluster_gives_the_same_map(srdb_map_model, tmp_path, monkeypatch):
    """The workers run in another folder than the command: a relative model path still names the file."""
    from distributed import LocalCluster

    model, rasters, _ = srdb_map_model
    reference = read_bands(predict_raster([model], rasters, tmp_path / "local.tif", outputs=["mean", "sd"]))[0]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        monkeypatch.chdir(model.parent)
        run = predict_raster([model.name], rasters, tmp_path / "dask.tif", outputs=["mean", "sd"], backend="dask",
                             scheduler=cluster.scheduler_address, block=64)
    assert np.array_equal(read_bands(run)[0], reference, equal_nan=True)


def test_fallback_without_numba_gives_the_same_map(srdb_map_model, tmp_path):
    """In a process where numba cannot be imported (a QGIS install without it)."""
    model, rasters, folder = srdb_map_model
    script = (
        "import sys; sys.modules['numba'] = None\n"
        "from wholesoil.core.maps import kernels; assert kernels.numba is None\n"
        "from wholesoil.core.maps.predict import predict_raster\n"
        f"predict_raster([{str(model)!r}], {rasters!r}, {str(tmp_path / 'nonumba.tif')!r})\n")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT)
    compiled = read_bands(predict_raster([model], rasters, tmp_path / "compiled.tif"))[0]
    assert np.array_equal(read_bands(tmp_path / "nonumba.tif")[0], compiled, equal_nan=True)


def test_cli_predict_raster_and_predict(capsys, srdb_map_model, tmp_path, resources):
    model, rasters, _ = srdb_map_model
    code = main(["predict-raster", str(model), "--covariates", *rasters, "--output", str(tmp_path / "m.tif"),
                 "--outputs", "mean,sd", "--jobs", "2", "--backend", "threading"])
    _, err = capsys.readouterr()
    assert code == 0 and "Rh_annual_mean, Rh_annual_sd" in err
    code = main(["predict-raster", str(model), "--covariates", *rasters[:2], "--output", str(tmp_path / "x.tif")])
    _, err = capsys.readouterr()
    assert code == 2 and "lack 'biome'" in err and len(err.strip().splitlines()) == 1
    sites = pixel_table(rasters).dropna().head(50)
    sites.to_csv(tmp_path / "sites.csv", index=False)
    code = main(["predict", str(model), str(tmp_path / "sites.csv"), str(tmp_path / "pred.csv")])
    out = pd.read_csv(tmp_path / "pred.csv")
    assert code == 0 and {"predicted", "sd", "cv", "lower", "upper"} <= set(out.columns) and len(out) == 50
    summary = capsys.readouterr().out.splitlines()
    assert summary[0].split()[0] == "statistic" and summary[1].split()[0] == "count"  # the header said 'index'
    np.testing.assert_allclose(out["predicted"], predict_table(load_model(model), sites)["predicted"])


def test_cli_predict_writes_the_input_columns_of_a_csv_as_they_were(tmp_path):
    """Site IDs such as 007 are joined on: a CSV's own cells come back as their text, the predictions added."""
    rng = np.random.default_rng(5)
    table = pd.DataFrame({"a": rng.normal(size=90), "soil": rng.integers(1, 4, 90)})
    table["y"] = 2 * table["a"] + (table["soil"] == 2) + rng.normal(scale=0.1, size=90)
    save_model(tmp_path / "m.wsmodel", train_model(table, "y", ["a", "soil"], ["soil"], independent_rows=True,
                                                   n_trees=10, n_splits=3))
    (tmp_path / "sites.csv").write_text("site,plot,a,soil,remark\n007,12,0.50,1,NA\n0042,,-1.250,2.0,\"x, y\"\n")
    assert main(["predict", str(tmp_path / "m.wsmodel"), str(tmp_path / "sites.csv"), str(tmp_path / "pred.csv"),
                 "--quiet"]) == 0  # as every command with progress takes it
    out = pd.read_csv(tmp_path / "pred.csv", dtype=str, keep_default_na=False)
    assert list(out.columns) == ["site", "plot", "a", "soil", "remark", "predicted", "sd", "cv", "lower", "upper"]
    assert out.iloc[:, :5].values.tolist() == [["007", "12", "0.50", "1", "NA"], ["0042", "", "-1.250", "2.0", "x, y"]]
    sites = pd.DataFrame({"a": [0.5, -1.25], "soil": [1, 2]})
    np.testing.assert_allclose(out["predicted"].astype(float), predict_table(load_model(tmp_path / "m.wsmodel"),
                                                                             sites)["predicted"])


def named_files(rasters, folder):
    """The covariate files under their covariate names (QGIS names a layer after its file)."""
    named = []
    for item in rasters:
        name, path = item.split("=", 1)
        (folder / f"{name}.asc").symlink_to(path)
        (folder / f"{name}.prj").symlink_to(path[:-4] + ".prj")
        named.append(str(folder / f"{name}.asc"))
    return named


@pytest.mark.qgis
def test_processing_run_predictraster(wholesoil_processing, srdb_map_model, tmp_path):
    from qgis.core import QgsProcessingException

    model, rasters, _ = srdb_map_model
    result = wholesoil_processing.run("wholesoil:predictraster", {
        "MODELS": [str(model)], "COVARIATES": named_files(rasters, tmp_path), "OUTPUTS": [0, 1],
        "OUTPUT": str(tmp_path / "q.tif")})
    bands, names = read_bands(result["OUTPUT"])
    reference = read_bands(predict_raster([model], rasters, tmp_path / "ref.tif", outputs=["mean", "sd"]))[0]
    assert names == ["Rh_annual_mean", "Rh_annual_sd"] and np.array_equal(bands, reference, equal_nan=True)
    covariates = [str(path) for path in tmp_path.glob("*.asc")]
    with pytest.raises(QgsProcessingException, match="several models are named Rh_annual; .*Band name prefixes"):
        wholesoil_processing.run("wholesoil:predictraster", {"MODELS": [str(model)] * 2, "COVARIATES": covariates,
                                                             "OUTPUT": str(tmp_path / "two.tif")})
    two = wholesoil_processing.run("wholesoil:predictraster", {
        "MODELS": [str(model)] * 2, "NAMES": "forest, again", "COVARIATES": covariates, "OUTPUTS": [0],
        "OUTPUT": str(tmp_path / "two.tif")})
    assert read_bands(two["OUTPUT"])[1] == ["forest_mean", "again_mean"]
    from qgis.core import QgsRasterLayer

    layer = QgsRasterLayer(covariates[0], "bio1")
    with pytest.raises(QgsProcessingException, match=r"Model files takes model files \(.wsmodel, from Train model\), "
                                                     r"not \[<QgsRasterLayer"):
        wholesoil_processing.run("wholesoil:predictraster", {"MODELS": [layer], "COVARIATES": covariates,
                                                             "OUTPUT": str(tmp_path / "layer.tif")})
    from osgeo import gdal  # a file named otherwise whose band says bio1 (as the command line names it)

    described = gdal.Translate(str(tmp_path / "wc_temperature.tif"), rasters[0].split("=", 1)[1])
    described.GetRasterBand(1).SetDescription("bio1")
    described = None
    by_band = wholesoil_processing.run("wholesoil:predictraster", {
        "MODELS": [str(model)], "OUTPUTS": [0, 1], "OUTPUT": str(tmp_path / "by_band.tif"),
        "COVARIATES": [str(tmp_path / "wc_temperature.tif")] + [p for p in covariates if "bio1." not in p]})
    assert np.array_equal(read_bands(by_band["OUTPUT"])[0], reference, equal_nan=True)
    files = [item.split("=", 1)[1] for item in rasters]  # named by COVARIATE_NAMES (qgis_process cannot rename layers)
    named = wholesoil_processing.run("wholesoil:predictraster", {
        "MODELS": [str(model)], "COVARIATES": files, "COVARIATE_NAMES": ", ".join(n.split("=")[0] for n in rasters),
        "OUTPUTS": [0, 1], "OUTPUT": str(tmp_path / "named.tif")})
    assert np.array_equal(read_bands(named["OUTPUT"])[0], reference, equal_nan=True)
    with pytest.raises(QgsProcessingException, match=r"2 covariate names for 3 covariate rasters \(3 bands\); give "
                                                     "one per raster, or one per band of every raster"):
        wholesoil_processing.run("wholesoil:predictraster", {"MODELS": [str(model)], "COVARIATES": files,
                                                             "COVARIATE_NAMES": "bio1,bio12",
                                                             "OUTPUT": str(tmp_path / "never.tif")})
    stack = gdal.BuildVRT(str(tmp_path / "stack.vrt"), files, separate=True)  # bands without descriptions
    stack = None
    per_band = wholesoil_processing.run("wholesoil:predictraster", {
        "MODELS": [str(model)], "COVARIATES": [str(tmp_path / "stack.vrt")], "OUTPUTS": [0, 1],
        "COVARIATE_NAMES": ", ".join(n.split("=")[0] for n in rasters), "OUTPUT": str(tmp_path / "per_band.tif")})
    assert np.array_equal(read_bands(per_band["OUTPUT"])[0], reference, equal_nan=True)


@pytest.mark.qgis_process
def test_qgis_process_predictraster(srdb_map_model, tmp_path):
    model, rasters, _ = srdb_map_model
    done = run_qgis_process("run", "wholesoil:predictraster", "--", f"MODELS={model}",
                            *[f"COVARIATES={p}" for p in named_files(rasters, tmp_path)],
                            f"OUTPUT={tmp_path / 'q.tif'}", json_output=True)
    bands, names = read_bands(done.json["results"]["OUTPUT"])
    reference = read_bands(predict_raster([model], rasters, tmp_path / "ref.tif"))[0]
    assert names[0] == "Rh_annual_mean" and np.array_equal(bands, reference, equal_nan=True)
    assert "not recognized as a supported file format" not in done.stderr  # model files are not opened as layers
    (tmp_path / "again").mkdir()
    refused = run_qgis_process("run", "wholesoil:predictraster", "--", f"MODELS={model}",
                               *[f"COVARIATES={p}" for p in named_files(rasters, tmp_path / "again")],
                               f"OUTPUT={model}", check=False)
    assert refused.returncode != 0 and "is also an input" in refused.stderr


def test_a_pixel_at_a_training_bound_is_inside_the_range():
    """Covariates come from float32 rasters: 12.3 reads 12.300000190734863, and is no extrapolation."""
    from wholesoil.core.maps.predict import _float32_range

    low, high = _float32_range(-0.1, 12.3)
    pixels = np.array([-0.1, 12.3], dtype=np.float32).astype(float)
    assert np.all((pixels >= low) & (pixels <= high)) and high - 12.3 < 1e-6 and -0.1 - low < 1e-7


def test_a_kernel_that_fails_to_load_fails_the_run_once(srdb_map_model, tmp_path, monkeypatch):
    from wholesoil.core.maps import predict

    def broken():
        raise RuntimeError("numba could not compile the kernel")

    model, rasters, _ = srdb_map_model
    monkeypatch.setattr(predict, "load_compiled", broken)
    with pytest.raises(RuntimeError, match="numba could not compile the kernel"):
        predict_raster([model], rasters, tmp_path / "k.tif")
    assert not (tmp_path / "k.tif").exists()


def test_grid_that_misses_a_covariate_is_refused(tmp_path):
    """A reference grid elsewhere on Earth would give an all-nodata map: one line naming both extents."""
    from wholesoil.core.maps.stack import CovariateStack

    europe = write_raster(tmp_path / "bio1.tif", np.ones((4, 4)), origin=(-10.0, 50.0))
    africa = write_raster(tmp_path / "grid.tif", np.zeros((4, 4)), origin=(20.0, 0.0))
    with pytest.raises(InputError, match=r"covariate bio1 \(.*bio1.tif\) does not overlap the reference grid "
                                         r".*grid.tif .*Reference grid in QGIS\): it covers x -10 to -8, y 48 to 50, "
                                         r"the grid x 20 to 22, y -2 to 0"):
        CovariateStack([europe], grid=africa).select(["bio1"])
    here = write_raster(tmp_path / "bio12.tif", np.ones((4, 4)), origin=(20.0, 0.0))  # only covariates used count
    assert set(CovariateStack([europe, here], grid=africa).select(["bio12"])) == {"bio12"}
    laea = write_raster(tmp_path / "laea.tif", np.zeros((4, 4)), epsg=3035, origin=(2900000.0, 3100000.0),
                        pixel=1000.0)  # Europe in ETRS89-LAEA: overlaps after transformation
    assert set(CovariateStack([europe], grid=laea).layers) == {"bio1"}
    with pytest.raises(InputError, match="does not overlap"):
        CovariateStack([europe], grid=write_raster(tmp_path / "far.tif", np.zeros((4, 4)), epsg=3035,
                                                   origin=(1000000.0, 1000000.0), pixel=1000.0)).select(["bio1"])


def test_a_single_band_raster_answers_to_its_file_name_and_its_band_description(tmp_path):
    """QGIS names a sampled layer by its layer (file) name, the command line by its band description:
    a model from either maps with the other's naming; a name two rasters offer is not guessed."""
    from osgeo import gdal

    from wholesoil.core.maps.stack import CovariateStack

    def described(name, description, values):
        path = write_raster(tmp_path / f"{name}.tif", values)
        dataset = gdal.Open(path, gdal.GA_Update)
        dataset.GetRasterBand(1).SetDescription(description)
        dataset = None
        return path

    classes = described("americas_biome", "biome", np.arange(16.0).reshape(4, 4) % 3)
    climate = described("wc_bio1", "bio1", np.ones((4, 4)))
    cli = CovariateStack([classes, climate])
    assert set(cli.layers) == {"biome", "bio1"} and cli.aliases == {"americas_biome": "biome", "wc_bio1": "bio1"}
    assert cli.select(["americas_biome", "bio1"]) == {"americas_biome": (classes, 1), "bio1": (climate, 1)}
    assert cli.sources["americas_biome"] == f"{classes}:1"
    given = CovariateStack([("wc_bio1", described("t2", "mean_temp", np.ones((4, 4)))), climate])
    assert given.layers["wc_bio1"][0].endswith("t2.tif") and "wc_bio1" not in given.aliases  # a label wins
    # QGIS layers of yearly exports, every band described "NDVI": the layer names name them, NDVI is not guessed
    years = CovariateStack([(f"ndvi_{y}", described(f"ndvi_{y}", "NDVI", np.full((4, 4), y))) for y in (2019, 2020)])
    assert set(years.layers) == {"ndvi_2019", "ndvi_2020"} and "NDVI" not in years.aliases
    # descriptions naming each other's files: every raster keeps its own name
    crossed = CovariateStack([("elev", described("elev", "dem", np.ones((4, 4)))),
                              ("dem", described("dem", "elev", np.ones((4, 4))))])
    assert crossed.select(["elev", "dem"]) == {"elev": (str(tmp_path / "elev.tif"), 1),
                                               "dem": (str(tmp_path / "dem.tif"), 1)}
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first, second = (described(f"{folder}/x", label, np.ones((4, 4))) for folder, label in (("one", "p"), ("two", "q")))
    with pytest.raises(InputError, match=r"lack 'x' .*the rasters give: p, q\)"):  # both offer x: not guessed
        CovariateStack([first, second]).select(["x"])
    reference = write_raster(tmp_path / "grid.tif", np.zeros((8, 8)), pixel=0.25)
    warped = CovariateStack([classes], grid=reference, categorical={"americas_biome"})
    assert "<ResampleAlg>NearestNeighbour</ResampleAlg>" in warped.layers["biome"][0]  # classes, though aliased


def test_covariates_name_bands_of_a_stack_without_descriptions(srdb_map_model, tmp_path):
    """gdalbuildvrt -separate makes bands without descriptions: NAME=RASTER:BAND names one (by number or description)."""
    from osgeo import gdal

    from wholesoil.core.maps.stack import CovariateStack

    model, rasters, _ = srdb_map_model
    files = [item.split("=", 1)[1] for item in rasters]
    stack = str(tmp_path / "stack.vrt")
    gdal.BuildVRT(stack, files, separate=True).FlushCache()
    reference = read_bands(predict_raster([model], rasters, tmp_path / "ref.tif", outputs=["mean"]))[0]
    named = [f"{item.split('=')[0]}={stack}:{band}" for band, item in enumerate(rasters, start=1)]
    assert np.array_equal(read_bands(predict_raster([model], named, tmp_path / "b.tif", outputs=["mean"]))[0],
                          reference, equal_nan=True)
    assert set(CovariateStack([f"{stack}:2"]).layers) == {"stack_b2"}
    twice = [named[0], f"{named[1].split('=')[0]}={stack}:1", *named[2:]]  # one band given for two covariates
    notes = predict_raster([model], twice, tmp_path / "twice.tif", outputs=["mean"]).notes
    first, second = (item.split("=")[0] for item in named[:2])
    assert f"the covariates {first}, {second} are read from one band ({stack}:1); if they are different " \
           "quantities, check the NAME=RASTER:BAND items (Covariate names in QGIS)" in notes
    with pytest.raises(InputError, match=r"has no band 4 \(it has 3\)"):
        CovariateStack([f"x={stack}:4"])
    with pytest.raises(InputError, match=r"covariate raster .*missing.vrt does not exist"):
        CovariateStack([f"x={tmp_path / 'missing.vrt'}:1"])


def test_covariates_from_a_table_of_a_geopackage_and_a_variable_of_a_netcdf_file(capsys, tmp_path):
    """GPKG:x.gpkg:table and NETCDF:"x.nc":variable are covariates, named by their table or variable (a GeoPackage's
    band is described 'Height'); NAME= names them, and :BAND after the table is a band, not part of the file."""
    import zipfile

    from wholesoil.core.maps.stack import CovariateStack

    rng = np.random.default_rng(3)
    table = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    table["y"] = 2 * table.a - table.b + rng.normal(scale=0.1, size=200)
    model = tmp_path / "m.wsmodel"
    save_model(model, train_model(table, "y", ["a", "b"], [], independent_rows=True, n_trees=10, n_splits=3))
    a, b = (rng.normal(size=(40, 50)).astype(np.float32) for _ in range(2))
    tifs = [f"a={write_raster(tmp_path / 'a.tif', a)}", f"b={write_raster(tmp_path / 'b.tif', b)}"]
    expected = read_bands(predict_raster([model], tifs, tmp_path / "tif.tif", outputs=["mean"]))[0]
    gpkg = write_geopackage(tmp_path / "covariates.gpkg", {"a": a, "second": b})
    assert set(CovariateStack([f"GPKG:{gpkg}:a", f"GPKG:{gpkg}:second"]).layers) == {"a", "second"}
    assert CovariateStack([f"b=GPKG:{gpkg}:second:1"]).layers == {"b": (f"GPKG:{gpkg}:second", 1)}
    with zipfile.ZipFile(tmp_path / "covariates.zip", "w") as zipped:  # /vsizip/ rasters are read too
        zipped.write(tmp_path / "a.tif", "a.tif")
    assert CovariateStack([f"/vsizip/{tmp_path}/covariates.zip/a.tif"]).layers == {
        "a": (f"/vsizip/{tmp_path}/covariates.zip/a.tif", 1)}
    covariates = [f"GPKG:{gpkg}:a", f"b=GPKG:{gpkg}:second"]
    run = predict_raster([model], covariates, tmp_path / "gpkg.tif", outputs=["mean"])
    np.testing.assert_array_equal(read_bands(run)[0], expected)
    assert main(["predict-raster", str(model), "--covariates", *covariates, "--output", str(tmp_path / "cli.tif"),
                 "--outputs", "mean"]) == 0
    np.testing.assert_array_equal(read_bands(tmp_path / "cli.tif")[0], expected)
    with pytest.raises(InputError, match=r"^cannot open raster GPKG:.*covariates\.gpkg:b: Cannot find table 'b'"):
        CovariateStack([f"GPKG:{gpkg}:b"])
    capsys.readouterr()
    assert main(["predict-raster", str(model), "--covariates", gpkg, "--output", str(tmp_path / "never.tif")]) == 2
    assert capsys.readouterr().err.strip() == (f"wholesoil predict-raster: error: raster {gpkg} holds 2 rasters; "
                                               f"give one of them (GPKG:{gpkg}:a, GPKG:{gpkg}:second)")
    nc = write_netcdf(tmp_path / "covariates.nc", {"a": a, "b": b})
    run = predict_raster([model], [f'NETCDF:"{nc}":a', f'NETCDF:"{nc}":b'], tmp_path / "nc.tif", outputs=["mean"])
    np.testing.assert_array_equal(read_bands(run)[0], expected)


def test_a_multi_band_stack_reads_its_grid_once(tmp_path, monkeypatch):
    """A 30-band stack opened its file 30 times for the grid check (0.05 s of every map's start)."""
    from wholesoil.core.maps import engine, stack

    path = write_raster(tmp_path / "stack.tif", np.ones((30, 4, 4)))
    calls = []
    for module in (stack, engine):
        monkeypatch.setattr(module, "raster_info", lambda p, read=module.raster_info: calls.append(p) or read(p))
    layers = stack.CovariateStack([path])
    assert len(layers.layers) == 30 and calls == [path]
    engine.map_blocks(lambda blocks: blocks["stack_b1"], layers.select(list(layers.layers)), str(tmp_path / "o.tif"),
                      ["b1"])
    assert calls == [path, path]


def test_loading_the_kernel_module_prints_no_warning():
    """QGIS shows every warning in the algorithm's log: Debian's llvmlite warned on each map run."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-W", "default", "-c", "import wholesoil.core.maps.kernels"],
                          capture_output=True, text=True, check=True)
    assert "Warning" not in done.stderr, done.stderr


@pytest.mark.qgis
def test_qgis_layers_keep_their_names_whatever_their_band_descriptions(wholesoil_processing, tmp_path):
    """elev.tif described "dem" and dem.tif described "elev" (a mislabelled export): QGIS matches the layer names."""
    from osgeo import gdal

    rng = np.random.default_rng(3)
    table = pd.DataFrame({"elev": rng.uniform(0, 1000, 200), "dem": rng.uniform(0, 10, 200)})
    table["y"] = table["elev"] / 100 - table["dem"]
    save_model(tmp_path / "m.wsmodel", train_model(table, "y", ["elev", "dem"], independent_rows=True, n_trees=10,
                                                   n_splits=3))
    for name, described, values in (("elev", "dem", rng.uniform(0, 1000, (6, 7))),
                                    ("dem", "elev", rng.uniform(0, 10, (6, 7)))):
        dataset = gdal.Open(write_raster(tmp_path / f"{name}.tif", values), gdal.GA_Update)
        dataset.GetRasterBand(1).SetDescription(described)
        dataset = None
    result = wholesoil_processing.run("wholesoil:predictraster", {
        "MODELS": [str(tmp_path / "m.wsmodel")], "COVARIATES": [str(tmp_path / "elev.tif"), str(tmp_path / "dem.tif")],
        "OUTPUTS": [0], "OUTPUT": str(tmp_path / "q.tif")})
    expected = predict_raster([tmp_path / "m.wsmodel"], [f"elev={tmp_path / 'elev.tif'}", f"dem={tmp_path / 'dem.tif'}"],
                              tmp_path / "cli.tif", outputs=["mean"])
    assert np.array_equal(read_bands(result["OUTPUT"])[0], read_bands(expected)[0], equal_nan=True)
