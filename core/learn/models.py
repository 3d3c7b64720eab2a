"""Regression and classification models of a soil-carbon quantity from covariates.

:class:`CovariateModel` is one scikit-learn estimator holding the whole chain: covariate
screening, one-hot encoding, scaling where the learner needs it, the learner itself and an
optional log transform of the target. It takes a DataFrame and checks the covariates by
name, so the feature order of the training table can never be confused at prediction.

Learners (METHODS section 7): random forest (default; the best in every seed), a quantile
regression forest, gradient boosting, SVM, lasso and a stacked ensemble of the best three
of the first four by grouped cross-validated RMSE.
"""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_is_fitted

try:
    from sklearn.utils._param_validation import InvalidParameterError
except ImportError:  # scikit-learn < 1.2 refuses parameter values with a plain ValueError
    InvalidParameterError = ValueError

from ..errors import CancelledError, InputError, describe_rows
from ..tables import row_numbers
from .encoding import back_transform, transform_target
from .screening import as_frame, screening_steps
from .uncertainty import QuantileForestRegressor, forest_tree_predictions
from .validation import group_kfold, regression_metrics, classification_metrics

MODEL_KINDS = ("random_forest", "quantile_forest", "gradient_boosting", "svm", "lasso", "ensemble")
FOREST_KINDS = ("random_forest", "quantile_forest")
ENSEMBLE_CANDIDATES = ("random_forest", "gradient_boosting", "svm", "lasso")
TASKS = ("regression", "classification")
TARGET_TRANSFORMS = ("none", "log", "log1p")
BIAS_CORRECTIONS = ("ratio", "duan", "none")

#: Parameter grids searched when tuning is asked for without a grid: a few values around
#: the defaults (max_features plays the part of the mtry the seeds tuned). Tuning costs
#: grid points x tuning folds fits inside each CV fold, so the grids are kept small.
DEFAULT_GRIDS = {
    "random_forest": {"max_features": [1 / 3, 0.6], "min_samples_leaf": [1, 5]},
    "quantile_forest": {"max_features": [1 / 3, 0.6], "min_samples_leaf": [5, 10]},
    "gradient_boosting": {"learning_rate": [0.03, 0.1], "max_depth": [2, 4]},
    "svm": {"C": [1.0, 10.0, 100.0]},
    "lasso": {"alpha": [0.001, 0.01, 0.03, 0.1]},
}

#: Prediction rows handled at a time (bounds the per-tree matrix: rows x trees).
CHUNK_ROWS = 20000


def make_learner(kind, task="regression", params=None, n_trees=500, class_weight="balanced",
                 random_state=0, n_jobs=1):
    """The unfitted learner of a model kind with ``params`` applied (InputError if unknown).

    Forests use ``n_trees`` trees and max_features 1/3 (randomForest's regression default)
    unless ``params`` says otherwise. SVM and lasso standardise covariates and target
    (their penalties are scale dependent), so C, epsilon and alpha are in standard units.
    """
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import Lasso
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    params = dict(params or {})
    if n_trees < 1:
        raise InputError(f"the number of trees must be at least 1 (got {n_trees})")
    if task == "classification":
        if kind != "random_forest":
            raise InputError(f"classification is done with a random forest (model {kind!r} is for regression)")
        return _construct(RandomForestClassifier, kind, params, n_estimators=n_trees, max_features="sqrt",
                          class_weight=class_weight, random_state=random_state, n_jobs=n_jobs)
    if kind == "random_forest":
        return _construct(RandomForestRegressor, kind, params, n_estimators=n_trees, max_features=1 / 3,
                          random_state=random_state, n_jobs=n_jobs)
    if kind == "quantile_forest":
        return _construct(QuantileForestRegressor, kind, params, n_estimators=n_trees, max_features=1 / 3,
                          min_samples_leaf=5, random_state=random_state, n_jobs=n_jobs)
    if kind == "gradient_boosting":
        return _construct(GradientBoostingRegressor, kind, params, n_estimators=300, learning_rate=0.05,
                          max_depth=3, random_state=random_state)
    if kind in ("svm", "lasso"):
        inner = _construct(SVR, kind, params) if kind == "svm" else \
            _construct(Lasso, kind, params, alpha=0.01, max_iter=20000, random_state=random_state)
        return Pipeline([("scale", StandardScaler()),
                         (kind, TransformedTargetRegressor(inner, transformer=StandardScaler()))])
    if kind == "ensemble":
        if params:
            raise InputError("the ensemble takes no learner parameters (its members use their defaults)")
        members = [(k, make_learner(k, task, None, n_trees, class_weight, random_state, n_jobs))
                   for k in ENSEMBLE_CANDIDATES]
        return StackedEnsemble(members, n_members=3, n_splits=5, random_state=random_state)
    raise InputError(f"unknown model {kind!r}; choose one of {', '.join(MODEL_KINDS)}")


def _construct(cls, kind, params, **defaults):
    try:
        return cls(**{**defaults, **params})
    except TypeError:
        valid = sorted(cls().get_params())
        unknown = sorted(set(params) - set(valid))
        raise InputError(f"unknown parameter {', '.join(unknown)} for model {kind!r} "
                         f"(it has: {', '.join(valid)})") from None


def single_threaded(estimator):
    """Set n_jobs=None on a fitted estimator and everything inside it.

    Forests accumulate tree predictions from several threads in whatever order they finish,
    so the last bits of a prediction would depend on the thread count; predicting in one
    thread makes results identical whatever n_jobs the model was fitted with.
    """
    if hasattr(estimator, "n_jobs"):
        estimator.n_jobs = None
    for child in _children(estimator):
        single_threaded(child)


def _children(estimator):
    steps = getattr(estimator, "steps", None)
    if steps is not None:
        return [step for _, step in steps]
    if isinstance(estimator, StackedEnsemble):
        return list(getattr(estimator, "members_", []))
    inner = getattr(estimator, "regressor_", None)
    return [inner] if inner is not None else []


class StackedEnsemble(RegressorMixin, _BaseComposition):
    """Stack of the ``n_members`` candidates with the lowest grouped cross-validated RMSE.

    fit(X, y, groups): every candidate is cross-validated with ``n_splits`` grouped folds;
    the best ``n_members`` by RMSE are kept; their out-of-fold predictions are combined by
    non-negative least squares (the stacking weights) and they are refitted on all rows.
    Learned: ``candidate_rmse_`` {name: RMSE}, ``chosen_`` (names), ``weights_``, ``members_``.
    """

    def __init__(self, estimators, n_members=3, n_splits=5, random_state=0):
        self.estimators = estimators
        self.n_members = n_members
        self.n_splits = n_splits
        self.random_state = random_state

    def get_params(self, deep=True):
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        self._set_params("estimators", **params)
        return self

    def fit(self, X, y, groups=None):
        from scipy.optimize import nnls

        y = np.asarray(y, dtype=float)
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        folds = group_kfold(groups, self.n_splits, random_state=self.random_state)
        names = [name for name, _ in self.estimators]
        out_of_fold = np.empty((len(y), len(names)))
        for fold in range(self.n_splits):
            test = folds == fold
            for j, (_, candidate) in enumerate(self.estimators):
                fitted = clone(candidate).fit(_rows(X, ~test), y[~test])
                out_of_fold[test, j] = fitted.predict(_rows(X, test))
        rmse = np.sqrt(np.mean((out_of_fold - y[:, None]) ** 2, axis=0))
        self.candidate_rmse_ = {name: float(r) for name, r in zip(names, rmse)}
        best = np.argsort(rmse, kind="stable")[:self.n_members]
        self.chosen_ = [names[j] for j in best]
        weights = nnls(out_of_fold[:, best], y)[0]
        self.weights_ = weights if weights.sum() > 0 else np.full(len(best), 1.0 / len(best))
        self.members_ = [clone(self.estimators[j][1]).fit(X, y) for j in best]
        return self

    def predict(self, X):
        check_is_fitted(self, "members_")
        return sum(w * member.predict(X) for w, member in zip(self.weights_, self.members_))


def _rows(X, mask):
    return X.loc[mask] if isinstance(X, pd.DataFrame) else X[mask]


def check_target_transform(y, transform, name="the target"):
    """Raise InputError naming the rows whose values the transform cannot take."""
    if transform not in TARGET_TRANSFORMS:
        raise InputError(f"unknown target transform {transform!r}; choose one of {', '.join(TARGET_TRANSFORMS)}")
    y = np.asarray(y, dtype=float)
    bad = ~(y > 0) if transform == "log" else ~(y > -1) if transform == "log1p" else np.zeros(len(y), bool)
    bad &= np.isfinite(y)
    if bad.any():
        limit = "positive" if transform == "log" else "greater than -1"
        raise InputError(f"a {transform} transform needs {name} {limit}: {describe_rows(row_numbers(bad))} "
                         f"(e.g. {y[bad][0]:g})")


class CovariateModel(BaseEstimator):
    """Screening + encoding + learner (+ target transform) as one estimator on DataFrames.

    Parameters (kept verbatim): kind (one of MODEL_KINDS), task ('regression' or
    'classification'), categorical (column names one-hot encoded), screen, vif_threshold,
    correlation_cutoff, linear_combinations (see :mod:`.screening`), target_transform
    ('none', 'log', 'log1p'; predictions are back-transformed by :meth:`back_transform`),
    bias_correction (of that back-transform: 'ratio', 'duan' or 'none'; see
    :meth:`_bias_factor`), params (learner parameters),
    grid (dict parameter -> values to tune over with ``tuning_folds`` grouped folds; 'default'
    = DEFAULT_GRIDS[kind]), n_trees (forests), class_weight (classification; 'balanced' up-weights
    the minority class), random_state, n_jobs (threads of the forests while fitting).

    fit(X, y, groups=None): X a DataFrame of covariates; groups keep profiles/sites together
    in the tuning and stacking folds. Learned: ``pipeline_``, ``feature_names_in_``,
    ``categories_`` (levels of each categorical covariate), ``classes_`` (classification),
    ``bias_factor_`` (the back-transform's bias-correction factor; 1 without a target transform),
    ``best_params_`` and ``tuning_`` (a list of dicts, when tuned).
    """

    def __init__(self, kind="random_forest", task="regression", categorical=(), screen=True,
                 vif_threshold=10.0, correlation_cutoff=0.9, linear_combinations=True, target_transform="none",
                 bias_correction="ratio", params=None, grid=None, tuning_folds=5, n_trees=500,
                 class_weight="balanced", random_state=0, n_jobs=1):
        self.kind = kind
        self.task = task
        self.categorical = categorical
        self.screen = screen
        self.vif_threshold = vif_threshold
        self.correlation_cutoff = correlation_cutoff
        self.linear_combinations = linear_combinations
        self.target_transform = target_transform
        self.bias_correction = bias_correction
        self.params = params
        self.grid = grid
        self.tuning_folds = tuning_folds
        self.n_trees = n_trees
        self.class_weight = class_weight
        self.random_state = random_state
        self.n_jobs = n_jobs

    @property
    def _estimator_type(self):
        return "classifier" if self.task == "classification" else "regressor"

    @property
    def has_tree_spread(self):
        """True when predictions come with the spread of per-tree predictions (forests)."""
        return self.kind in FOREST_KINDS and self.task == "regression"

    def _pipeline(self, params):
        from sklearn.pipeline import Pipeline

        learner = make_learner(self.kind, self.task, params, self.n_trees, self.class_weight,
                               self.random_state, self.n_jobs)
        steps = screening_steps(self.categorical, self.vif_threshold, self.correlation_cutoff,
                                self.linear_combinations, self.screen)
        return Pipeline(steps + [("model", learner)])

    def _fit_pipeline(self, params, X, y, groups):
        pipeline = self._pipeline(params)
        extra = {"model__groups": groups} if self.kind == "ensemble" else {}
        try:
            return pipeline.fit(X, y, **extra)
        except InvalidParameterError as error:  # a value scikit-learn refuses (--param, --grid)
            raise InputError(f"model {self.kind!r}: {error}") from None

    def _checked_target(self, y):
        if self.task not in TASKS:
            raise InputError(f"unknown task {self.task!r}; choose one of {', '.join(TASKS)}")
        if self.task == "classification":
            if self.target_transform != "none":
                raise InputError(f"a {self.target_transform} target transform is for regression, not classes")
            return np.asarray(pd.Series(np.asarray(y)).astype(str))
        y = np.asarray(y, dtype=float)
        check_target_transform(y, self.target_transform)
        return transform_target(y, self.target_transform)

    def fit(self, X, y, groups=None, is_cancelled=None):
        frame = as_frame(X)
        if len(frame) != len(y):
            raise InputError("the covariates and the target differ in length")
        target = self._checked_target(y)
        if frame.isna().any().any():
            bad = frame.isna().any(axis=1)
            raise InputError(f"missing covariate values in {describe_rows(row_numbers(bad))}; "
                             "drop those rows before fitting")
        groups = np.arange(len(frame)) if groups is None else np.asarray(groups)
        params = dict(self.params or {})
        if self.grid:
            self.best_params_, self.tuning_ = self._tune(frame, target, groups, params, is_cancelled)
            params.update(self.best_params_)
        self.bias_factor_ = self._bias_factor(params, frame, target, groups, is_cancelled)
        self.pipeline_ = self._fit_pipeline(params, frame, target, groups)
        single_threaded(self.pipeline_)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.categories_ = {c: list(v) for c, v in self.pipeline_.named_steps["encode"].levels_.items()}
        if self.task == "classification":
            self.classes_ = self.pipeline_[-1].classes_
        return self

    def _bias_factor(self, params, frame, target, groups, is_cancelled):
        """The factor that corrects the back-transform of a log or log1p target for bias
        (1.0 without a transform or with bias_correction 'none').

        exp of a prediction on the log scale estimates the median, below the mean. With z
        the target on the log scale (log(y) or log(1 + y)) and z_hat its out-of-fold
        predictions in ``tuning_folds`` folds grouped like the model's, the factor is
        'ratio': sum(exp(z)) / sum(exp(z_hat)), the ratio estimator of Snowdon (1991, Can. J.
        For. Res. 21:720-724), which makes the mean of the back-transformed out-of-fold
        predictions equal the observed mean; or 'duan': mean(exp(z - z_hat)), Duan's (1983,
        JASA 78:605-610) smearing estimate, unbiased only when the residuals' spread does
        not change with the prediction.

        **Decision**: 'ratio' is the default, because on SRDB Rh (10 grouped folds, log
        target) the pooled CV bias was -55.8 g C m-2 yr-1 uncorrected, +30.1 with Duan's
        factor and -2.4 with the ratio (-4.2 without a transform). The predictions are
        out-of-fold because a forest's in-sample errors are far smaller than its errors on
        new sites; this costs ``tuning_folds`` extra fits.
        """
        if self.bias_correction not in BIAS_CORRECTIONS:
            raise InputError(f"unknown bias correction {self.bias_correction!r}; choose one of "
                             f"{', '.join(BIAS_CORRECTIONS)}")
        if self.task != "regression" or self.target_transform == "none" or self.bias_correction == "none":
            return 1.0
        n_folds = min(self.tuning_folds, len(np.unique(groups)))
        if n_folds < 2:
            raise InputError(f"a {self.target_transform} target needs at least 2 groups to estimate the "
                             "back-transform's bias correction")
        folds = group_kfold(groups, n_folds, random_state=self.random_state)
        predicted = np.empty(len(target))
        for fold in range(n_folds):
            if is_cancelled is not None and is_cancelled():
                raise CancelledError()
            test = folds == fold
            fitted = self._fit_pipeline(params, frame[~test], target[~test], groups[~test])
            predicted[test] = fitted.predict(frame[test])
        if self.bias_correction == "duan":
            return float(np.mean(np.exp(target - predicted)))
        return float(np.sum(np.exp(target)) / np.sum(np.exp(predicted)))

    def back_transform(self, values, mean=True):
        """Values on the model scale -> target units (a copy as float; NaN stays NaN).

        log: exp(v); log1p: exp(v) - 1. Predictions of the mean (``mean=True``: predict, the
        per-tree predictions) multiply exp(v) by ``bias_factor_`` (see :meth:`_bias_factor`);
        quantiles (``mean=False``) transform exactly.
        """
        return back_transform(values, self.target_transform, self.bias_factor_ if mean else 1.0)

    def _tune(self, frame, target, groups, params, is_cancelled):
        """Grid search with grouped folds: (best parameters, one dict per grid point)."""
        from sklearn.model_selection import ParameterGrid

        grid = DEFAULT_GRIDS.get(self.kind) if self.grid == "default" else self.grid
        if not grid:
            raise InputError(f"no tuning grid for model {self.kind!r}; give one")
        folds = group_kfold(groups, self.tuning_folds, random_state=self.random_state)
        rows = []
        for point in ParameterGrid(grid):
            scores = []
            for fold in range(self.tuning_folds):
                if is_cancelled is not None and is_cancelled():
                    raise CancelledError()
                test = folds == fold
                fitted = self._fit_pipeline({**params, **point}, frame[~test], target[~test], groups[~test])
                predicted = fitted.predict(frame[test])
                if self.task == "classification":
                    scores.append(-classification_metrics(target[test], predicted)["balanced_accuracy"])
                else:
                    scores.append(regression_metrics(target[test], predicted)["rmse"])
            rows.append({**point, "score": float(np.mean(scores)), "score_sd": float(np.std(scores, ddof=1))})
        best = min(range(len(rows)), key=lambda i: rows[i]["score"])
        return {k: rows[best][k] for k in grid}, rows

    def _frame(self, X):
        check_is_fitted(self, "pipeline_")
        frame = as_frame(X, list(self.feature_names_in_))
        missing = [c for c in self.feature_names_in_ if c not in frame.columns]
        if missing:
            raise InputError(f"the model needs covariates that the data lack: {', '.join(map(str, missing))}")
        frame = frame[list(self.feature_names_in_)]
        return frame, ~frame.isna().any(axis=1).to_numpy()

    def predict(self, X):
        """Predictions (target units; class labels for classification); NaN where a covariate is missing."""
        frame, valid = self._frame(X)
        out = np.full(len(frame), np.nan, dtype=object if self.task == "classification" else float)
        for start in range(0, len(frame), CHUNK_ROWS):
            part = valid[start:start + CHUNK_ROWS]
            if part.any():
                chunk = frame.iloc[start:start + CHUNK_ROWS][part]
                predicted = self.pipeline_.predict(chunk)
                if self.task == "regression":
                    predicted = self.back_transform(predicted)
                out[start:start + CHUNK_ROWS][part] = predicted
        return out

    def predict_proba(self, X):
        """Class probabilities (rows x classes_), NaN where a covariate is missing."""
        if self.task != "classification":
            raise InputError("class probabilities need a classification model")
        frame, valid = self._frame(X)
        out = np.full((len(frame), len(self.classes_)), np.nan)
        if valid.any():
            out[valid] = self.pipeline_.predict_proba(frame[valid])
        return out

    def tree_predictions(self, X):
        """Per-tree predictions (rows x trees, target units) of the forest for rows without NaN."""
        if not self.has_tree_spread:
            raise InputError(f"per-tree predictions need a forest (model {self.kind!r})")
        frame, valid = self._frame(X)
        encoded = self.pipeline_[:-1].transform(frame[valid])
        return self.back_transform(forest_tree_predictions(self.pipeline_[-1], encoded))

    def predict_quantiles(self, X, quantiles=(0.025, 0.975)):
        """Conditional quantiles (rows x quantiles, target units) of a quantile forest; NaN rows stay NaN."""
        if self.kind != "quantile_forest":
            raise InputError(f"quantile intervals need a quantile forest (model {self.kind!r})")
        frame, valid = self._frame(X)
        out = np.full((len(frame), len(np.atleast_1d(quantiles))), np.nan)
        if valid.any():
            encoded = self.pipeline_[:-1].transform(frame[valid])
            out[valid] = self.back_transform(self.pipeline_[-1].predict_quantiles(encoded, quantiles), mean=False)
        return out

    def predict_frame(self, X):
        """Predictions as a DataFrame (same index as X).

        Regression: ``predicted``; for forests also ``sd`` (sd of the per-tree predictions,
        target units) and ``cv`` = sd / predicted. Classification: ``predicted`` and
        ``probability_<class>`` per class.
        """
        frame, valid = self._frame(X)
        if self.task == "classification":
            result = pd.DataFrame({"predicted": self.predict(frame)}, index=frame.index)
            probabilities = self.predict_proba(frame)
            for j, label in enumerate(self.classes_):
                result[f"probability_{label}"] = probabilities[:, j]
            return result
        predicted = self.predict(frame)
        result = pd.DataFrame({"predicted": predicted}, index=frame.index)
        if self.has_tree_spread:
            sd = np.full(len(frame), np.nan)
            for start in range(0, len(frame), CHUNK_ROWS):
                part = valid[start:start + CHUNK_ROWS]
                if part.any():
                    trees = self.tree_predictions(frame.iloc[start:start + CHUNK_ROWS][part])
                    sd[start:start + CHUNK_ROWS][part] = trees.std(axis=1, ddof=1)
            result["sd"] = sd
            with np.errstate(divide="ignore", invalid="ignore"):
                result["cv"] = np.where(predicted != 0, sd / predicted, np.nan)
        return result

    def encoded_feature_names(self):
        """Names of the columns the learner sees (kept covariates, then one-hot indicators)."""
        check_is_fitted(self, "pipeline_")
        return list(self.pipeline_.named_steps["encode"].feature_names_out_)
