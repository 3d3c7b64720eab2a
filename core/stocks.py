"""SOC density and stocks of horizons or target layers (METHODS section 3, Wang et al. 2024 eq. 1).

Each horizon's carbon per cm of depth, SOC [g kg-1] x BD [g cm-3] / 10 x (1 - coarse
fraction) [Mg C ha-1 cm-1], comes from :func:`wholesoil.core.soc.soc_density` (which
checks the units). On target layers it is harmonised (depth-weighted or with the
mass-preserving spline) and multiplied by the layer thickness. Harmonising the product
rather than SOC and BD separately keeps the carbon mass: the stock of a layer is the
integral of carbon per cm over the layer.

**Decision** (the spec is silent): by default a layer gets a stock only when horizons with
SOC and BD cover all of it (``min_coverage=1``): a stock scaled up from part of a layer
would be an extrapolation. Lower ``min_coverage`` to accept partly covered layers.
"""

import re

import numpy as np
import pandas as pd

from .errors import InputError, describe_rows
from .harmonise import check_min_coverage, weighted_layer_means
from .horizons import (STATUS_INCOMPLETE, ProfileLayers, layer_rows, profiles_summary, read_horizons,
                       require_some_profiles, with_attributes)
from .layers import layer_scheme
from .progress import as_progress
from .soc import OC_UNITS, check_soc_units, oc_unit_notes, soc_density
from .spline import DEFAULT_LAMBDA, fit_splines

METHODS = ("depth-weighted", "spline")
COARSE_UNITS = {"fraction": 1.0, "percent": 100.0}
#: Output columns: SOC density of the layer/horizon and its cumulative sum from the top (Mg C ha-1).
DENSITY = "soc_mg_ha"
CUMULATIVE = "soc_cum_mg_ha"
CONTRIB = "soc_contrib"
STOCK = "soc_stock_mg"


def _carbon_per_cm(horizons, soc_col, bd_col, coarse_col, coarse_unit, oc_unit):
    """Carbon per cm of each horizon (Mg C ha-1 cm-1); profiles with impossible values are rejected."""
    soc, bd = horizons.column(soc_col) * OC_UNITS[oc_unit], horizons.column(bd_col)
    coarse = horizons.column(coarse_col) / COARSE_UNITS[coarse_unit] if coarse_col else None
    try:
        return horizons, soc_density(soc, bd, 1.0, coarse)
    except InputError:
        pass
    # find the rows at fault (only on this error path: one check per row)
    bad = np.zeros(len(soc), bool)
    reasons = {}
    for i in range(len(soc)):
        try:
            check_soc_units(soc[i], bd[i], None, None if coarse is None else coarse[i])
        except InputError as error:
            bad[i] = True
            reasons[horizons.rows[i]] = re.sub(r" \(\d+ value\(s\)\)", "", str(error))  # keep the unit hint
    horizons = horizons.reject(bad, lambda rows: f"{reasons[rows[0]]} in {describe_rows(rows)}")
    soc, bd = horizons.column(soc_col) * OC_UNITS[oc_unit], horizons.column(bd_col)
    coarse = horizons.column(coarse_col) / COARSE_UNITS[coarse_unit] if coarse_col else None
    return horizons, soc_density(soc, bd, 1.0, coarse)


def _area(area, horizons):
    """Area per profile (ha) from a number or a profile-level column; None if not given."""
    if area is None:
        return None
    if isinstance(area, str):
        if area not in horizons.attributes.columns:
            raise InputError(f"area: column {area!r} is missing or not constant within each profile")
        values = pd.to_numeric(horizons.attributes[area], errors="coerce").to_numpy(dtype=float)
    else:
        values = np.full(horizons.n_profiles, float(area))
    if np.any(values[np.isfinite(values)] <= 0):
        raise InputError("area must be positive (ha)")
    return values


def _horizon_stocks(table, horizons, per_cm, id_col, area):
    """The input table plus soc_mg_ha and soc_cum_mg_ha per horizon (NaN for rejected rows)."""
    density = per_cm * (horizons.bottom - horizons.top)
    cumulative = pd.Series(np.nan_to_num(density)).groupby(horizons.profile).cumsum().to_numpy()
    cumulative = np.where(pd.Series(np.isnan(density)).groupby(horizons.profile).cummax().to_numpy(),
                          np.nan, cumulative)
    out = table.copy()
    for name, values in ((DENSITY, density), (CUMULATIVE, cumulative)):
        column = np.full(len(table), np.nan)
        column[horizons.rows - 1] = values
        out[name] = column
    if area is not None:
        out[STOCK] = out[DENSITY].to_numpy() * pd.Series(area, index=horizons.ids).reindex(table[id_col]).to_numpy()
    return out


def _spline_layer_means(horizons, scheme, per_cm, lam):
    """(means over the covered part, covered fractions) of the splined carbon per cm, (profiles, layers).

    A layer is covered where it lies within the depths of the horizons with values (gaps
    between them are bridged by the curve), as the depth-weighted method takes the mean of
    the covered part.
    """
    fit = fit_splines(horizons.profile, horizons.top, horizons.bottom, per_cm, horizons.n_profiles, lam)
    top = np.maximum(fit.top[:, None], scheme.tops)
    bottom = np.minimum(fit.bottom[:, None], scheme.bottoms)
    contrib = np.nan_to_num(np.clip((bottom - top) / scheme.thickness, 0.0, 1.0))
    covered = contrib > 0
    means = fit.layer_means(np.where(covered, top, scheme.tops), np.where(covered, bottom, scheme.bottoms))
    return np.where(covered, means, np.nan), contrib


def soc_stocks(table, id_col, top_col, bottom_col, soc_col, bd_col, coarse_col=None, coarse_unit="fraction",
               layers=None, method="depth-weighted", lam=DEFAULT_LAMBDA, min_coverage=1.0, area=None,
               oc_unit="g_kg", organic="exclude", progress=None, is_cancelled=None):
    """SOC density (Mg C ha-1) per horizon, or per target layer, for every profile.

    soc_col: organic carbon in ``oc_unit``, 'g_kg' (g kg-1, default) or 'percent' (weight %,
    x 10); values that look like the other unit are noted (:func:`~wholesoil.core.soc.oc_unit_notes`,
    in ``notes`` of the result). bd_col: fine-earth bulk density, g cm-3; coarse_col:
    coarse fragment volume (``coarse_unit`` 'fraction' 0-1 or 'percent'), optional.
    organic: negative depths (organic horizons above the mineral surface), see
    :func:`~wholesoil.core.horizons.read_horizons`.
    layers None: the input table plus ``soc_mg_ha`` and ``soc_cum_mg_ha`` per horizon.
    Otherwise one row per profile and layer (id, top, bottom, ``soc_mg_ha``,
    ``soc_contrib``, ``soc_cum_mg_ha``, profile attributes), the carbon per cm harmonised
    by ``method`` ('depth-weighted' or 'spline' with ``lam``). area: ha, a number or a
    profile-level column; adds ``soc_stock_mg`` (Mg C). Returns ProfileLayers.
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if coarse_unit not in COARSE_UNITS:
        raise InputError(f"coarse_unit must be one of {', '.join(COARSE_UNITS)}, not {coarse_unit!r}")
    if oc_unit not in OC_UNITS:
        raise InputError(f"oc_unit must be one of {', '.join(OC_UNITS)}, not {oc_unit!r}")
    min_coverage = check_min_coverage(min_coverage)
    steps = as_progress(progress, is_cancelled)
    columns = [soc_col, bd_col] + ([coarse_col] if coarse_col else [])
    horizons = read_horizons(table, id_col, top_col, bottom_col, columns, organic=organic)
    notes = oc_unit_notes(horizons.column(soc_col) * OC_UNITS[oc_unit], horizons.profile, oc_unit, horizons.rows)
    horizons, per_cm = _carbon_per_cm(horizons, soc_col, bd_col, coarse_col, coarse_unit, oc_unit)
    require_some_profiles(horizons, "used for SOC stocks")
    area_values = _area(area, horizons)
    steps.update(0.3)
    if layers is None:
        out = _horizon_stocks(table, horizons, per_cm, id_col, area_values)
        missing = np.isnan(per_cm)
        starts = horizons.starts[:-1]
        total = np.add.reduceat(np.nan_to_num(per_cm * (horizons.bottom - horizons.top)), starts)
        known = np.add.reduceat((~missing).astype(int), starts)
        extra = pd.DataFrame({
            "soc_total_mg_ha": np.where(known > 0, total, np.nan),  # no horizon with SOC and BD: no total, not 0
            "status": "ok", "message": ""})
        for p in np.unique(horizons.profile[missing]):
            rows = horizons.rows[missing & (horizons.profile == p)]
            extra.loc[p, ["status", "message"]] = [
                STATUS_INCOMPLETE, f"SOC or BD missing in {describe_rows(rows)}; the total leaves them out"]
        steps.update(1.0)
        return ProfileLayers(layers=out, profiles=profiles_summary(horizons, extra), scheme=None,
                             horizons=horizons, notes=notes)
    scheme = layer_scheme(layers)
    if method == "spline":
        means, contrib = _spline_layer_means(horizons, scheme, per_cm, lam)
    else:
        means, contrib = weighted_layer_means(horizons, scheme, per_cm)
    density = np.where(contrib >= min_coverage, means * scheme.thickness, np.nan)
    cumulative = np.cumsum(density, axis=1)
    out = layer_rows(horizons, scheme, top_col, bottom_col)
    out[DENSITY] = density.reshape(-1)
    out[CONTRIB] = contrib.reshape(-1)
    out[CUMULATIVE] = cumulative.reshape(-1)
    if area_values is not None:
        out[STOCK] = (density * area_values[:, None]).reshape(-1)
    empty = np.isnan(density)
    extra = pd.DataFrame({
        "soc_total_mg_ha": cumulative[:, -1],
        "status": np.where(empty.any(axis=1), STATUS_INCOMPLETE, "ok"),
        "message": [f"no stock for {', '.join(np.asarray(scheme.labels)[row])} cm (SOC and BD cover "
                    f"less than {min_coverage:.0%} of the layer)" if row.any() else "" for row in empty]})
    steps.update(1.0)
    return ProfileLayers(layers=with_attributes(out, horizons, len(scheme)),
                         profiles=profiles_summary(horizons, extra), scheme=scheme, horizons=horizons, notes=notes)
