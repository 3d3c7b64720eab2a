"""HTML reports (and PNG figures) of trained, evaluated and explained models.

Each report is one self-contained HTML page; with ``pngs`` (the CLI's default) every figure is
also written as a PNG beside it (``<report stem>_<figure>.png``). Figures use
:mod:`wholesoil.core.plots` (Agg only).
"""

import html
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..plots import COLOURS, html_image, html_table, new_figure, save_png, write_html_report


def _label(metadata):
    target = metadata["target"]
    units = f" ({target['units']})" if target.get("units") else ""
    return f"{target['name']}{units}"


def observed_predicted_figure(observed, predicted, folds=None, label="target"):
    """Observed against predicted values, one panel per fold plus all folds pooled (1:1 line)."""
    observed = np.asarray(observed, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    folds = np.ones(len(observed), dtype=int) if folds is None else np.asarray(folds)
    panels = [(f"fold {k}", folds == k) for k in np.unique(folds)] if len(np.unique(folds)) > 1 else []
    panels.append(("all folds" if panels else "all rows", np.ones(len(observed), dtype=bool)))
    ncols = min(4, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    figure, axes = new_figure(3.0 * ncols, 2.9 * nrows, ncols=ncols, nrows=nrows)
    axes = np.atleast_1d(axes).ravel()
    finite = np.isfinite(observed) & np.isfinite(predicted)
    low = float(np.min([observed[finite].min(), predicted[finite].min()])) if finite.any() else 0.0
    high = float(np.max([observed[finite].max(), predicted[finite].max()])) if finite.any() else 1.0
    for i, (title, mask) in enumerate(panels):
        ax = axes[i]
        ax.plot([low, high], [low, high], "-", color="#999999", linewidth=1)
        ax.plot(predicted[mask], observed[mask], "o", markersize=2.5, alpha=0.6, color=COLOURS[i % len(COLOURS)])
        ax.set_title(title, fontsize="small")
        ax.set_xlabel("predicted", fontsize="small")
        ax.set_ylabel("observed", fontsize="small")
        ax.tick_params(labelsize="x-small")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    figure.suptitle(f"Observed vs predicted: {label}")
    return figure


def importance_figure(importance, task="regression"):
    """Bars of impurity importance (%) and permutation importance (mean +- sd)."""
    table = importance.sort_values("permutation_importance", ascending=True, na_position="first")
    has_impurity = "impurity_importance" in table and table["impurity_importance"].notna().any()
    figure, axes = new_figure(9.0, 0.35 * len(table) + 1.6, ncols=2 if has_impurity else 1, sharey=True)
    axes = np.atleast_1d(axes)
    positions = np.arange(len(table))
    axes[0].barh(positions, table["permutation_importance"], xerr=table["permutation_sd"].fillna(0.0),
                 color=COLOURS[0], ecolor="#555555")
    axes[0].set_yticks(positions)
    axes[0].set_yticklabels(table["feature"], fontsize="small")
    loss = "balanced accuracy lost" if task == "classification" else "RMSE increase"
    axes[0].set_xlabel(f"permutation importance: {loss} (mean +- sd)")
    axes[0].axvline(0.0, color="#999999", linewidth=0.8)
    if has_impurity:
        axes[1].barh(positions, table["impurity_importance"].fillna(0.0), color=COLOURS[1])
        axes[1].set_xlabel("impurity importance (%)")
    figure.suptitle("Covariate importance")
    return figure


def partial_dependence_figure(curves, label="prediction"):
    """One small line (numeric) or bar (categorical) plot per feature of a partial-dependence table."""
    features = list(dict.fromkeys(curves["feature"]))
    ncols = min(3, max(len(features), 1))
    nrows = max(1, math.ceil(len(features) / ncols))
    figure, axes = new_figure(3.3 * ncols, 2.8 * nrows, ncols=ncols, nrows=nrows)
    axes = np.atleast_1d(axes).ravel()
    for ax, feature in zip(axes, features):
        curve = curves[curves["feature"] == feature]
        if curve["level"].astype(str).str.len().eq(0).all():
            ax.plot(curve["value"], curve["mean_prediction"], "-", color=COLOURS[3])
        else:
            ax.bar(curve["level"].astype(str), curve["mean_prediction"], color=COLOURS[3])
            ax.tick_params(axis="x", labelrotation=60)
        ax.set_xlabel(feature, fontsize="small")
        ax.set_ylabel(f"mean {label}", fontsize="small")
        ax.tick_params(labelsize="x-small")
    for ax in axes[len(features):]:
        ax.set_visible(False)
    figure.suptitle("Partial dependence")
    return figure


def _write(path, title, parts, pngs=True):
    """Write the HTML page with ``parts`` (strings or (name, figure) pairs) and, with ``pngs``, the PNGs."""
    path = Path(path)
    html_parts = []
    for part in parts:
        if isinstance(part, tuple):
            name, figure = part
            if pngs:
                save_png(figure, path.with_name(f"{path.stem}_{name}.png"))
            html_parts.append(html_image(figure, name))
        else:
            html_parts.append(part)
    return write_html_report(path, title, html_parts)


def _paragraph(text):
    return f"<p>{html.escape(text)}</p>"


def _heading(text):
    return f"<h2>{html.escape(text)}</h2>"


def _metrics_frame(metrics):
    return pd.DataFrame([{k: v for k, v in metrics.items()}])


def _description(metadata, of_training=True):
    """Paragraphs describing a model; ``of_training`` False (reports on other data) leaves
    out the row numbers of the training table."""
    interval, target = metadata.get("interval"), metadata["target"]
    lines = [f"Model: {metadata['kind'].replace('_', ' ')} ({metadata['task']}) of {_label(metadata)}"
             + (f", fitted on the {target['transform']} scale and back-transformed with the "
                f"{target['bias_correction']} bias correction (factor {target['bias_factor']:.4g})"
                if target["transform"] != "none" else "")
             + ".",
             f"{metadata['n_rows']} rows in {metadata['n_groups']} groups ({metadata['groups']}); "
             f"{metadata['folds']}-fold grouped cross-validation"
             + (f" stratified by {metadata['strata']}" if metadata.get("strata") else "")
             + f", seed {metadata['random_state']}.",
             f"Covariates: {', '.join(metadata['features'])}."]
    if metadata.get("dropped_rows"):
        lines.append(f"{metadata['dropped_rows']} rows lacking the target or a covariate were left out "
                     + (f"({metadata['dropped_row_numbers']})." if of_training else "of the training table."))
    if interval:
        lines.append(f"{interval['level']:.0%} Coulston interval: tau = {interval['tau']:.3g} from "
                     f"{interval['n_tau']} held-out predictions; held-out coverage {interval['coverage_mean']:.1%} "
                     f"(sd over folds {interval['coverage_sd']:.1%}).")
        if "quantile_coverage" in interval:
            lines.append(f"Quantile-forest interval ({interval['level']:.0%}): held-out coverage "
                         f"{interval['quantile_coverage']:.1%}.")
        if target.get("lower_limit") is not None:
            lines.append(f"Lower bounds of the intervals are truncated at {target['lower_limit']:g} (the target's "
                         "lower limit).")
    return [_paragraph(line) for line in lines]


def _interval_parts(intervals, where):
    """The interval table (pooled and by sd bin) with what it means."""
    return [_heading(f"Intervals on {where}: coverage, mean width and interval score"),
            _paragraph("The interval score (Gneiting & Raftery 2007) is the width plus 2 / (1 - level) times the "
                       "distance of each observation outside the interval, in target units: lower is better. The "
                       "no-model baseline gives every row the training values' quantiles. Rows are binned by the "
                       "sd of the tree predictions: an interval that adapts covers about its level in every bin."),
            html_table(intervals)]


def training_report(path, trained, pngs=True):
    """Report of :func:`~.training.train_model`: description, metrics, figures and tables."""
    metadata, tables = trained.metadata, trained.tables
    training = tables["training"]
    target = metadata["target"]["name"]
    parts = [*_description(metadata), *[_paragraph(f"Note: {note}") for note in trained.notes],
             _heading("Cross-validated metrics (pooled out-of-fold)"),
             html_table(_metrics_frame(metadata["metrics"])), _heading("Metrics per fold"),
             html_table(tables["fold_metrics"])]
    if metadata.get("holdout"):
        parts += [_heading("Grouped hold-out split"), html_table(_metrics_frame(metadata["holdout"]))]
    if metadata["task"] == "regression":
        parts.append(("observed_predicted", observed_predicted_figure(training[target], training["predicted"],
                                                                        training["fold"], _label(metadata))))
    else:
        parts += [_heading("Confusion table (rows observed, columns predicted)"),
                  pd.crosstab(training[target], training["predicted"]).to_html(border=0, classes="data")]
    if "coverage" in tables:
        parts += [_heading("Coulston interval coverage per held-out fold"), html_table(tables["coverage"])]
    if "intervals" in tables:
        parts += _interval_parts(tables["intervals"], "the held-out folds")
    parts += _importance_parts(tables["importance"], "held-out CV folds", metadata["task"])
    parts += [_heading("Partial dependence (final model, training rows)"),
              ("partial_dependence", partial_dependence_figure(tables["partial_dependence"], target))]
    parts += [_heading("Covariate screening"), html_table(tables["screening"])]
    for name, title in (("tuning", "Tuning (mean score over inner folds; RMSE or -balanced accuracy)"),
                        ("candidates", "Ensemble candidates (grouped CV RMSE; the best three are stacked)")):
        if name in tables:
            parts += [_heading(title), html_table(tables[name])]
    return _write(path, f"Trained model: {_label(metadata)}", parts, pngs)


def _importance_parts(importance, source, task):
    return [_heading(f"Importance (permutation importance on {source})"),
            ("importance", importance_figure(importance, task)), html_table(importance)]


def evaluation_report(path, trained, evaluation, pngs=True):
    """Report of :func:`~.training.evaluate_model` on new data."""
    metadata = trained.metadata
    shares = {name: getattr(evaluation, name) for name in ("coverage", "quantile_coverage")
              if not np.isnan(getattr(evaluation, name))}
    parts = [*_description(metadata, of_training=False), _heading("Metrics on the given data"),
             html_table(_metrics_frame({**evaluation.metrics, **shares}))]
    parts += [_paragraph(note) for note in evaluation.notes]
    if evaluation.intervals is not None:
        parts += _interval_parts(evaluation.intervals, "the given data")
    if metadata["task"] == "regression":
        figure = observed_predicted_figure(evaluation.observed, evaluation.table["predicted"], label=_label(metadata))
        parts.append(("observed_predicted", figure))
    return _write(path, f"Model evaluation: {_label(metadata)}", parts, pngs)


def explanation_report(path, trained, explanation, pngs=True):
    """Report of :func:`~.training.explain_model`."""
    metadata = trained.metadata
    parts = [*_description(metadata, of_training=False), *[_paragraph(f"Note: {note}") for note in explanation.notes],
             *_importance_parts(explanation.importance, explanation.permutation_source, metadata["task"]),
             _heading("Partial dependence"),
             ("partial_dependence", partial_dependence_figure(explanation.curves, metadata["target"]["name"]))]
    if explanation.groups is not None:
        fit = explanation.groups_fit
        parts += [_heading("Group importance via per-group PCA (%)"), html_table(explanation.groups),
                  html_table(explanation.components),
                  _paragraph(f"The forest on the components, cross-validated in {fit['folds']} folds "
                             f"({fit['grouped']}):"),
                  html_table(_metrics_frame({k: v for k, v in fit.items() if k not in ("folds", "grouped")}))]
    if explanation.mixed is not None:
        summary = explanation.mixed_summary
        parts += [_heading(f"Mixed model: random intercept per {summary['random_effect']} (standardised)"),
                  html_table(explanation.mixed),
                  html_table(pd.DataFrame([{k: v for k, v in summary.items() if k != "warnings"}]))]
        parts += [_paragraph(f"statsmodels: {w}") for w in summary["warnings"]]
    if explanation.partial is not None:
        parts += [_heading("Partial correlations"), html_table(explanation.partial)]
    return _write(path, f"Model explanation: {_label(metadata)}", parts, pngs)
