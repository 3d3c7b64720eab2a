"""Horizon tables: one row per profile and horizon (or depth increment), checked per profile.

Every profile method (spline, depth-weighted harmonisation, SOC stocks, beta fits, root
bimodality) starts from :func:`read_horizons`. A problem that concerns a whole call
(a missing column, bad parameters) raises :class:`~wholesoil.core.errors.InputError`; a
problem of one profile (non-numeric cells, missing, negative or inverted depths,
overlapping horizons) rejects that profile only, with a message naming rows (1-based data
rows), and the other profiles go on. Harmless fixes (sorting, dropping zero-thickness or
duplicated horizons) are made and listed as *repairs* of the profile.
"""

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import InputError, describe_rows
from .layers import format_depth
from .tables import GEOMETRY, require_columns, row_numbers

#: Status values of a profile in the ``profiles`` summary tables.
STATUS_OK = "ok"
STATUS_INCOMPLETE = "incomplete"
STATUS_ERROR = "error"
#: Repaired profiles listed to the user after a run (every repair is in the profile summary).
REPAIRS_LISTED = 10
#: Feature id column of GeoPackages, never copied to output rows.
FID = "fid"
#: What to do with horizons above the mineral soil surface (negative depths, the ISRaD convention).
ORGANIC = ("exclude", "keep")


@dataclass
class Horizons:
    """Checked horizons of the valid profiles, sorted by profile (first appearance) and depth.

    ``profile`` indexes ``ids`` (0..n_profiles-1, every valid profile has >= 1 horizon);
    ``top``/``bottom`` in cm; ``values`` (rows x properties) float with NaN = missing;
    ``rows`` the 1-based input rows; ``errors`` and ``repairs`` map a profile id to a
    message / a list of repairs. ``attributes`` holds one row per valid profile with the
    input columns that are constant within every profile (and the first geometry).
    """

    id_col: str
    value_cols: list
    ids: np.ndarray
    profile: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    values: np.ndarray
    rows: np.ndarray
    attributes: pd.DataFrame
    errors: dict = field(default_factory=dict)
    repairs: dict = field(default_factory=dict)

    @property
    def n_profiles(self):
        return len(self.ids)

    @property
    def starts(self):
        """Index of each profile's first horizon, plus the total (length n_profiles + 1)."""
        return np.searchsorted(self.profile, np.arange(self.n_profiles + 1))

    def column(self, name):
        """The values of one property (by column name)."""
        return self.values[:, self.value_cols.index(name)]

    def note(self, profile_index, text):
        """Add a repair/note to a valid profile."""
        self.repairs.setdefault(self.ids[profile_index], []).append(text)

    def reject(self, bad, message_of):
        """A copy without the profiles having a True in ``bad`` (per horizon); they become errors.

        message_of(rows): the error message, given the 1-based input rows at fault.
        """
        bad_profiles = np.unique(self.profile[bad])
        if not len(bad_profiles):
            return self
        errors = dict(self.errors)
        for p in bad_profiles:
            errors[self.ids[p]] = message_of(self.rows[bad & (self.profile == p)])
        keep_profile = np.ones(self.n_profiles, bool)
        keep_profile[bad_profiles] = False
        keep = keep_profile[self.profile]
        renumber = np.cumsum(keep_profile) - 1
        return Horizons(id_col=self.id_col, value_cols=self.value_cols, ids=self.ids[keep_profile],
                        profile=renumber[self.profile[keep]], top=self.top[keep], bottom=self.bottom[keep],
                        values=self.values[keep], rows=self.rows[keep],
                        attributes=self.attributes[keep_profile].reset_index(drop=True),
                        errors=errors, repairs={k: v for k, v in self.repairs.items() if k not in errors})


@dataclass
class ProfileLayers:
    """Result of harmonising profiles: ``layers`` (one row per profile and layer: id, top,
    bottom, one column per property, then the kept profile attributes) and ``profiles``
    (one row per input profile: status ok / incomplete / error, fit errors, repairs, message);
    ``notes``: remarks on the whole table for the user."""

    layers: pd.DataFrame
    profiles: pd.DataFrame
    scheme: object
    horizons: object
    fits: dict = None
    notes: list = field(default_factory=list)


#: A row filter: column, comparison (longest first, so ``>=`` is not read as ``>``), value.
_FILTER = re.compile(r"^\s*([^=<>!]+?)\s*(>=|<=|!=|=|>|<)\s*(.*?)\s*$")


def select_rows(table, conditions):
    """Rows of ``table`` matching every condition ``column OP value``, OP one of ``=``, ``!=``,
    ``<``, ``<=``, ``>``, ``>=`` (e.g. ``rootStatus=live``, ``observed_depth_cm>=100``).

    The operator is the first one after the column name, so ``sizeCategory=<=4mm`` means
    sizeCategory equals ``<=4mm``. ``=`` and ``!=`` compare numbers in numeric columns (200
    matches 200.0) and text otherwise; ``!=`` keeps empty cells; with no value (``Manipulation=``)
    they keep the empty (missing or blank) cells or the others. ``<``, ``<=``, ``>``, ``>=`` need a
    numeric column and a number; empty cells never match them.
    """
    mask = np.ones(len(table), bool)
    for condition in conditions or ():
        match = _FILTER.match(str(condition))
        if not match:
            raise InputError(f"filter {condition!r}: write it as column=value (or !=, <, <=, >, >=)")
        column, operator, value = match.groups()
        require_columns(table, [column], "the input table (filter)")
        values = table[column]
        numeric = pd.api.types.is_numeric_dtype(values)
        number = pd.to_numeric(value, errors="coerce") if numeric else np.nan
        if operator in ("=", "!=") and not value:
            equal = values.isna() | values.astype(str).str.strip().eq("")
            mask &= (equal if operator == "=" else ~equal).to_numpy()
            continue
        if operator in ("=", "!="):
            equal = values.eq(number) if np.isfinite(number) else values.astype(str).str.strip().eq(value)
            mask &= (equal if operator == "=" else ~equal).to_numpy()
            continue
        if not numeric or not np.isfinite(number):
            raise InputError(f"filter {condition!r}: {operator} needs a numeric column and a number "
                             f"(column {column!r} is {'numeric' if numeric else 'text'})")
        compare = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}[operator]
        mask &= compare(values.to_numpy(float), number)  # NaN compares False
    if not mask.any():
        raise InputError(f"no row matches the filter {' and '.join(map(str, conditions))}")
    return table[mask] if not mask.all() else table


def _coerce(table, columns):
    """Columns as float64 and a boolean mask of cells holding non-numeric text."""
    numbers, bad = {}, {}
    for column in columns:
        raw = table[column]
        values = pd.to_numeric(raw, errors="coerce").astype(float)
        blank = raw.isna() | raw.astype(str).str.strip().eq("")
        numbers[column] = values.to_numpy()
        bad[column] = (values.isna() & ~blank).to_numpy()
    return numbers, bad


def _span(top, bottom):
    return f"{format_depth(top)}-{format_depth(bottom)} cm"


def read_horizons(table, id_col, top_col, bottom_col, value_cols, keep_attributes=True, organic="exclude"):
    """Check a horizon table per profile; returns :class:`Horizons`.

    table: DataFrame with one row per profile and horizon; depths in cm below the mineral
    soil surface (positive down); negative depths are organic horizons above it (ISRaD).
    organic: 'exclude' (default) drops the horizons above 0 cm, so every profile starts at the
    mineral surface; 'keep' measures the depths of a profile with organic horizons from the top
    of its uppermost horizon instead (aqp's accumulateDepths), so they become its first
    horizons. Either is listed in the profile's repairs; with 'exclude' a horizon across 0 cm
    (it cannot be split) or a profile of organic horizons only is an error of that profile.
    Rows without any value that overlap another horizon are dropped (and listed) before the
    overlap check. Raises InputError only for whole-table problems (missing columns, no rows,
    an unknown ``organic``); bad profiles are listed in ``errors``.
    """
    if organic not in ORGANIC:
        raise InputError(f"organic must be one of {', '.join(ORGANIC)}, not {organic!r}")
    value_cols = list(dict.fromkeys(value_cols))
    if not value_cols:
        raise InputError("give at least one value column")
    for name in (id_col, top_col, bottom_col):
        if name in value_cols:
            raise InputError(f"column {name!r} cannot be both a depth/id column and a value column")
    require_columns(table, [id_col, top_col, bottom_col] + value_cols)
    if len(table) == 0:
        raise InputError("the input table has no rows")
    numbers, bad = _coerce(table, [top_col, bottom_col] + value_cols)
    id_values = table[id_col]
    missing_id = id_values.isna().to_numpy() | id_values.astype(str).str.strip().eq("").to_numpy()
    codes, uniques = pd.factorize(id_values.where(~missing_id), sort=False)
    errors = {}
    if missing_id.any():
        errors["(no id)"] = f"column {id_col!r} is empty in {describe_rows(row_numbers(missing_id))}"
    top, bottom = numbers[top_col], numbers[bottom_col]
    row = np.arange(1, len(table) + 1)

    def reject(mask, message_of):
        """Reject the profiles having a True row in mask (first reason wins)."""
        for code in np.unique(codes[mask & (codes >= 0)]):
            profile_id = uniques[code]
            if profile_id not in errors:
                errors[profile_id] = message_of(mask & (codes == code))

    for column in [top_col, bottom_col] + value_cols:
        reject(bad[column], lambda m, c=column: (
            f"column {c!r} has non-numeric values "
            f"({', '.join(repr(str(v)) for v in table[c].to_numpy()[m][:3])}) in {describe_rows(row[m])}"))
        reject(np.isinf(numbers[column]),
               lambda m, c=column: f"column {c!r} has infinite values in {describe_rows(row[m])}")
    reject(np.isnan(top) | np.isnan(bottom),
           lambda m: f"missing top or bottom depth in {describe_rows(row[m])}")
    with np.errstate(invalid="ignore"):
        reject(bottom < top, lambda m: (
            f"inverted horizon {_span(top[m][0], bottom[m][0])} (bottom above top) in {describe_rows(row[m])}"))
        if organic == "exclude":
            reject((top < 0) & (bottom > 0), lambda m: (
                f"horizon {_span(top[m][0], bottom[m][0])} in {describe_rows(row[m])} spans the mineral soil "
                "surface (0 cm) and cannot be split; keep the organic horizons (organic: keep) instead"))
    valid_codes = np.array([c for c in range(len(uniques)) if uniques[c] not in errors], dtype=int)
    keep = np.isin(codes, valid_codes)
    repairs = {}
    top, bottom = _organic_horizons(organic, keep, codes, uniques, top, bottom, row, errors, repairs)
    keep &= ~np.isin(codes, [c for c in range(len(uniques)) if uniques[c] in errors])
    # zero-thickness horizons are dropped (a repair, not an error, unless nothing is left)
    with np.errstate(invalid="ignore"):
        zero = keep & (bottom == top)
    keep &= ~zero
    for code in np.unique(codes[zero]):
        m = zero & (codes == code)
        if not keep[codes == code].any():
            errors[uniques[code]] = f"every horizon has zero thickness (top = bottom) in {describe_rows(row[m])}"
            continue
        repairs.setdefault(uniques[code], []).append(
            f"dropped zero-thickness horizon(s) at {format_depth(top[m][0])} cm ({describe_rows(row[m])})")
    values = np.column_stack([numbers[c] for c in value_cols])
    index = np.flatnonzero(keep)
    order = index[np.lexsort((bottom[index], top[index], codes[index]))]
    _note_sorted(order, index, codes, uniques, repairs)
    order = _drop_duplicates(order, codes, top, bottom, values, row, uniques, repairs)
    order = _drop_valueless_overlaps(order, codes, top, bottom, values, row, uniques, repairs, errors)
    order = _overlaps(order, codes, top, bottom, row, uniques, errors)
    # renumber the surviving profiles 0..n-1 in order of first appearance
    surviving = np.array(sorted(set(codes[order].tolist())), dtype=int)
    new_code = np.full(len(uniques), -1)
    new_code[surviving] = np.arange(len(surviving))
    ids = np.asarray(uniques[surviving], dtype=object) if len(surviving) else np.array([], dtype=object)
    attributes = _profile_attributes(table, codes, order, surviving, id_col,
                                     [top_col, bottom_col] + value_cols) if keep_attributes else None
    return Horizons(id_col=id_col, value_cols=value_cols, ids=ids, profile=new_code[codes[order]],
                    top=top[order], bottom=bottom[order], values=values[order], rows=row[order],
                    attributes=attributes, errors=errors,
                    repairs={k: v for k, v in repairs.items() if k not in errors})


def _organic_horizons(organic, keep, codes, uniques, top, bottom, row, errors, repairs):
    """Depths (top, bottom) after applying the ``organic`` rule to the kept rows of profiles with
    horizons above 0 cm; adds the repairs, and an error for a profile left without horizons."""
    with np.errstate(invalid="ignore"):
        above = keep & (top < 0)
    if not above.any():
        return top, bottom
    top, bottom = top.copy(), bottom.copy()
    for code in np.unique(codes[above]):
        rows = keep & (codes == code)
        organic_rows = rows & above
        span = f"{_span(top[organic_rows].min(), bottom[organic_rows].max())}, {describe_rows(row[organic_rows])}"
        if organic == "keep":
            shift = -top[rows].min()
            top[rows] += shift
            bottom[rows] += shift
            repairs.setdefault(uniques[code], []).append(
                f"kept the organic horizon(s) above the mineral surface ({span}): "
                f"depths measured from the top of the organic layer ({format_depth(shift)} cm deeper)")
        elif organic_rows.sum() == rows.sum():
            errors[uniques[code]] = (f"every horizon lies above the mineral soil surface (organic, {span}); "
                                     "keep them (organic: keep) to use them")
        else:
            keep &= ~organic_rows
            repairs.setdefault(uniques[code], []).append(
                f"left out the organic horizon(s) above the mineral surface ({span})")
    return top, bottom


def _overlapping(order, codes, top, bottom):
    """True for each horizon (in ``order``, sorted by profile and depth) that overlaps another of its profile."""
    c, t, b = codes[order], top[order], bottom[order]
    running_bottom = pd.Series(b).groupby(c).cummax().to_numpy()
    same = c[1:] == c[:-1]
    after = np.concatenate(([False], same & (t[1:] < running_bottom[:-1])))  # starts above a previous bottom
    before = np.concatenate((same & (t[1:] < b[:-1]), [False]))              # ends below the next top
    return after | before


def _drop_valueless_overlaps(order, codes, top, bottom, values, row, uniques, repairs, errors):
    """Drop the horizons without any value that overlap another horizon (they cannot clash); a profile
    that would be left without horizons is an error."""
    if len(order) < 2:
        return order
    drop = _overlapping(order, codes, top, bottom) & np.isnan(values[order]).all(axis=1)
    for code in np.unique(codes[order[drop]]):
        mine = codes[order] == code
        rows = row[order[drop & mine]]
        if drop[mine].all():
            errors[uniques[code]] = f"no horizon has a value, and the horizons overlap ({describe_rows(rows)})"
            continue
        repairs.setdefault(uniques[code], []).append(
            f"dropped overlapping horizon(s) without a value ({describe_rows(rows)})")
    return order[~drop & ~np.isin(codes[order], [c for c in range(len(uniques)) if uniques[c] in errors])]


def _note_sorted(order, index, codes, uniques, repairs):
    """Record the profiles whose horizons were not in depth order in the input."""
    moved = order != index
    for code in np.unique(codes[order[moved]]):
        repairs.setdefault(uniques[code], []).append("sorted the horizons by depth")


def _drop_duplicates(order, codes, top, bottom, values, row, uniques, repairs):
    """Drop a horizon repeating the previous one exactly (same depths and values)."""
    if len(order) < 2:
        return order
    same = (codes[order[1:]] == codes[order[:-1]]) & (top[order[1:]] == top[order[:-1]]) \
        & (bottom[order[1:]] == bottom[order[:-1]])
    v1, v0 = values[order[1:]], values[order[:-1]]
    same &= ((v1 == v0) | (np.isnan(v1) & np.isnan(v0))).all(axis=1)
    drop = np.concatenate(([False], same))
    for i in np.flatnonzero(drop):
        repairs.setdefault(uniques[codes[order[i]]], []).append(
            f"dropped row {row[order[i]]}, a duplicate of row {row[order[i - 1]]} "
            f"({_span(top[order[i]], bottom[order[i]])})")
    return order[~drop]


def _overlaps(order, codes, top, bottom, row, uniques, errors):
    """Reject profiles with overlapping horizons; returns the remaining order."""
    if len(order) < 2:
        return order
    c, t, b = codes[order], top[order], bottom[order]
    running_bottom = pd.Series(b).groupby(c).cummax().to_numpy()
    overlap = (c[1:] == c[:-1]) & (t[1:] < running_bottom[:-1])
    bad_codes = set()
    for i in np.flatnonzero(overlap):
        code = c[i + 1]
        if code in bad_codes:
            continue
        bad_codes.add(code)
        # the horizon above that reaches deepest (searching upwards stays within the profile)
        previous = i - int(np.argmax(b[:i + 1][::-1] == running_bottom[i]))
        errors[uniques[code]] = (f"horizons {_span(t[previous], b[previous])} (row {row[order[previous]]}) and "
                                 f"{_span(t[i + 1], b[i + 1])} (row {row[order[i + 1]]}) overlap")
    return order[~np.isin(c, list(bad_codes))] if bad_codes else order


def _profile_attributes(table, codes, order, surviving, id_col, used_columns):
    """One row per surviving profile: the id and the columns constant within every profile.

    Geometry is taken from the profile's first horizon. A ``fid`` column (the feature id of
    a GeoPackage as QGIS reads it) identifies input rows, not profiles, and is left out:
    repeated on layer rows it would lose rows in a GeoPackage output (fids must be unique).
    """
    first = pd.Series(order).groupby(codes[order], sort=False).first()
    first_rows = first.reindex(surviving).to_numpy()
    candidates = [c for c in table.columns
                  if c not in used_columns and c not in (GEOMETRY, id_col) and str(c).lower() != FID]
    sub = table.iloc[order]
    constant = []
    if candidates:
        grouped = sub[candidates].astype(object).where(sub[candidates].notna(), "\0missing") \
            .groupby(codes[order], sort=False).nunique()
        constant = [c for c in candidates if (grouped[c] <= 1).all()]
    columns = [id_col] + constant + ([GEOMETRY] if GEOMETRY in table.columns else [])
    attributes = table.iloc[first_rows][columns].reset_index(drop=True) if len(first_rows) else \
        table.iloc[:0][columns]
    attributes.attrs = dict(table.attrs)
    return attributes


def profiles_summary(horizons, extra=None):
    """One row per input profile: id, status, n_horizons, top_cm, bottom_cm, repairs, message.

    extra: DataFrame indexed like ``horizons.ids`` (valid profiles) with more columns
    (fit errors...) and optional ``status``/``message`` overrides.
    """
    starts = horizons.starts
    summary = pd.DataFrame({
        horizons.id_col: horizons.ids,
        "status": STATUS_OK,
        "n_horizons": np.diff(starts),
        "top_cm": horizons.top[starts[:-1]] if horizons.n_profiles else [],
        "bottom_cm": np.maximum.reduceat(horizons.bottom, starts[:-1]) if horizons.n_profiles else [],
        "repairs": ["; ".join(horizons.repairs.get(i, [])) for i in horizons.ids],
        "message": "",
    })
    if extra is not None:
        for column in extra.columns:
            summary[column] = extra[column].to_numpy()
    bad = pd.DataFrame({horizons.id_col: list(horizons.errors), "status": STATUS_ERROR,
                        "message": list(horizons.errors.values())})
    if len(bad):
        summary = pd.concat([summary, bad], ignore_index=True)
    summary["repairs"] = summary["repairs"].fillna("")
    columns = [horizons.id_col, "status", "n_horizons", "top_cm", "bottom_cm"]
    rest = [c for c in summary.columns if c not in columns + ["repairs", "message"]]
    return summary[columns + rest + ["repairs", "message"]]


def repair_lines(profiles, id_col, limit=REPAIRS_LISTED):
    """(lines 'profile ID: repaired: WHAT' for the first ``limit`` profiles of a
    :func:`profiles_summary` that are ok but were repaired, how many more were repaired)."""
    repaired = profiles[profiles["status"].eq(STATUS_OK) & profiles["repairs"].ne("")]
    lines = [f"profile {row[id_col]}: repaired: {row['repairs']}" for _, row in repaired.head(limit).iterrows()]
    return lines, max(0, len(repaired) - limit)


def layer_rows(horizons, scheme, top_col, bottom_col):
    """Skeleton of a layer table: one row per valid profile and layer (id, top, bottom)."""
    n_layers = len(scheme)
    return pd.DataFrame({
        horizons.id_col: np.repeat(horizons.ids, n_layers),
        top_col: np.tile(scheme.tops, horizons.n_profiles),
        bottom_col: np.tile(scheme.bottoms, horizons.n_profiles),
    })


def with_attributes(layers, horizons, n_layers):
    """Append the kept profile attributes (and geometry) to a layer table, row by profile."""
    attributes = horizons.attributes
    extra = [c for c in attributes.columns if c != horizons.id_col and c not in layers.columns]
    if extra:
        repeated = attributes[extra].iloc[np.repeat(np.arange(horizons.n_profiles), n_layers)]
        layers = pd.concat([layers, repeated.reset_index(drop=True)], axis=1)
    layers.attrs = dict(attributes.attrs)
    return layers


def missing_geometry_as_none(table):
    """Rows added without a geometry (rejected profiles) get None, not NaN, in ``geometry``."""
    if GEOMETRY in table.columns:
        table[GEOMETRY] = [g if isinstance(g, (bytes, bytearray)) else None for g in table[GEOMETRY]]
    return table


def require_some_profiles(horizons, what):
    """Raise InputError naming the first problems when no profile survived the checks."""
    if horizons.n_profiles:
        return
    listed = "; ".join(f"{k}: {v}" for k, v in list(horizons.errors.items())[:3])
    raise InputError(f"no profile can be {what}: {listed}")
