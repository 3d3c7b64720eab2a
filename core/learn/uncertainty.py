"""Prediction uncertainty of forests (METHODS section 7).

* Spread of the per-tree predictions: sd and CV = sd / mean for every prediction.
* The Coulston et al. (2016) interval (the Iloss study, eqs. 9-10): on hold-out data
  tau = |y - y_hat| / sd(trees); tau95 is the 95th percentile of tau pooled over the
  hold-out sets; the interval is y_hat +- tau95 * sd(trees).
* Quantile regression forests (Meinshausen 2006) as an alternative: the conditional
  distribution of y is the training targets weighted by how often they share a leaf with
  the new point; quantiles of it give the interval.
* Scoring intervals: coverage, mean width and the interval score of Gneiting & Raftery
  (2007), pooled and by bins of the per-tree sd, next to a no-model baseline (the training
  targets' quantiles for every row).

**Decision** (physical limits): lower bounds are truncated at the target's lower limit
(0 for a target whose training values are all >= 0, unless the user says otherwise), so
an interval never includes impossible values such as a negative flux.
"""

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.utils.validation import check_is_fitted

from ..errors import InputError
from .encoding import truncate


def forest_tree_predictions(forest, X):
    """Predictions of every tree of a fitted forest (rows x trees), in tree order."""
    values = np.ascontiguousarray(np.asarray(X, dtype=np.float32))
    if values.ndim != 2 or values.shape[1] != forest.n_features_in_:  # the trees read columns unchecked
        raise InputError(f"the forest takes {forest.n_features_in_} covariates, not {values.shape[-1]}")
    if values.shape[0] == 0:
        return np.empty((0, len(forest.estimators_)))
    return np.column_stack([tree.predict(values, check_input=False) for tree in forest.estimators_])


class QuantileForestRegressor(RandomForestRegressor):
    """A random forest that also predicts conditional quantiles (quantile regression forest).

    Takes the parameters of scikit-learn's RandomForestRegressor. Besides the forest it
    learns ``train_leaves_`` (the leaf of every training row in every tree) and
    ``train_y_``; ``predict_quantiles`` weights each training target by
    1 / (size of the shared leaf), averaged over trees (Meinshausen 2006).
    """

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight)
        self.train_leaves_ = self.apply(X).astype(np.int32)
        self.train_y_ = np.asarray(y, dtype=float).reshape(-1)
        return self

    def predict_quantiles(self, X, quantiles=(0.025, 0.975)):
        """Conditional quantiles (rows x len(quantiles)) of the target at X."""
        check_is_fitted(self, "train_leaves_")
        quantiles = np.atleast_1d(np.asarray(quantiles, dtype=float))
        if np.any((quantiles < 0) | (quantiles > 1)):
            raise InputError("quantiles must lie between 0 and 1")
        leaves = self.apply(X)
        n_train, n_trees = self.train_leaves_.shape
        order = np.argsort(self.train_y_, kind="stable")
        sorted_y = self.train_y_[order]
        by_leaf = [np.argsort(self.train_leaves_[:, t], kind="stable") for t in range(n_trees)]
        leaf_ids = [self.train_leaves_[by_leaf[t], t] for t in range(n_trees)]
        out = np.empty((len(leaves), len(quantiles)))
        chunk = max(1, int(2e7 // max(n_train, 1)))
        for start in range(0, len(leaves), chunk):
            block = leaves[start:start + chunk]
            weights = np.zeros((len(block), n_train))
            for t in range(n_trees):
                first = np.searchsorted(leaf_ids[t], block[:, t], side="left")
                sizes = np.searchsorted(leaf_ids[t], block[:, t], side="right") - first
                query = np.repeat(np.arange(len(block)), sizes)
                offsets = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
                rows = by_leaf[t][np.repeat(first, sizes) + offsets]
                weights[query, rows] += np.repeat(1.0 / np.maximum(sizes, 1), sizes)
            cumulative = np.cumsum(weights[:, order], axis=1) / n_trees
            for k, q in enumerate(quantiles):
                index = np.argmax(cumulative >= q - 1e-12, axis=1)
                out[start:start + chunk, k] = sorted_y[index]
        return out


def coulston_tau(observed, predicted, sd):
    """tau = |observed - predicted| / sd (the Iloss study eq. 9); inf where sd is 0 and the error is not."""
    observed, predicted, sd = (np.asarray(a, dtype=float) for a in (observed, predicted, sd))
    error = np.abs(observed - predicted)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, error / sd, np.where(error > 0, np.inf, 0.0))


def tau_quantile(tau, level=0.95):
    """The ``level`` quantile of the finite-or-infinite tau values (NaN ignored)."""
    tau = np.asarray(tau, dtype=float)
    tau = tau[~np.isnan(tau)]
    if tau.size == 0:
        return np.nan
    return float(np.sort(tau)[int(np.ceil(level * (tau.size - 1)))])  # numpy's method="higher"


def coulston_interval(predicted, sd, tau_level, lower_limit=None):
    """(lower, upper) = predicted -+ tau_level * sd (the Iloss study eq. 10); lower truncated
    at ``lower_limit`` when given. tau_level: a number or one per row. An infinite tau_level (its
    quantile fell on validation rows missed with sd 0) gives infinite margins, and NaN (no
    interval) where sd is 0 too."""
    predicted = np.asarray(predicted, dtype=float)
    with np.errstate(invalid="ignore"):  # inf × 0
        margin = np.asarray(tau_level, dtype=float) * np.asarray(sd, dtype=float)
    return truncate(predicted - margin, lower_limit), predicted + margin


def baseline_interval(y_train, level=0.95, lower_limit=None):
    """(low, high): the (1 -+ level) / 2 quantiles of training targets, the interval every
    row gets without a model (the baseline intervals are scored against)."""
    low, high = np.nanquantile(np.asarray(y_train, dtype=float), [(1 - level) / 2, (1 + level) / 2])
    return float(truncate(low, lower_limit)), float(high)


def interval_score(observed, lower, upper, level=0.95):
    """Interval score of each observation (Gneiting & Raftery 2007, eq. 43; target units,
    lower is better): the width plus 2 / alpha times the distance of an observation outside
    the interval, alpha = 1 - level."""
    observed, lower, upper = (np.asarray(a, dtype=float) for a in (observed, lower, upper))
    penalty = 2.0 / (1.0 - level)
    return (upper - lower) + penalty * np.maximum(lower - observed, 0.0) + penalty * np.maximum(observed - upper, 0.0)


def interval_summary(observed, intervals, level=0.95, sd=None, n_bins=4):
    """Coverage, mean width and mean interval score of each interval, pooled and by sd bin.

    intervals: {method: (lower, upper)} with one value per observation; sd: the per-tree
    spread of each prediction, binned at its quantiles into ``n_bins`` bins (a well adapted
    interval covers about ``level`` in every bin). Rows with a NaN bound or observation are
    left out. Returns a table: method, sd_bin ('all' or 'k: low-high'), n, coverage,
    mean_width, interval_score.
    """
    observed = np.asarray(observed, dtype=float)
    bins = [("all", np.ones(len(observed), dtype=bool))]
    if sd is not None:
        sd = np.asarray(sd, dtype=float)
        edges = np.nanquantile(sd, np.linspace(0, 1, n_bins + 1))
        which = np.searchsorted(edges[1:-1], sd, side="right")
        bins += [(f"{k + 1}: {edges[k]:.3g}-{edges[k + 1]:.3g}", (which == k) & ~np.isnan(sd)) for k in range(n_bins)]
    rows = []
    for method, (lower, upper) in intervals.items():
        lower, upper = np.broadcast_to(lower, observed.shape), np.broadcast_to(upper, observed.shape)
        valid = np.isfinite(observed) & ~np.isnan(lower) & ~np.isnan(upper)
        for label, members in bins:
            keep = valid & members
            scores = interval_score(observed[keep], lower[keep], upper[keep], level)
            rows.append({"method": method, "sd_bin": label, "n": int(keep.sum()),
                         "coverage": coverage(observed[keep], lower[keep], upper[keep]),
                         "mean_width": float(np.mean(upper[keep] - lower[keep])) if keep.any() else np.nan,
                         "interval_score": float(np.mean(scores)) if keep.any() else np.nan})
    return pd.DataFrame(rows, columns=["method", "sd_bin", "n", "coverage", "mean_width", "interval_score"])


def coverage(observed, lower, upper):
    """Share (0-1) of observations inside [lower, upper] (NaN entries ignored)."""
    observed, lower, upper = (np.asarray(a, dtype=float) for a in (observed, lower, upper))
    keep = np.isfinite(observed) & ~np.isnan(lower) & ~np.isnan(upper)
    if not keep.any():
        return np.nan
    return float(np.mean((observed[keep] >= lower[keep]) & (observed[keep] <= upper[keep])))


def fold_tau(observed, predicted, sd, folds, level=0.95, tau_level=None):
    """The Coulston tau each held-out row is checked with: without ``tau_level``, fold k's
    rows get the ``level`` quantile of the out-of-fold tau of the *other* folds only, so
    neither the model nor the interval width has seen the rows it is checked on."""
    tau = coulston_tau(observed, predicted, sd)
    folds = np.asarray(folds)
    out = np.empty(len(tau))
    for fold in np.unique(folds):
        inside = folds == fold
        out[inside] = tau_quantile(tau[~inside], level) if tau_level is None else tau_level
    return out


def fold_coverage(observed, predicted, sd, folds, level=0.95, tau_level=None, lower_limit=None):
    """Held-out coverage of the Coulston interval, one row per fold, each fold with the tau
    of :func:`fold_tau` (or ``tau_level`` for every fold)."""
    folds = np.asarray(folds)
    row_tau = fold_tau(observed, predicted, sd, folds, level, tau_level)
    lower, upper = coulston_interval(predicted, sd, row_tau, lower_limit)
    observed = np.asarray(observed, dtype=float)
    rows = [{"fold": int(fold) + 1, "tau": float(row_tau[folds == fold][0]),
             "coverage": coverage(observed[folds == fold], lower[folds == fold], upper[folds == fold])}
            for fold in np.unique(folds)]
    return pd.DataFrame(rows, columns=["fold", "tau", "coverage"])
