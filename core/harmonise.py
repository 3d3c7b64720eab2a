"""Depth-weighted harmonisation of horizon properties onto target layers (METHODS section 4, Lu et al. 2025).

A layer inside one horizon takes that horizon's value; a layer spanning several takes
their thickness-weighted mean, weighted by the overlap (cm) of each horizon with the
layer. Horizons without a value of a property do not contribute to it. The contributing
fraction (``<property>_contrib``, 0-1) is the share of the layer's thickness covered by
horizons with a value, as aqp's ``slab`` reports it.

**Decision** (the spec is silent): by default a layer gets a value as soon as any horizon
contributes (``min_coverage=0``, the mean over the covered part, as aqp does); the
contributing fraction says how much of the layer that is. ``min_coverage`` raises the bar.
"""

import numpy as np
import pandas as pd

from .errors import InputError
from .horizons import (STATUS_INCOMPLETE, ProfileLayers, layer_rows, profiles_summary, read_horizons,
                       require_some_profiles, with_attributes)
from .layers import layer_scheme
from .progress import as_progress

#: Suffix of the contributing-fraction column of each property.
CONTRIB_SUFFIX = "_contrib"


def check_min_coverage(min_coverage):
    """Raise InputError unless 0 <= min_coverage <= 1."""
    if not 0.0 <= float(min_coverage) <= 1.0:
        raise InputError(f"min_coverage must be between 0 and 1, not {min_coverage:g}")
    return float(min_coverage)


def overlap_weights(top, bottom, target_tops, target_bottoms):
    """Overlap (cm) of each horizon [top, bottom] with each target [top, bottom]: (horizons, targets)."""
    top, bottom = np.asarray(top, dtype=float)[:, None], np.asarray(bottom, dtype=float)[:, None]
    return np.clip(np.minimum(bottom, target_bottoms) - np.maximum(top, target_tops), 0.0, None)


def weighted_layer_means(horizons, scheme, values):
    """(means, contributing fractions), each (profiles, layers), of one property.

    Means are NaN where no horizon with a value overlaps the layer.
    """
    weights = overlap_weights(horizons.top, horizons.bottom, scheme.tops, scheme.bottoms)
    present = np.isfinite(values)[:, None]
    weights = np.where(present, weights, 0.0)
    first = horizons.starts[:-1]
    covered = np.add.reduceat(weights, first, axis=0)
    weighted = np.add.reduceat(weights * np.where(present, values[:, None], 0.0), first, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(covered > 0, weighted / covered, np.nan)
    return means, covered / scheme.thickness


def depth_weighted(table, id_col, top_col, bottom_col, value_cols, layers=None, min_coverage=0.0, organic="exclude",
                   progress=None, is_cancelled=None):
    """Thickness-weighted means of horizon properties over target layers, per profile.

    table: one row per profile and horizon, depths in cm (positive down). layers: anything
    :func:`~wholesoil.core.layers.layer_scheme` accepts (default 0-20 ... 150-200 cm).
    min_coverage: a layer whose contributing fraction is below it gets NaN. organic: negative
    depths (organic horizons), see :func:`~wholesoil.core.horizons.read_horizons`.
    Returns :class:`~wholesoil.core.horizons.ProfileLayers`: ``layers`` has id, top,
    bottom, one column per property and ``<property>_contrib``, then the profile attributes.
    """
    scheme = layer_scheme(layers)
    min_coverage = check_min_coverage(min_coverage)
    steps = as_progress(progress, is_cancelled)
    horizons = read_horizons(table, id_col, top_col, bottom_col, value_cols, organic=organic)
    require_some_profiles(horizons, "harmonised")
    steps.update(0.2)
    out = layer_rows(horizons, scheme, top_col, bottom_col)
    incomplete = np.zeros(horizons.n_profiles, bool)
    messages = [[] for _ in range(horizons.n_profiles)]
    for k, name in enumerate(horizons.value_cols):
        means, contrib = weighted_layer_means(horizons, scheme, horizons.column(name))
        means = np.where(contrib >= min_coverage, means, np.nan)
        out[name] = means.reshape(-1)
        out[name + CONTRIB_SUFFIX] = contrib.reshape(-1)
        empty = ~np.isfinite(means)
        incomplete |= empty.any(axis=1)
        for p in np.flatnonzero(empty.any(axis=1)):
            labels = ", ".join(np.asarray(scheme.labels)[empty[p]])
            messages[p].append(f"{name}: no value for {labels} cm (contributing fraction "
                               f"{'0' if min_coverage == 0 else f'below {min_coverage:g}'})")
        steps.update(0.2 + 0.8 * (k + 1) / len(horizons.value_cols))
    order = [horizons.id_col, top_col, bottom_col] + \
        [c for name in horizons.value_cols for c in (name, name + CONTRIB_SUFFIX)]
    extra = pd.DataFrame({"status": np.where(incomplete, STATUS_INCOMPLETE, "ok"),
                          "message": ["; ".join(m) for m in messages]})
    return ProfileLayers(layers=with_attributes(out[order], horizons, len(scheme)),
                         profiles=profiles_summary(horizons, extra), scheme=scheme, horizons=horizons)
