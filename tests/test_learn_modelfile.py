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
from wholesoil.core.learn.modelfile import TrainedModel, library_versions, load_model, save_model
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
    assert metadata["target"] == {"name": "soc", "units": "Mg C ha-1", "transform": "log", "lower_limit": 0.0,
                                  "bias_correction": "ratio", "bias_factor": loaded.model.bias_factor_}
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
    loaded = load_model(save_model(tmp_path / "m.wsmodel", TrainedModel(model, description(trained, model),
                                                                         trained.tables))).model
    np.testing.assert_array_equal(loaded.predict(table), model.predict(table))
    if kind == "classification":
        np.testing.assert_allclose(loaded.predict_proba(table), model.predict_proba(table), rtol=1e-12)


def description(trained, model):
    """The description of ``trained`` changed to fit another fitted model of the same covariates."""
    target = {**trained.metadata["target"], "transform": model.target_transform}
    return {**trained.metadata, "kind": model.kind, "task": model.task, "target": target}


class RunsCode:
    """Unpickling this calls os.system: what a hostile model file does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def crafted_archive(path, model_node, arrays=None):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps({"format": "wholesoil-model", "format_version": 2,
                                                      "written_with": library_versions(), "metadata": {},
                                                      "model": model_node, "tables": {}}))
        for name, data in (arrays or {}).items():
            archive.writestr(name, data)
    return path


def edit_model_file(path, edit):
    """Rewrite a model file after ``edit(manifest, arrays)`` changed its manifest (JSON) or
    arrays ({member name: array}): how a crafted file is made."""
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        arrays = {name: np.load(io.BytesIO(archive.read(name))) for name in archive.namelist()
                  if name != "manifest.json"}
    edit(manifest, arrays)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for name, values in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, values)
            archive.writestr(name, buffer.getvalue())
    return path


def find(node, match):
    """The first dict inside a manifest node (depth first) for which ``match(node)`` holds."""
    if isinstance(node, dict):
        if match(node):
            return node
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    return next((found for child in children if (found := find(child, match)) is not None), None)


def fitted(name):
    """Matches the fitted estimator ``name`` (an unfitted template has no learned attributes)."""
    return lambda node: node.get("__estimator__") == name and node.get("learned")


def trees(node):
    return "__trees__" in node


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
    raster = tmp_path / "map.tif"  # not a pickle: no word of pickles
    raster.write_bytes(b"II*\x00" + bytes(100))
    with pytest.raises(InputError, match=r"map.tif is not a wholesoil model file \(.wsmodel\); give a model file "
                                         r"written by train-model \(Train model in QGIS\)$"):
        load_model(raster)

    system = crafted_archive(tmp_path / "system.wsmodel", {"__estimator__": "posix.system", "params": {},
                                                           "learned": {}})
    with pytest.raises(InputError, match="'posix.system'.*may have been made to run code"):
        load_model(system)

    nested = {"__estimator__": "wholesoil.CovariateModel", "params": {},
              "learned": {"pipeline_": {"__estimator__": "subprocess.Popen", "params": {}, "learned": {}}}}
    with pytest.raises(InputError, match=r"model<wholesoil.CovariateModel>.pipeline_ holds an object of type "
                                         r"'subprocess.Popen'"):
        load_model(crafted_archive(tmp_path / "nested.wsmodel", nested))

    buffer = io.BytesIO()
    np.save(buffer, np.array([RunsCode(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="an array that needs pickle"):
        load_model(crafted_archive(tmp_path / "array.wsmodel", {"__array__": "arrays/0.npy"},
                                   {"arrays/0.npy": buffer.getvalue()}))

    with pytest.raises(InputError, match="unknown entry type '__reduce__'"):
        load_model(crafted_archive(tmp_path / "reduce.wsmodel", {"__reduce__": ["os.system", ["touch x"]]}))
    with pytest.raises(InputError, match="unknown entry type '__object__'"):  # the state dicts of format 1
        load_model(crafted_archive(tmp_path / "state.wsmodel", {"__object__": "wholesoil.CovariateModel"}))
    assert not marker.exists()


def test_unsupported_objects_are_not_saved_and_nothing_is_left(trained, tmp_path):
    path = tmp_path / "m.wsmodel"
    save_model(path, trained)
    before = path.read_bytes()
    with pytest.raises(InputError, match="cannot save the model description"):
        save_model(path, TrainedModel(trained.model, {"callback": print}, trained.tables))
    with pytest.raises(InputError, match=r"cannot save model<CovariateModel>.params\['criterion'\]: objects "
                                         r"of type builtins.function are not supported"):
        save_model(path, TrainedModel(CovariateModel(params={"criterion": lambda: 0}), {}))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.wsmodel"]


def set_array(key, values):
    """An edit replacing the array of learned attribute or node field ``key`` of the first node found."""
    def edit_node(node, manifest, arrays):
        fields = node.get("learned", {}) if "__estimator__" in node else node["__trees__"]["nodes"]
        arrays[fields[key]["__array__"]] = values(arrays[fields[key]["__array__"]])
    return edit_node


def root_node(field, value):
    def change(nodes):
        nodes = nodes.copy()
        nodes[0] = value
        return nodes
    return set_array(field, change)


def in_tree(tree, change):
    """An edit applying ``change(columns)`` to the node columns of tree number ``tree``
    (views on that tree's nodes, which count from 0 in each tree)."""
    def edit_node(node, manifest, arrays):
        body = node["__trees__"]
        counts = arrays[body["node_count"]["__array__"]]
        start, end = int(counts[:tree].sum()), int(counts[:tree + 1].sum())
        columns = {}
        for key, reference in body["nodes"].items():
            arrays[reference["__array__"]] = arrays[reference["__array__"]].copy()
            columns[key] = arrays[reference["__array__"]][start:end]
        change(columns)
    return edit_node


def child_in_next_tree(columns):
    columns["left_child"][0] = len(columns["left_child"])  # the first node after this tree: the next tree's root


def leaf_with_a_child(columns):
    leaf = int(np.argmax(columns["left_child"] == -1))
    columns["right_child"][leaf] = len(columns["right_child"]) - 1


def two_parents(columns):
    columns["right_child"][0] = columns["left_child"][0]


def set_learned(key, value):
    def edit_node(node, manifest, arrays):
        body = node["__trees__"] if "__trees__" in node else node
        body["learned"][key] = value
    return edit_node


def reshape_trees(node, manifest, arrays):
    count = node["__trees__"]["shape"][0]
    node["__trees__"]["shape"] = [count // 2, 2]


@pytest.mark.parametrize("kind, where, change, message", [
    ("random_forest", trees, root_node("feature", 10 ** 9), "nodes point outside it"),
    ("random_forest", trees, root_node("left_child", 10 ** 9), "nodes point outside it"),
    ("random_forest", trees, root_node("right_child", 0), "nodes point outside it"),  # a loop: predict never ends
    ("random_forest", trees, root_node("right_child", 1), "nodes point outside it"),  # a node with two parents
    ("random_forest", trees, in_tree(1, child_in_next_tree), r"\[1\] holds a decision tree whose nodes point outside"),
    ("random_forest", trees, in_tree(2, leaf_with_a_child), r"\[2\] holds a decision tree whose nodes point outside"),
    ("random_forest", trees, in_tree(2, two_parents), r"\[2\] holds a decision tree whose nodes point outside"),
    ("quantile_forest", trees, set_learned("n_features_in_", 40),
     "trees whose number of covariates differs from the forest's"),
    ("gradient_boosting", trees, reshape_trees, "stages that are not one tree each"),
    ("svm", fitted("sklearn.svm.SVR"), set_array("support_", lambda a: np.arange(10 ** 6, dtype=np.int32)),
     "support-vector arrays that do not fit together"),
    ("svm", fitted("sklearn.svm.SVR"), set_array("_dual_coef_", lambda a: a[:, :1].copy()),
     "support-vector arrays that do not fit together"),
    # issue 10: files that loaded but crashed on use
    ("random_forest", trees, set_learned("n_outputs_", 2 ** 62), "a malformed set of trees"),
    ("random_forest", fitted("wholesoil.CovariateModel"), set_learned("pipeline_", None),
     "no fitted chain of covariate names, levels and learner"),
    ("random_forest", fitted("wholesoil.CovariateModel"), set_learned("predict", 1),
     "an attribute 'predict' that a CovariateModel does not learn"),
])
def test_arrays_that_would_send_compiled_code_outside_them_are_refused(kind, where, change, message, tmp_path):
    """Trees and libsvm trust their learned arrays: a crafted file could make predict read
    (or write) outside them, crash the process or loop for ever. The loader checks them,
    and the learned state of every estimator against its schema."""
    table = profile_layers(12, seed=4)
    model = CovariateModel(kind=kind, screen=False, n_trees=3).fit(table[["clim", "soil", "depth"]], table["soc"])
    trained = train_model(table, "soc", ["clim", "soil", "depth"], kind=kind, group_col="profile", n_splits=3,
                          n_trees=3, screen=False, permutation_repeats=1)
    path = save_model(tmp_path / "crafted.wsmodel", TrainedModel(model, description(trained, model), trained.tables))
    edit_model_file(path, lambda manifest, arrays: change(find(manifest["model"], where), manifest, arrays))
    with pytest.raises(InputError, match=message):
        load_model(path)


def test_crafted_files_fail_in_the_cli_with_one_line(trained, tmp_path, capsys):
    """Issue 10: exit 2 and one line naming the problem, no traceback, nothing written."""
    from wholesoil.core.cli import main

    path = save_model(tmp_path / "m.wsmodel", trained)
    edit_model_file(path, lambda manifest, arrays: set_learned("n_outputs_", 2 ** 62)(
        find(manifest["model"], trees), manifest, arrays))
    data = tmp_path / "data.csv"
    profile_layers(5, seed=1).to_csv(data, index=False)
    code = main(["evaluate-model", str(path), str(data), "--output", str(tmp_path / "out.csv")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "a malformed set of trees" in err
    assert not (tmp_path / "out.csv").exists()


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
        archive.writestr("manifest.json", '{"format": "wholesoil-model", "format_version": 2, "metadata": {}, '
                                          '"model": ' + "[" * 100000 + "]" * 100000 + "}")
    with pytest.raises(InputError, match="unreadable manifest.json"):
        load_model(deep)
    nested = crafted_archive(tmp_path / "nested.wsmodel", json.loads('{"__tuple__": [' * 400 + "]}" * 400))
    with pytest.raises(InputError, match="is malformed .RecursionError"):
        load_model(nested)
    path = save_model(tmp_path / "m.wsmodel", trained)
    monkeypatch.setattr(modelfile, "MAX_MANIFEST_BYTES", 1000)
    with pytest.raises(InputError, match="manifest.json unpacks to more than"):
        load_model(path)


def test_the_unpacked_size_is_bounded_before_anything_is_read(trained, tmp_path, monkeypatch):
    """Issue 10: a 2.3 MB file made evaluate-model take 4.3 GB before refusing it. Members
    that unpack to far more than the file holds are refused before any is read."""
    import tracemalloc

    from wholesoil.core.learn import modelfile

    zeros = {f"arrays/{i}.npy": npy_header((2 ** 21,)) + bytes(8 * 2 ** 21) for i in range(4)}  # 4 x 16 MiB
    bomb = crafted_archive(tmp_path / "bomb.wsmodel", [{"__array__": name} for name in zeros], zeros)
    assert bomb.stat().st_size < 1 << 20
    monkeypatch.setattr(modelfile, "UNPACK_ALLOWANCE", 1 << 20)  # 128 MiB by default; the test stays small
    tracemalloc.start()
    with pytest.raises(InputError, match=r"unpacks to 64.0 MiB, more than [0-9.]+ MiB .50 times its size"):
        load_model(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 << 20
    path = save_model(tmp_path / "m.wsmodel", trained)  # wholesoil's own files pass, unless above the ceiling
    assert load_model(path).metadata == trained.metadata
    monkeypatch.setattr(modelfile, "MAX_UNPACKED_BYTES", 1 << 10)
    with pytest.raises(InputError, match="more than 0.0 MiB .* at most 0 GiB"):
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


def in_directory(member, offset, value):
    """A damage: the 2-byte field at ``offset`` of ``member``'s central directory entry set to ``value``."""
    def damage(data):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entry = data.index(member.encode(), archive.start_dir) - 46  # the name follows 46 bytes of fields
        return data[:entry + offset] + value.to_bytes(2, "little") + data[entry + offset + 2:]
    return damage


@pytest.mark.parametrize("damage", [
    lambda data: data[:20000],  # truncated: not a readable zip, but not a pickle either
    lambda data: data[:len(data) // 2] + bytes(1000) + data[len(data) // 2 + 1000:],
    in_directory("manifest.json", 10, 12),  # compressed by bzip2: an OSError
    in_directory("arrays/3.npy", 10, 99),  # an unknown compression: a NotImplementedError, in an array reader thread
    in_directory("arrays/3.npy", 8, 1),  # encrypted: a RuntimeError
    in_directory("arrays/3.npy", 6, 99),  # a zip version zipfile does not read
    in_directory("arrays/0.npy", 26, 1),  # 64 KiB more unpacked than its data holds (CRC intact)
], ids=["truncated", "overwritten", "bzip2", "compression 99", "encrypted", "zip version", "size"])
def test_a_damaged_or_truncated_file_says_so(trained, tmp_path, damage):
    """A truncated file was called a pickle or joblib file; other damage ended in a traceback."""
    path = save_model(tmp_path / "m.wsmodel", trained)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(InputError, match=r"^model file .*m.wsmodel is damaged or truncated \(.+\); copy it again "
                                         "or train the model again$"):
        load_model(path)


def test_an_array_header_that_does_not_parse_is_refused(tmp_path):
    """numpy tokenizes a .npy header, which raised tokenize.TokenError for an unclosed bracket."""
    header = npy_header((3,)).replace(b"(3,)", b"(3,(")
    with pytest.raises(InputError, match=r"arrays/0.npy, which is not a plain .npy array"):
        load_model(crafted_archive(tmp_path / "m.wsmodel", {"__array__": "arrays/0.npy"},
                                   {"arrays/0.npy": header + bytes(24)}))


def test_unreadable_inputs_fail_in_the_cli_with_one_line(trained, tmp_path, capsys):
    """A model file given as the table to predict, and a truncated model file: exit 2, one line, nothing written."""
    from wholesoil.core.cli import main

    path = save_model(tmp_path / "m.wsmodel", trained)
    truncated = tmp_path / "truncated.wsmodel"
    truncated.write_bytes(path.read_bytes()[:20000])
    data = tmp_path / "data.csv"
    profile_layers(5, seed=1).to_csv(data, index=False)
    for model, table, message in ((path, path, "m.wsmodel is not a table wholesoil can read"),
                                  (truncated, data, "truncated.wsmodel is damaged or truncated")):
        code = main(["predict", str(model), str(table), str(tmp_path / "out.csv")])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and message in err
        assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("target"), "no target name, units, transform and lower limit"),
    (lambda d: d["target"].update(transform="none"), "no target name, units, transform and lower limit"),
    (lambda d: d["covariate_ranges"].pop("clim"), "no covariate ranges"),
    (lambda d: d["interval"].pop("baseline"), "a malformed interval"),
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


def test_an_empty_model_file_says_so(tmp_path):
    (tmp_path / "empty.wsmodel").write_bytes(b"")
    with pytest.raises(InputError, match="empty.wsmodel is empty"):
        load_model(tmp_path / "empty.wsmodel")
