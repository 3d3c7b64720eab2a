"""Train, evaluate and explain a covariate model in one call each.

These are what the CLI commands and the Processing algorithms run:

* :func:`train_model`: grouped (optionally stratified) k-fold CV of a
  :class:`~.models.CovariateModel`, Coulston intervals calibrated on the held-out folds,
  permutation importance on the held-out folds, a final fit on all rows, all described in
  a :class:`~.modelfile.TrainedModel` ready for :func:`~.modelfile.save_model`;
* :func:`evaluate_model`: predictions with uncertainty and metrics of a saved model on new data;
* :func:`explain_model`: importance, partial dependence, group importance, mixed model,
  partial correlations.
"""

import datetime
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError, describe_rows
from ..outputs import note
from ..progress import as_progress
from ..tables import numeric_columns, require_columns, row_numbers
from . import explain
from .encoding import truncate
from .modelfile import TrainedModel, library_versions
from .models import CovariateModel, check_target_transform
from .sampling import point_coordinates
from .screening import level_keys, level_text, screening_steps, screening_table, variance_inflation
from .uncertainty import (baseline_interval, coulston_interval, coulston_tau, coverage, fold_coverage, fold_tau,
                          interval_summary, tau_quantile)
from .validation import (INDEPENDENT_ROWS, cross_validate, fit_and_predict, group_kfold, holdout_split, inner_cancel,
                         resolve_groups, run_batches, summarise_folds, task_metrics)

#: Partial-dependence curves drawn by default: the most important covariates.
DEFAULT_PD_FEATURES = 6
#: Name of the no-model interval in interval tables (the training targets' quantiles).
BASELINE = "no model (training quantiles)"

#: Columns the out-of-fold table (train_model) and predictions (predict_table) add:
#: covariates, targets and strata may not take these names.
ADDED_COLUMNS = ("row", "group", "fold", "tau", "predicted", "sd", "cv", "lower", "upper", "q_lower", "q_upper",
                 "probability_<class>")


def _refuse_clash(clash, where, added):
    """InputError naming the first column in ``clash`` (columns wholesoil would overwrite)."""
    if clash:
        raise InputError(f"{where} {clash[0]!r} has the name of a column wholesoil adds ({', '.join(added)}); "
                         "rename it")


def prepare_data(table, target, features, categorical=(), task="regression", source="the input table",
                 need_target=True):
    """(X, y, complete): covariates in ``features`` order (categorical ones as text), the
    target (float, or text labels for classification; None when absent and not needed) and
    a boolean mask of the rows with every value present. Non-numeric text in a numeric
    covariate or target is an InputError naming the rows."""
    features = list(features)
    if not features:
        raise InputError("no covariates given")
    unknown = [c for c in categorical if c not in features]
    if unknown:
        raise InputError(f"categorical covariates {', '.join(unknown)} are not among the covariates")
    if target in features:
        raise InputError(f"the target {target!r} is also a covariate")
    require_columns(table, features + ([target] if need_target else []), source)
    try:
        X = numeric_columns(table, [f for f in features if f not in categorical])
    except InputError as error:
        raise InputError(f"{error}; a covariate holding classes must be declared categorical") from None
    for column in categorical:
        X[column] = level_text(table[column]).to_numpy(dtype=object)
    X = X[features]
    y = None
    if target in table.columns:
        y = level_text(table[target]) if task == "classification" else numeric_columns(table, [target])[target]
        y = y.reset_index(drop=True).set_axis(X.index)
    complete = X.notna().all(axis=1).to_numpy()
    if y is not None:
        complete &= y.notna().to_numpy()
    return X, y, complete


@dataclass
class Screening:
    """Decisions per covariate, the input table without the dropped covariates, rows used."""

    report: pd.DataFrame
    table: pd.DataFrame
    n_rows: int
    dropped_rows: int


def screen_covariates(table, features, categorical=(), vif_threshold=10.0, correlation_cutoff=0.9,
                      linear_combinations=True):
    """Screen covariates as :class:`~.models.CovariateModel` would, on the complete rows.

    Returns a Screening: ``report`` has one row per covariate (action, step, reason and
    the final VIF of the kept numeric ones); ``table`` is the input without the dropped
    covariates. Rows missing any covariate are not used (counted in ``dropped_rows``).
    """
    features, categorical = list(features), list(categorical)
    X, _, complete = prepare_data(table, None, features, categorical, need_target=False)
    if complete.sum() < 3:
        raise InputError(f"only {int(complete.sum())} rows have every covariate; screening needs at least 3")
    data = X[complete]
    steps = screening_steps(categorical, vif_threshold, correlation_cutoff, linear_combinations)
    for _, step in steps:
        data = step.fit(data).transform(data)
    report = screening_table(steps, features)
    kept = [f for f in report.loc[report["action"] == "kept", "feature"]]
    vifs = dict(zip(kept, variance_inflation(X.loc[complete, kept].astype(float)))) if len(kept) > 1 else {}
    report["vif"] = report["feature"].map(vifs).astype(float)
    dropped = report.loc[report["action"] == "dropped", "feature"].tolist()
    return Screening(report, table.drop(columns=dropped), int(complete.sum()), int((~complete).sum()))


def _plain(value):
    """A JSON-able copy: numpy scalars to Python, tuples to lists, dict keys to text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def resolve_lower_limit(lower_limit, y, task="regression"):
    """The lower limit of the target's interval bounds (None: no limit).

    'auto' (default): 0 when every training value is >= 0 (fluxes, stocks, fractions), else
    no limit; None: no limit; a number: that limit, which no training value may lie below.
    """
    if task != "regression" or lower_limit is None:
        return None
    y = np.asarray(y, dtype=float)
    if isinstance(lower_limit, str) and lower_limit.strip().lower() == "auto":
        return 0.0 if np.nanmin(y) >= 0 else None
    try:
        limit = float(lower_limit)
    except (TypeError, ValueError):
        raise InputError(f"the lower limit must be 'auto', 'none' or a number (got {lower_limit!r})") from None
    if not math.isfinite(limit):
        raise InputError(f"the lower limit must be a finite number (got {lower_limit!r})")
    below = y < limit
    if below.any():
        raise InputError(f"the lower limit {limit:g} is above the target in {describe_rows(row_numbers(below))} "
                         f"(e.g. {y[below][0]:g})")
    return limit


def covariate_ranges(X, categories):
    """{feature: {"min", "max"}} of numeric covariates and {feature: {"levels"}} of
    categorical ones over the rows of X (the training rows): what the model has seen."""
    ranges = {}
    for feature in X.columns:
        if feature in categories:
            ranges[feature] = {"levels": list(categories[feature])}
        else:
            values = X[feature].astype(float)
            ranges[feature] = {"min": float(values.min()), "max": float(values.max())}
    return ranges


def _constant_target_note(task, target, y):
    """A note when the training target takes one value (or one class) only, else None."""
    values = pd.unique(np.asarray(y))
    if len(values) > 1:
        return None
    value = values[0]
    if task == "classification":
        return (f"the target {target!r} holds one class only ({value}): the model predicts it everywhere and "
                "balanced accuracy and kappa say nothing")
    return (f"the target {target!r} is constant ({value:g}) on all {len(y)} rows: the model predicts that value "
            "everywhere, and R2 and NSE are undefined")


def _extent(table, keep, x_col, y_col, crs):
    """([xmin, ymin, xmax, ymax], crs_wkt) of the training points, or (None, None) for a
    table without located points. Coordinate columns or a CRS that are given must work."""
    try:
        x, y, wkt = point_coordinates(table, x_col, y_col, crs)
    except InputError:
        if x_col is not None or y_col is not None or crs is not None:
            raise
        return None, None
    x, y = x[keep], y[keep]
    located = np.isfinite(x) & np.isfinite(y)
    if not located.any():
        return None, wkt
    return [float(x[located].min()), float(y[located].min()), float(x[located].max()), float(y[located].max())], wkt


def holdout_tau(model, X, y, groups, strata=None, n_repeats=20, test_size=0.2, random_state=0, n_jobs=1,
                backend="threading", progress=None, is_cancelled=None):
    """Coulston tau of the held-out rows over ``n_repeats`` grouped 80/20 splits (the Iloss study).

    Each repeat draws a new grouped (and stratified) split, fits a fresh copy of the forest
    on the 80 % and computes tau = |y - y_hat| / sd(trees) on the 20 %; the tau of all
    repeats are returned together (length about n_repeats x test_size x rows).
    """
    y = np.asarray(y, dtype=float)
    steps = as_progress(progress, is_cancelled)
    cancel = inner_cancel(steps, n_jobs, backend)
    tests = [holdout_split(groups, test_size, strata, random_state + 1 + r) for r in range(n_repeats)]
    results = run_batches(fit_and_predict, [(model, X, y, groups, test, cancel) for test in tests],
                          n_jobs, backend, steps)
    return np.concatenate([coulston_tau(y[test], frame["predicted"], frame["sd"])
                           for test, (_, frame) in zip(tests, results)])


def train_model(table, target, features, categorical=(), kind="random_forest", task="regression", group_col=None,
                independent_rows=False, strata_col=None, x_col=None, y_col=None, crs=None, n_splits=10,
                grid=None, target_transform="none", bias_correction="ratio", units="", params=None, n_trees=500,
                screen=True, vif_threshold=10.0, correlation_cutoff=0.9, linear_combinations=True,
                class_weight="balanced",
                permutation_repeats=5, interval_level=0.95, interval_repeats=0, holdout=None, lower_limit="auto",
                random_state=0, n_jobs=1, backend="threading", progress=None, is_cancelled=None):
    """Cross-validate and fit a covariate model of ``target``; returns a TrainedModel.

    Rows are grouped by ``group_col`` (profile or site), else by point location (geometry
    or ``x_col``/``y_col``); naive CV needs ``independent_rows=True``. Folds are stratified
    by ``strata_col`` when given (e.g. climate zone). Rows missing the target or a
    covariate are left out and counted in the description. grid: None (no tuning),
    'default' or a dict (nested: tuned inside every training fold, then on all rows).
    For regression forests the Coulston tau at ``interval_level`` is calibrated on held-out
    data. **Decision** (METHODS: "on hold-out data, over bootstraps"): by default the
    hold-out sets are the CV test folds, so every row is held out once at no extra cost,
    and the coverage is checked fold by fold with tau from the other folds only.
    ``interval_repeats`` > 0 calibrates tau over that many grouped 80/20 splits instead (seed
    001 drew bootstrap resamples of profiles and split each 80/20; the profiles are not
    resampled here); the coverage is then that tau's on the CV out-of-fold predictions.
    holdout: also score one grouped (and stratified) split holding out this fraction
    (0.2 = the 80/20 split of METHODS section 7), fitted on the rest. bias_correction: of
    the back-transform of a log or log1p target (CovariateModel). lower_limit: where
    interval lower bounds are truncated (:func:`resolve_lower_limit`). The intervals are
    scored on the held-out folds next to a no-model baseline (table ``intervals``). The
    description holds ``covariate_ranges`` (:func:`covariate_ranges`) for applicability
    checks; the training table holds ``row`` (1-based row of the input) and the group column.
    """
    if not 0 < interval_level < 1:
        raise InputError(f"the interval level must be between 0 and 1, e.g. 0.95 (got {interval_level:g})")
    if permutation_repeats < 1:
        raise InputError(f"the permutation repeats must be at least 1 (got {permutation_repeats})")
    if interval_repeats < 0:
        raise InputError(f"the interval repeats must be at least 0 (got {interval_repeats})")
    steps = as_progress(progress, is_cancelled)
    features, categorical = list(features), list(categorical)
    _refuse_clash([c for c in features + [target] + ([strata_col] if strata_col else [])
                   if c in ADDED_COLUMNS or str(c).startswith("probability_")], "column", ADDED_COLUMNS)
    X, y, complete = prepare_data(table, target, features, categorical, task)
    groups, group_description = resolve_groups(table, group_col, independent_rows, x_col, y_col)
    extent, crs_wkt = _extent(table, complete, x_col, y_col, crs)
    if task == "regression":
        check_target_transform(np.where(complete, y.to_numpy(), np.nan), target_transform, f"the target {target!r}")
    if strata_col is not None:
        require_columns(table, [strata_col])
    if complete.sum() < 2 * n_splits:
        raise InputError(f"only {int(complete.sum())} complete rows (target and every covariate present) "
                         f"for {n_splits} folds")
    X_fit = X[complete].reset_index(drop=True)
    y_fit = y[complete].to_numpy()
    groups_fit = groups[complete]
    strata_fit = table[strata_col].to_numpy()[complete] if strata_col is not None else None
    limit = resolve_lower_limit(lower_limit, y_fit, task)
    notes = [text for text in [_constant_target_note(task, target, y_fit)] if text]
    folds = group_kfold(groups_fit, n_splits, strata_fit, random_state)
    model = CovariateModel(kind=kind, task=task, categorical=tuple(categorical), screen=screen,
                           vif_threshold=vif_threshold, correlation_cutoff=correlation_cutoff,
                           linear_combinations=linear_combinations, target_transform=target_transform,
                           bias_correction=bias_correction,
                           params=params, grid=grid, n_trees=n_trees, class_weight=class_weight,
                           random_state=random_state, n_jobs=n_jobs)
    cv = cross_validate(model, X_fit, y_fit, groups_fit, folds, n_jobs, backend, steps.sub(0.0, 0.5))
    repeats_tau = None
    if interval_repeats and model.has_tree_spread:
        repeats_tau = holdout_tau(model, X_fit, y_fit, groups_fit, strata_fit, interval_repeats, 0.2, random_state,
                                  n_jobs, backend, steps.sub(0.5, 0.6))
    split = None
    if holdout:
        test = holdout_split(groups_fit, holdout, strata_fit, random_state)
        _, frame = fit_and_predict(model, X_fit, y_fit, groups_fit, test, steps.is_cancelled)
        split = {"test_fraction": float(test.mean()), **task_metrics(task, y_fit[test], frame["predicted"])}
    steps.update(0.6)
    tests = [(X_fit[folds == k], y_fit[folds == k]) for k in np.unique(folds)]
    permutation = explain.permutation_importances(cv.models, tests, permutation_repeats, random_state, n_jobs,
                                                  backend, steps.sub(0.6, 0.8))
    steps.check()
    model.fit(X_fit, y_fit, groups=groups_fit, is_cancelled=steps.is_cancelled)
    steps.update(0.95)
    importance = explain.impurity_importance(model).merge(permutation, on="feature", how="outer")
    importance = importance.set_index("feature").reindex(features).reset_index()
    ranked = importance.sort_values("permutation_importance", ascending=False)["feature"][:DEFAULT_PD_FEATURES]
    curves = explain.partial_dependence(model, X_fit, list(ranked))
    steps.update(0.98)

    training = X_fit.copy()
    training.insert(0, "row", np.flatnonzero(complete) + 1)
    training[target] = y_fit
    training["group"] = groups_fit
    if group_col is not None and group_col not in training.columns:
        training[group_col] = table[group_col].to_numpy()[complete]
    if strata_col is not None:
        training[strata_col] = strata_fit
    training = pd.concat([training, cv.predictions.reset_index(drop=True)], axis=1)
    tables = {"training": training, "fold_metrics": cv.fold_metrics, "importance": importance,
              "partial_dependence": curves,
              "screening": screening_table(list(model.pipeline_.steps[:-1]), features)}
    interval = None
    if model.has_tree_spread:
        predicted, sd = cv.predictions["predicted"].to_numpy(), cv.predictions["sd"].to_numpy()
        tau = coulston_tau(y_fit, predicted, sd)
        training["tau"] = tau
        calibration_tau = tau if repeats_tau is None else repeats_tau
        level_tau = tau_quantile(calibration_tau, interval_level)
        fixed_tau = None if repeats_tau is None else level_tau
        per_fold = fold_coverage(y_fit, predicted, sd, folds, interval_level, fixed_tau, limit)
        training["lower"], training["upper"] = coulston_interval(
            predicted, sd, fold_tau(y_fit, predicted, sd, folds, interval_level, fixed_tau), limit)
        held_out = {"Coulston": (training["lower"].to_numpy(), training["upper"].to_numpy())}
        tables["coverage"] = per_fold
        interval = {"method": "Coulston et al. (2016)", "level": interval_level, "tau": level_tau,
                    "n_tau": int(np.isfinite(calibration_tau).sum()),
                    "coverage_mean": float(per_fold["coverage"].mean()),
                    "coverage_sd": float(per_fold["coverage"].std(ddof=1)),
                    "calibration": "out-of-fold tau of the grouped CV folds; coverage per fold with tau of the "
                                   "other folds" if repeats_tau is None else
                                   f"tau of {interval_repeats} grouped 80/20 hold-out repeats; coverage on the CV "
                                   "out-of-fold predictions"}
        if kind == "quantile_forest":
            bounds = ((1 - interval_level) / 2, (1 + interval_level) / 2)
            quantiles = np.empty((len(y_fit), 2))
            for k, fitted in zip(np.unique(folds), cv.models):
                quantiles[folds == k] = fitted.predict_quantiles(X_fit[folds == k], bounds)
            training["q_lower"], training["q_upper"] = truncate(quantiles[:, 0], limit), quantiles[:, 1]
            interval["quantile_coverage"] = coverage(y_fit, training["q_lower"], training["q_upper"])
            held_out["quantile forest"] = (training["q_lower"].to_numpy(), training["q_upper"].to_numpy())
        fold_bounds = {k: baseline_interval(y_fit[folds != k], interval_level, limit) for k in np.unique(folds)}
        baseline = np.array([fold_bounds[k] for k in folds])
        held_out[BASELINE] = (baseline[:, 0], baseline[:, 1])
        tables["intervals"] = interval_summary(y_fit, held_out, interval_level, sd)
        interval["baseline"] = list(baseline_interval(y_fit, interval_level, limit))
    if getattr(model, "tuning_", None):
        tables["tuning"] = pd.DataFrame(model.tuning_)
    learner = model.pipeline_[-1]
    if hasattr(learner, "candidate_rmse_"):
        tables["candidates"] = pd.DataFrame({"model": list(learner.candidate_rmse_),
                                             "rmse": list(learner.candidate_rmse_.values())})
        tables["candidates"]["chosen"] = tables["candidates"]["model"].isin(learner.chosen_)
        tables["candidates"]["weight"] = [dict(zip(learner.chosen_, learner.weights_)).get(m, 0.0)
                                          for m in tables["candidates"]["model"]]
    dropped = ~complete
    metadata = _plain({
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "task": task, "kind": kind,
        "target": {"name": target, "units": units, "transform": target_transform, "lower_limit": limit,
                   "bias_correction": model.bias_correction if target_transform != "none" else "none",
                   "bias_factor": model.bias_factor_},
        "features": features, "categorical": model.categories_, "encoded_features": model.encoded_feature_names(),
        "covariate_ranges": covariate_ranges(X_fit, model.categories_),
        "groups": group_description, "strata": strata_col, "folds": n_splits, "random_state": random_state,
        "n_rows": int(complete.sum()), "n_groups": int(len(np.unique(groups_fit))),
        "dropped_rows": int(dropped.sum()),
        "dropped_row_numbers": describe_rows(row_numbers(dropped)) if dropped.any() else "",
        "extent": extent, "crs_wkt": crs_wkt,
        "metrics": cv.metrics, "fold_summary": summarise_folds(cv.fold_metrics).set_index("metric")[
            ["mean", "sd"]].to_dict(orient="index"),
        "interval": interval, "holdout": split,
        "parameters": {k: v for k, v in model.get_params().items() if k != "n_jobs"},
        "best_params": getattr(model, "best_params_", None),
        "versions": library_versions(),
    })
    steps.update(1.0)
    return TrainedModel(model, metadata, tables, notes)


@dataclass
class Evaluation:
    """Predictions on new data (the input table plus prediction columns), their metrics, the
    coverage of the Coulston and quantile-forest intervals (NaN when the model has none) and
    the interval table of :func:`~.uncertainty.interval_summary` (None without intervals)."""

    table: pd.DataFrame
    observed: pd.Series
    metrics: dict
    coverage: float = np.nan
    quantile_coverage: float = np.nan
    intervals: pd.DataFrame = None
    notes: list = field(default_factory=list)


#: Rows predicted at a time by :func:`predict_table` (progress and a cancel check between them).
PREDICT_ROWS = 20000


def predict_table(trained, table, quantiles=None, progress=None, is_cancelled=None):
    """The input table plus predictions with uncertainty from a TrainedModel.

    Regression forests add ``sd``, ``cv`` and the Coulston ``lower``/``upper`` bounds at
    the level the model was calibrated for; quantile forests also ``q_lower``/``q_upper``
    (the quantiles (1 -+ level) / 2, or ``quantiles``). Lower bounds are truncated at the
    target's lower limit. Rows missing a covariate, or holding a categorical class the model
    never saw, get NaN (as such pixels are nodata in a map); a note counts them. Rows are
    predicted :data:`PREDICT_ROWS` at a time, with progress and a cancel check between them.
    """
    out, notes = _predicted(trained, table, quantiles, as_progress(progress, is_cancelled))
    for text in notes:
        note(text)
    return out


def _predicted(trained, table, quantiles=None, steps=None):
    """(:func:`predict_table`'s table, notes on the rows left without a prediction)."""
    metadata = trained.metadata
    X, _, _ = prepare_data(table, metadata["target"]["name"], metadata["features"], list(metadata["categorical"]),
                           metadata["task"], need_target=False)
    interval = metadata.get("interval")
    level = interval["level"] if interval else 0.95
    bounds = quantiles or ((1 - level) / 2, (1 + level) / 2)
    frames = []
    for start in range(0, max(len(X), 1), PREDICT_ROWS):
        if steps is not None:
            steps.check()
        rows = X.iloc[start:start + PREDICT_ROWS]
        frame = trained.model.predict_frame(rows)
        if trained.model.kind == "quantile_forest":
            values = trained.model.predict_quantiles(rows, bounds)
            frame["q_lower"], frame["q_upper"] = values[:, 0], values[:, -1]
        frames.append(frame)
        if steps is not None:
            steps.update(min(start + PREDICT_ROWS, len(X)) / max(len(X), 1))
    frame = pd.concat(frames) if len(frames) > 1 else frames[0]
    limit = metadata["target"].get("lower_limit")
    if interval:
        frame["lower"], frame["upper"] = coulston_interval(frame["predicted"], frame["sd"], interval["tau"], limit)
    if "q_lower" in frame.columns:  # after the Coulston bounds, as before
        frame = frame[[c for c in frame.columns if c not in ("q_lower", "q_upper")] + ["q_lower", "q_upper"]]
        frame["q_lower"] = truncate(frame["q_lower"].to_numpy(), limit)
    _refuse_clash([c for c in table.columns if c in frame.columns], "the data's column", frame.columns)
    unseen, notes = _unseen_levels(trained, table)
    lacking = pd.isna(frame["predicted"]).to_numpy() & ~unseen
    if lacking.any():
        notes.append(f"{int(lacking.sum())} of {len(table)} rows lack a covariate and have no prediction "
                     f"({describe_rows(row_numbers(lacking))})")
    out = table.copy()
    for column in frame.columns:
        values = frame[column].to_numpy()
        out[column] = np.where(unseen, np.nan, values) if unseen.any() else values
    return out, notes


def _unseen_levels(trained, table):
    """(rows holding a categorical class the model never saw, a note per covariate)."""
    rows, notes = np.zeros(len(table), dtype=bool), []
    for column, levels in trained.metadata["categorical"].items():
        text = level_keys(table[column], levels)
        unknown = (text.notna() & ~text.isin(levels)).to_numpy()
        if unknown.any():
            notes.append(f"{column}: classes not seen in training ({', '.join(map(str, pd.unique(text[unknown])[:5]))})"
                         f" in {describe_rows(row_numbers(unknown))}; no prediction there (a map leaves such pixels "
                         f"nodata); known classes: {', '.join(levels[:10])}{', ...' if len(levels) > 10 else ''}")
        rows |= unknown
    return rows, notes


def evaluate_model(trained, table, target=None, progress=None, is_cancelled=None):
    """Predictions and metrics of a saved model on new data holding observed values.

    target: the observed column (default: the model's target name). Metrics are those of
    the task; forests also score their intervals (Coulston and, for quantile forests, the
    quantile interval) next to the no-model baseline the model stores. progress and
    is_cancelled: as for :func:`predict_table`.
    """
    metadata = trained.metadata
    name = target or metadata["target"]["name"]
    if name not in table.columns:
        raise InputError(f"the data have no column {name!r} with observed values (give the target column)")
    predicted, notes = _predicted(trained, table, steps=as_progress(progress, is_cancelled))
    observed = level_keys(table[name], [str(c) for c in trained.model.classes_]) \
        if metadata["task"] == "classification" else numeric_columns(table, [name])[name]
    usable = observed.notna().to_numpy() & pd.notna(predicted["predicted"]).to_numpy()
    if not usable.any():
        raise InputError("no row has both an observed value and every covariate")
    metrics = task_metrics(metadata["task"], observed[usable], predicted["predicted"][usable])
    if (~usable).any():
        notes.append(f"{int((~usable).sum())} rows without an observed value, a covariate or a known class were "
                     f"not scored ({describe_rows(row_numbers(~usable))})")
    evaluation = Evaluation(predicted, observed, metrics, notes=notes)
    interval = metadata.get("interval")
    if interval:
        kept = predicted[usable]
        intervals = {"Coulston": (kept["lower"].to_numpy(), kept["upper"].to_numpy())}
        evaluation.coverage = coverage(observed[usable], kept["lower"], kept["upper"])
        if "q_lower" in kept.columns:
            intervals["quantile forest"] = (kept["q_lower"].to_numpy(), kept["q_upper"].to_numpy())
            evaluation.quantile_coverage = coverage(observed[usable], kept["q_lower"], kept["q_upper"])
        intervals[BASELINE] = tuple(interval["baseline"])
        evaluation.intervals = interval_summary(observed[usable], intervals, interval["level"],
                                                kept["sd"].to_numpy())
    return evaluation


@dataclass
class Explanation:
    """Everything :func:`explain_model` found; absent parts are None."""

    importance: pd.DataFrame
    permutation_source: str
    curves: pd.DataFrame
    groups: pd.DataFrame = None
    components: pd.DataFrame = None
    groups_fit: dict = None
    mixed: pd.DataFrame = None
    mixed_summary: dict = None
    partial: pd.DataFrame = None
    notes: list = field(default_factory=list)


def _sites(trained, data, on_training, group_col):
    """(site label per row of ``data`` or None, its name, notes): what the drivers analysis
    treats as repeated records of one site. The training data carry the model's groups;
    other data the ``group_col`` or, by default, the model's group column if they have it."""
    metadata = trained.metadata
    description = metadata["groups"]
    if group_col is not None:
        return resolve_groups(data, group_col)[0], group_col, []
    if description == INDEPENDENT_ROWS:
        return None, None, []
    column = description[len("column "):] if description.startswith("column ") else None
    if on_training:
        return data["group"].to_numpy(), column or description, []
    if column is not None and column in data.columns:
        return resolve_groups(data, column)[0], column, []
    return None, None, [f"the data have no group column (the model was grouped by {description}): the drivers "
                        "analysis treats their rows as independent; give the group column"]


def explain_model(trained, table=None, feature_groups=None, random_effect=None, control=None, pd_features=None,
                  permutation_repeats=5, n_trees=500, random_state=0, n_jobs=1, backend="threading",
                  progress=None, is_cancelled=None, group_col=None):
    """Explain a trained model on its training data, or on ``table`` when given.

    Importance: impurity importance of the model, and permutation importance from the
    held-out CV folds (stored at training) or, with ``table``, on that data. Partial
    dependence for ``pd_features`` (default: the most important covariates). Optional:
    group importance (``feature_groups``: {group: [columns]}) with its grouped CV metrics,
    a mixed model with a random intercept per ``random_effect`` class and partial
    correlations controlling for ``control`` (column or list; e.g. depth), over the model's
    numeric covariates. Records of one site (the model's groups on the training data;
    ``group_col``, default the model's group column, on other data) are not treated as
    independent: see :mod:`.explain`.
    """
    steps = as_progress(progress, is_cancelled)
    metadata = trained.metadata
    target, features = metadata["target"]["name"], metadata["features"]
    categorical = list(metadata["categorical"])
    data = trained.tables["training"] if table is None else table
    X, y, complete = prepare_data(data, target, features, categorical, metadata["task"],
                                  "the training data" if table is None else "the data")
    importance = trained.tables["importance"].copy()
    source = "held-out CV folds"
    if table is not None:
        X_new, y_new = X[complete].reset_index(drop=True), y[complete].to_numpy()
        fresh = explain.permutation_importances([trained.model], [(X_new, y_new)], permutation_repeats, random_state,
                                                n_jobs, backend, steps.sub(0.0, 0.4))
        importance = importance[["feature", "impurity_importance"]].merge(fresh, on="feature", how="left")
        source = "the given data"
    steps.update(0.4)
    if table is None and pd_features is None:
        curves = trained.tables["partial_dependence"]
    else:
        ranked = importance.sort_values("permutation_importance", ascending=False)["feature"].tolist()
        curves = explain.partial_dependence(trained.model, X[complete], pd_features or ranked[:DEFAULT_PD_FEATURES])
    result = Explanation(importance, source, curves)
    steps.update(0.6)
    frame = data.loc[complete].copy()
    numeric = [f for f in features if f not in categorical]
    sites, site_name = None, None
    if feature_groups or random_effect is not None or control is not None:
        sites, site_name, result.notes = _sites(trained, data, table is None, group_col)
        sites = None if sites is None else sites[complete]
    if feature_groups:
        result.groups, result.components, result.groups_fit = explain.group_importance(
            frame, y[complete].to_numpy(), feature_groups, metadata["task"], n_trees=n_trees,
            random_state=random_state, n_jobs=n_jobs, groups=sites)
        counts = result.groups.set_index("group")["n_components"]
        if counts.nunique() > 1:
            result.notes.append("the covariate groups have different numbers of components ("
                                + ", ".join(f"{g} {n}" for g, n in counts.items()) + "): a group with more components "
                                "collects more impurity importance; compare importance_per_component too")
    steps.update(0.8)
    if random_effect is not None:
        if metadata["task"] != "regression":
            raise InputError("the mixed model needs a numeric target (regression)")
        covariates = [f for f in numeric if f != random_effect]
        result.mixed, result.mixed_summary = explain.mixed_model(frame, target, covariates, random_effect,
                                                                 sites=sites, site_name=site_name)
    if control is not None:
        if metadata["task"] != "regression":
            raise InputError("partial correlations need a numeric target (regression)")
        controls = [control] if isinstance(control, str) else list(control)
        result.partial = explain.partial_correlations(frame, target, [f for f in numeric if f not in controls],
                                                      controls, sites=sites, site_name=site_name)
    steps.update(1.0)
    return result
