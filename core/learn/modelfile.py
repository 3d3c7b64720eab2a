"""The wholesoil model file (``.wsmodel``): safe to load, self-describing, portable between
scikit-learn releases.

Pickle and joblib files run whatever code they name when loaded, and they hold
scikit-learn's private object state, which changes between releases (a forest pickled with
scikit-learn 1.2 does not load in 1.3). A ``.wsmodel`` file is a zip archive holding
``manifest.json`` and plain ``.npy`` arrays read with ``allow_pickle=False``; the manifest
describes the model by an explicit schema (docs/models.md, "The model file"):

* ``{"__estimator__": NAME, "params": {...}, "learned": {...}}``: an estimator of a class in
  :data:`ESTIMATORS`, with the constructor parameters that differ from their defaults and
  the learned attributes listed there for its class;
* ``{"__trees__": {...}}``: fitted decision trees (the trees of a forest, the stages of
  gradient boosting), their nodes concatenated over the trees: ``node_count`` and
  ``max_depth`` per tree, one array per node field of :data:`NODE_FIELDS` and ``value``
  (nodes x 1 x classes: the node mean for regression; for classification the class counts
  or, from scikit-learn 1.4, shares, as ``class_values`` says);
* ``__array__``, ``__object_array__`` (text), ``__tuple__``, ``__dict__``, ``__frame__`` (tables).

Loading rebuilds these in whatever scikit-learn is installed: each estimator is created from
its parameters and given the listed learned attributes, and each tree is built from its
node arrays in the installed node layout (``missing_go_to_left``, which scikit-learn 1.3
added, is 0 when the file lacks it: wholesoil never passes missing values to a tree).
Gradient boosting also needs the installed release's private loss object: it is taken from
a one-stage copy fitted on a tiny synthetic table. Nothing else the file names is called;
anything outside the schema is refused with an InputError naming it. The arrays compiled
code trusts (tree nodes, libsvm arrays) are checked, and the archive's unpacked size is
bounded before any member is read. Last, the rebuilt model must reproduce the predictions
stored with it for some training rows (``check``); where the installed releases rebuild a
model that predicts differently, the error names the releases that wrote and read it.

(skops, the usual safe format for scikit-learn, was not used: its releases that need no
huggingface_hub require numpy >= 1.25, which would replace the numpy that Debian's GDAL,
SciPy and QGIS were built with; this format needs nothing beyond numpy.)
"""

import functools
import importlib
import inspect
import io
import json
import math
import os
import platform
import tokenize
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..tables import atomic_output

FORMAT = "wholesoil-model"
FORMAT_VERSION = 2
SUFFIX = ".wsmodel"
MANIFEST = "manifest.json"
#: How every zip archive starts (its first member's local header).
ZIP_SIGNATURE = b"PK\x03\x04"
#: Folder of the archive that holds the arrays (``arrays/0.npy``, ...).
ARRAYS = "arrays/"
#: Largest manifest loaded (bytes unpacked): the description, the schema and the text
#: columns of the tables (JSON takes many times its size in memory).
MAX_MANIFEST_BYTES = 32 << 20
#: Bounds of the members' total unpacked size (bytes), checked before any member is read,
#: so that a small crafted file cannot make loading take gigabytes: at most
#: MAX_UNPACK_RATIO times the file's size (wholesoil's own files unpack to 4-6 times their
#: size) or UNPACK_ALLOWANCE, whichever is larger, and never above MAX_UNPACKED_BYTES.
MAX_UNPACK_RATIO = 50
UNPACK_ALLOWANCE = 128 << 20
MAX_UNPACKED_BYTES = 4 << 30
#: Training rows whose predictions are stored with the model and reproduced at loading.
CHECK_ROWS = 20
#: Largest relative difference (to the column's largest value) allowed in that check.
CHECK_TOLERANCE = 1e-9
#: Threads that unzip a model's arrays at loading (at most one per core).
ARRAY_READERS = 4

_TREE_LEARNED = ("n_features_in_", "n_outputs_", "max_features_", "classes_", "n_classes_")
_FOREST_LEARNED = ("estimators_", "n_features_in_", "feature_names_in_", "n_outputs_")
_FILTER_LEARNED = ("feature_names_in_", "n_features_in_", "dropped_", "kept_")

#: The estimator classes a model file may hold: name in the file -> (module, class, learned
#: attributes kept). Names are the public import paths where scikit-learn has one; modules
#: starting with '.' are wholesoil's own (relative to this package).
ESTIMATORS = {
    "sklearn.pipeline.Pipeline": ("sklearn.pipeline", "Pipeline", ()),
    "sklearn.preprocessing.StandardScaler": ("sklearn.preprocessing", "StandardScaler",
                                             ("mean_", "var_", "scale_", "n_samples_seen_", "n_features_in_",
                                              "feature_names_in_")),
    "sklearn.compose.TransformedTargetRegressor": ("sklearn.compose", "TransformedTargetRegressor",
                                                   ("regressor_", "transformer_", "_training_dim", "n_features_in_",
                                                    "feature_names_in_")),
    "sklearn.ensemble.RandomForestRegressor": ("sklearn.ensemble", "RandomForestRegressor", _FOREST_LEARNED),
    "sklearn.ensemble.RandomForestClassifier": ("sklearn.ensemble", "RandomForestClassifier",
                                                _FOREST_LEARNED + ("classes_", "n_classes_")),
    "sklearn.ensemble.GradientBoostingRegressor": ("sklearn.ensemble", "GradientBoostingRegressor",
                                                   ("estimators_", "init_", "n_estimators_", "train_score_",
                                                    "n_features_in_", "feature_names_in_")),
    "sklearn.dummy.DummyRegressor": ("sklearn.dummy", "DummyRegressor",
                                     ("constant_", "n_outputs_", "n_features_in_", "feature_names_in_")),
    "sklearn.svm.SVR": ("sklearn.svm", "SVR",
                        ("support_", "support_vectors_", "_n_support", "dual_coef_", "intercept_", "_dual_coef_",
                         "_intercept_", "_probA", "_probB", "_gamma", "_sparse", "shape_fit_", "fit_status_",
                         "n_iter_", "_num_iter", "n_features_in_", "feature_names_in_")),
    "sklearn.linear_model.Lasso": ("sklearn.linear_model", "Lasso",
                                   ("coef_", "intercept_", "n_iter_", "dual_gap_", "n_features_in_",
                                    "feature_names_in_")),
    "wholesoil.CovariateModel": (".models", "CovariateModel",
                                 ("pipeline_", "feature_names_in_", "n_features_in_", "categories_", "classes_",
                                  "bias_factor_", "best_params_", "tuning_")),
    "wholesoil.StackedEnsemble": (".models", "StackedEnsemble", ("candidate_rmse_", "chosen_", "weights_", "members_")),
    "wholesoil.QuantileForestRegressor": (".uncertainty", "QuantileForestRegressor",
                                          _FOREST_LEARNED + ("train_leaves_", "train_y_")),
    "wholesoil.LinearCombinationFilter": (".screening", "LinearCombinationFilter", _FILTER_LEARNED),
    "wholesoil.CorrelationFilter": (".screening", "CorrelationFilter", _FILTER_LEARNED),
    "wholesoil.VIFFilter": (".screening", "VIFFilter", _FILTER_LEARNED),
    "wholesoil.CategoricalEncoder": (".screening", "CategoricalEncoder",
                                     ("feature_names_in_", "n_features_in_", "levels_", "passthrough_",
                                      "feature_names_out_", "dropped_")),
}
#: Decision trees, stored only inside a ``__trees__`` batch.
TREES = {"sklearn.tree.DecisionTreeRegressor": ("sklearn.tree", "DecisionTreeRegressor", _TREE_LEARNED),
         "sklearn.tree.DecisionTreeClassifier": ("sklearn.tree", "DecisionTreeClassifier", _TREE_LEARNED)}
#: Node fields of a tree (scikit-learn's names); missing_go_to_left exists from scikit-learn 1.3.
NODE_FIELDS = ("left_child", "right_child", "feature", "threshold", "impurity", "n_node_samples",
               "weighted_n_node_samples", "missing_go_to_left")
_NODE_KINDS = {"threshold": "f", "impurity": "f", "weighted_n_node_samples": "f", "missing_go_to_left": "iub"}
#: Estimators whose private state comes from fitting a one-stage copy in the installed release.
_PRIMED = ("sklearn.ensemble.GradientBoostingRegressor",)


def _classes(table):
    """{name in the file: class} of a table of (module, class, learned)."""
    return {name: getattr(importlib.import_module(module, __package__), attribute)
            for name, (module, attribute, _) in table.items()}


def library_versions():
    """Versions of Python, wholesoil and the libraries a model depends on."""
    import joblib
    import scipy
    import sklearn

    from ... import __version__

    return {"wholesoil": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "pandas": pd.__version__, "scikit-learn": sklearn.__version__,
            "joblib": joblib.__version__}


@dataclass
class TrainedModel:
    """A fitted model with its description (JSON-able dict) and tables (DataFrames).

    ``notes`` are remarks of the training run (not saved in the file).
    """

    model: object
    metadata: dict
    tables: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def _is_default(cls, name, value):
    """True when ``value`` is the default of parameter ``name`` of ``cls`` (plain values only)."""
    parameter = inspect.signature(cls.__init__).parameters.get(name)
    default = parameter.default if parameter is not None else inspect.Parameter.empty
    plain = (type(None), bool, int, float, str, tuple)
    return type(value) is type(default) and type(value) in plain and value == default


def _is_plain(value):
    return value is None or type(value) in (bool, int, float, str)


class _Writer:
    """Objects -> schema nodes, with the arrays collected for the archive."""

    def __init__(self):
        self.arrays = []
        self.estimators = {cls: name for name, cls in _classes(ESTIMATORS).items()}
        self.trees = {cls: name for name, cls in _classes(TREES).items()}

    def array(self, values):
        self.arrays.append(np.ascontiguousarray(values))
        return {"__array__": f"{ARRAYS}{len(self.arrays) - 1}.npy"}

    def encode(self, obj, where):
        kind = type(obj)
        if _is_plain(obj):
            return obj
        if isinstance(obj, np.generic):
            return obj.item()
        if kind in (list, tuple) or kind is np.ndarray and obj.dtype.hasobject:
            items = obj.ravel().tolist() if kind is np.ndarray else list(obj)
            if items and all(type(item) in self.trees for item in items):
                return self.tree_batch(items, list(obj.shape) if kind is np.ndarray else None, where)
            if kind is np.ndarray:
                if not all(_is_plain(v) or isinstance(v, str) for v in items):
                    raise InputError(f"cannot save {where}: an object array holding other than text or numbers")
                return {"__object_array__": {"shape": list(obj.shape),
                                             "items": [str(v) if isinstance(v, str) else v for v in items]}}
            nodes = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(items)]
            return nodes if kind is list else {"__tuple__": nodes}
        if kind is dict:
            return {"__dict__": [[self.encode(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]}
        if kind is np.ndarray:
            return self.array(obj)
        if isinstance(obj, pd.DataFrame):
            return {"__frame__": {"columns": [str(c) for c in obj.columns],
                                  "values": [self.encode(_column_values(obj[c]), f"{where}.{c}") for c in obj.columns]}}
        if kind in self.estimators:
            return self.estimator(obj, self.estimators[kind], where)
        raise InputError(f"cannot save {where}: objects of type {kind.__module__}.{kind.__qualname__} are not "
                         "supported by the wholesoil model file")

    def params(self, obj, where, skip=()):
        return {k: self.encode(v, f"{where}.{k}") for k, v in obj.get_params(deep=False).items()
                if k not in skip and not _is_default(type(obj), k, v)}

    def estimator(self, obj, name, where):
        where = f"{where}<{type(obj).__name__}>"
        learned = ESTIMATORS[name][2]
        return {"__estimator__": name, "params": self.params(obj, where),
                "learned": {k: self.encode(getattr(obj, k), f"{where}.{k}") for k in learned if k in vars(obj)}}

    def tree_batch(self, trees, shape, where):
        """Fitted trees of one class and parameters (their random_state aside) as one ``__trees__`` node."""
        first = trees[0]
        learned = {k: getattr(first, k) for k in _TREE_LEARNED if k in vars(first)}
        params = {k: v for k, v in first.get_params(deep=False).items() if k != "random_state"}
        for tree in trees:
            same_params = {k: v for k, v in tree.get_params(deep=False).items() if k != "random_state"} == params
            same_learned = all(np.array_equal(getattr(tree, k), v) for k, v in learned.items())
            if type(tree) is not type(first) or not same_params or not same_learned:
                raise InputError(f"cannot save {where}: trees of different kinds or parameters")
        states = [tree.tree_.__getstate__() for tree in trees]
        nodes = np.concatenate([state["nodes"] for state in states])
        values = np.concatenate([state["values"] for state in states]).astype(np.float64)
        return {"__trees__": {
            "class": self.trees[type(first)], "shape": shape,
            "class_values": _class_values() if "classes_" in learned else None,
            "params": self.params(first, where, skip=("random_state",)),
            "learned": {k: self.encode(v, f"{where}.{k}") for k, v in learned.items()},
            "node_count": self.array(np.array([state["node_count"] for state in states], dtype=np.int64)),
            "max_depth": self.array(np.array([state["max_depth"] for state in states], dtype=np.int64)),
            "nodes": {name: self.array(nodes[name]) for name in nodes.dtype.names},
            "value": self.array(values)}}


def _column_values(series):
    """A column as an array: numbers and booleans as they are, anything else as text or None."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series.to_numpy()
    return np.array([None if pd.isna(v) else str(v) for v in series], dtype=object)


def check_rows(trained):
    """Up to CHECK_ROWS training rows (covariates), spread over the training table."""
    training = trained.tables.get("training")
    features = list(getattr(trained.model, "feature_names_in_", []))
    if training is None or not features or not set(features) <= set(training.columns) or training.empty:
        raise InputError("cannot save the model: it needs its training table with every covariate")
    index = np.unique(np.linspace(0, len(training) - 1, min(CHECK_ROWS, len(training))).round().astype(int))
    return training[features].iloc[index].reset_index(drop=True)


def check_predictions(model, rows):
    """What the check compares: ``predict_frame`` and, for quantile forests, three quantiles."""
    frame = model.predict_frame(rows)
    if getattr(model, "kind", None) == "quantile_forest":
        quantiles = model.predict_quantiles(rows, (0.05, 0.5, 0.95))
        for j, q in enumerate((0.05, 0.5, 0.95)):
            frame[f"quantile_{q:g}"] = quantiles[:, j]
    return frame.reset_index(drop=True)


def save_model(path, trained):
    """Write a TrainedModel to ``path`` (.wsmodel) atomically; returns the path."""
    writer = _Writer()
    model = writer.encode(trained.model, "model")
    rows = check_rows(trained)
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "written_with": library_versions(),
                "metadata": trained.metadata, "model": model,
                "tables": {name: writer.encode(table, f"table {name}") for name, table in trained.tables.items()},
                "check": {"rows": writer.encode(rows, "check rows"),
                          "predictions": writer.encode(check_predictions(trained.model, rows), "check")}}
    try:
        text = json.dumps(manifest, allow_nan=True)
    except TypeError as error:
        raise InputError(f"cannot save the model description: {error}") from None
    with atomic_output(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, text)
            for i, values in enumerate(writer.arrays):
                buffer = io.BytesIO()
                np.save(buffer, values, allow_pickle=False)
                archive.writestr(f"{ARRAYS}{i}.npy", buffer.getvalue())
    return path


def _versions_text(versions, libraries=("scikit-learn", "numpy")):
    return " and ".join(f"{name} {versions.get(name, '(unknown)')}" for name in libraries)


class _Reader:
    """Schema nodes -> objects, building only the classes of ESTIMATORS and TREES."""

    def __init__(self, path, written, arrays):
        self.path = path
        self.written = written
        self.arrays = arrays
        self.estimators = _classes(ESTIMATORS)
        self.trees = _classes(TREES)

    def refuse(self, where, what):
        raise InputError(f"model file {self.path}: {where} holds {what}, which wholesoil does not load; "
                         "the file may have been made to run code, or by another program")

    def array(self, name, where):
        """The .npy member ``name`` (read by :func:`_read_arrays`)."""
        if not isinstance(name, str) or name not in self.arrays:
            self.refuse(where, f"a reference to a missing array {name!r}")
        values = self.arrays[name]
        if isinstance(values, str):
            self.refuse(where, values)
        return values

    def decode(self, node, where):
        if _is_plain(node):
            return node
        if type(node) is list:
            return [self.decode(v, f"{where}[{i}]") for i, v in enumerate(node)]
        if type(node) is dict and "__estimator__" in node:
            return self.estimator(node, where)
        if type(node) is not dict or len(node) != 1:
            self.refuse(where, f"an unexpected entry {str(node)[:80]!r}")
        tag, body = next(iter(node.items()))
        if tag == "__tuple__":
            return tuple(self.decode(body, where))
        if tag == "__dict__":
            return {self._key(k, where): self.decode(v, f"{where}[{k!r}]") for k, v in body}
        if tag == "__array__":
            return self.array(body, where)
        if tag == "__object_array__":
            items = body["items"]
            if type(items) is not list or not all(_is_plain(v) for v in items):
                self.refuse(where, "an object array holding other than text or numbers")
            out = np.empty(len(items), dtype=object)
            out[:] = items
            return out.reshape(body["shape"])
        if tag == "__frame__":
            return self._frame(body, where)
        if tag == "__trees__":
            return self.tree_batch(body, where)
        self.refuse(where, f"an unknown entry type {tag!r}")

    def _key(self, key, where):
        key = self.decode(key, where)
        if not isinstance(key, (str, int, float, tuple)):
            self.refuse(where, f"a dictionary key of type {type(key).__name__}")
        return key

    def _frame(self, body, where):
        columns = body["columns"]
        values = [self.decode(v, f"{where}.{c}") for c, v in zip(columns, body["values"])]
        if not all(isinstance(c, str) for c in columns) or len(set(columns)) != len(columns) \
                or not all(isinstance(v, np.ndarray) and v.ndim == 1 and len(v) == len(values[0]) for v in values):
            self.refuse(where, "a malformed table")
        return pd.DataFrame(dict(zip(columns, values)), columns=columns)

    def _fields(self, node, where):
        if type(node) is not dict or not all(isinstance(k, str) for k in node):
            self.refuse(where, "malformed parameters or learned attributes")
        return {k: self.decode(v, f"{where}.{k}") for k, v in node.items()}

    def construct(self, cls, params, where):
        """``cls(**params)`` once every parameter is one the installed class takes and valid."""
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
        unknown = sorted(set(params) - accepted)
        if unknown:
            library = "wholesoil" if cls.__module__.startswith(__package__.split(".")[0]) else "scikit-learn"
            raise InputError(f"model file {self.path} was written with {_versions_text(self.written, (library,))}; "
                             f"the installed {library} {library_versions()[library]} has no parameter "
                             f"{unknown[0]!r} of {cls.__name__} (set to {params[unknown[0]]!r} in the file): install "
                             f"{_versions_text(self.written, (library,))} or train the model again")
        obj = cls(**params)
        if hasattr(cls, "_parameter_constraints"):
            try:
                obj._validate_params()
            except (TypeError, ValueError) as error:
                self.refuse(where, f"parameters that {cls.__name__} does not take ({error})")
        return obj

    def estimator(self, node, where):
        name = node["__estimator__"]
        cls = self.estimators.get(name) if isinstance(name, str) else None
        if cls is None:
            self.refuse(where, f"an object of type {str(name)[:120]!r}")
        if set(node) != {"__estimator__", "params", "learned"}:
            self.refuse(where, f"a malformed {name}")
        where = f"{where}<{name}>"
        obj = self.construct(cls, self._fields(node["params"], where), where)
        learned = self._fields(node["learned"], where)
        unknown = sorted(set(learned) - set(ESTIMATORS[name][2]))
        if unknown:
            self.refuse(where, f"an attribute {unknown[0]!r} that a {cls.__name__} does not learn")
        if name in _PRIMED and learned:
            self.prime(obj, learned, where)
        obj.__dict__.update(learned)
        problem = _state_problem(obj) if learned else None  # an unfitted template has nothing to check
        if problem:
            self.refuse(where, f"a {name} with {problem}")
        return obj

    def prime(self, obj, learned, where):
        """Give ``obj`` the private state of the installed release: fit a one-stage copy on a
        tiny synthetic table and take what it learned."""
        from sklearn.base import clone

        width = learned.get("n_features_in_")
        if not _is_count(width) or not 0 < width <= 10 ** 6:
            self.refuse(where, "no number of covariates")
        X = np.arange(4.0 * width).reshape(4, width)
        try:
            primed = clone(obj).set_params(n_estimators=1, n_iter_no_change=None).fit(X, np.arange(4.0))
        except (TypeError, ValueError) as error:
            self.refuse(where, f"parameters the installed scikit-learn cannot fit with ({error})")
        params = obj.get_params(deep=False)
        obj.__dict__.update({k: v for k, v in vars(primed).items() if k not in params})

    def tree_batch(self, body, where):
        """The fitted trees of a ``__trees__`` node, built in the installed node layout."""
        from sklearn.tree._tree import NODE_DTYPE, Tree

        keys = {"class", "shape", "class_values", "params", "learned", "node_count", "max_depth", "nodes", "value"}
        if type(body) is not dict or set(body) != keys or body["class"] not in self.trees \
                or type(body["nodes"]) is not dict:
            self.refuse(where, "a malformed set of trees")
        cls = self.trees[body["class"]]
        where = f"{where}<{body['class']}>"
        params = self._fields(body["params"], where)
        self.construct(cls, params, where)
        learned = self._fields(body["learned"], where)
        counts = self.decode(body["node_count"], where)
        depths = self.decode(body["max_depth"], where)
        columns = {k: self.decode(v, f"{where}.{k}") for k, v in body["nodes"].items()}
        value = self.decode(body["value"], where)
        unknown = sorted(set(learned) - set(_TREE_LEARNED)) + sorted(set(columns) - set(NODE_FIELDS))
        if unknown:
            self.refuse(where, f"a tree attribute {unknown[0]!r}")
        lacking = [k for k in NODE_DTYPE.names if k not in columns and k != "missing_go_to_left"]
        if lacking:
            raise InputError(f"model file {self.path} was written with {_versions_text(self.written)}; the "
                             f"installed scikit-learn {library_versions()['scikit-learn']} stores trees with the node "
                             f"field {lacking[0]!r}, which the file lacks: install "
                             f"{_versions_text(self.written, ('scikit-learn',))} or train the model again")
        n_features, n_outputs = learned.get("n_features_in_"), learned.get("n_outputs_")
        classes = learned.get("classes_")
        n_classes = len(classes) if isinstance(classes, np.ndarray) and classes.ndim == 1 else 1
        is_count_array = [isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.kind in "iu" for a in (counts, depths)]
        if not all(is_count_array) or len(counts) != len(depths) or len(counts) == 0 or counts.min() < 1 \
                or depths.min() < 0 or not _is_count(n_features) or n_features < 1 or n_outputs != 1 \
                or (body["class"].endswith("Classifier") != (classes is not None)) \
                or (classes is not None and learned.get("n_classes_") != n_classes):
            self.refuse(where, "a malformed set of trees (one target, at least one covariate and one node per tree)")
        total = int(counts.sum())
        for key, column in columns.items():
            if not isinstance(column, np.ndarray) or column.shape != (total,) \
                    or column.dtype.kind not in _NODE_KINDS.get(key, "i"):
                self.refuse(where, f"a malformed node field {key!r}")
        if not isinstance(value, np.ndarray) or value.dtype != np.float64 or value.shape != (total, 1, n_classes) \
                or body["class_values"] not in (("counts", "shares") if classes is not None else (None,)):
            self.refuse(where, "tree values that do not fit the nodes")
        nodes = np.zeros(total, dtype=NODE_DTYPE)
        for key in NODE_DTYPE.names:
            if key in columns:
                nodes[key] = columns[key]
        if classes is not None and body["class_values"] != _class_values():
            value = _convert_class_values(value, nodes["weighted_n_node_samples"], _class_values())
        value = np.ascontiguousarray(value)  # Tree takes C-ordered slices
        offsets = np.concatenate([[0], np.cumsum(counts)])
        unsafe = _unsafe_trees(columns["left_child"], columns["right_child"], columns["feature"], counts, n_features)
        if unsafe.size:
            self.refuse(f"{where}[{unsafe[0]}]", "a decision tree whose nodes point outside it (a split on a missing "
                                                 "covariate, or a child outside the tree, above its parent or "
                                                 "shared by two parents)")
        trees = []
        for i, (start, end) in enumerate(zip(offsets[:-1], offsets[1:])):
            tree = Tree(n_features, np.array([n_classes], dtype=np.intp), 1)
            tree.__setstate__({"max_depth": int(depths[i]), "node_count": int(end - start),
                               "nodes": nodes[start:end], "values": value[start:end]})  # Tree copies both
            estimator = cls(**params)
            estimator.__dict__.update(learned)
            estimator.tree_ = tree
            trees.append(estimator)
        shape = body["shape"]
        if shape is None:
            return trees
        if type(shape) is not list or not all(_is_count(n) for n in shape) or math.prod(shape) != len(trees):
            self.refuse(where, "trees in an array of another size")
        out = np.empty(len(trees), dtype=object)
        out[:] = trees
        return out.reshape(shape)


def _read_arrays(path, names):
    """{member: array, or the problem that keeps it from loading} of the members ``names``
    ({name: unpacked bytes}), read in a few threads, each with its own handle (unzipping
    releases the GIL)."""
    by_size = sorted(names, key=lambda name: -names[name])
    readers = max(1, min(ARRAY_READERS, os.cpu_count() or 1, len(by_size)))
    with ThreadPoolExecutor(max_workers=readers) as pool:
        parts = list(pool.map(functools.partial(_read_members, path, names),
                              [by_size[i::readers] for i in range(readers)]))
    return {name: values for part in parts for name, values in part.items()}


def _read_members(path, sizes, names):
    with zipfile.ZipFile(path) as archive:
        return {name: _read_npy(archive, name, sizes[name]) for name in names}


def _read_npy(archive, name, size):
    """The array of member ``name``, or the problem text, once its size is still ``size``
    (bytes unpacked, as bounded when the file was opened) and its header agrees with it (a
    header may claim any shape, and numpy allocates that before reading). The member is read
    whole first, so that a damaged one fails its CRC check before its header is parsed."""
    from numpy.lib import format as npy

    if archive.NameToInfo.get(name) is None or archive.getinfo(name).file_size != size:
        return f"an array that changed while the file was read ({name})"
    headers = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}
    data = archive.read(name)
    if len(data) != size:  # whole by its CRC, but shorter than its directory entry says
        raise zipfile.BadZipFile(f"{name} holds {len(data)} bytes, not the {size} its entry says")
    stream = io.BytesIO(data)
    try:
        shape, _, dtype = headers[npy.read_magic(stream)](stream)
    except (KeyError, ValueError, SyntaxError, tokenize.TokenError):  # numpy tokenizes 1.0 and 2.0 headers
        return f"{name}, which is not a plain .npy array"
    if dtype.hasobject:
        return f"an array that needs pickle ({name})"
    if stream.tell() + math.prod(shape) * dtype.itemsize != size:
        return f"an array whose header does not match its size ({name})"
    stream.seek(0)
    return np.load(stream, allow_pickle=False)


@functools.lru_cache(maxsize=None)
def _class_values():
    """What the installed scikit-learn stores as a classification tree's node values:
    'counts' (weighted class counts, up to 1.3) or 'shares' (class shares, from 1.4)."""
    from sklearn.tree import DecisionTreeClassifier

    root = DecisionTreeClassifier().fit([[0.0], [1.0]], [0, 1]).tree_.value[0]
    return "shares" if np.isclose(root.sum(), 1.0) else "counts"


def _convert_class_values(value, weights, kind):
    """Classification node values as ``kind`` ('counts' or 'shares') from the other kind."""
    if kind == "counts":
        return value * weights[:, None, None]
    totals = value.sum(axis=2, keepdims=True)
    return np.divide(value, totals, out=np.zeros_like(value), where=totals > 0)


def _unsafe_trees(left, right, feature, counts, n_features):
    """Indices of the trees that compiled tree code could not walk without leaving them.

    left, right, feature: the node fields of all trees, tree after tree (``counts`` nodes
    per tree, each at least 1; children numbered within their tree). A tree is safe when
    every split names a feature below ``n_features`` and both its children lie further
    down the tree's array (as scikit-learn builds them, so no walk loops), leaves have no
    children, and every node but the root is the child of exactly one node (a tree, not a
    graph).
    """
    tree = np.repeat(np.arange(len(counts)), counts)
    start = (np.cumsum(counts) - counts)[tree]
    index, size = np.arange(len(left)) - start, counts[tree]  # each node's place in its tree, the tree's size
    split = (left > index) & (left < size) & (right > index) & (right < size) & (feature >= 0) \
        & (feature < n_features)
    parents = np.bincount(np.concatenate([(left + start)[split], (right + start)[split]]), minlength=len(left))
    safe = np.where(left == -1, right == -1, split) & (parents == (index > 0))
    return np.unique(tree[~safe])


def _is_count(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_array(value, dtype, shape):
    return isinstance(value, np.ndarray) and value.dtype == dtype and value.shape == shape \
        and value.flags.c_contiguous


def _is_text_list(value):
    return isinstance(value, (list, np.ndarray)) and all(isinstance(v, str) for v in value)


def _state_problem(obj):
    """What in a rebuilt estimator would crash or mislead prediction, or None.

    Compiled code trusts the learned arrays: a tree's feature numbers must be below the
    number of covariates the estimator checks its input against, gradient boosting needs one
    tree per stage, and libsvm takes its array lengths from different arrays. wholesoil's
    own classes need their learned attributes of the right kind.
    """
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVR
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    from .models import CovariateModel
    from .screening import CategoricalEncoder
    from .uncertainty import QuantileForestRegressor

    learned = vars(obj)
    width = learned.get("n_features_in_")
    names = learned.get("feature_names_in_")
    if names is not None and not (_is_text_list(names) and len(names) == width):
        return "covariate names that do not fit its number of covariates"
    trees = learned.get("estimators_")
    if isinstance(obj, (RandomForestRegressor, RandomForestClassifier, GradientBoostingRegressor)):
        if isinstance(obj, GradientBoostingRegressor):
            if not isinstance(trees, np.ndarray) or trees.ndim != 2 or trees.shape[1] != 1:
                return "stages that are not one tree each"
            trees = trees.ravel()
        if not isinstance(trees, (list, np.ndarray)) or len(trees) == 0 or not _is_count(width) \
                or not all(isinstance(tree, (DecisionTreeRegressor, DecisionTreeClassifier))
                           and tree.n_features_in_ == width for tree in trees):
            return "trees whose number of covariates differs from the forest's"
    if isinstance(obj, QuantileForestRegressor):
        leaves, values = learned.get("train_leaves_"), learned.get("train_y_")
        if not (isinstance(leaves, np.ndarray) and leaves.ndim == 2 and leaves.dtype.kind == "i"
                and leaves.shape[1] == len(trees) and isinstance(values, np.ndarray)
                and values.shape == (leaves.shape[0],) and values.dtype.kind == "f"):
            return "training leaves and targets that do not fit its trees"
    if isinstance(obj, SVR):
        vectors = obj.support_vectors_ if "support_vectors_" in learned else None
        count = vectors.shape[0] if isinstance(vectors, np.ndarray) and vectors.ndim == 2 else -1
        expected = (("support_vectors_", np.float64, (count, width)), ("support_", np.int32, (count,)),
                    ("_dual_coef_", np.float64, (1, count)), ("_intercept_", np.float64, (1,)),
                    ("_n_support", np.int32, (2,)), ("_probA", np.float64, (0,)), ("_probB", np.float64, (0,)))
        if learned.get("_sparse") is not False or obj.probability \
                or obj.kernel not in ("linear", "poly", "rbf", "sigmoid") \
                or not all(_is_array(learned.get(key), dtype, shape) for key, dtype, shape in expected):
            return "support-vector arrays that do not fit together"
    if isinstance(obj, Pipeline):
        if not isinstance(obj.steps, list) or not obj.steps or not all(
                isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str) for step in obj.steps):
            return "steps that are not (name, estimator) pairs"
    if isinstance(obj, CategoricalEncoder):
        levels = learned.get("levels_")
        if not (isinstance(levels, dict) and all(isinstance(k, str) and _is_text_list(v) for k, v in levels.items())
                and _is_text_list(learned.get("passthrough_")) and _is_text_list(learned.get("feature_names_out_"))):
            return "categorical levels or covariate names that are not text"
    if isinstance(obj, CovariateModel):
        categories, factor = learned.get("categories_"), learned.get("bias_factor_")
        if not isinstance(learned.get("pipeline_"), Pipeline) or not _is_count(width) \
                or not isinstance(names, np.ndarray) or not isinstance(categories, dict) \
                or not all(isinstance(k, str) and _is_text_list(v) for k, v in categories.items()) \
                or not (isinstance(factor, float) and math.isfinite(factor) and factor > 0):
            return "no fitted chain of covariate names, levels and learner"
    return None


def _check_sizes(archive, path):
    """InputError unless the members unpack to a bounded size (before any is read)."""
    unpacked = sum(info.file_size for info in archive.infolist())
    limit = min(MAX_UNPACKED_BYTES, max(UNPACK_ALLOWANCE, MAX_UNPACK_RATIO * Path(path).stat().st_size))
    if unpacked > limit:
        raise InputError(f"model file {path} unpacks to {unpacked / 2 ** 20:.1f} MiB, more than {limit / 2 ** 20:.1f} "
                         f"MiB ({MAX_UNPACK_RATIO} times its size, at least {UNPACK_ALLOWANCE >> 20} MiB and at most "
                         f"{MAX_UNPACKED_BYTES >> 30} GiB); wholesoil does not load it")
    if archive.NameToInfo.get(MANIFEST) is not None and archive.getinfo(MANIFEST).file_size > MAX_MANIFEST_BYTES:
        raise InputError(f"model file {path}: its {MANIFEST} unpacks to more than "
                         f"{MAX_MANIFEST_BYTES >> 20} MiB; wholesoil does not load it")


def _read_archive(archive, path):
    """(manifest, model, tables, check) of an open model archive; InputError if it is not one."""
    if MANIFEST not in archive.NameToInfo:
        raise InputError(f"{path} is a zip archive but not a wholesoil model file (no {MANIFEST})")
    if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 1
           for info in archive.infolist()):  # not as save_model writes them: a damaged directory
        raise zipfile.BadZipFile("a member is compressed by other than deflate, or encrypted")
    _check_sizes(archive, path)
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (ValueError, RecursionError) as error:
        raise InputError(f"model file {path}: unreadable {MANIFEST} ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{path} is not a wholesoil model file")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise InputError(f"model file {path} has format version {manifest.get('format_version')!r}; this "
                         f"wholesoil reads version {FORMAT_VERSION}: train the model again with this wholesoil")
    written = manifest.get("written_with")
    if not isinstance(written, dict) or not all(isinstance(v, str) for v in written.values()):
        raise InputError(f"model file {path} does not say which releases wrote it")
    members = {info.filename: info.file_size for info in archive.infolist()
               if info.filename.startswith(ARRAYS) and info.filename.endswith(".npy")}
    try:
        reader = _Reader(path, written, _read_arrays(path, members))
        model = reader.decode(manifest.get("model"), "model")
        tables = {name: reader.decode(node, f"table {name}") for name, node in manifest.get("tables", {}).items()}
        check = {part: reader.decode(node, f"check {part}") for part, node in manifest.get("check", {}).items()}
    except InputError:
        raise
    except (AttributeError, IndexError, KeyError, TypeError, ValueError, RecursionError, MemoryError) as error:
        raise InputError(f"model file {path} is malformed ({type(error).__name__}: {error})") from None
    return manifest, model, tables, check


def load_model(path):
    """Read a .wsmodel file into a TrainedModel without running code from the file."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"model file {path} does not exist")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"model file {path} is empty (a copy that failed?); copy it again or train the model again")
    try:
        with open(path, "rb") as stream:
            signature = stream.read(len(ZIP_SIGNATURE))
    except OSError as error:
        raise InputError(f"cannot read model file {path}: {error.strerror}") from None
    if not zipfile.is_zipfile(path):
        if signature == ZIP_SIGNATURE:
            raise _damaged(path, "not a readable zip archive")
        if signature[:1] == b"\x80" or path.suffix.lower() in (".pkl", ".pickle", ".joblib", ".sav"):
            raise InputError(f"{path} is not a wholesoil model file (.wsmodel); wholesoil does not open pickle "
                             "or joblib files, because loading them can run any code")
        raise InputError(f"{path} is not a wholesoil model file (.wsmodel); give a model file written by "
                         "train-model (Train model in QGIS)")
    try:
        with zipfile.ZipFile(path) as archive:
            manifest, model, tables, check = _read_archive(archive, path)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
        raise _damaged(path, error) from None
    metadata = manifest.get("metadata")
    if not isinstance(metadata, dict):
        raise InputError(f"model file {path} has no description")
    from .models import CovariateModel, single_threaded

    if not isinstance(model, CovariateModel) or not all(isinstance(t, pd.DataFrame) for t in tables.values()):
        raise InputError(f"model file {path} does not hold a wholesoil model")
    problem = _description_problem(metadata, model, tables)
    if problem:
        raise InputError(f"model file {path}: the description has {problem}; it was not written by train-model "
                         "or was changed since")
    single_threaded(model.pipeline_)
    _reproduce(model, check, path, manifest["written_with"])
    return TrainedModel(model, metadata, tables)


def _damaged(path, problem):
    """The InputError for a model file that is not a readable zip archive, or whose members are not."""
    return InputError(f"model file {path} is damaged or truncated ({problem}); copy it again or train the model again")


def _reproduce(model, check, path, written):
    """InputError unless the rebuilt model predicts the stored check rows as when it was saved."""
    rows, expected = check.get("rows"), check.get("predictions")
    if not isinstance(rows, pd.DataFrame) or not isinstance(expected, pd.DataFrame) or rows.empty \
            or len(rows) != len(expected):
        raise InputError(f"model file {path} holds no check predictions")
    installed = library_versions()
    same = all(written.get(k) == installed[k] for k in ("scikit-learn", "numpy"))
    releases = f"; written with {_versions_text(written)}, read with {_versions_text(installed)}"
    try:
        actual = check_predictions(model, rows)
    except InputError as error:
        raise InputError(f"model file {path}: the rebuilt model cannot predict its check rows ({error})"
                         + ("" if same else releases)) from None
    except Exception as error:  # noqa: BLE001 - whatever a rebuilt model raises becomes one line
        raise InputError(f"model file {path}: the rebuilt model fails to predict ({type(error).__name__}: "
                         f"{error})" + ("" if same else releases)) from None
    column, difference = _largest_difference(expected, actual)
    if column is None:
        return
    if same:
        raise InputError(f"model file {path}: the rebuilt model does not reproduce the predictions stored with it "
                         f"({column}: difference {difference:.3g}); the file was changed or damaged")
    raise InputError(f"model file {path} was written with {_versions_text(written)}; rebuilt with the installed "
                     f"{_versions_text(installed)} it predicts differently ({column}: difference {difference:.3g}): "
                     f"install scikit-learn {written.get('scikit-learn')} or train the model again")


def _largest_difference(expected, actual):
    """(column, difference) of the first column whose values differ beyond CHECK_TOLERANCE
    (relative to the column's largest value), or (None, 0)."""
    if list(expected.columns) != list(actual.columns):
        return "columns", float("inf")
    for column in expected.columns:
        want, got = expected[column].to_numpy(), actual[column].to_numpy()
        if want.dtype.kind not in "fiu" or got.dtype.kind not in "fiu":
            if not np.array_equal(want.astype(str), got.astype(str)):
                return column, float("inf")
            continue
        want, got = want.astype(float), got.astype(float)
        if not np.array_equal(np.isnan(want), np.isnan(got)):
            return column, float("inf")
        keep = ~np.isnan(want)
        scale = max(float(np.abs(want[keep]).max(initial=0.0)), 1e-300)
        difference = float(np.abs(want[keep] - got[keep]).max(initial=0.0))
        if not difference <= CHECK_TOLERANCE * scale:
            return column, difference
    return None, 0.0


#: Tables of a trained model and the columns that explaining it and its reports read.
TABLE_COLUMNS = {"training": [], "importance": ["feature", "impurity_importance", "permutation_importance",
                                                "permutation_sd"],
                 "partial_dependence": ["feature", "value", "level", "mean_prediction"]}


def _ranges_problem(ranges, features, categorical):
    """True when ``ranges`` is not {feature: {"min", "max"}} (numeric) or {"levels"} (categorical)."""
    if not isinstance(ranges, dict) or list(ranges) != list(features):
        return True
    for feature, entry in ranges.items():
        if feature in categorical:
            if not (isinstance(entry, dict) and set(entry) == {"levels"} and _is_text_list(entry["levels"])):
                return True
        elif not (isinstance(entry, dict) and set(entry) == {"min", "max"}
                  and all(isinstance(entry[k], (int, float)) for k in entry)):
            return True
    return False


def _description_problem(metadata, model, tables):
    """What in a loaded model's description or tables evaluation, explanation and the
    reports could not use, or that disagrees with the fitted model; None if all is well."""
    target, interval = metadata.get("target"), metadata.get("interval")
    checks = (
        (isinstance(target, dict) and all(isinstance(target.get(k), str) for k in ("name", "units", "transform"))
         and target["transform"] == model.target_transform
         and isinstance(target.get("lower_limit"), (int, float, type(None))),
         "no target name, units, transform and lower limit"),
        (metadata.get("task") == model.task and metadata.get("kind") == model.kind,
         "a task or model kind other than the model's"),
        (metadata.get("features") == [str(f) for f in getattr(model, "feature_names_in_", [None])]
         and metadata.get("categorical") == getattr(model, "categories_", None),
         "covariates or categorical levels other than the model's"),
        (not _ranges_problem(metadata.get("covariate_ranges"), metadata.get("features"), model.categories_),
         "no covariate ranges"),
        (all(_is_count(metadata.get(k)) for k in ("folds", "random_state", "n_rows", "n_groups"))
         and isinstance(metadata.get("groups"), str)
         and (not metadata.get("dropped_rows") or isinstance(metadata.get("dropped_row_numbers"), str)),
         "no count of rows, groups and folds"),
        (interval is None or isinstance(interval, dict)
         and all(isinstance(interval.get(k), (int, float))
                 for k in ("tau", "level", "n_tau", "coverage_mean", "coverage_sd"))
         and isinstance(interval.get("baseline"), list) and len(interval["baseline"]) == 2
         and all(isinstance(v, (int, float)) for v in interval["baseline"]),
         "a malformed interval"),
        (all(name in tables and set(columns) <= set(tables[name].columns) for name, columns in TABLE_COLUMNS.items()),
         f"not every table ({', '.join(TABLE_COLUMNS)}) with its columns"),
    )
    return next((what for good, what in checks if not good), None)
