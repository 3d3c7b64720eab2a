"""Saved models predicted over a covariate raster stack: the maps of a model.

``predict_raster`` reads each window of the covariates once and predicts every model
given (e.g. seven depth-layer models) from it, through :func:`.engine.map_blocks`:

covariate windows → features per pixel (the model's kept covariates, then its
categorical covariates one-hot encoded exactly as in training) → forest kernel (mean and
spread of the trees, :mod:`.kernels`) or the model's own ``predict`` → output bands.

Bands per model (``<name>`` is the model's target unless renamed):

* regression: ``<name>_mean`` (target units; back-transformed when the model was fitted
  on log(y)), ``<name>_sd`` (spread of the per-tree predictions, ddof = 1, as the ``sd``
  column of ``evaluate-model``), ``<name>_cv`` = sd / mean, ``<name>_lower`` and
  ``<name>_upper`` (the Coulston interval calibrated when the model was trained, or the
  quantile-forest quantiles);
* classification: ``<name>_class`` (class code) and ``<name>_p_<class>`` (probabilities);
* on request, for any model: ``<name>_di``, the dissimilarity index of the pixel's
  covariates to the training data, and ``<name>_aoa``, 1 inside the area of applicability
  and 0 outside (Meyer & Pebesma 2021, see :mod:`.applicability`).

A pixel whose categorical covariate holds a class the model never saw gets nodata (it is
counted and reported, never mapped to another class).
"""

import functools
import hashlib
import os
import threading

import numpy as np

from ..errors import InputError
from ..learn.encoding import back_transform, number_text, truncate
from ..outputs import note
from ..progress import as_progress
from . import kernels, modelcache
from .applicability import from_trained, unweighted_note
from .engine import map_blocks
from .kernels import PackedForest, forest_statistics, load_compiled, z_order
from .stack import CovariateStack

REGRESSION_OUTPUTS = ("mean", "sd", "cv", "lower", "upper", "di", "aoa")
CLASSIFICATION_OUTPUTS = ("class", "p", "di", "aoa")
#: Outputs given only when asked for (they cost a nearest-neighbour search per pixel).
ON_REQUEST = ("di", "aoa")


def file_checksum(path):
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_spec(trained):
    """What a map needs to know of a trained model, as JSON-able values (see :class:`MapModel`)."""
    model, metadata = trained.model, trained.metadata
    encoder = model.pipeline_.named_steps["encode"]
    ranges = metadata.get("covariate_ranges") or {}
    interval = metadata.get("interval") or {}
    return {"target": str(metadata["target"]["name"]), "task": metadata["task"], "kind": model.kind,
            "target_transform": model.target_transform, "bias_factor": float(model.bias_factor_),
            "lower_limit": metadata["target"].get("lower_limit"), "units": metadata["target"].get("units", ""),
            "numeric": [str(c) for c in encoder.passthrough_],
            "levels": {str(column): [str(level) for level in levels] for column, levels in encoder.levels_.items()},
            "ranges": {c: [ranges[c]["min"], ranges[c]["max"]] for c in encoder.passthrough_ if c in ranges},
            "feature_names": [str(f) for f in encoder.feature_names_out_],
            "tau": interval.get("tau"), "level": interval.get("level", 0.95),
            "classes": [str(c) for c in getattr(model, "classes_", [])]}


def spec_fits(spec, packed):
    """True when ``spec`` has the keys and types :func:`model_spec` gives and fits ``packed``
    (its features, classes and task): what a description read from the cache must pass."""
    def texts(values):
        return isinstance(values, list) and all(isinstance(v, str) for v in values)

    def number(value, optional=False):
        return type(value) in (int, float) or (optional and value is None)

    keys = {"target", "task", "kind", "target_transform", "bias_factor", "lower_limit", "units", "numeric", "levels",
            "ranges", "feature_names", "tau", "level", "classes"}
    if not isinstance(spec, dict) or set(spec) != keys:
        return False
    levels, ranges = spec["levels"], spec["ranges"]
    plain = (isinstance(spec["target"], str) and spec["task"] in ("regression", "classification")
             and isinstance(spec["kind"], str) and spec["target_transform"] in ("none", "log", "log1p")
             and number(spec["bias_factor"]) and number(spec["lower_limit"], True) and isinstance(spec["units"], str)
             and number(spec["tau"], True) and number(spec["level"]) and texts(spec["numeric"])
             and texts(spec["feature_names"]) and texts(spec["classes"])
             and isinstance(levels, dict) and all(texts(v) for v in levels.values())
             and isinstance(ranges, dict) and set(ranges) <= set(spec["numeric"])
             and all(isinstance(r, list) and len(r) == 2 and number(r[0]) and number(r[1]) for r in ranges.values()))
    if not plain:
        return False
    classification = spec["task"] == "classification"
    width = len(spec["numeric"]) + sum(len(v) for v in levels.values())
    return (packed.classification == classification and packed.n_features == len(spec["feature_names"]) == width
            and packed.value.shape[1] == (len(spec["classes"]) if classification else 1))


def requested_outputs(outputs):
    """The band kinds asked for (a list, or comma-separated text), or None for each model's default;
    InputError for a kind no model gives, or one asked for twice."""
    if outputs is None:
        return None
    asked = [str(o).strip() for o in (outputs.split(",") if isinstance(outputs, str) else outputs) if str(o).strip()]
    unknown = [o for o in asked if o not in REGRESSION_OUTPUTS + CLASSIFICATION_OUTPUTS]
    if unknown:
        raise InputError(f"unknown output {', '.join(unknown)} (regression models give "
                         f"{', '.join(REGRESSION_OUTPUTS)}; classification models {', '.join(CLASSIFICATION_OUTPUTS)})")
    twice = sorted({o for o in asked if asked.count(o) > 1})
    if twice:
        raise InputError(f"output {', '.join(twice)} asked for twice")
    return asked


def back_to_target(spec, values, mean=True):
    """Model scale -> target units of the model described by ``spec``: its back-transform, with
    its bias correction for means and per-tree values, without it for quantiles (``mean=False``)."""
    return back_transform(values, spec["target_transform"], spec["bias_factor"] if mean else 1.0)


class MapModel:
    """A trained model prepared to predict pixels (built once, sent to every worker).

    spec: :func:`model_spec` of the model; packed: its forest as a :class:`.kernels.PackedForest`
    (None for other learners); learner: the fitted learner (its ``predict`` for learners other
    than forests, its quantiles for quantile forests; None when the forest was read from
    :mod:`.modelcache`). name: the band prefix (default: the target); outputs: names from
    REGRESSION_OUTPUTS or CLASSIFICATION_OUTPUTS (default: every one the model can give).
    use_cache: worker processes may read the forest from :mod:`.modelcache` too (see :func:`prepare`).
    ``applicability`` (for the outputs ``di`` and ``aoa``) is set by :meth:`from_trained`.
    """

    def __init__(self, spec, packed=None, learner=None, name=None, outputs=None, source="", file=None, checksum=None,
                 use_cache=False):
        self.spec = spec
        self.name = str(name or spec["target"])
        self.source = str(source)
        self.file, self.checksum = file, checksum
        self.task, self.kind = spec["task"], spec["kind"]
        self.lower_limit, self.units = spec["lower_limit"], spec["units"]
        self.numeric, self.levels = list(spec["numeric"]), {c: list(levels) for c, levels in spec["levels"].items()}
        self.covariates = self.numeric + list(self.levels)
        self.ranges = {c: _float32_range(low, high) for c, (low, high) in spec["ranges"].items()}
        self.feature_names = list(spec["feature_names"])
        self.tau, self.level = spec["tau"], spec["level"]
        self.classes = list(spec["classes"])
        self.packed, self.learner = packed, learner
        self.use_cache = use_cache
        self.outputs = self._checked_outputs(outputs)
        self.applicability = None

    @classmethod
    def from_trained(cls, trained, name=None, outputs=None, source="", file=None, checksum=None, use_cache=False):
        """The MapModel of a TrainedModel (:func:`..learn.modelfile.load_model`)."""
        from ..learn.models import FOREST_KINDS

        spec = model_spec(trained)
        learner = trained.model.pipeline_[-1]
        forest = spec["kind"] in FOREST_KINDS or spec["task"] == "classification"
        packed = PackedForest(learner, functools.partial(back_to_target, spec)) if forest else None
        model = cls(spec, packed, learner, name, outputs, source, file, checksum, use_cache)
        if set(ON_REQUEST) & set(model.outputs):
            model.applicability = from_trained(trained)
        return model

    @property
    def needs_model_file(self):
        """True when the outputs asked for need more than the packed forest (the learner's
        quantiles, or the training data of the area of applicability)."""
        quantiles = self.kind == "quantile_forest" and {"lower", "upper"} & set(self.outputs)
        return self.packed is None or bool(quantiles) or bool(set(ON_REQUEST) & set(self.outputs))

    def _back(self, values, mean=True):
        return back_to_target(self.spec, values, mean)

    def _checked_outputs(self, outputs):
        """The outputs asked for (default: every one the model gives, except those on request)."""
        if self.task == "classification":
            allowed, possible = CLASSIFICATION_OUTPUTS, ["class", "p"]
        else:
            allowed = REGRESSION_OUTPUTS
            spread = self.packed is not None
            interval = spread and (self.kind == "quantile_forest" or self.tau is not None)
            possible = ["mean"] + (["sd", "cv"] if spread else []) + (["lower", "upper"] if interval else [])
        asked = requested_outputs(outputs)
        if asked == []:
            raise InputError(f"model {self.name}: no output asked for (choose from {', '.join(allowed)})")
        # the bands of the other kind (regression or classification) are for the run's other models
        chosen = possible if asked is None else [o for o in asked if o in allowed]
        if not chosen:
            raise InputError(f"model {self.name} is a {self.task} model and gives none of the bands asked for "
                             f"({', '.join(asked)}); add some of {', '.join(allowed)}")
        impossible = [o for o in chosen if o not in possible + list(ON_REQUEST)]
        if impossible:
            why = ("has no per-tree spread (not a forest)" if self.packed is None
                   else "holds no calibrated interval")
            raise InputError(f"model {self.name} ({self.kind}) {why}, so it cannot give "
                             f"{', '.join(impossible)}; it gives {', '.join(possible + list(ON_REQUEST))} (the bands "
                             f"asked for apply to every {self.task} model: ask for these, or map this model in a run "
                             "of its own)")
        return chosen

    def class_codes(self):
        """Raster code of each class: the class itself when every class is a whole number, else 1, 2, ..."""
        try:
            codes = [float(c) for c in self.classes]
            if all(c == int(c) for c in codes):
                return codes
        except ValueError:
            pass
        return [float(i + 1) for i in range(len(self.classes))]

    def band_names(self):
        names = []
        for output in self.outputs:
            names += ([f"{self.name}_p_{c}" for c in self.classes] if output == "p" else [f"{self.name}_{output}"])
        return names

    def band_metadata(self):
        """{band: metadata}: units of regression bands, class labels of the class band."""
        about = {"di": {"units": "1", "threshold": self.applicability.threshold_ if self.applicability else ""},
                 "aoa": {"meaning": "1 inside the area of applicability, 0 outside"}}
        if self.task == "classification":
            about["class"] = {f"class_{code:g}": label for code, label in zip(self.class_codes(), self.classes)}
            if "p" in self.outputs:  # a probability: its sum × area is the expected area of the class
                about.update({f"p_{c}": {"units": "1"} for c in self.classes})
        else:
            about.update({o: {"units": self.units} for o in ("mean", "sd", "lower", "upper") if self.units})
            about["cv"] = {"units": "1"}
            interval = ("quantile forest quantiles" if self.kind == "quantile_forest"
                        else "Coulston et al. (2016) interval calibrated in training")
            for bound in ("lower", "upper"):
                about[bound] = {**about.get(bound, {}), "level": f"{self.level:g}", "interval": interval}
            if self.lower_limit is not None:
                about["lower"]["truncated_at"] = f"{self.lower_limit:g}"
        return {f"{self.name}_{o}": about[o] for o in self.outputs + [f"p_{c}" for c in self.classes] if o in about}

    def features(self, values):
        """(features float32 (pixels x encoded), usable pixels, {covariate: unseen codes}) from 1-D covariates."""
        n = len(next(iter(values.values())))
        X = np.empty((n, len(self.feature_names)), dtype=np.float32)
        for j, column in enumerate(self.numeric):
            X[:, j] = values[column]
        usable = np.ones(n, dtype=bool)
        unseen = {}
        j = len(self.numeric)
        for column, levels in self.levels.items():
            codes, where = np.unique(values[column], return_inverse=True)
            text = [number_text(float(code)) for code in codes]  # as the training table's labels
            index = np.array([levels.index(t) if t in levels else -1 for t in text], dtype=np.int64)[where]
            known = index >= 0
            if not known.all():
                unseen[column] = codes[np.unique(where[~known])]
            usable &= known
            for k in range(len(levels)):
                X[:, j + k] = index == k
            j += len(levels)
        return X, usable, unseen

    def __reduce__(self):
        """Sent to a worker process as its model file: the worker prepares it once (from the cache
        of prepared forests when it holds it, see :func:`prepare`)."""
        if self.file is None:
            return super().__reduce__()
        return prepared_model, (self.file, self.checksum, self.name, tuple(self.outputs), self.source, self.use_cache)

    @property
    def encoding(self):
        """What the features depend on: models with equal encodings share one feature matrix."""
        return tuple(self.numeric), tuple((column, tuple(levels)) for column, levels in self.levels.items())

    def predict(self, values, compiled=None, features=None):
        """Output bands (list of 1-D arrays) for the pixels of ``values`` {covariate: 1-D array}.

        features: the result of :meth:`features` for these values, when already computed.
        """
        X, usable, unseen = features or self.features(values)
        bands = [np.full(len(usable), np.nan) for _ in self.band_names()]
        if usable.any():
            for band, result in zip(bands, self._predict_rows(X[usable], compiled)):
                band[usable] = result
        return bands, unseen

    def _predict_rows(self, X, compiled):
        result = {}
        if self.applicability is not None:
            result["di"] = self.applicability.dissimilarity_index(X)
            result["aoa"] = (result["di"] <= self.applicability.threshold_).astype(float)
        if self.task == "classification":
            if "class" in self.outputs or "p" in self.outputs:
                probabilities, _ = forest_statistics(self.packed, X, compiled)
                result["class"] = np.asarray(self.class_codes())[np.argmax(probabilities, axis=1)]
                result["p"] = list(probabilities.T)
            return [band for o in self.outputs for band in (result[o] if o == "p" else [result[o]])]
        if not {"mean", "sd", "cv", "lower", "upper"} & set(self.outputs):
            return [result[o] for o in self.outputs]
        if self.packed is not None:
            scaled, sd = forest_statistics(self.packed, X, compiled)
        else:
            import pandas as pd

            scaled, sd = self.learner.predict(pd.DataFrame(X, columns=self.feature_names)), None
        mean = self._back(scaled)
        result.update({"mean": mean, "sd": sd})
        with np.errstate(divide="ignore", invalid="ignore"):
            result["cv"] = np.where(mean != 0, sd / mean, np.nan) if sd is not None else None
        if "lower" in self.outputs or "upper" in self.outputs:
            if self.kind == "quantile_forest":
                import pandas as pd

                bounds = self.learner.predict_quantiles(pd.DataFrame(X, columns=self.feature_names),
                                                        ((1 - self.level) / 2, (1 + self.level) / 2))
                result["lower"], result["upper"] = self._back(bounds[:, 0], False), self._back(bounds[:, 1], False)
            else:
                result["lower"], result["upper"] = mean - self.tau * sd, mean + self.tau * sd
            result["lower"] = truncate(result["lower"], self.lower_limit)
        return [result[o] for o in self.outputs]


_PREPARED = {}


def prepare(file, checksum, name=None, outputs=None, source=None, use_cache=True):
    """The MapModel of model file ``file`` (SHA-256 ``checksum``).

    use_cache: a forest may come from :mod:`.modelcache` (when it holds this file's forest and
    the outputs asked for need no more: then neither is the file read nor scikit-learn
    imported); else the file is loaded, and its forest cached for the next map. Only with
    the compiled kernel: the fallback walks scikit-learn's own trees.
    """
    source, file = source or file, str(file)
    use_cache = use_cache and kernels.numba is not None
    entry = modelcache.load(checksum) if use_cache else None
    fits = entry is not None and spec_fits(*entry)
    if fits:
        model = MapModel(*entry, name=name, outputs=outputs, source=source, file=file, checksum=checksum,
                         use_cache=True)
        if not model.needs_model_file:
            return model
    from ..learn.modelfile import load_model

    trained = load_model(file)
    if file_checksum(file) != checksum:  # what was read is not the file whose checksum the map records
        raise InputError(f"model file {source} changed while it was read; make the map again")
    model = MapModel.from_trained(trained, name, outputs, source=source, file=file, checksum=checksum,
                                  use_cache=use_cache)
    if use_cache and not fits and model.packed is not None:  # none yet, or one that does not fit: written anew
        modelcache.store(checksum, model.spec, model.packed)
    return model


def prepared_model(file, checksum, name=None, outputs=None, source=None, use_cache=True):
    """The MapModel of a model file, prepared once per worker process (workers receive models this way).

    checksum: the file's SHA-256 when the run started; a file changed since is an error.
    """
    key = (str(file), checksum, name, None if outputs is None else tuple(outputs), use_cache)
    if key not in _PREPARED:
        if file_checksum(file) != checksum:
            raise InputError(f"model file {source or file} changed while the map was being made")
        if len(_PREPARED) >= 16:
            _PREPARED.clear()
        _PREPARED[key] = prepare(file, checksum, name, None if outputs is None else list(outputs), source, use_cache)
    return _PREPARED[key]


def _load_kernel(failure):
    """Load the compiled kernel; an error is kept in ``failure`` and raised once by the run."""
    try:
        load_compiled()
    except Exception as error:  # noqa: BLE001 - re-raised by predict_raster as it was
        failure.append(error)


def _predict_block(blocks, models, compiled):
    """Block function: every model's bands for one window, and counts of pixels with unseen classes
    and with covariates outside their training range.

    A model's pixels are those where its own covariates have data (another model's covariates
    do not matter), so a model's bands are the same alone or beside other models.
    """
    shape = next(iter(blocks.values())).shape
    order = z_order(*shape)  # neighbours on the map stay neighbours in the rows: the forest kernel's speed
    bands, counts, encoded, outside = [], {}, {}, {}
    for model in models:  # e.g. seven depth-layer models on the same covariates encode the window once
        if model.encoding not in encoded:
            valid = np.ones(shape, dtype=bool)
            for covariate in model.covariates:
                valid &= ~np.isnan(blocks[covariate])
            pixels = order[valid.ravel()[order]]
            values = {covariate: blocks[covariate].ravel()[pixels] for covariate in model.covariates}
            encoded[model.encoding] = pixels, values, model.features(values)
        pixels, values, features = encoded[model.encoding]
        predicted, unseen = model.predict(values, compiled, features)
        for band in predicted:
            full = np.full(shape, np.nan)
            full.ravel()[pixels] = band
            bands.append(full)
        if "cv" in model.outputs:  # sd / mean is undefined where the mean is 0
            cv = predicted[model.outputs.index("cv")]
            counts[("cv undefined", model.name)] = int(np.isnan(cv[features[1]]).sum())
        for covariate, codes in unseen.items():
            for code in codes:
                counts[("unseen", model.name, covariate, float(code))] = int(np.sum(values[covariate] == code))
        usable = features[1]  # the pixels the model predicts (not those of classes it never saw)
        mapped = slice(None) if usable.all() else usable
        outside_any = np.zeros(int(usable.sum()), dtype=bool)
        for covariate, (low, high) in model.ranges.items():
            key = (model.encoding, covariate, low, high)
            if key not in outside:  # depth-layer models trained on one table share ranges
                outside[key] = ((values[covariate] < low) | (values[covariate] > high))[mapped]
            counts[("outside", model.name, covariate)] = int(outside[key].sum())
            outside_any |= outside[key]
        counts[("outside", model.name, None)] = int(outside_any.sum())
        counts[("mapped", model.name)] = len(outside_any)
    return np.stack(bands), counts


_predict_block.masks_nodata = True  # each model's own covariates decide its nodata (see above)


def predict_raster(models, covariates, output, outputs=None, names=None, grid=None, compiled=None, cog=False,
                   quicklook=None, **engine):
    """Predict saved models over covariate rasters into one multi-band GeoTIFF.

    models: model file paths (``.wsmodel``); names: band prefixes, one per model (default:
    each model's target; must be unique). covariates: 'NAME=RASTER' or 'RASTER' items (see
    :class:`.stack.CovariateStack`). outputs: e.g. ['mean', 'sd'] (default: all a model can
    give). grid: reference raster to warp the covariates to. compiled: force (True) or
    avoid (False) the numba kernel. cog: a Cloud Optimized GeoTIFF. quicklook: a PNG of each model's
    mean or class band (at most 8; :mod:`.quicklook`). engine: n_jobs, backend,
    scheduler, block, progress, is_cancelled (see :func:`.engine.map_blocks`).
    Returns the :class:`.engine.RasterRun`; its ``notes`` report unseen classes, and
    ``valid_pixels`` {band name prefix: pixels with a value} each model's coverage.
    """
    from ... import __version__
    from ..outputs import inform, readable_path, register_input

    paths = [str(m) for m in ([models] if isinstance(models, (str, os.PathLike)) else models)]
    if not paths:
        raise InputError("give at least one model file")
    names = list(names or [None] * len(paths))
    if len(names) != len(paths):
        raise InputError(f"{len(names)} names for {len(paths)} models; give one band name prefix per model")
    prepared = []
    # numba loads the compiled kernel (or compiles it, on first use: about a minute) while the
    # model files are read; a daemon thread, so that an error in the input ends the program at once
    failure = []
    kernel = threading.Thread(target=_load_kernel, args=(failure,), name="wholesoil-kernel", daemon=True)
    if compiled is not False:
        kernel.start()
    for path, name in zip(paths, names):
        register_input(path)
        file = os.path.abspath(readable_path(path))  # workers elsewhere (processes, Dask) open it too
        if not os.path.isfile(file):
            raise InputError(f"model file {path} does not exist")
        prepared.append(prepare(file, file_checksum(file), name, outputs, source=path, use_cache=compiled is not False))
    aoa_notes = [text for m in prepared if m.applicability is not None
                 for text in [unweighted_note(m.name, m.applicability)] if text]
    labels = [m.name for m in prepared]
    twice = sorted({n for n in labels if labels.count(n) > 1})
    if twice:
        raise InputError(f"several models are named {', '.join(twice)}; give each its own band name prefix "
                         "(NAME=MODEL on the command line, Band name prefixes in QGIS)")
    unused = [o for o in requested_outputs(outputs) or [] if not any(o in m.outputs for m in prepared)]
    if unused:
        raise InputError(f"no model of this run gives {', '.join(unused)} (the models: "
                         f"{', '.join(f'{m.name} ({m.task})' for m in prepared)})")
    categorical = {c for m in prepared for c in m.levels}
    stack = CovariateStack(covariates, grid=grid, categorical=categorical)
    needed = list(dict.fromkeys(c for m in prepared for c in m.covariates))
    inputs = stack.select(needed)
    band_names = [band for m in prepared for band in m.band_names()]
    band_metadata = {k: v for m in prepared for k, v in m.band_metadata().items()}
    sources = {n: stack.sources[n].rsplit(":", 1) for n in needed}  # path:band
    metadata = {"wholesoil_version": __version__,
                "covariates": "; ".join(f"{n}={_recorded(path)}:{band}" for n, (path, band) in sources.items())}
    if grid is not None:
        metadata["grid"] = _recorded(grid)
    for i, (path, model) in enumerate(zip(paths, prepared), start=1):
        metadata.update({f"model_{i}": model.file, f"model_{i}_sha256": model.checksum,
                         f"model_{i}_name": model.name,
                         f"model_{i}_kind": f"{model.task} {model.kind}"})
    if compiled is not False and any(model.packed is not None for model in prepared):
        steps = as_progress(engine.get("progress"), engine.get("is_cancelled"))
        kernel.join(2.0)
        if kernel.is_alive():  # a minute after an installation or update, with no progress to show
            inform("compiling the forest kernel with numba (once after an installation or update, about a minute)")
        while kernel.is_alive():
            steps.check()  # a cancel stops the run at once (the compilation ends in the background)
            kernel.join(0.2)
        if failure:
            raise failure[0]
    per_pixel = 16 * len(needed) + 4 * sum(len(m.feature_names) for m in prepared) + 24 * len(band_names) + 64
    run = map_blocks(_predict_block, inputs, output, band_names, params={"models": prepared, "compiled": compiled},
                     metadata=metadata, band_metadata=band_metadata, bytes_per_pixel=per_pixel, cog=cog,
                     classes=[f"{m.name}_{o}" for m in prepared for o in m.outputs if o in ("class", "aoa")],
                     reads=[m.file for m in prepared] + stack.files + ([grid] if grid is not None else []),
                     explain=_unseen_notes, **engine)
    warp_notes = [] if grid is None else [_warp_note(grid, stack.grid, needed, categorical)]
    shared = {}
    for name in needed:
        shared.setdefault(stack.sources[name], []).append(name)
    warp_notes += [f"the covariates {', '.join(names)} are read from one band ({source}); if they are different "
                   "quantities, check the NAME=RASTER:BAND items (Covariate names in QGIS)"
                   for source, names in shared.items() if len(names) > 1]
    cv_notes = [f"{key[1]}: {count} pixels have a mean of 0, where cv (sd / mean) is undefined: nodata in {key[1]}_cv"
                for key, count in run.counts.items() if key[0] == "cv undefined" and count]
    for text in warp_notes + aoa_notes + _unseen_notes(run.counts) + _outside_notes(run.counts) + cv_notes:
        run.notes.append(text)
        note(text)
    first = np.cumsum([0] + [len(m.band_names()) for m in prepared])
    run.valid_pixels = {m.name: int(run.valid[start:end].max()) for m, start, end in zip(prepared, first, first[1:])}
    if quicklook:
        from .quicklook import write_quicklook

        shown = [name for name in band_names if name.endswith(("_mean", "_class"))][:8]
        write_quicklook(output, quicklook, bands=shown or None, title="Predicted map")
    return run


def valid_summary(run):
    """'N valid pixels' of a :func:`predict_raster` run, or the count of each model where they differ."""
    counts = run.valid_pixels
    if len(set(counts.values())) == 1:
        return f"{next(iter(counts.values()))} valid pixels"
    return "valid pixels: " + ", ".join(f"{name} {count}" for name, count in counts.items())


def _float32_range(low, high):
    """(low, high) widened to the float32 values around them: covariates are read from float32
    rasters, so a pixel at a training bound (12.3) reads 12.3000002, which is not outside."""
    low32, high32 = np.float32(low), np.float32(high)
    low32 = np.nextafter(low32, np.float32(-np.inf)) if low32 > low else low32
    high32 = np.nextafter(high32, np.float32(np.inf)) if high32 < high else high32
    return float(low32), float(high32)


def _warp_note(grid, info, covariates, categorical):
    """What --grid did: the covariates warped to the reference grid, and with which resampling."""
    ways = [("nearest neighbour", [c for c in covariates if c in categorical]),
            ("bilinear", [c for c in covariates if c not in categorical])]
    return (f"covariates warped on the fly to the grid of {grid} ({info.width} x {info.height} pixels): "
            + "; ".join(f"{way} for {', '.join(names)}" for way, names in ways if names))


def _recorded(path):
    """A path as the map's metadata records it: absolute when it is a local file (a GDAL URL as given)."""
    return os.path.abspath(path) if os.path.exists(str(path)) else str(path)


def _outside_notes(counts):
    """One note per model whose pixels have numeric covariates outside their training range."""
    notes = []
    outside = {key[1:]: count for key, count in counts.items() if key[0] == "outside"}
    for (model, covariate), count in outside.items():
        if covariate is not None or count == 0:
            continue
        each = [f"{c}: {n}" for (m, c), n in outside.items() if m == model and c is not None and n]
        most = [c for (m, c), n in outside.items() if m == model and c is not None
                and n > counts.get(("mapped", model), 0) / 2]
        notes.append(f"{model}: {count} pixels have covariates outside their range in the training data "
                     f"({', '.join(each)}); the model extrapolates there"
                     + (f"; most pixels lie outside the range of {', '.join(most)}: check the units (e.g. °C × 10 "
                        "against °C) and the nodata value of that raster" if most else ""))
    return notes


def _unseen_notes(counts):
    """One note per model and covariate: pixels left nodata because their class was never seen in training."""
    grouped = {}
    for key, count in counts.items():
        if key[0] != "unseen":
            continue
        model, covariate, code = key[1:]
        grouped.setdefault((model, covariate), {})[code] = grouped.get((model, covariate), {}).get(code, 0) + count
    return [f"{model}: {sum(codes.values())} pixels have {covariate} classes the model never saw "
            f"({', '.join(f'{c:g}: {codes[c]}' for c in sorted(codes))}); they are nodata"
            for (model, covariate), codes in grouped.items()]
