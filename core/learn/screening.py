"""Covariate screening as scikit-learn transformers (METHODS section 7).

Each filter takes a DataFrame and screens its numeric columns only; text columns
(categorical covariates such as biome) pass through untouched and are one-hot encoded
last by :class:`CategoricalEncoder`. Every filter records what it dropped and why in
``dropped_`` (a list of dicts: feature, step, reason) and what it kept in ``kept_``.

**Decision** (the order is not fixed by METHODS): exact linear combinations first (they
make VIFs infinite), then the correlation filter, then iterative VIF removal.
"""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..errors import InputError, describe_rows
from ..tables import row_numbers
from .encoding import number_label, number_text, numeric_levels


def as_frame(X, columns=None):
    """A DataFrame view of X (arrays get columns x0, x1, ...)."""
    if isinstance(X, pd.DataFrame):
        return X
    X = np.asarray(X)
    if X.ndim != 2:
        raise InputError("covariates must be a 2-D table (rows x features)")
    return pd.DataFrame(X, columns=columns or [f"x{i}" for i in range(X.shape[1])])


def numeric_names(frame):
    """Names of the numeric (non-text, non-boolean) columns of a DataFrame."""
    return [c for c in frame.columns
            if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]


def level_text(values):
    """Category labels as text: numbers without a trailing '.0' (7.0 -> '7') and with all
    their digits (1234567 stays 1234567, not 1.23457e+06), surrounding spaces removed.
    Missing values and empty text (what OGR, and so QGIS, reads from an empty CSV cell) are
    NaN: empty means missing, whichever way the table was read."""
    series = pd.Series(values)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.map(lambda v: v if pd.isna(v) else number_text(v))
    text = series.map(lambda v: np.nan if pd.isna(v) else str(v).strip())
    return text.where(text != "", np.nan)


def level_keys(values, levels):
    """:func:`level_text` of ``values`` to compare with a model's ``levels``: when these are all numbers (a
    covariate trained on numbers), text holding a plain number is that number ('1.0', '01' -> '1'), as a CSV
    read as text (OGR, and so QGIS) holds the codes a CSV read as numbers holds."""
    text = level_text(values)
    if not numeric_levels(levels):
        return text
    return text.map(lambda v: number_label(v) if isinstance(v, str) else v)


class _ColumnFilter(TransformerMixin, BaseEstimator):
    """Base of the filters: ``_select(numeric frame)`` returns the dropped records."""

    STEP = ""

    def fit(self, X, y=None):
        frame = as_frame(X)
        numeric = numeric_names(frame)
        values = frame[numeric].astype(float)
        if values.isna().any().any():
            bad = values.isna().any(axis=1)
            raise InputError(f"{self.STEP}: missing covariate values in {describe_rows(row_numbers(bad))}; "
                             "drop or fill those rows first")
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.dropped_ = self._select(values) if len(numeric) > 1 else []
        gone = {d["feature"] for d in self.dropped_}
        self.kept_ = [c for c in frame.columns if c not in gone]
        return self

    def transform(self, X):
        check_is_fitted(self, "kept_")
        frame = as_frame(X, list(self.feature_names_in_))
        missing = [c for c in self.kept_ if c not in frame.columns]
        if missing:
            raise InputError(f"{self.STEP}: covariates missing: {', '.join(map(str, missing))}")
        return frame[self.kept_]

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "kept_")
        return np.asarray(self.kept_, dtype=object)


class LinearCombinationFilter(_ColumnFilter):
    """Drop columns that are exact linear combinations (with an intercept) of earlier ones.

    Like caret's findLinearCombos, later columns go first; constant columns are dropped too.
    The intercept makes, e.g., clay = 100 - sand - silt a combination. ``tol``: a column
    counts as a combination when the part of it (centred, scaled to unit length) that the
    kept columns cannot explain is shorter than ``tol``.
    """

    STEP = "linear combinations"

    def __init__(self, tol=1e-6):
        self.tol = tol

    def _select(self, values):
        centred = values - values.mean()
        basis, kept, dropped = [], [], []
        for name in values.columns:
            column = centred[name].to_numpy()
            length = np.linalg.norm(column)
            if length == 0 or length <= 1e-12 * max(1.0, np.abs(values[name]).max()):
                dropped.append({"feature": name, "step": self.STEP, "reason": "constant"})
                continue
            unit = column / length
            residual = unit - sum((q @ unit) * q for q in basis) if basis else unit
            if np.linalg.norm(residual) <= self.tol:
                dropped.append({"feature": name, "step": self.STEP,
                                "reason": "exact linear combination: " + self._formula(values, name, kept)})
                continue
            basis.append(residual / np.linalg.norm(residual))
            kept.append(name)
        return dropped

    @staticmethod
    def _formula(values, name, kept):
        """'sand * -1 + silt * -1 + 100' style text of the combination."""
        design = np.column_stack([values[kept].to_numpy(), np.ones(len(values))])
        coefficients = np.linalg.lstsq(design, values[name].to_numpy(), rcond=None)[0]
        scale = max(np.abs(coefficients).max(), 1.0)
        terms = [f"{c:.4g} * {k}" for c, k in zip(coefficients[:-1], kept) if abs(c) > 1e-8 * scale]
        if abs(coefficients[-1]) > 1e-8 * scale:
            terms.append(f"{coefficients[-1]:.4g}")
        return f"{name} = " + " + ".join(terms or ["0"])


class CorrelationFilter(_ColumnFilter):
    """Drop one of each pair with |Pearson r| above ``cutoff`` by caret's findCorrelation rule.

    The rule of caret's exact algorithm (its default below 100 columns): columns are
    ordered by decreasing mean absolute correlation with the others; for each pair (i, j),
    i before j, both still present, with |r| > cutoff, column i is dropped if its mean |r|
    with the remaining columns exceeds the mean |r| of the remaining matrix without row j,
    otherwise column j is dropped. (caret compares with that matrix mean, not with the mean
    of row j; we keep its behaviour so that results match R.)
    """

    STEP = "correlation"

    def __init__(self, cutoff=0.9):
        self.cutoff = cutoff

    def _select(self, values):
        if not 0 < self.cutoff <= 1:
            raise InputError(f"the correlation cutoff must be in (0, 1] (got {self.cutoff})")
        names = list(values.columns)
        with np.errstate(invalid="ignore", divide="ignore"):
            absolute = np.abs(np.corrcoef(values.to_numpy(), rowvar=False))
        absolute = np.nan_to_num(absolute, nan=0.0)
        off = absolute.copy()
        np.fill_diagonal(off, np.nan)
        order = np.argsort(-np.nanmean(off, axis=0), kind="stable")
        absolute, off = absolute[np.ix_(order, order)], off[np.ix_(order, order)]
        deleted = np.zeros(len(order), dtype=bool)
        dropped = []
        for i in range(len(order) - 1):
            if not np.any(off[~np.isnan(off)] > self.cutoff):
                break
            if deleted[i]:
                continue
            for j in range(i + 1, len(order)):
                if deleted[i] or deleted[j] or not absolute[i, j] > self.cutoff:
                    continue
                mean_i = np.nanmean(off[i])
                mean_rest = np.nanmean(np.delete(off, j, axis=0))
                loser, other = (i, j) if mean_i > mean_rest else (j, i)
                deleted[loser] = True
                off[loser, :] = np.nan
                off[:, loser] = np.nan
                dropped.append({"feature": names[order[loser]], "step": self.STEP,
                                "reason": f"|r| = {absolute[i, j]:.3f} > {self.cutoff:g} with "
                                          f"{names[order[other]]}"})
        return dropped


class VIFFilter(_ColumnFilter):
    """Iteratively drop the column with the largest variance inflation factor above ``threshold``.

    VIF_j = 1 / (1 - R2_j), R2_j from regressing column j on the other remaining columns
    (with an intercept); recomputed after every removal, until all VIFs <= threshold.
    """

    STEP = "VIF"

    def __init__(self, threshold=10.0):
        self.threshold = threshold

    def _select(self, values):
        if not self.threshold >= 1:
            raise InputError(f"the VIF threshold must be at least 1 (got {self.threshold})")
        remaining = list(values.columns)
        dropped = []
        while len(remaining) > 1:
            vifs = variance_inflation(values[remaining])
            worst = int(np.argmax(vifs))
            if not vifs[worst] > self.threshold:
                break
            dropped.append({"feature": remaining[worst], "step": self.STEP,
                            "reason": f"VIF {vifs[worst]:.3g} > {self.threshold:g} "
                                      f"(removal {len(dropped) + 1})"})
            del remaining[worst]
        return dropped


def variance_inflation(values):
    """VIF of each column of a numeric DataFrame (inf for exact collinearity)."""
    matrix = values.to_numpy(dtype=float)
    vifs = np.empty(matrix.shape[1])
    for j in range(matrix.shape[1]):
        others = np.column_stack([np.delete(matrix, j, axis=1), np.ones(len(matrix))])
        target = matrix[:, j]
        fitted = others @ np.linalg.lstsq(others, target, rcond=None)[0]
        total = np.sum((target - target.mean()) ** 2)
        unexplained = np.sum((target - fitted) ** 2)
        vifs[j] = np.inf if unexplained <= 1e-12 * total else total / unexplained
    return vifs


class CategoricalEncoder(TransformerMixin, BaseEstimator):
    """One-hot encode the named categorical columns; other columns pass through as float.

    Levels are compared as text (see :func:`level_keys`), so a raster class code 7 and the
    text '7' (or '7.0', when the levels are numbers) are one level. Learned: ``levels_``
    {column: sorted levels} and ``feature_names_out_`` (pass-through columns, then
    ``column=level`` indicators).
    handle_unknown: 'ignore' (default: all indicators 0, so held-out folds and new data may
    hold levels the training rows lacked) or 'error' (an InputError naming column, level and
    rows). A missing category gives NaN indicators (the row is nodata).
    """

    def __init__(self, columns=(), handle_unknown="ignore"):
        self.columns = columns
        self.handle_unknown = handle_unknown

    def fit(self, X, y=None):
        frame = as_frame(X)
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise InputError(f"categorical covariates not in the table: {', '.join(map(str, missing))}")
        if self.handle_unknown not in ("error", "ignore"):
            raise InputError(f"handle_unknown must be 'error' or 'ignore' (got {self.handle_unknown!r})")
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.levels_ = {c: sorted(level_text(frame[c]).dropna().unique().tolist()) for c in self.columns}
        self.passthrough_ = [c for c in frame.columns if c not in self.levels_]
        text = [c for c in self.passthrough_ if c not in numeric_names(frame)]
        if text:
            raise InputError(f"covariates {', '.join(map(str, text))} hold text: declare them categorical")
        self.feature_names_out_ = self.passthrough_ + [f"{c}={level}" for c, levels in self.levels_.items()
                                                       for level in levels]
        self.dropped_ = []
        return self

    def transform(self, X):
        check_is_fitted(self, "levels_")
        frame = as_frame(X, list(self.feature_names_in_))
        missing = [c for c in self.feature_names_in_ if c not in frame.columns]
        if missing:
            raise InputError(f"covariates missing: {', '.join(map(str, missing))}")
        out = {c: frame[c].astype(float).to_numpy() for c in self.passthrough_}
        for column, levels in self.levels_.items():
            text = level_keys(frame[column], levels).to_numpy(dtype=object)
            absent = pd.isna(text)
            unknown = ~absent & ~np.isin(text, levels)
            if unknown.any() and self.handle_unknown == "error":
                examples = ", ".join(repr(v) for v in pd.unique(text[unknown])[:3])
                raise InputError(f"categorical covariate {column!r} has levels not seen in training "
                                 f"({examples}) in {describe_rows(row_numbers(unknown))}; "
                                 f"known levels: {', '.join(levels)}")
            for level in levels:
                indicator = (text == level).astype(float)
                indicator[absent] = np.nan
                out[f"{column}={level}"] = indicator
        return pd.DataFrame(out, index=frame.index, columns=self.feature_names_out_)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "levels_")
        return np.asarray(self.feature_names_out_, dtype=object)


def screening_steps(categorical=(), vif_threshold=10.0, correlation_cutoff=0.9, linear_combinations=True,
                    screen=True):
    """The (name, transformer) steps that screen and encode covariates, in order."""
    steps = []
    if screen:
        if linear_combinations:
            steps.append(("linear_combinations", LinearCombinationFilter()))
        if correlation_cutoff is not None:
            steps.append(("correlation", CorrelationFilter(correlation_cutoff)))
        if vif_threshold is not None:
            steps.append(("vif", VIFFilter(vif_threshold)))
    steps.append(("encode", CategoricalEncoder(tuple(categorical))))
    return steps


def screening_table(steps, features):
    """One row per covariate: action (kept, dropped, one-hot encoded), step and reason."""
    dropped = {d["feature"]: d for _, step in steps for d in getattr(step, "dropped_", [])}
    encoder = [step for _, step in steps if isinstance(step, CategoricalEncoder)]
    levels = encoder[0].levels_ if encoder else {}
    rows = []
    for feature in features:
        if feature in dropped:
            rows.append({"feature": feature, "action": "dropped", "step": dropped[feature]["step"],
                         "reason": dropped[feature]["reason"]})
        elif feature in levels:
            rows.append({"feature": feature, "action": "one-hot encoded", "step": "encode",
                         "reason": f"{len(levels[feature])} levels: {', '.join(levels[feature])}"})
        else:
            rows.append({"feature": feature, "action": "kept", "step": "", "reason": ""})
    return pd.DataFrame(rows, columns=["feature", "action", "step", "reason"])
