"""The scales of a model's values, with numpy alone: the text of a category code, the target
transform and its back-transform, and lower bounds truncated at a limit.

Shared by training and by the map path, which predicts a prepared forest without importing
scikit-learn or pandas (:mod:`..maps.modelcache`).
"""

import numpy as np


def number_text(value):
    """A number as a category label: no trailing '.0' (7.0 -> '7') and all its digits (1234567
    stays 1234567, not 1.23457e+06)."""
    return f"{value:.15g}"


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
