"""The scales of a model's values, with numpy alone: the text of a category code, the target
transform and its back-transform, and lower bounds truncated at a limit.

Shared by training and by the map path, which predicts a prepared forest without importing
scikit-learn or pandas (:mod:`..maps.modelcache`).
"""

import re

import numpy as np

#: Text holding a plain number, as a CSV reader parses it: '7', '07', '7.0', '-2.5', '1e3' (not 'nan' or 'inf').
_PLAIN_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def number_text(value):
    """A number as a category label: no trailing '.0' (7.0 -> '7') and all its digits (1234567
    stays 1234567, not 1.23457e+06)."""
    return f"{value:.15g}"


def numeric_levels(levels):
    """True when every category level is a number as :func:`number_text` writes it (levels trained on numbers)."""
    return all(_PLAIN_NUMBER.fullmatch(level) and number_text(float(level)) == level for level in levels)


def number_label(text):
    """The :func:`number_text` label of text holding a plain number ('7.0', '07' -> '7'); other text unchanged."""
    return number_text(float(text)) if _PLAIN_NUMBER.fullmatch(text) else text


def transform_target(y, transform):
    """Apply the target transform ('none', 'log' or 'log1p') to values."""
    if transform == "log":
        return np.log(y)
    if transform == "log1p":
        return np.log1p(y)
    return y


def back_transform(values, transform, factor=1.0):
    """Values on the model scale -> target units (a copy as float; NaN stays NaN).

    log: exp(v) × factor; log1p: expm1(v) × factor + (factor − 1), i.e. (1 + y) × factor − 1;
    none: v. ``factor`` is the bias correction of a mean (1 for quantiles, which transform
    exactly).
    """
    values = np.array(values, dtype=float)
    if transform == "log":
        return np.exp(values) * factor
    if transform == "log1p":
        return np.expm1(values) * factor + (factor - 1.0)
    return values


def truncate(lower, lower_limit=None):
    """Lower bounds raised to ``lower_limit`` (None: unchanged); NaN stays NaN."""
    lower = np.asarray(lower, dtype=float)
    return lower if lower_limit is None else np.maximum(lower, lower_limit)
