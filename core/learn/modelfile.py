"""The wholesoil model file (``.wsmodel``): safe to load and self-describing.

Pickle and joblib files run whatever code they name when loaded. A ``.wsmodel`` file is a
zip archive holding ``manifest.json`` (the description and the object tree) and plain
``.npy`` arrays read with ``allow_pickle=False``. The loader rebuilds only the classes in
:data:`SAFE_CLASSES` (the scikit-learn pieces wholesoil uses and wholesoil's own), by
creating the bare object and setting its attributes; it never calls anything the file
names. Anything else (a function, an unknown class, an object array needing pickle) is
refused with an InputError that names it. The learned arrays that compiled code trusts
(tree nodes, libsvm arrays) are checked too, so a crafted file cannot make prediction read
outside them or loop for ever.

(skops, the usual safe format for scikit-learn, was not used: its releases that need no
huggingface_hub require numpy >= 1.25, which would replace the numpy that Debian's GDAL,
SciPy and QGIS were built with; this format needs nothing beyond numpy.)
"""

import importlib
import io
import json
import math
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..tables import atomic_output

FORMAT = "wholesoil-model"
FORMAT_VERSION = 1
SUFFIX = ".wsmodel"
MANIFEST = "manifest.json"
#: Largest manifest loaded (bytes unpacked): the description and the text columns of the
#: tables; the arrays are separate members. Guards against a small file unpacking to gigabytes.
MAX_MANIFEST_BYTES = 256 << 20

#: Classes a model file may contain: name in the file -> (module, attribute). Names are the
#: public import paths where scikit-learn has one; classes a scikit-learn version lacks
#: (e.g. the gradient-boosting loss of 1.2) are refused like any unknown class.
SAFE_CLASSES = {
    "sklearn.pipeline.Pipeline": ("sklearn.pipeline", "Pipeline"),
    "sklearn.preprocessing.StandardScaler": ("sklearn.preprocessing", "StandardScaler"),
    "sklearn.compose.TransformedTargetRegressor": ("sklearn.compose", "TransformedTargetRegressor"),
    "sklearn.ensemble.RandomForestRegressor": ("sklearn.ensemble", "RandomForestRegressor"),
    "sklearn.ensemble.RandomForestClassifier": ("sklearn.ensemble", "RandomForestClassifier"),
    "sklearn.ensemble.GradientBoostingRegressor": ("sklearn.ensemble", "GradientBoostingRegressor"),
    "sklearn.ensemble._gb_losses.LeastSquaresError": ("sklearn.ensemble._gb_losses", "LeastSquaresError"),
    "sklearn.tree.DecisionTreeRegressor": ("sklearn.tree", "DecisionTreeRegressor"),
    "sklearn.tree.DecisionTreeClassifier": ("sklearn.tree", "DecisionTreeClassifier"),
    "sklearn.dummy.DummyRegressor": ("sklearn.dummy", "DummyRegressor"),
    "sklearn.svm.SVR": ("sklearn.svm", "SVR"),
    "sklearn.linear_model.Lasso": ("sklearn.linear_model", "Lasso"),
    "wholesoil.CovariateModel": ("wholesoil.core.learn.models", "CovariateModel"),
    "wholesoil.StackedEnsemble": ("wholesoil.core.learn.models", "StackedEnsemble"),
    "wholesoil.QuantileForestRegressor": ("wholesoil.core.learn.uncertainty", "QuantileForestRegressor"),
    "wholesoil.LinearCombinationFilter": ("wholesoil.core.learn.screening", "LinearCombinationFilter"),
    "wholesoil.CorrelationFilter": ("wholesoil.core.learn.screening", "CorrelationFilter"),
    "wholesoil.VIFFilter": ("wholesoil.core.learn.screening", "VIFFilter"),
    "wholesoil.CategoricalEncoder": ("wholesoil.core.learn.screening", "CategoricalEncoder"),
}


def _class_table():
    """{public name: class} for the SAFE_CLASSES this installation has."""
    table = {}
    for name, (module, attribute) in SAFE_CLASSES.items():
        try:
            table[name] = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            continue
    return table


@dataclass
class TrainedModel:
    """A fitted model with its description (JSON-able dict) and tables (DataFrames)."""

    model: object
    metadata: dict
    tables: dict = field(default_factory=dict)


class _Encoder:
    """Object tree -> JSON nodes, with arrays collected for the archive."""

    def __init__(self):
        self.arrays = []
        self.names = {cls: name for name, cls in _class_table().items()}

    def array(self, values):
        self.arrays.append(values)
        return f"arrays/{len(self.arrays) - 1}.npy"

    def encode(self, obj, where):
        from sklearn.base import BaseEstimator
        from sklearn.tree._tree import Tree

        kind = type(obj)
        if obj is None or kind in (bool, int, float, str):
            return obj
        if kind is list:
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if kind is tuple:
            return {"__tuple__": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if kind is dict:
            return {"__dict__": [[self.encode(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]}
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                return {"__object_array__": {"shape": list(obj.shape),
                                             "items": [self.encode(v, where) for v in obj.ravel().tolist()]}}
            return {"__array__": self.array(obj)}
        if isinstance(obj, np.generic):
            return {"__scalar__": self.array(np.asarray(obj))}
        if isinstance(obj, np.random.RandomState):
            return {"__random_state__": self.encode(obj.get_state(), where)}
        if isinstance(obj, pd.DataFrame):
            return {"__frame__": {"columns": [str(c) for c in obj.columns],
                                  "values": [self.encode(_column_values(obj[c]), f"{where}.{c}") for c in obj.columns]}}
        if kind is Tree:
            _, (n_features, n_classes, n_outputs), state = obj.__reduce__()
            return {"__tree__": {"n_features": int(n_features), "n_classes": self.encode(np.asarray(n_classes), where),
                                 "n_outputs": int(n_outputs), "state": self.encode(state, f"{where}.state")}}
        if kind in self.names:
            state = obj.__getstate__() if isinstance(obj, BaseEstimator) else dict(vars(obj))
            return {"__object__": self.names[kind], "state": self.encode(state, f"{where}<{kind.__name__}>")}
        raise InputError(f"cannot save {where}: objects of type {kind.__module__}.{kind.__qualname__} are not "
                         "supported by the wholesoil model file")


def _column_values(series):
    """A column as an array: numbers and booleans as they are, anything else as text or None."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series.to_numpy()
    return np.array([None if pd.isna(v) else str(v) for v in series], dtype=object)


def save_model(path, trained):
    """Write a TrainedModel to ``path`` (.wsmodel) atomically; returns the path."""
    from ... import __version__

    encoder = _Encoder()
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "wholesoil_version": __version__,
                "metadata": trained.metadata,
                "model": encoder.encode(trained.model, "model"),
                "tables": {name: encoder.encode(table, f"table {name}") for name, table in trained.tables.items()}}
    try:
        text = json.dumps(manifest, allow_nan=True)
    except TypeError as error:
        raise InputError(f"cannot save the model description: {error}") from None
    with atomic_output(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, text)
            for i, values in enumerate(encoder.arrays):
                buffer = io.BytesIO()
                np.save(buffer, values, allow_pickle=False)
                archive.writestr(f"arrays/{i}.npy", buffer.getvalue())
    return path


class _Decoder:
    """JSON nodes -> objects, building only SAFE_CLASSES."""

    def __init__(self, archive, path):
        self.archive = archive
        self.path = path
        self.classes = _class_table()

    def refuse(self, where, what):
        raise InputError(f"model file {self.path}: {where} holds {what}, which wholesoil does not load; "
                         "the file may have been made to run code, or by another program")

    def array(self, name, where):
        """The .npy member ``name``, once its header agrees with its size (a header may claim
        any shape, and numpy allocates that before reading)."""
        from numpy.lib import format as npy

        if not isinstance(name, str) or name not in self.archive.NameToInfo:
            self.refuse(where, f"a reference to a missing array {name!r}")
        headers = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}
        with self.archive.open(name) as stream:
            try:
                shape, _, dtype = headers[npy.read_magic(stream)](stream)
            except (KeyError, ValueError):
                self.refuse(where, f"{name}, which is not a plain .npy array")
            if dtype.hasobject:
                self.refuse(where, f"an array that needs pickle ({name})")
            if stream.tell() + math.prod(shape) * dtype.itemsize != self.archive.getinfo(name).file_size:
                self.refuse(where, f"an array whose header does not match its size ({name})")
        return np.load(io.BytesIO(self.archive.read(name)), allow_pickle=False)

    def decode(self, node, where):
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is list:
            return [self.decode(v, f"{where}[{i}]") for i, v in enumerate(node)]
        if type(node) is not dict or not (len(node) == 1 or set(node) == {"__object__", "state"}):
            self.refuse(where, f"an unexpected entry {str(node)[:80]!r}")
        tag = "__object__" if "__object__" in node else next(iter(node))
        body = node[tag]
        if tag == "__tuple__":
            return tuple(self.decode(body, where))
        if tag == "__dict__":
            return {self._key(k, where): self.decode(v, f"{where}[{k!r}]") for k, v in body}
        if tag == "__array__":
            return self.array(body, where)
        if tag == "__scalar__":
            return self.array(body, where)[()]
        if tag == "__object_array__":
            items = self.decode(body["items"], where)
            out = np.empty(len(items), dtype=object)
            out[:] = items
            return out.reshape(body["shape"])
        if tag == "__random_state__":
            state = np.random.RandomState()
            try:
                state.set_state(self.decode(body, where))
            except (TypeError, ValueError):
                self.refuse(where, "a malformed random state")
            return state
        if tag == "__frame__":
            values = [self.decode(v, f"{where}.{c}") for c, v in zip(body["columns"], body["values"])]
            return pd.DataFrame(dict(zip(body["columns"], values)), columns=body["columns"])
        if tag == "__tree__":
            return self._tree(body, where)
        if tag == "__object__":
            return self._object(node, where)
        self.refuse(where, f"an unknown entry type {tag!r}")

    def _key(self, key, where):
        key = self.decode(key, where)
        if not isinstance(key, (str, int, float, tuple)):
            self.refuse(where, f"a dictionary key of type {type(key).__name__}")
        return key

    def _tree(self, body, where):
        from sklearn.tree._tree import Tree

        n_classes = self.decode(body.get("n_classes"), where)
        if type(body.get("n_features")) is not int or type(body.get("n_outputs")) is not int \
                or not isinstance(n_classes, np.ndarray) or n_classes.dtype.kind not in "iu":
            self.refuse(where, "a malformed decision tree")
        tree = Tree(body["n_features"], n_classes.astype(np.intp), body["n_outputs"])
        state = self.decode(body["state"], f"{where}.state")
        try:
            tree.__setstate__(state)
        except (KeyError, TypeError, ValueError) as error:
            self.refuse(where, f"a malformed decision tree ({error})")
        if not _nodes_are_safe(state["nodes"], body["n_features"]):
            self.refuse(where, "a decision tree whose nodes point outside it (a split on a missing covariate, "
                               "or a child outside the tree or above its parent)")
        return tree

    def _object(self, node, where):
        from sklearn.base import BaseEstimator

        name = node["__object__"]
        cls = self.classes.get(name) if isinstance(name, str) else None
        if cls is None:
            self.refuse(where, f"an object of type {str(name)[:120]!r}")
        state = self.decode(node.get("state"), f"{where}<{name}>")
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            self.refuse(where, f"a malformed {name}")
        obj = cls.__new__(cls)
        if isinstance(obj, BaseEstimator):
            obj.__setstate__(state)
        else:
            obj.__dict__.update(state)
        problem = _compiled_state_problem(obj)
        if problem:
            self.refuse(where, f"a {name} with {problem}")
        return obj


def _nodes_are_safe(nodes, n_features):
    """True when compiled tree code can walk ``nodes`` without leaving them: every split
    names a feature below ``n_features`` and both its children lie further down the array
    (as scikit-learn builds them, so no walk loops), and leaves have no children."""
    index = np.arange(len(nodes))
    left, right, feature = nodes["left_child"], nodes["right_child"], nodes["feature"]
    split = (left > index) & (left < len(nodes)) & (right > index) & (right < len(nodes)) \
        & (feature >= 0) & (feature < n_features)
    return len(nodes) > 0 and bool(np.all(np.where(left == -1, right == -1, split)))


def _is_count(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_array(value, dtype, shape):
    return isinstance(value, np.ndarray) and value.dtype == dtype and value.shape == shape \
        and value.flags.c_contiguous


def _compiled_state_problem(obj):
    """What in a decoded estimator would let compiled scikit-learn code (trees, libsvm) read
    or write outside its arrays at prediction, or None.

    Compiled code trusts the learned arrays: a tree's feature numbers must be below the
    number of covariates the estimator checks its input against, gradient boosting needs one
    tree per stage, and libsvm takes its array lengths from different arrays.
    """
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor
    from sklearn.svm import SVR
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    from sklearn.tree._tree import Tree

    learned = vars(obj)
    width = learned.get("n_features_in_")
    if isinstance(obj, (DecisionTreeRegressor, DecisionTreeClassifier)) and "tree_" in learned:
        if not isinstance(obj.tree_, Tree) or not _is_count(width) or obj.tree_.n_features != width:
            return "a tree whose number of covariates differs from the estimator's"
    trees = learned.get("estimators_")
    if isinstance(obj, (RandomForestRegressor, RandomForestClassifier, GradientBoostingRegressor)) \
            and trees is not None:
        if isinstance(obj, GradientBoostingRegressor):
            if not isinstance(trees, np.ndarray) or trees.ndim != 2 or trees.shape[1] != 1:
                return "stages that are not one tree each"
            trees = trees.ravel()
        if not _is_count(width) or not all(isinstance(tree, (DecisionTreeRegressor, DecisionTreeClassifier))
                                           and "tree_" in vars(tree) and tree.n_features_in_ == width
                                           for tree in trees):
            return "trees whose number of covariates differs from the forest's"
    if isinstance(obj, SVR) and "support_vectors_" in learned:
        vectors = obj.support_vectors_
        count = vectors.shape[0] if isinstance(vectors, np.ndarray) and vectors.ndim == 2 else -1
        expected = (("support_vectors_", np.float64, (count, width)), ("support_", np.int32, (count,)),
                    ("_dual_coef_", np.float64, (1, count)), ("_intercept_", np.float64, (1,)),
                    ("_n_support", np.int32, (2,)), ("_probA", np.float64, (0,)), ("_probB", np.float64, (0,)))
        if "_impl" in learned or learned.get("_sparse") is not False or learned.get("probability") \
                or learned.get("kernel") not in ("linear", "poly", "rbf", "sigmoid") \
                or not all(_is_array(learned.get(key), dtype, shape) for key, dtype, shape in expected):
            return "support-vector arrays that do not fit together"
    return None


def _read_archive(archive, path):
    """(manifest, model, tables) of an open model archive; InputError if it is not one."""
    if MANIFEST not in archive.NameToInfo:
        raise InputError(f"{path} is a zip archive but not a wholesoil model file (no {MANIFEST})")
    if archive.getinfo(MANIFEST).file_size > MAX_MANIFEST_BYTES:
        raise InputError(f"model file {path}: its {MANIFEST} unpacks to more than "
                         f"{MAX_MANIFEST_BYTES >> 20} MiB; wholesoil does not load it")
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (ValueError, RecursionError) as error:
        raise InputError(f"model file {path}: unreadable {MANIFEST} ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{path} is not a wholesoil model file")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise InputError(f"model file {path} has format version {manifest.get('format_version')!r}; this "
                         f"wholesoil reads version {FORMAT_VERSION}")
    decoder = _Decoder(archive, path)
    try:
        model = decoder.decode(manifest.get("model"), "model")
        tables = {name: decoder.decode(node, f"table {name}") for name, node in manifest.get("tables", {}).items()}
    except InputError:
        raise
    except (AttributeError, IndexError, KeyError, TypeError, ValueError, RecursionError, MemoryError) as error:
        raise InputError(f"model file {path} is malformed ({type(error).__name__}: {error})") from None
    return manifest, model, tables


def load_model(path):
    """Read a .wsmodel file into a TrainedModel without running code from the file."""
    from pathlib import Path

    path = Path(path)
    if not path.exists():
        raise InputError(f"model file {path} does not exist")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path} is not a wholesoil model file (.wsmodel); wholesoil does not open pickle "
                         "or joblib files, because loading them can run any code")
    try:
        with zipfile.ZipFile(path) as archive:
            manifest, model, tables = _read_archive(archive, path)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise InputError(f"model file {path} is damaged ({error})") from None
    metadata = manifest.get("metadata")
    if not isinstance(metadata, dict):
        raise InputError(f"model file {path} has no description")
    from .models import CovariateModel

    if not isinstance(model, CovariateModel) or not all(isinstance(t, pd.DataFrame) for t in tables.values()):
        raise InputError(f"model file {path} does not hold a wholesoil model")
    problem = _description_problem(metadata, model, tables)
    if problem:
        raise InputError(f"model file {path}: the description has {problem}; it was not written by train-model "
                         "or was changed since")
    return TrainedModel(model, metadata, tables)


#: Tables of a trained model and the columns that explaining it and its reports read.
TABLE_COLUMNS = {"training": [], "importance": ["feature", "impurity_importance", "permutation_importance",
                                                "permutation_sd"],
                 "partial_dependence": ["feature", "value", "level", "mean_prediction"]}


def _description_problem(metadata, model, tables):
    """What in a loaded model's description or tables evaluation, explanation and the
    reports could not use, or that disagrees with the fitted model; None if all is well."""
    target, interval = metadata.get("target"), metadata.get("interval")
    checks = (
        (isinstance(target, dict) and all(isinstance(target.get(k), str) for k in ("name", "units", "transform")),
         "no target name, units and transform"),
        (metadata.get("task") == model.task and metadata.get("kind") == model.kind,
         "a task or model kind other than the model's"),
        (metadata.get("features") == [str(f) for f in getattr(model, "feature_names_in_", [None])]
         and metadata.get("categorical") == getattr(model, "categories_", None),
         "covariates or categorical levels other than the model's"),
        (all(_is_count(metadata.get(k)) for k in ("folds", "random_state", "n_rows", "n_groups"))
         and isinstance(metadata.get("groups"), str)
         and (not metadata.get("dropped_rows") or isinstance(metadata.get("dropped_row_numbers"), str)),
         "no count of rows, groups and folds"),
        (interval is None or isinstance(interval, dict) and all(
            isinstance(interval.get(k), (int, float))
            for k in ("tau", "level", "n_tau", "coverage_mean", "coverage_sd")),
         "a malformed interval"),
        (all(name in tables and set(columns) <= set(tables[name].columns) for name, columns in TABLE_COLUMNS.items()),
         f"not every table ({', '.join(TABLE_COLUMNS)}) with its columns"),
    )
    return next((what for good, what in checks if not good), None)
