"""Prediction uncertainty of forests (METHODS section 7).

* Spread of the per-tree predictions: sd and CV = sd / mean for every prediction.
* The Coulston et al. (2016) interval (the Iloss study, eqs. 9-10): on hold-out data
  tau = |y - y_hat| / sd(trees); tau95 is the 95th percentile of tau pooled over the
  hold-out sets; the interval is y_hat +- tau95 * sd(trees).
* Quantile regression forests (Meinshausen 2006) as an alternative: the conditional
  distribution of y is the training targets weighted by how often they share a leaf with
  the new point; quantiles of it give the interval.
"""

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.utils.validation import check_is_fitted

from ..errors import InputError


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


def coulston_interval(predicted, sd, tau_level):
    """(lower, upper) = predicted -+ tau_level * sd (the Iloss study eq. 10)."""
    predicted = np.asarray(predicted, dtype=float)
    margin = tau_level * np.asarray(sd, dtype=float)
    return predicted - margin, predicted + margin


def coverage(observed, lower, upper):
    """Share (0-1) of observations inside [lower, upper] (NaN entries ignored)."""
    observed, lower, upper = (np.asarray(a, dtype=float) for a in (observed, lower, upper))
    keep = np.isfinite(observed) & ~np.isnan(lower) & ~np.isnan(upper)
    if not keep.any():
        return np.nan
    return float(np.mean((observed[keep] >= lower[keep]) & (observed[keep] <= upper[keep])))


def fold_coverage(observed, predicted, sd, folds, level=0.95, tau_level=None):
    """Held-out coverage of the Coulston interval, one row per fold.

    Without ``tau_level``, fold k's tau comes from the out-of-fold tau of the *other* folds
    only, so neither the model nor the interval width has seen the rows it is checked on;
    with it, every fold is checked with that tau.
    """
    tau = coulston_tau(observed, predicted, sd)
    rows = []
    for fold in np.unique(folds):
        inside = folds == fold
        level_k = tau_quantile(tau[~inside], level) if tau_level is None else tau_level
        lower, upper = coulston_interval(np.asarray(predicted)[inside], np.asarray(sd)[inside], level_k)
        rows.append({"fold": int(fold) + 1, "tau": level_k,
                     "coverage": coverage(np.asarray(observed)[inside], lower, upper)})
    return pd.DataFrame(rows, columns=["fold", "tau", "coverage"])
