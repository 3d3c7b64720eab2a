"""CLI: sample-rasters -> screen-covariates -> train-model -> evaluate-model -> explain-model."""

import numpy as np
import pandas as pd
import pytest

from learn_data import profile_layers
from rasters_util import write_raster
from wholesoil.core.cli import main
from wholesoil.core.learn.modelfile import load_model
from wholesoil.core.tables import read_table

FEATURES = "clim,soil,noise1,depth,biome,relief"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def layers_csv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    table = profile_layers(40, seed=5, profile_sd=0.5)
    table.to_csv(folder / "layers.csv", index=False)
    sites = table.drop_duplicates("profile")[["profile", "x", "y"]]
    sites.to_csv(folder / "sites.csv", index=False)
    relief = np.add.outer(np.arange(60.0), np.arange(40.0))  # 0.5 degree cells: -60 to -40 E, 0 to -30 N
    write_raster(folder / "relief.tif", relief, origin=(-60.0, 0.0), pixel=0.5)
    return folder


def test_the_whole_chain(capsys, layers_csv, tmp_path):
    folder = layers_csv
    code, out, err = run(capsys, "sample-rasters", folder / "sites.csv", tmp_path / "layers_cov.csv",
                         folder / "relief.tif", "--x-col", "x", "--y-col", "y", "--join", folder / "layers.csv",
                         "--on", "profile", "--quiet")
    assert code == 0, err
    sampled = read_table(tmp_path / "layers_cov.csv")
    assert len(sampled) == 200 and sampled["relief"].notna().all() and "soc" in sampled

    code, out, err = run(capsys, "screen-covariates", tmp_path / "layers_cov.csv", tmp_path / "screen.csv",
                         "--features", FEATURES, "--categorical", "biome", "--screened", tmp_path / "screened.csv")
    assert code == 0, err
    assert set(read_table(tmp_path / "screen.csv")["action"]) >= {"kept", "one-hot encoded"}

    model = tmp_path / "soc.wsmodel"
    code, out, err = run(capsys, "train-model", tmp_path / "layers_cov.csv", model, "--target", "soc",
                         "--features", FEATURES, "--categorical", "biome", "--group", "profile", "--folds", 4,
                         "--trees", 30, "--units", "kg m-2", "--permutation-repeats", 2, "--report",
                         tmp_path / "train.html", "--predictions", tmp_path / "oof.csv", "--quiet")
    assert code == 0, err
    assert "rmse" in out and "Coulston tau95" in out
    trained = load_model(model)
    assert trained.metadata["target"]["units"] == "kg m-2" and trained.metadata["groups"] == "column profile"
    pooled_r2 = float(next(line.split()[1] for line in out.splitlines() if line.split()[0] == "r2"))
    assert pooled_r2 == pytest.approx(trained.metadata["metrics"]["r2"], rel=1e-4)
    page = (tmp_path / "train.html").read_text()
    assert page.count("<img") == 3 and "Metrics per fold" in page
    for figure in ("observed_predicted", "importance", "partial_dependence"):
        assert (tmp_path / f"train_{figure}.png").read_bytes()[:4] == b"\x89PNG"
    assert len(read_table(tmp_path / "oof.csv")) == 200

    new = profile_layers(15, seed=6, profile_sd=0.5).assign(relief=3.0)
    new.to_csv(tmp_path / "new.csv", index=False)
    code, out, err = run(capsys, "evaluate-model", model, tmp_path / "new.csv", "--output", tmp_path / "pred.csv",
                         "--report", tmp_path / "eval.html", "--quiet")  # as every command with progress takes it
    assert code == 0, err
    header, values = out.splitlines()[:2]
    assert header.split() == ["n", "r2", "nse", "rmse", "bias", "coverage"] and values.split()[0] == "75"
    predicted = read_table(tmp_path / "pred.csv")
    assert {"predicted", "sd", "cv", "lower", "upper"} <= set(predicted.columns)

    code, out, err = run(capsys, "explain-model", model, "--groups", "site: clim, soil, noise1; depth: depth",
                         "--random-effect", "biome", "--control", "depth", "--trees", 30, "--output",
                         tmp_path / "imp.csv", "--report", tmp_path / "explain.html", "--quiet")
    assert code == 0, err
    assert "group importance" in out and "mixed model" in out and "partial correlations" in out
    assert list(read_table(tmp_path / "imp.csv")["feature"]) == FEATURES.split(",")


@pytest.mark.parametrize("args, message", [
    (["--target", "soc", "--features", "clim,nothing"], "has no column 'nothing'"),
    (["--target", "soc", "--features", "clim,soc"], "also a covariate"),
    (["--target", "soc", "--features", "clim", "--model", "svm", "--param", "depth=3"], "unknown parameter depth"),
    (["--target", "soc", "--features", "clim,biome"], "non-numeric values ('grass', 'savanna', 'forest') in rows 1, 2, 3"),
    (["--target", "soc", "--features", "clim", "--target-transform", "log"], "log transform needs"),
    (["--target", "soc", "--features", "clim", "--trees", "0"], "number of trees must be at least 1 (got 0)"),
    (["--target", "soc", "--features", "clim", "--x-col", "x", "--y-col", "y", "--crs", "EPSG:99999"],
     "unknown CRS 'EPSG:99999'"),  # was ignored: a model without extent and CRS
    (["--target", "soc", "--features", "clim", "--x-col", "x"], "give both the x and the y column"),
    (["--target", "biome", "--features", "clim", "--task", "classification", "--target-transform", "log"],
     "a log target transform is for regression"),
    (["--target", "soc", "--features", "clim", "--level", "95"], "interval level must be between 0 and 1"),
    (["--target", "soc", "--features", "clim", "--permutation-repeats", "0"], "permutation repeats must be at least 1"),
    (["--target", "soc", "--features", "clim", "--interval-repeats", "-1"], "interval repeats must be at least 0"),
    (["--target", "soc", "--features", "clim", "--param", "min_samples_leaf=-1"],
     "model 'random_forest': The 'min_samples_leaf' parameter of RandomForestRegressor must be"),
    (["--target", "soc", "--features", "clim", "--model", "lasso", "--grid", "alpha=0.1,-1"],
     "The 'alpha' parameter of Lasso must be a float in the range [0, inf)"),
])
def test_bad_training_input_exits_2_and_writes_nothing(capsys, layers_csv, tmp_path, args, message):
    table = pd.read_csv(layers_csv / "layers.csv")
    table.loc[3, "soc"] = -1.0
    table.to_csv(tmp_path / "t.csv", index=False)
    code, _, err = run(capsys, "train-model", tmp_path / "t.csv", tmp_path / "m.wsmodel", "--group", "profile",
                       "--folds", 3, "--trees", 10, "--quiet", *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.wsmodel").exists()


def test_evaluate_refuses_a_pickle(capsys, tmp_path):
    import pickle

    (tmp_path / "m.wsmodel").write_bytes(pickle.dumps({"a": 1}))
    (tmp_path / "d.csv").write_text("a\n1\n")
    code, _, err = run(capsys, "evaluate-model", tmp_path / "m.wsmodel", tmp_path / "d.csv")
    assert code == 2 and "does not open pickle" in err


def test_columns_named_like_the_added_ones_are_refused_not_overwritten(capsys, layers_csv, tmp_path):
    """A covariate called 'sd' or 'group' was overwritten in the out-of-fold table (and the
    model file could not be read back); a data column 'upper' (a layer's upper depth) was
    silently replaced by the interval's upper bound."""
    table = pd.read_csv(layers_csv / "layers.csv").assign(sd=1.0, upper=lambda t: t["depth"] - 10)
    table.to_csv(tmp_path / "t.csv", index=False)
    model = tmp_path / "m.wsmodel"
    code, _, err = run(capsys, "train-model", tmp_path / "t.csv", model, "--target", "soc", "--features", "clim,sd",
                       "--group", "profile", "--folds", 3, "--trees", 10, "--quiet")
    assert code == 2 and "column 'sd' has the name of a column wholesoil adds" in err and not model.exists()
    code, _, err = run(capsys, "train-model", tmp_path / "t.csv", model, "--target", "soc", "--features", "clim",
                       "--group", "profile", "--folds", 3, "--trees", 10, "--quiet")
    assert code == 0, err
    table.drop(columns=["sd"]).to_csv(tmp_path / "new.csv", index=False)
    code, _, err = run(capsys, "evaluate-model", model, tmp_path / "new.csv", "--output", tmp_path / "p.csv")
    assert code == 2 and "the data's column 'upper' has the name of a column wholesoil adds" in err
    assert not (tmp_path / "p.csv").exists()


def test_sample_rasters_checks_every_output_before_writing(capsys, layers_csv, tmp_path):
    out = tmp_path / "out.csv"
    code, _, err = run(capsys, "sample-rasters", layers_csv / "sites.csv", out, layers_csv / "relief.tif", "--x-col",
                       "x", "--y-col", "y", "--problems", tmp_path / "problems.xyz", "--quiet")
    assert code == 2 and "--problems" in err and not out.exists()  # OUTPUT was written before the check


def test_sample_rasters_names_and_paths_holding_equals(capsys, layers_csv, tmp_path):
    folder = tmp_path / "year=2020"
    folder.mkdir()
    raster = folder / "relief.tif"
    raster.write_bytes((layers_csv / "relief.tif").read_bytes())
    out = tmp_path / "out.csv"
    code, _, err = run(capsys, "sample-rasters", layers_csv / "sites.csv", out, raster, f"dem={raster}",
                       "--x-col", "x", "--y-col", "y", "--quiet")
    assert code == 0, err
    sampled = read_table(out)
    assert sampled["relief"].notna().all() and sampled["relief"].tolist() == sampled["dem"].tolist()
