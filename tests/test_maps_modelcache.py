"""The cache of prepared forests (core/maps/modelcache.py): the same maps without it, from a cold
and from a warm cache and from a damaged entry; a map from the cache reads neither the model
file nor imports scikit-learn or pandas (issue 8, start-up of a map run)."""

import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from rasters_util import read_bands, write_raster
from wholesoil.core.learn import modelfile
from wholesoil.core.learn.modelfile import save_model
from wholesoil.core.learn.training import train_model
from wholesoil.core.maps import kernels, modelcache
from wholesoil.core.maps.predict import file_checksum, predict_raster

pytestmark = pytest.mark.skipif(kernels.numba is None, reason="the cache serves only the compiled kernel")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A log-target regression forest (back-transformed, bias-corrected) with a class covariate,
    a classification forest, and their covariate rasters."""
    folder = tmp_path_factory.mktemp("cached")
    rng = np.random.default_rng(3)
    n = 300
    table = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "kind": rng.integers(1, 4, size=n)})
    table["y"] = np.exp(0.8 * table.a + 0.3 * table.kind + 0.2 * rng.normal(size=n))
    table["climate"] = np.where(table.b + 0.3 * rng.normal(size=n) > 0, "wet", "dry")
    regression = train_model(table, "y", ["a", "b", "kind"], ["kind"], independent_rows=True, n_trees=40,
                             n_splits=3, target_transform="log", interval_repeats=1)
    classification = train_model(table, "climate", ["a", "b"], task="classification", independent_rows=True,
                                 n_trees=30, n_splits=3)
    save_model(folder / "y.wsmodel", regression)
    save_model(folder / "group.wsmodel", classification)
    grid = {"a": rng.normal(size=(40, 30)), "b": rng.normal(size=(40, 30)),
            "kind": rng.integers(1, 4, size=(40, 30)).astype(float)}
    grid["a"][:3] = np.nan
    rasters = [f"{name}={write_raster(folder / f'{name}.tif', values)}" for name, values in grid.items()]
    return {"y": folder / "y.wsmodel", "climate": folder / "group.wsmodel"}, rasters


def same_bands(first, second):
    (a, names_a), (b, names_b) = read_bands(first), read_bands(second)
    return names_a == names_b and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("which", ["y", "climate"])
def test_the_same_map_without_the_cache_and_from_a_cold_and_a_warm_one(models, which, tmp_path, monkeypatch):
    model, rasters = models[0][which], models[1]
    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", "off")
    predict_raster([model], rasters, tmp_path / "off.tif")
    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", str(tmp_path / "cache"))
    assert not list((tmp_path).glob("cache/*.forest"))
    predict_raster([model], rasters, tmp_path / "cold.tif")
    assert len(list(tmp_path.glob("cache/*.forest"))) == 1

    def unread(path):
        raise AssertionError("the model file was read although its forest is cached")

    monkeypatch.setattr(modelfile, "load_model", unread)
    run = predict_raster([model], rasters, tmp_path / "warm.tif")
    assert same_bands(tmp_path / "off.tif", tmp_path / "cold.tif")
    assert same_bands(tmp_path / "off.tif", tmp_path / "warm.tif")
    assert run.valid_pixels == {which: 30 * 37}


def test_a_map_from_the_cache_imports_neither_scikit_learn_nor_pandas(models, tmp_path, monkeypatch):
    model, rasters = models[0]["y"], models[1]
    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", str(tmp_path / "cache"))
    predict_raster([model], rasters, tmp_path / "first.tif")
    script = ("import sys\n"
              "from wholesoil.core.cli import main\n"
              f"code = main(['predict-raster', {str(model)!r}, '--covariates', *{rasters!r}, "
              f"'--output', {str(tmp_path / 'second.tif')!r}, '--quiet'])\n"
              "print(code, sorted(m for m in ('sklearn', 'pandas') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[-2] == "0 []", done.stdout + done.stderr
    assert same_bands(tmp_path / "first.tif", tmp_path / "second.tif")


def test_a_damaged_entry_is_ignored(models, tmp_path, monkeypatch):
    model, rasters = models[0]["y"], models[1]
    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", str(tmp_path / "cache"))
    predict_raster([model], rasters, tmp_path / "reference.tif")
    entry = next(tmp_path.glob("cache/*.forest"))
    code = np.load(entry / "code.npy")
    code[0] = (len(code) + 5) << kernels.FEATURE_BITS  # a child outside the forest
    np.save(entry / "code.npy", code)
    assert modelcache.load(file_checksum(model)) is None
    predict_raster([model], rasters, tmp_path / "pointing_outside.tif")
    entry = next(tmp_path.glob("cache/*.forest"))
    (entry / "value.npy").write_bytes((entry / "value.npy").read_bytes()[:1000])  # truncated
    assert modelcache.load(file_checksum(model)) is None
    predict_raster([model], rasters, tmp_path / "truncated.tif")
    for name in ("pointing_outside", "truncated"):
        assert same_bands(tmp_path / "reference.tif", tmp_path / f"{name}.tif"), name
    assert modelcache.load(file_checksum(model)) is not None  # the entry was written again


def test_outputs_that_need_the_model_file_read_it_with_a_warm_cache(models, tmp_path, monkeypatch):
    model, rasters = models[0]["y"], models[1]
    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", str(tmp_path / "cache"))
    predict_raster([model], rasters, tmp_path / "mean.tif", outputs=["mean"])
    run = predict_raster([model], rasters, tmp_path / "di.tif", outputs=["mean", "di", "aoa"])
    bands, names = read_bands(run)
    assert names == ["y_mean", "y_di", "y_aoa"] and np.isfinite(bands[1]).sum() == 30 * 37
    assert np.array_equal(bands[0], read_bands(tmp_path / "mean.tif")[0][0], equal_nan=True)


def test_the_fallback_never_reads_the_cache(models, tmp_path, monkeypatch):
    model, rasters = models[0]["y"], models[1]
    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", str(tmp_path / "cache"))
    predict_raster([model], rasters, tmp_path / "compiled.tif")

    def unread(checksum):
        raise AssertionError("the fallback read a packed forest it cannot run")

    monkeypatch.setattr(modelcache, "load", unread)
    predict_raster([model], rasters, tmp_path / "fallback.tif", compiled=False)
    assert same_bands(tmp_path / "compiled.tif", tmp_path / "fallback.tif")


def test_a_folder_that_cannot_be_written_only_slows_the_start(models, tmp_path, monkeypatch):
    model, rasters = models[0]["y"], models[1]
    blocked = tmp_path / "a_file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", str(blocked / "cache"))
    predict_raster([model], rasters, tmp_path / "a.tif")
    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", "off")
    predict_raster([model], rasters, tmp_path / "b.tif")
    assert same_bands(tmp_path / "a.tif", tmp_path / "b.tif")
    assert blocked.read_text() == "not a folder" and not list(tmp_path.glob("**/*.tmp"))


def test_the_least_recently_used_entries_go_beyond_the_size_limit(models, tmp_path, monkeypatch):
    first, second = models[0]["y"], models[0]["climate"]
    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", str(tmp_path / "cache"))
    predict_raster([first], models[1], tmp_path / "first.tif")
    size = sum(part.stat().st_size for part in next(tmp_path.glob("cache/*.forest")).iterdir())
    monkeypatch.setattr(modelcache, "MAX_BYTES", size + 1)
    stale = tmp_path / "cache" / ".an-entry.forest.0123.tmp"  # of a run killed while it stored an entry
    stale.mkdir()
    (stale / "code.npy").write_bytes(b"half")
    os.utime(stale, (time.time() - modelcache.STALE_SECONDS - 1,) * 2)
    fresh = tmp_path / "cache" / ".another.forest.4567.tmp"  # of a run storing now
    fresh.mkdir()
    predict_raster([second], models[1], tmp_path / "second.tif")
    kept = list(tmp_path.glob("cache/*.forest"))
    assert [p.name.split("-")[0] for p in kept] == [file_checksum(second)]
    assert not stale.exists() and fresh.exists()


def test_a_map_from_the_cache_maps_the_arrays_instead_of_reading_them(models, tmp_path, monkeypatch):
    """The start-up of a map: the kept forest's arrays are memory maps of the entry's files, not copies;
    copy-on-write, so that they are writable arrays (those the kernel was compiled for) and the files never change."""
    model, rasters = models[0]["y"], models[1]
    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", str(tmp_path / "cache"))
    predict_raster([model], rasters, tmp_path / "first.tif")
    entry = next(tmp_path.glob("cache/*.forest"))
    before = {path.name: path.read_bytes() for path in entry.iterdir()}
    _, packed = modelcache.load(file_checksum(model))
    for name in kernels.PackedForest.ARRAYS:
        array = getattr(packed, name)
        assert isinstance(array.base, np.memmap) and array.flags.writeable, name
    packed.value[0] += 1.0
    assert {path.name: path.read_bytes() for path in entry.iterdir()} == before


def rewrite_entry(entry, change):
    """Rewrite a cache entry with ``change(about, arrays)`` applied."""
    import json

    about = json.loads((entry / "about.json").read_text())
    arrays = {path.stem: np.load(path) for path in entry.glob("*.npy")}
    change(about, arrays)
    (entry / "about.json").write_text(json.dumps(about))
    for name, values in arrays.items():
        np.save(entry / f"{name}.npy", values)


@pytest.mark.parametrize("damage", ["no levels", "a feature more", "a class less"])
def test_an_entry_that_does_not_fit_together_is_ignored(models, damage, tmp_path, monkeypatch):
    model, rasters = models[0]["y"], models[1]
    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", str(tmp_path / "cache"))
    predict_raster([model], rasters, tmp_path / "reference.tif")
    entry = next(tmp_path.glob("cache/*.forest"))

    def change(about, arrays):
        if damage == "no levels":
            del about["spec"]["levels"]
        elif damage == "a feature more":
            about["n_features"] += 1
        else:
            about["spec"]["classes"] = []
            about["spec"]["task"] = "classification"

    rewrite_entry(entry, change)
    predict_raster([model], rasters, tmp_path / "damaged.tif")
    assert same_bands(tmp_path / "reference.tif", tmp_path / "damaged.tif")
    from wholesoil.core.maps.predict import spec_fits

    assert spec_fits(*modelcache.load(file_checksum(model)))  # written anew


def test_a_folder_that_cannot_be_read_only_slows_the_start(models, tmp_path, monkeypatch):
    model, rasters = models[0]["y"], models[1]
    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", str(tmp_path / ("x" * 300)))  # a name too long for the system
    predict_raster([model], rasters, tmp_path / "a.tif")
    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", "off")
    predict_raster([model], rasters, tmp_path / "b.tif")
    assert same_bands(tmp_path / "a.tif", tmp_path / "b.tif")


def test_a_model_file_replaced_while_it_is_read_is_refused_and_not_cached(models, tmp_path, monkeypatch):
    """The map records the checksum of the file it started with: the forest must be that file's."""
    import shutil

    from wholesoil.core.errors import InputError

    monkeypatch.setenv("WHOLESOIL_CACHE_DIR", str(tmp_path / "cache"))
    model = tmp_path / "m.wsmodel"
    shutil.copy(models[0]["y"], model)
    read = modelfile.load_model

    def replaced_then_read(path):
        shutil.copy(models[0]["climate"], model)
        return read(path)

    monkeypatch.setattr(modelfile, "load_model", replaced_then_read)
    with pytest.raises(InputError, match="changed while it was read"):
        predict_raster([model], models[1], tmp_path / "a.tif")
    assert not list(tmp_path.glob("cache/*.forest")) and not (tmp_path / "a.tif").exists()


def test_packed_arrays_are_checked_before_the_kernel_trusts_them(models):
    """A feature outside the covariates, a child that is its node or comes before it (a walk that
    never ends, in code that cancel cannot stop), a right child past the end, a leaf that does not
    point to itself, arrays of other lengths."""
    from wholesoil.core.learn.modelfile import load_model

    forest = load_model(models[0]["y"]).model.pipeline_[-1]
    packed = kernels.PackedForest(forest)
    arrays = {name: getattr(packed, name).copy() for name in packed.ARRAYS}
    kernels.PackedForest.from_arrays(arrays, packed.n_features, False)
    node = np.flatnonzero(arrays["threshold32"] != np.inf)[-1]
    child, feature = arrays["code"][node] >> kernels.FEATURE_BITS, arrays["code"][node] & 0xFFFF
    last, leaf = len(arrays["code"]) - 1, np.flatnonzero(arrays["threshold32"] == np.inf)[0]
    for where, broken_child, broken_feature in [(node, child, packed.n_features), (node, node, feature),
                                                (node, node - 1, feature), (node, last, feature),
                                                (leaf, leaf + 1, 0), (node, -1, feature)]:
        code = arrays["code"].copy()
        code[where] = (broken_child << kernels.FEATURE_BITS) | broken_feature
        with pytest.raises(ValueError, match="do not fit together"):
            kernels.PackedForest.from_arrays({**arrays, "code": code}, packed.n_features, False)
    with pytest.raises(ValueError, match="do not fit together"):
        kernels.PackedForest.from_arrays({**arrays, "back": arrays["back"][:-1]}, packed.n_features, False)
