"""Validation that respects groups (METHODS section 7).

All layers of a profile, or all records of a site, share a *group* and always fall in the
same fold, so a model is never tested on a near-copy of a training row. Folds can also be
stratified by a class (climate zone, biome) so that each class is about equally represented
in every fold (the He et al. Rh study). Metrics: R2, NSE, RMSE and bias, per fold and pooled.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, describe_rows
from ..progress import as_progress
from ..tables import GEOMETRY, row_numbers
from ..workers import local_workers
from .screening import level_text

#: What ``groups_description`` says when every row is its own group (naive CV).
INDEPENDENT_ROWS = "independent rows"


def resolve_groups(table, group_col=None, independent_rows=False, x_col=None, y_col=None):
    """Group label per row of ``table`` and a description of where it came from.

    group_col: a column naming the profile or site of each row (the usual case; labels
    compared as text, empty text is missing).
    Without it the rows at one point location form a group: identical geometry, or
    identical ``x_col``/``y_col`` values. ``independent_rows=True`` makes every row its own
    group (naive CV); it must be asked for explicitly, because layers of one profile would
    leak between folds. Returns ``(labels, description)``.
    """
    if group_col is not None:
        if independent_rows:
            raise InputError("give a group column or ask for independent rows, not both")
        if group_col not in table.columns:
            raise InputError(f"group column {group_col!r} is not in the table")
        labels = level_text(table[group_col])
        missing = labels.isna()
        if missing.any():
            raise InputError(f"group column {group_col!r} is empty in {describe_rows(row_numbers(missing))}")
        return labels.to_numpy(dtype=object), f"column {group_col}"
    if independent_rows:
        return np.arange(len(table)).astype(str), INDEPENDENT_ROWS
    if x_col is not None and y_col is not None:
        xy = table[[x_col, y_col]]
        missing = xy.isna().any(axis=1)
        if missing.any():
            raise InputError(f"no coordinates ({x_col}, {y_col}) to group by location in "
                             f"{describe_rows(row_numbers(missing))}; give a group column")
        return (xy[x_col].astype(str) + " " + xy[y_col].astype(str)).to_numpy(), f"location ({x_col}, {y_col})"
    if GEOMETRY in table.columns:
        geometry = table[GEOMETRY]
        missing = geometry.isna()
        if missing.any():
            raise InputError(f"no geometry to group by location in {describe_rows(row_numbers(missing))}; "
                             "give a group column")
        return np.array([bytes(g).hex() for g in geometry]), "point location"
    raise InputError("no group column and no point locations: name the column holding the profile or "
                     "site of each row (so that its layers stay in one fold), or ask explicitly for "
                     "independent rows")


def group_kfold(groups, n_splits=10, strata=None, random_state=0):
    """Fold number (0 .. n_splits-1) of each row; every group lies in exactly one fold.

    Groups are shuffled (``random_state``) and dealt, largest first, to the fold that holds
    the fewest rows of the group's stratum so far (ties: fewest rows overall, then the lower
    fold). strata: a class per row (e.g. climate zone; empty text and NaN are one class,
    "(missing)"); a group takes its most frequent class. Without strata the folds are
    simply balanced in size.
    """
    groups = np.asarray(groups)
    labels, inverse = np.unique(groups, return_inverse=True)
    if n_splits < 2:
        raise InputError(f"the number of folds must be at least 2 (got {n_splits})")
    if len(labels) < n_splits:
        raise InputError(f"only {len(labels)} groups (profiles/sites) for {n_splits} folds; "
                         "use fewer folds")
    sizes = np.bincount(inverse)
    if strata is None:
        group_stratum = np.zeros(len(labels), dtype=int)
    else:
        strata = level_text(np.asarray(strata)).fillna("(missing)").to_numpy()
        if len(strata) != len(groups):
            raise InputError("the strata and the groups differ in length")
        counts = pd.crosstab(inverse, strata)
        group_stratum = counts.to_numpy().argmax(axis=1)
    rng = np.random.default_rng(random_state)
    fold_of_group = np.empty(len(labels), dtype=int)
    totals = np.zeros(n_splits)
    for stratum in np.unique(group_stratum):
        members = rng.permutation(np.flatnonzero(group_stratum == stratum))
        members = members[np.argsort(-sizes[members], kind="stable")]
        in_stratum = np.zeros(n_splits)
        for group in members:
            fold = np.lexsort((np.arange(n_splits), totals, in_stratum))[0]
            fold_of_group[group] = fold
            in_stratum[fold] += sizes[group]
            totals[fold] += sizes[group]
    return fold_of_group[inverse]


def holdout_split(groups, test_size=0.2, strata=None, random_state=0):
    """Boolean mask of the test rows of a grouped (optionally stratified) split.

    The test part is one fold of :func:`group_kfold` with ``round(1 / test_size)`` folds, so
    0.2 gives the 80/20 split of METHODS section 7 (other sizes are rounded that way).
    """
    if not 0 < test_size < 1:
        raise InputError(f"test_size must be between 0 and 1 (got {test_size})")
    folds = group_kfold(groups, max(2, int(round(1.0 / test_size))), strata, random_state)
    return folds == 0


def regression_metrics(observed, predicted):
    """R2 (squared Pearson correlation), NSE, RMSE and bias (mean predicted - observed).

    NSE (Nash-Sutcliffe) = 1 - sum((y - p)^2) / sum((y - mean y)^2), which is what
    scikit-learn calls R2; R2 here is the squared correlation, as the He et al. Rh study reports both.
    RMSE and bias are in the target's units.
    """
    observed = np.asarray(observed, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    keep = np.isfinite(observed) & np.isfinite(predicted)
    observed, predicted = observed[keep], predicted[keep]
    n = int(observed.size)
    if n < 2:
        return {"n": n, "r2": np.nan, "nse": np.nan, "rmse": np.nan, "bias": np.nan}
    residual = predicted - observed
    spread = np.sum((observed - observed.mean()) ** 2)
    if spread > 0 and np.std(predicted) > 0:
        r2 = float(np.corrcoef(observed, predicted)[0, 1] ** 2)
    else:
        r2 = np.nan
    return {"n": n, "r2": r2, "nse": float(1.0 - np.sum(residual ** 2) / spread) if spread > 0 else np.nan,
            "rmse": float(np.sqrt(np.mean(residual ** 2))), "bias": float(np.mean(residual))}


def classification_metrics(observed, predicted):
    """Accuracy, balanced accuracy (mean recall over the observed classes: a class predicted but not
    observed, common in small folds, counts only through the rows wrongly given it) and Cohen's kappa."""
    import warnings

    from sklearn.metrics import accuracy_score, balanced_accuracy_score, cohen_kappa_score

    observed = np.asarray(observed).astype(str)
    predicted = np.asarray(predicted).astype(str)
    n = int(observed.size)
    if n == 0:
        return {"n": 0, "accuracy": np.nan, "balanced_accuracy": np.nan, "kappa": np.nan}
    same = len(set(observed) | set(predicted)) < 2
    with warnings.catch_warnings():  # scikit-learn warns of every such fold (40 lines over a progress bar)
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true", category=UserWarning)
        balanced = float(balanced_accuracy_score(observed, predicted))
    return {"n": n, "accuracy": float(accuracy_score(observed, predicted)), "balanced_accuracy": balanced,
            "kappa": np.nan if same else float(cohen_kappa_score(observed, predicted))}


def task_metrics(task, observed, predicted):
    """The metrics of a task ('regression' or 'classification')."""
    if task == "classification":
        return classification_metrics(observed, predicted)
    return regression_metrics(observed, predicted)


def summarise_folds(fold_metrics):
    """Mean and sd over folds of each metric (a DataFrame with one row per fold)."""
    values = fold_metrics.drop(columns=["fold", "n"], errors="ignore")
    return pd.DataFrame({"metric": values.columns, "mean": values.mean().to_numpy(),
                         "sd": values.std(ddof=1).to_numpy(), "min": values.min().to_numpy(),
                         "max": values.max().to_numpy()})


def run_batches(function, arguments, n_jobs=1, backend="threading", progress=None, is_cancelled=None):
    """``function(*args)`` for each tuple of ``arguments``, ``n_jobs`` at a time, in order.

    Progress is reported and cancel checked after every batch (one fold per worker), so a
    cancel stops a cross-validation after the folds in flight. ``backend`` is a joblib
    backend: 'threading' inside QGIS, 'loky' (processes) only headless.
    """
    from joblib import Parallel, delayed

    steps = as_progress(progress, is_cancelled)
    steps.check()
    arguments = list(arguments)
    batch = local_workers(n_jobs, len(arguments))
    results = []
    with Parallel(n_jobs=batch, backend=backend) as parallel:
        for start in range(0, len(arguments), batch):
            chunk = arguments[start:start + batch]
            results += parallel(delayed(function)(*args) for args in chunk)
            steps.update(len(results) / max(len(arguments), 1))
    return results


def inner_cancel(steps, n_jobs, backend):
    """The cancel check to hand to work running in workers: none across processes (loky)."""
    return steps.is_cancelled if backend == "threading" or local_workers(n_jobs) == 1 else None


def fit_and_predict(model, X, y, groups, test, is_cancelled=None):
    """Fit a fresh copy of ``model`` on the rows outside ``test`` and predict the rows in it."""
    from sklearn.base import clone

    fitted = clone(model).set_params(n_jobs=1)
    fitted.fit(X[~test], y[~test], groups=groups[~test], is_cancelled=is_cancelled)
    return fitted, fitted.predict_frame(X[test])


@dataclass
class CrossValidation:
    """Out-of-fold predictions, the fold of every row, metrics per fold and pooled, fold models."""

    predictions: pd.DataFrame
    folds: np.ndarray
    fold_metrics: pd.DataFrame
    metrics: dict
    models: list


def cross_validate(model, X, y, groups, folds, n_jobs=1, backend="threading", progress=None, is_cancelled=None):
    """Cross-validate an estimator with ``predict_frame`` (e.g. CovariateModel) over given folds.

    X: DataFrame; y: array; groups: label per row (passed on to the model's own inner
    folds); folds: fold number per row (see :func:`group_kfold`). Folds run ``n_jobs`` at a
    time; progress and cancel are reported after each batch. Returns a CrossValidation.
    """
    X = X.reset_index(drop=True)
    y = np.asarray(y)
    groups = np.asarray(groups)
    folds = np.asarray(folds)
    task = getattr(model, "task", "regression")
    steps = as_progress(progress, is_cancelled)
    arguments = [(model, X, y, groups, folds == k, inner_cancel(steps, n_jobs, backend)) for k in np.unique(folds)]
    results = run_batches(fit_and_predict, arguments, n_jobs, backend, steps)
    parts, rows = [], []
    for k, (_, frame) in zip(np.unique(folds), results):
        parts.append(frame.assign(fold=int(k) + 1))
        rows.append({"fold": int(k) + 1, **task_metrics(task, y[folds == k], frame["predicted"].to_numpy())})
    predictions = pd.concat(parts).sort_index()
    return CrossValidation(predictions, folds, pd.DataFrame(rows),
                           task_metrics(task, y, predictions["predicted"].to_numpy()), [m for m, _ in results])
