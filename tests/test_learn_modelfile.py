"""The .wsmodel file: round trip, self-description, and refusal of files made to run code."""

import io
import json
import pickle
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest

from learn_data import profile_layers
from wholesoil.core.errors import InputError
from wholesoil.core.learn.modelfile import TrainedModel, load_model, save_model
from wholesoil.core.learn.models import MODEL_KINDS, CovariateModel
from wholesoil.core.learn.training import train_model
from wholesoil.core.learn.uncertainty import forest_tree_predictions

FEATURES = ["clim", "soil", "depth", "biome"]


@pytest.fixture(scope="module")
def trained():
    table = profile_layers(30, seed=2)
    return train_model(table, "soc", FEATURES, ["biome"], x_col="x", y_col="y", n_splits=3, n_trees=20,
                       units="Mg C ha-1", target_transform="log", permutation_repeats=1)


def test_round_trip_keeps_model_description_and_tables(trained, tmp_path):
    path = save_model(tmp_path / "soc.wsmodel", trained)
    loaded = load_model(path)
    table = profile_layers(10, seed=9)
    np.testing.assert_array_equal(loaded.model.predict(table), trained.model.predict(table))
    pd.testing.assert_frame_equal(loaded.model.predict_frame(table), trained.model.predict_frame(table))
    assert loaded.metadata == json.loads(json.dumps(trained.metadata))
    for name, frame in trained.tables.items():
        pd.testing.assert_frame_equal(loaded.tables[name], frame, check_dtype=False)
    metadata = loaded.metadata
    assert metadata["features"] == FEATURES
    assert metadata["categorical"] == {"biome": ["forest", "grass", "savanna"]}
    assert metadata["target"] == {"name": "soc", "units": "Mg C ha-1", "transform": "log"}
    assert metadata["extent"][0] >= -60 and metadata["extent"][2] <= -40 and "WGS 84" in metadata["crs_wkt"]
    assert set(metadata["metrics"]) == {"n", "r2", "nse", "rmse", "bias"}
    assert metadata["versions"]["scikit-learn"] and metadata["versions"]["numpy"]


@pytest.mark.parametrize("kind", [k for k in MODEL_KINDS if k != "random_forest"] + ["classification"])
def test_every_learner_round_trips(kind, trained, tmp_path):
    table = profile_layers(20, seed=3)
    if kind == "classification":
        model = CovariateModel(task="classification", categorical=("biome",), n_trees=10)
        target = np.where(table["soc"] > table["soc"].median(), "high", "low")
    else:
        model = CovariateModel(kind=kind, categorical=("biome",), n_trees=10)
        target = table["soc"]
    model.fit(table[FEATURES], target, groups=table["profile"])
    description = {**trained.metadata, "kind": model.kind, "task": model.task}
    loaded = load_model(save_model(tmp_path / "m.wsmodel", TrainedModel(model, description, trained.tables))).model
    np.testing.assert_array_equal(loaded.predict(table), model.predict(table))


class RunsCode:
    """Unpickling this calls os.system: what a hostile model file does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def crafted_archive(path, model_node, arrays=None):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "wholesoil-model", "format_version": 1,
                                                      "metadata": {}, "model": model_node, "tables": {}}))
        for name, data in (arrays or {}).items():
            archive.writestr(name, data)
    return path


def test_files_made_to_run_code_are_refused(trained, tmp_path):
    marker = tmp_path / "pwned"
    pickled = tmp_path / "model.wsmodel"
    pickled.write_bytes(pickle.dumps(RunsCode(marker)))
    with pytest.raises(InputError, match="does not open pickle or joblib files"):
        load_model(pickled)
    dumped = tmp_path / "joblib.wsmodel"
    joblib.dump({"model": RunsCode(marker)}, dumped)
    with pytest.raises(InputError, match="does not open pickle"):
        load_model(dumped)

    system = crafted_archive(tmp_path / "system.wsmodel", {"__object__": "posix.system", "state": {"__dict__": []}})
    with pytest.raises(InputError, match="'posix.system'.*may have been made to run code"):
        load_model(system)

    nested = {"__object__": "wholesoil.CovariateModel",
              "state": {"__dict__": [["pipeline_", {"__object__": "subprocess.Popen", "state": {"__dict__": []}}]]}}
    with pytest.raises(InputError, match=r"model<wholesoil.CovariateModel>\['pipeline_'\] holds an object of type "
                                         r"'subprocess.Popen'"):
        load_model(crafted_archive(tmp_path / "nested.wsmodel", nested))

    buffer = io.BytesIO()
    np.save(buffer, np.array([RunsCode(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="an array that needs pickle"):
        load_model(crafted_archive(tmp_path / "array.wsmodel", {"__array__": "arrays/0.npy"},
                                   {"arrays/0.npy": buffer.getvalue()}))

    with pytest.raises(InputError, match="unknown entry type '__reduce__'"):
        load_model(crafted_archive(tmp_path / "reduce.wsmodel", {"__reduce__": ["os.system", ["touch x"]]}))
    assert not marker.exists()


def test_unsupported_objects_are_not_saved_and_nothing_is_left(trained, tmp_path):
    path = tmp_path / "m.wsmodel"
    save_model(path, trained)
    before = path.read_bytes()
    with pytest.raises(InputError, match="cannot save the model description"):
        save_model(path, TrainedModel(trained.model, {"callback": print}, {}))
    with pytest.raises(InputError, match=r"cannot save model<CovariateModel>\['params'\]\['criterion'\]: objects "
                                         r"of type builtins.function are not supported"):
        save_model(path, TrainedModel(CovariateModel(params={"criterion": lambda: 0}), {}))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.wsmodel"]


def with_nodes(tree, column, value):
    """A copy of a fitted sklearn Tree with one field of its root node changed."""
    from sklearn.tree._tree import Tree

    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    nodes[column][0] = value
    copy = Tree(tree.n_features, tree.n_classes, tree.n_outputs)
    copy.__setstate__({**state, "nodes": nodes})
    return copy


def corrupt_root(column, value):
    def corrupt(learner):
        learner.estimators_[0].tree_ = with_nodes(learner.estimators_[0].tree_, column, value)
    return corrupt


def wider_tree(learner):
    from sklearn.tree import DecisionTreeRegressor

    learner.estimators_[0] = DecisionTreeRegressor(max_depth=2).fit(np.random.default_rng(0).normal(size=(30, 40)),
                                                                     np.arange(30.0))


def two_trees_per_stage(learner):
    learner.estimators_ = np.repeat(learner.estimators_, 2, axis=1)


def more_support_indices(learner):
    learner.regressor_.support_ = np.arange(10 ** 6, dtype=np.int32)


def shorter_coefficients(learner):
    learner.regressor_._dual_coef_ = learner.regressor_._dual_coef_[:, :1].copy()


@pytest.mark.parametrize("kind, corrupt, message", [
    ("random_forest", corrupt_root("feature", 10 ** 9), "nodes point outside it"),
    ("random_forest", corrupt_root("left_child", 10 ** 9), "nodes point outside it"),
    ("random_forest", corrupt_root("right_child", 0), "nodes point outside it"),  # a loop: predict never ends
    ("quantile_forest", wider_tree, "trees whose number of covariates differs from the forest's"),
    ("gradient_boosting", two_trees_per_stage, "stages that are not one tree each"),
    ("svm", more_support_indices, "support-vector arrays that do not fit together"),
    ("svm", shorter_coefficients, "support-vector arrays that do not fit together"),
])
def test_arrays_that_would_send_compiled_code_outside_them_are_refused(kind, corrupt, message, tmp_path):
    """Trees and libsvm trust their learned arrays: a crafted file could make predict read
    (or write) outside them, crash the process or loop for ever. The loader checks them."""
    table = profile_layers(12, seed=4)
    model = CovariateModel(kind=kind, screen=False, n_trees=3).fit(table[["clim", "soil", "depth"]], table["soc"])
    learner = model.pipeline_[-1]
    corrupt(learner[-1] if kind == "svm" else learner)
    path = save_model(tmp_path / "crafted.wsmodel", TrainedModel(model, {"kind": kind}))
    with pytest.raises(InputError, match=message):
        load_model(path)


def test_tree_predictions_refuse_a_table_of_another_width():
    table = profile_layers(12, seed=4)
    model = CovariateModel(screen=False, n_trees=3).fit(table[["clim", "soil"]], table["soc"])
    with pytest.raises(InputError, match="takes 2 covariates, not 3"):
        forest_tree_predictions(model.pipeline_[-1], np.zeros((4, 3)))


def npy_header(shape):
    """The header of a version 1.0 .npy file of float64 values with ``shape``."""
    text = "{'descr': '<f8', 'fortran_order': False, 'shape': %r, }" % (shape,)
    text += " " * (117 - len(text)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode()


def test_files_made_to_exhaust_memory_or_the_stack_are_refused(trained, tmp_path, monkeypatch):
    from wholesoil.core.learn import modelfile

    huge = crafted_archive(tmp_path / "huge.wsmodel", {"__array__": "arrays/0.npy"},
                           {"arrays/0.npy": npy_header((10 ** 13,)) + bytes(64)})  # 73 TiB claimed, 64 bytes held
    with pytest.raises(InputError, match="an array whose header does not match its size"):
        load_model(huge)
    npz = io.BytesIO()
    np.savez(npz, a=np.arange(3.0))
    with pytest.raises(InputError, match="not a plain .npy array"):
        load_model(crafted_archive(tmp_path / "npz.wsmodel", {"__array__": "arrays/0.npy"},
                                   {"arrays/0.npy": npz.getvalue()}))
    deep = tmp_path / "deep.wsmodel"
    with zipfile.ZipFile(deep, "w") as archive:
        archive.writestr("manifest.json", '{"format": "wholesoil-model", "format_version": 1, "metadata": {}, '
                                          '"model": ' + "[" * 100000 + "]" * 100000 + "}")
    with pytest.raises(InputError, match="unreadable manifest.json"):
        load_model(deep)
    nested = crafted_archive(tmp_path / "nested.wsmodel", json.loads('{"__tuple__": [' * 400 + "]}" * 400))
    with pytest.raises(InputError, match="is malformed .RecursionError"):
        load_model(nested)
    path = save_model(tmp_path / "m.wsmodel", trained)
    monkeypatch.setattr(modelfile, "MAX_MANIFEST_BYTES", 1000)  # a small file may unpack to gigabytes
    with pytest.raises(InputError, match="manifest.json unpacks to more than"):
        load_model(path)


def test_a_damaged_file_is_an_input_error(trained, tmp_path):
    path = save_model(tmp_path / "m.wsmodel", trained)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("arrays/0.npy")
    data[info.header_offset + 30 + len(info.filename) + 5] ^= 0xFF  # a byte of the first array's data
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="is damaged"):
        load_model(path)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("target"), "no target name, units and transform"),
    (lambda d: d.update(features=["clim", "soil", "depth"]), "covariates or categorical levels other than the model's"),
    (lambda d: d.update(categorical={"biome": ["forest"]}), "covariates or categorical levels other than the model's"),
    (lambda d: d.update(task="classification"), "a task or model kind other than the model's"),
    (lambda d: d.update(folds="ten"), "no count of rows, groups and folds"),
    (lambda d: d["interval"].pop("tau"), "a malformed interval"),
])
def test_a_description_that_does_not_fit_the_model_is_refused(trained, tmp_path, change, message):
    """evaluate-model and explain-model read the description: a changed one ended in a KeyError."""
    description = json.loads(json.dumps(trained.metadata))
    change(description)
    path = save_model(tmp_path / "m.wsmodel", TrainedModel(trained.model, description, trained.tables))
    with pytest.raises(InputError, match=message):
        load_model(path)
    tables = {k: v for k, v in trained.tables.items() if k != "importance"}
    with pytest.raises(InputError, match="not every table"):
        load_model(save_model(tmp_path / "t.wsmodel", TrainedModel(trained.model, trained.metadata, tables)))
