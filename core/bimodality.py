"""Root bimodality (METHODS section 8, Lu et al. 2025).

Per site: mean root biomass density of each depth increment over the site's profiles, a
Gaussian kernel density over depth (bandwidth 15 cm) with the increments' mid-depths as
points weighted by that density, its modes (local maxima) and antimodes. A secondary mode
counts only if its density is at least 10 % of the primary's; two counted modes make the
site bimodal. D0 = primary mode, D1 = antimode between D0 and D2, D2 = secondary mode.
phi_Y = Y(D2) / Y(D1) for roots and any other property (unimodal sites: D1 = 70 cm,
D2 = 100 cm). Relative nutrient concentration = nutrient / root density, rescaled to 1
in the top increment; its depth exponent is the slope of log10(relative) against depth.

**Decisions** (the spec is silent): the kernel weights are the site-mean densities as
given (the paper turns densities into counts per sampling depth, so a 20 cm increment
weighs as much as a 10 cm one of equal density); an increment missing from one profile
of a site, or without a value, counts as 0 in the mean (NEON omits increments without
roots); with three or
more counted modes the site is 'multimodal' and D2 is the strongest secondary mode;
Y(D) is the value of the increment or horizon holding D (top inclusive, bottom exclusive,
the deepest bottom inclusive).
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import InputError
from .harmonise import overlap_weights
from .horizons import missing_geometry_as_none, read_horizons, require_some_profiles
from .layers import format_depth
from .progress import as_progress
from .tables import GEOMETRY, require_columns

DEFAULT_BANDWIDTH = 15.0
DEFAULT_MIN_RATIO = 0.1
#: Prescribed antimode and secondary-mode depths (cm) of unimodal sites (Lu et al. 2025).
UNIMODAL_D1 = 70.0
UNIMODAL_D2 = 100.0
GRID_STEP = 0.1
VALUE_KINDS = ("density", "amount")


def _check_bandwidth(bandwidth):
    if not bandwidth > 0:
        raise InputError(f"bandwidth must be positive (cm), not {bandwidth:g}")


def _check_min_ratio(min_ratio):
    if not 0 <= min_ratio <= 1:
        raise InputError(f"min_ratio must be between 0 and 1, not {min_ratio:g}")


def weighted_kde(points, weights, grid, bandwidth=DEFAULT_BANDWIDTH):
    """Gaussian kernel density (per cm) at ``grid`` of ``points`` (cm) weighted by ``weights``."""
    points, weights = np.asarray(points, dtype=float), np.asarray(weights, dtype=float)
    _check_bandwidth(bandwidth)
    if np.any(weights < 0):
        raise InputError("kernel weights must not be negative")
    total = weights.sum()
    if not total > 0:
        raise InputError("no positive weight: the profile holds no roots")
    z = (np.asarray(grid, dtype=float)[:, None] - points[None, :]) / bandwidth
    return (np.exp(-0.5 * z * z) @ weights) / (total * bandwidth * np.sqrt(2.0 * np.pi))


def find_modes(grid, density, min_ratio=DEFAULT_MIN_RATIO):
    """Modes of a density sampled on ``grid``; returns a dict.

    Keys: ``modes`` and ``heights`` (every local maximum, deepest last), ``n_counted``
    (modes at least ``min_ratio`` times the primary's height), ``modality``
    ('unimodal', 'bimodal', 'multimodal'), ``d0`` (primary), ``d2`` (strongest counted
    secondary, NaN if none), ``d1`` (lowest density between D0 and D2), ``ratio`` (height
    of D2 / height of D0).
    """
    _check_min_ratio(min_ratio)
    grid, density = np.asarray(grid, dtype=float), np.asarray(density, dtype=float)
    rising = np.diff(density) > 0
    falling = np.diff(density) <= 0
    peaks = np.flatnonzero(np.concatenate(([False], rising[:-1] & falling[1:], [False])))
    if not len(peaks):  # monotonic over the grid: the maximum is at an end
        peaks = np.array([int(np.argmax(density))])
    heights = density[peaks]
    primary = peaks[np.argmax(heights)]
    counted = peaks[heights >= min_ratio * density[primary]]
    secondary = [p for p in counted if p != primary]
    result = {"modes": grid[peaks], "heights": heights, "n_counted": len(counted),
              "modality": {1: "unimodal", 2: "bimodal"}.get(len(counted), "multimodal"),
              "d0": grid[primary], "d1": np.nan, "d2": np.nan, "ratio": np.nan}
    if secondary:
        second = max(secondary, key=lambda p: density[p])
        low, high = sorted((primary, second))
        result.update(d2=grid[second], ratio=density[second] / density[primary],
                      d1=grid[low + int(np.argmin(density[low:high + 1]))])
    return result


def value_at_depth(top, bottom, value, depth):
    """Value of the increment/horizon holding ``depth`` (cm); NaN if none does."""
    top, bottom, value = (np.asarray(a, dtype=float) for a in (top, bottom, value))
    if not np.isfinite(depth) or not len(top):
        return np.nan
    inside = (top <= depth) & ((depth < bottom) | ((depth == bottom) & (bottom == bottom.max())))
    return float(value[inside][0]) if inside.any() else np.nan


def phi(top, bottom, value, d1, d2):
    """phi = Y(D2) / Y(D1) for a depth profile of Y given by increments/horizons."""
    y1 = value_at_depth(top, bottom, value, d1)
    y2 = value_at_depth(top, bottom, value, d2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return y2 / y1 if y1 != 0 else np.nan


def relative_concentration(depth, nutrient, roots):
    """(relative concentration, depth exponent per cm, r2) of nutrient / roots, 1 at the top.

    depth: mid-depths (cm, increasing); the exponent is the slope of log10(relative)
    against depth over the points where it is positive and finite.
    """
    depth, nutrient, roots = (np.asarray(a, dtype=float) for a in (depth, nutrient, roots))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = nutrient / roots
        relative = ratio / ratio[0] if len(ratio) and np.isfinite(ratio[0]) and ratio[0] > 0 \
            else np.full_like(ratio, np.nan)
    usable = np.isfinite(relative) & (relative > 0)
    if usable.sum() < 3 or np.unique(depth[usable]).size < 2:
        return relative, np.nan, np.nan
    x, y = depth[usable], np.log10(relative[usable])
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    total = np.sum((y - y.mean()) ** 2)
    return relative, float(slope), float(1.0 - residual @ residual / total) if total > 0 else np.nan


@dataclass
class Bimodality:
    """``sites``: one row per site (modality, D0/D1/D2, phi, nutrient exponents, message,
    kept attributes); ``increments``: the site-mean root profiles; ``curves``: site ->
    (grid, density, modes dict) for plots."""

    sites: pd.DataFrame
    increments: pd.DataFrame
    curves: dict = field(default_factory=dict)


def site_mean_increments(horizons, sites_of_profiles, value_kind):
    """Mean density per increment over each site's profiles; returns (DataFrame, errors)."""
    values = horizons.values[:, 0]
    if value_kind == "amount":
        values = values / (horizons.bottom - horizons.top)
    frame = pd.DataFrame({"site": sites_of_profiles[horizons.profile], "profile": horizons.profile,
                          "top": horizons.top, "bottom": horizons.bottom, "density": values})
    frame["density"] = frame["density"].fillna(0.0)
    errors, parts = {}, []
    for site, part in frame.groupby("site", sort=False):
        n_profiles = part["profile"].nunique()
        sums = part.groupby(["top", "bottom"], sort=True)["density"].sum().reset_index()
        overlap = sums["top"].to_numpy()[1:] < sums["bottom"].to_numpy()[:-1]
        if overlap.any():
            i = int(np.flatnonzero(overlap)[0])
            errors[site] = (f"the profiles of the site use different increments ("
                            f"{format_depth(sums['top'][i])}-{format_depth(sums['bottom'][i])} and "
                            f"{format_depth(sums['top'][i + 1])}-{format_depth(sums['bottom'][i + 1])} cm overlap)")
            continue
        sums["density"] /= n_profiles  # a profile without an increment counts as 0 there
        sums.insert(0, "site", site)
        sums["n_profiles"] = n_profiles
        parts.append(sums)
    columns = ["site", "top", "bottom", "density", "n_profiles"]
    return (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)), errors


def _property_profiles(properties, site_col, top_col, bottom_col, property_cols):
    """Checked property horizons per site (dict site -> (top, bottom, values)) and errors."""
    if top_col is None or bottom_col is None:
        raise InputError("properties: give the top and bottom depth columns of the property table")
    horizons = read_horizons(properties, site_col, top_col, bottom_col, property_cols, keep_attributes=False)
    starts = horizons.starts
    profiles = {site: (horizons.top[a:b], horizons.bottom[a:b], horizons.values[a:b])
                for site, a, b in zip(horizons.ids, starts[:-1], starts[1:])}
    return profiles, horizons.errors


def _depth_weighted_onto(top, bottom, values, targets_top, targets_bottom):
    """Thickness-weighted mean of horizon values over each target increment (NaN if uncovered)."""
    present = np.isfinite(values)
    weights = overlap_weights(top[present], bottom[present], targets_top, targets_bottom)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (values[present] @ weights) / weights.sum(axis=0)


def detect_bimodality(table, site_col, top_col, bottom_col, value_col, profile_col=None, value_kind="density",
                      bandwidth=DEFAULT_BANDWIDTH, min_ratio=DEFAULT_MIN_RATIO, properties=None,
                      property_site_col=None, property_top_col=None, property_bottom_col=None, property_cols=(),
                      thickness=None, progress=None, is_cancelled=None):
    """Classify each site's root depth distribution as unimodal or bimodal.

    table: root increments (one row per site, profile and increment; filter it to live
    fine roots first); value_col: biomass density per volume (value_kind 'density', e.g.
    g m-3) or amount per area ('amount', e.g. g m-2, divided by the thickness in cm).
    properties: optional horizon table (property_site_col, property_top_col,
    property_bottom_col, property_cols such as N) for phi_<property> and the relative
    concentration exponent rel_<property>_exponent with its r2. bottom_col None: every
    increment is ``thickness`` cm thick (e.g. NEON's root table, 10 cm).
    Returns :class:`Bimodality`.
    """
    if value_kind not in VALUE_KINDS:
        raise InputError(f"value_kind must be 'density' or 'amount', not {value_kind!r}")
    _check_bandwidth(bandwidth)  # here, so that a bad parameter stops the call rather than failing each site
    _check_min_ratio(min_ratio)
    if properties is not None and not property_cols:
        raise InputError("properties: give the property columns (e.g. nitrogenTot) to use from the horizon table")
    property_top_col, property_bottom_col = property_top_col or top_col, property_bottom_col or bottom_col
    if bottom_col is None:
        if thickness is None or not thickness > 0 or not np.isfinite(thickness):
            raise InputError("without a bottom depth column give a positive increment thickness (cm)")
        require_columns(table, [top_col])
        bottom_col = "__bottom__"
        table = table.assign(**{bottom_col: pd.to_numeric(table[top_col], errors="coerce") + float(thickness)})
    steps = as_progress(progress, is_cancelled)
    key = site_col
    if profile_col is not None and profile_col != site_col:
        require_columns(table, [site_col, profile_col])
        key = "__profile__"
        table = table.assign(**{key: table[site_col].astype(str).str.cat(table[profile_col].astype(str), sep="/")
                                .where(table[site_col].notna() & table[profile_col].notna())})
    horizons = read_horizons(table, key, top_col, bottom_col, [value_col])
    require_some_profiles(horizons, "used")
    sites_of_profiles = horizons.attributes[site_col].to_numpy() if key != site_col else horizons.ids
    increments, errors = site_mean_increments(horizons, sites_of_profiles, value_kind)
    left_out = {}
    if bottom_col == "__bottom__":
        for site, note in _thickness_gaps(increments, thickness).items():
            left_out.setdefault(str(site), []).append(note)
    for profile, message in horizons.errors.items():
        left_out.setdefault(str(profile).split("/")[0], []).append(f"profile {profile} left out: {message}")
    property_profiles, property_errors = ({}, {})
    if properties is not None:
        property_profiles, property_errors = _property_profiles(
            properties, property_site_col or site_col, property_top_col, property_bottom_col,
            list(property_cols))
    rows, curves = [], {}
    site_groups = list(increments.groupby("site", sort=False))
    for i, (site, part) in enumerate(site_groups):
        row, curve = _classify_site(site, part, bandwidth, min_ratio, property_profiles, property_errors,
                                    list(property_cols))
        row["message"] = "; ".join(left_out.pop(str(site), []) + ([row["message"]] if row["message"] else []))
        rows.append(row)
        if curve is not None:
            curves[site] = curve
        steps.update((i + 1) / max(len(site_groups), 1))
    for site, message in errors.items():
        rows.append({"site": site, "modality": "error", "message": message})
    for site, messages in left_out.items():  # sites none of whose profiles could be used
        rows.append({"site": site, "modality": "error", "message": "; ".join(messages)})
    sites = pd.DataFrame(rows).rename(columns={"site": site_col})
    sites = missing_geometry_as_none(sites.merge(_site_attributes(horizons.attributes, site_col, key),
                                                 on=site_col, how="left"))
    sites.attrs = dict(horizons.attributes.attrs)
    return Bimodality(sites=sites, increments=increments.rename(columns={"site": site_col}), curves=curves)


def _thickness_gaps(increments, thickness):
    """Notes for sites whose increments (tops in any of their profiles) lie further apart than
    ``thickness`` (cm): the increments are probably thicker, and the gaps count as holding no roots."""
    notes = {}
    for site, part in increments.groupby("site", sort=False):
        tops = np.unique(part["top"].to_numpy(dtype=float))
        spacing = np.diff(tops)
        wide = spacing > thickness * (1 + 1e-9)
        if wide.any():
            notes[site] = (f"increment tops lie up to {format_depth(spacing.max())} cm apart below "
                           f"{format_depth(tops[:-1][wide][0])} cm in every profile, but the thickness is "
                           f"{format_depth(thickness)} cm: {int(wide.sum())} gap(s) count as holding no roots; if the "
                           "increments are thicker there, give a bottom depth column")
    return notes


def _site_attributes(attributes, site_col, key):
    """Columns constant within each site (and the first geometry), one row per site."""
    attributes = attributes.drop(columns=[key]) if key != site_col else attributes
    grouped = attributes.groupby(site_col, sort=False)
    constant = [c for c in attributes.columns if c != site_col and
                (c == GEOMETRY or (grouped[c].nunique(dropna=False) <= 1).all())]
    return grouped[constant].first().reset_index() if constant else grouped.size().reset_index()[[site_col]]


def _classify_site(site, part, bandwidth, min_ratio, property_profiles, property_errors, property_cols):
    """One output row (and the curve for plots) of one site's mean increments."""
    top, bottom, density = (part[c].to_numpy(dtype=float) for c in ("top", "bottom", "density"))
    row = {"site": site, "n_profiles": int(part["n_profiles"].iloc[0]), "n_increments": len(part),
           "top_cm": top.min(), "bottom_cm": bottom.max()}
    notes = []
    try:
        grid = np.arange(top.min(), bottom.max() + GRID_STEP / 2, GRID_STEP)
        kde = weighted_kde((top + bottom) / 2.0, density, grid, bandwidth)
    except InputError as error:
        row.update(modality="error", message=str(error))
        return row, None
    modes = find_modes(grid, kde, min_ratio)
    detected = modes["modality"] != "unimodal"
    d1, d2 = (modes["d1"], modes["d2"]) if detected else (UNIMODAL_D1, UNIMODAL_D2)
    row.update(modality=modes["modality"], n_modes=len(modes["modes"]), n_counted_modes=modes["n_counted"],
               d0_cm=modes["d0"], d1_cm=modes["d1"], d2_cm=modes["d2"], secondary_ratio=modes["ratio"],
               phi_depths="detected" if detected else f"default {UNIMODAL_D1:g}/{UNIMODAL_D2:g} cm",
               phi_roots=phi(top, bottom, density, d1, d2))
    if not np.isfinite(row["phi_roots"]):
        notes.append(f"phi: the roots reach {format_depth(bottom.max())} cm, not D2 = {format_depth(d2)} cm"
                     if d2 >= bottom.max() else "phi: no root density at D1 or D2")
    middle = (top + bottom) / 2.0
    for name in property_cols:
        row[f"phi_{name}"] = row[f"rel_{name}_exponent"] = row[f"rel_{name}_r2"] = np.nan
    if property_cols and site in property_errors:
        notes.append(f"properties: {property_errors[site]}")
    elif property_cols and site not in property_profiles:
        notes.append("properties: no horizons for this site")
    elif property_cols:
        p_top, p_bottom, p_values = property_profiles[site]
        for k, name in enumerate(property_cols):
            row[f"phi_{name}"] = phi(p_top, p_bottom, p_values[:, k], d1, d2)
            nutrient = _depth_weighted_onto(p_top, p_bottom, p_values[:, k], top, bottom)
            _, exponent, r2 = relative_concentration(middle, nutrient, density)
            row[f"rel_{name}_exponent"], row[f"rel_{name}_r2"] = exponent, r2
    row["message"] = "; ".join(notes)
    return row, {"grid": grid, "density": kde, "modes": modes, "top": top, "bottom": bottom,
                 "mean_density": density}
