"""Area of applicability of a trained model (Meyer & Pebesma 2021, the R package CAST's ``aoa``).

A map should say where it extrapolates. For a new point, the dissimilarity index is

    DI = (distance to the nearest training point) / (mean distance between training points)

in the space of the model's covariates, each standardised (mean 0, sd 1 over the training
rows, sd with ddof = 1 as R's ``scale``) and multiplied by its importance (categorical
covariates as one indicator per training class, each weighted with the covariate's
importance). The threshold comes from the cross-validation folds, as CAST does: each
training point's DI is its distance to the nearest training point *of another fold*, over
the same mean distance; the threshold is the upper whisker of the boxplot of those DIs
(the largest value not above the upper hinge + 1.5 × the hinge spread, with Tukey's
hinges as R's ``boxplot.stats``). A point is inside the area of applicability when
DI <= threshold.

**Decisions**: the importance is the model's permutation importance (CAST uses caret's
``varImp(scale = FALSE)``, for random forests the permutation %IncMSE); negative
importances are set to 0, as CAST does; when every importance is 0 the covariates are not
weighted. Covariates constant over the training rows cannot be standardised and are left
out (they do not separate points). Distances are Euclidean.
"""

import numpy as np

from ..errors import InputError

#: Training rows at a time in the pairwise-distance sums (bounds the memory to rows × n).
CHUNK = 1024


def boxplot_upper_whisker(values):
    """The upper whisker of R's ``boxplot.stats`` (coef 1.5, Tukey's hinges as ``fivenum``)."""
    x = np.sort(np.asarray(values, dtype=float))
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return np.nan
    n4 = np.floor((n + 3) / 2) / 2
    positions = np.array([n4, n + 1 - n4]) - 1                      # 0-based positions of the hinges
    lower, upper = (0.5 * (x[int(np.floor(p))] + x[int(np.ceil(p))]) for p in positions)
    return float(x[x <= upper + 1.5 * (upper - lower)].max())


class AreaOfApplicability:
    """CAST's dissimilarity index and area of applicability (scikit-learn style).

    fit(X, folds=None, weights=None, covariates=None): X the training covariates (rows ×
    covariates, numbers; categorical covariates as 0/1 indicators), folds the cross-validation
    fold of each row (None: every other row counts), weights one importance per column,
    covariates the covariate of each column (a categorical covariate's indicators share its name).
    Learned: ``center_``, ``scale_``, ``weights_``, ``kept_`` (columns used),
    ``mean_distance_``, ``training_di_``, ``threshold_``, ``unweighted_`` (the covariates
    whose weight is 0 while others have weight: the DI cannot see them).
    """

    def fit(self, X, folds=None, weights=None, covariates=None):
        from scipy.spatial import cKDTree
        from scipy.spatial.distance import cdist

        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or len(X) < 2:
            raise InputError("the area of applicability needs at least two training rows")
        weights = np.ones(X.shape[1]) if weights is None else np.clip(np.asarray(weights, dtype=float), 0, None)
        if not np.any(weights > 0):
            weights = np.ones(X.shape[1])
        names = list(range(X.shape[1])) if covariates is None else list(covariates)
        self.unweighted_ = [name for name in dict.fromkeys(names)
                            if not any(w > 0 for n, w in zip(names, weights) if n == name)]
        self.center_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0, ddof=1)
        self.kept_ = np.flatnonzero(self.scale_ > 0)
        self.weights_ = weights
        training = self._space(X)
        folds = np.arange(len(X)) if folds is None else np.asarray(folds)
        mean_to_others = np.empty(len(X))
        nearest_other_fold = np.empty(len(X))
        for start in range(0, len(X), CHUNK):
            rows = slice(start, start + CHUNK)
            distance = cdist(training[rows], training)
            own = np.arange(start, min(start + CHUNK, len(X)))
            distance[np.arange(len(own)), own] = np.nan
            mean_to_others[rows] = np.nanmean(distance, axis=1)
            distance[folds[rows][:, None] == folds[None, :]] = np.nan
            with np.errstate(all="ignore"):
                nearest_other_fold[rows] = np.nanmin(np.where(np.isnan(distance), np.inf, distance), axis=1)
        self.mean_distance_ = float(np.mean(mean_to_others))
        if not self.mean_distance_ > 0:
            raise InputError("the training rows do not differ in any covariate: no area of applicability")
        self.training_di_ = np.where(np.isinf(nearest_other_fold), np.nan, nearest_other_fold) / self.mean_distance_
        self.threshold_ = boxplot_upper_whisker(self.training_di_)
        self._tree = cKDTree(training)
        return self

    def _space(self, X):
        """Standardised, importance-weighted covariates (the columns used)."""
        X = np.asarray(X, dtype=float)[:, self.kept_]
        return (X - self.center_[self.kept_]) / self.scale_[self.kept_] * self.weights_[self.kept_]

    def dissimilarity_index(self, X):
        """DI of each row of X (same columns as in fit)."""
        if len(X) == 0:
            return np.empty(0)
        distance, _ = self._tree.query(self._space(X), k=1)
        return distance / self.mean_distance_

    def predict(self, X):
        """True where a row lies inside the area of applicability (DI <= threshold)."""
        return self.dissimilarity_index(X) <= self.threshold_


def from_trained(trained):
    """The AreaOfApplicability of a TrainedModel, from the training rows, folds and
    permutation importance it keeps (InputError if the model file lacks them)."""
    tables, model = trained.tables, trained.model
    training, importance = tables.get("training"), tables.get("importance")
    features = list(trained.metadata["features"])
    if training is None or importance is None or any(f not in training.columns for f in features):
        raise InputError("the model file keeps no training covariates or importance; train it again with "
                         "train-model to map its area of applicability")
    encoder = model.pipeline_.named_steps["encode"]
    encoded = model.pipeline_[:-1].transform(training[features])
    by_feature = dict(zip(importance["feature"], importance["permutation_importance"]))
    covariates = [name.split("=", 1)[0] if "=" in name and name.split("=", 1)[0] in encoder.levels_ else name
                  for name in encoded.columns]  # not the covariates screening dropped
    weights = [by_feature.get(covariate, 0.0) for covariate in covariates]
    folds = training["fold"].to_numpy() if "fold" in training.columns else None
    return AreaOfApplicability().fit(encoded.to_numpy(dtype=float), folds, np.nan_to_num(weights), covariates)


def unweighted_note(name, applicability):
    """A note when covariates carry no weight in the DI (importance <= 0), else None: the map
    cannot show where those covariates leave the training data."""
    ignored = applicability.unweighted_
    if not ignored:
        return None
    return (f"{name}: the area of applicability ignores {', '.join(ignored)} (permutation importance <= 0, so "
            f"weight 0, as in CAST): {name}_di and {name}_aoa cannot show where the map leaves the training data "
            f"in {'this covariate' if len(ignored) == 1 else 'these covariates'}")
