"""Mass-preserving (equal-area quadratic) smoothing spline of Bishop et al. (1999), METHODS section 4.

For one property of one profile with n horizons [t_j, b_j] and values y_j, the spline f is
quadratic within each horizon, linear across gaps between horizons, with f and f'
continuous and f' = 0 at the top and bottom of the data. It minimises

    (1/n) * sum_j (y_j - mean of f over horizon j)^2  +  lam * integral of f'(x)^2 dx.

With b_i = f'(b_i) at the n - 1 inner boundaries, s_j = mean of f over horizon j and
h_j, g_i the horizon thicknesses and gaps (cm), the optimum satisfies

    R b = 6 Q s,   s = y - n lam Q' b,   hence   (R + 6 n lam Q Q') b = 6 Q y,

where R is tridiagonal (diagonal 2 (h_i + h_i+1) + 6 g_i, off-diagonal h_i+1) and Q takes
first differences. That symmetric, diagonally dominant tridiagonal system is solved for
all profiles at once (profiles padded to the same horizon count, padding decoupled).

Layer means integrate the fitted piecewise quadratic exactly (mpspline2 averages 1-cm
point values instead), including the clamp to [vlow, vhigh]: each piece is split where
the curve crosses a bound. With lam = 0 and no clamp active, the mean over each horizon
is its value to rounding error.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError
from .horizons import (STATUS_INCOMPLETE, ProfileLayers, layer_rows, profiles_summary, read_horizons,
                       require_some_profiles, with_attributes)
from .layers import format_depth, layer_scheme
from .progress import as_progress

#: Bishop et al. (1999) / mpspline2 default smoothing parameter.
DEFAULT_LAMBDA = 0.1


def _solve_symmetric_tridiagonal(diag, off, rhs):
    """Solve many symmetric tridiagonal systems (Thomas algorithm) along the last axis.

    diag, rhs: (..., K); off: (..., K), off[..., i] couples unknowns i and i + 1.
    The systems must be diagonally dominant (no pivoting).
    """
    size = diag.shape[-1]
    factor = np.empty_like(diag)
    solution = np.empty_like(rhs)
    if size == 0:
        return solution
    denominator = diag[..., 0]
    factor[..., 0] = off[..., 0] / denominator
    solution[..., 0] = rhs[..., 0] / denominator
    for i in range(1, size):
        denominator = diag[..., i] - off[..., i - 1] * factor[..., i - 1]
        factor[..., i] = off[..., i] / denominator
        solution[..., i] = (rhs[..., i] - off[..., i - 1] * solution[..., i - 1]) / denominator
    for i in range(size - 2, -1, -1):
        solution[..., i] -= factor[..., i] * solution[..., i + 1]
    return solution


def _antiderivative(c0, c1, c2, u):
    """Integral from 0 to u of c0 + c1 x + c2 x^2."""
    return u * (c0 + u * (c1 / 2.0 + u * c2 / 3.0))


def _polynomial(c0, c1, c2, u):
    return c0 + u * (c1 + u * c2)


def _crossings(c0, c1, c2, level):
    """The two solutions u of c0 + c1 u + c2 u^2 = level (NaN where there is none)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        constant = c0 - level
        disc = c1 * c1 - 4.0 * c2 * constant
        root = np.sqrt(np.where(disc >= 0, disc, np.nan))
        q = -0.5 * (c1 + np.where(c1 >= 0, root, -root))  # numerically stable form
        first = np.where(c2 != 0, q / c2, np.where(c1 != 0, -constant / c1, np.nan))
        second = np.where(c2 != 0, constant / q, np.nan)
    if not np.isfinite(level):
        return np.full_like(first, np.nan), np.full_like(first, np.nan)
    return first, second


def clamped_integral(c0, c1, c2, lo, hi, vlow=-np.inf, vhigh=np.inf):
    """Exact integral over [lo, hi] of min(max(c0 + c1 u + c2 u^2, vlow), vhigh); broadcasts."""
    c0, c1, c2, lo, hi = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (c0, c1, c2, lo, hi)))
    if vlow == -np.inf and vhigh == np.inf:
        return _antiderivative(c0, c1, c2, hi) - _antiderivative(c0, c1, c2, lo)
    points = [lo, hi, *_crossings(c0, c1, c2, vlow), *_crossings(c0, c1, c2, vhigh)]
    points = np.stack([np.clip(np.where(np.isnan(p), lo, p), lo, hi) for p in points], axis=-1)
    points.sort(axis=-1)
    start, end = points[..., :-1], points[..., 1:]
    coefficients = [c[..., None] for c in (c0, c1, c2)]
    middle = _polynomial(*coefficients, (start + end) / 2.0)
    with np.errstate(invalid="ignore"):
        pieces = np.where(middle < vlow, vlow * (end - start),
                          np.where(middle > vhigh, vhigh * (end - start),
                                   _antiderivative(*coefficients, end) - _antiderivative(*coefficients, start)))
    return pieces.sum(axis=-1)


def _padded(profile, n_profiles, starts, values, fill):
    """Scatter flat per-horizon values into a (n_profiles, max horizons) array."""
    counts = np.diff(starts)
    width = max(int(counts.max()) if len(counts) else 0, 1)
    out = np.full((n_profiles, width), fill, dtype=float)
    out[profile, np.arange(len(profile)) - starts[profile]] = values
    return out


@dataclass
class SplineFit:
    """Fitted splines of one property for many profiles, as pieces in padded arrays.

    Piece k of profile p covers [start[p, k], start[p, k] + length[p, k]] (cm) and is
    ``c0 + c1 u + c2 u^2`` with u the depth below the piece's start; pieces alternate
    horizon, gap (length 0 when horizons touch), horizon... Unused pieces start at +inf.
    ``top``/``bottom``: extent of the data per profile (NaN without data);
    ``fitted``: (profile, horizon) means of the fitted curve (NaN padding); ``rmse``:
    root mean square of value - fitted mean per profile (the fit error).
    """

    start: np.ndarray
    length: np.ndarray
    c0: np.ndarray
    c1: np.ndarray
    c2: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    fitted: np.ndarray
    rmse: np.ndarray
    vlow: float
    vhigh: float
    extrapolate: bool

    def _end_values(self):
        """Clamped curve values at the top and bottom of the data of each profile."""
        rows = np.arange(len(self.top))
        last = np.maximum(np.isfinite(self.start).sum(axis=1) - 1, 0)
        top_value = self.c0[:, 0]
        bottom_value = _polynomial(self.c0[rows, last], self.c1[rows, last], self.c2[rows, last],
                                   self.length[rows, last])
        return (np.clip(top_value, self.vlow, self.vhigh), np.clip(bottom_value, self.vlow, self.vhigh))

    def _locate(self, depths):
        """(piece index, depth within the piece) of each depth; depths shaped (profiles, k)."""
        inside = np.clip(depths, self.top[:, None], self.bottom[:, None])
        piece = (self.start[:, :, None] <= inside[:, None, :]).sum(axis=1) - 1
        piece = np.clip(piece, 0, self.start.shape[1] - 1)
        take = (lambda a: np.take_along_axis(a, piece, axis=1))
        offset = np.clip(inside - take(self.start), 0.0, take(self.length))
        return piece, take, offset

    def cumulative(self, depths):
        """Integral of the clamped curve from the top of the data to each depth (value x cm).

        depths: (profiles, k) or (k,). Outside the data the curve is NaN, or its end value
        when ``extrapolate`` (the spline's slope is 0 at both ends).
        """
        depths = np.broadcast_to(np.asarray(depths, dtype=float), (len(self.top), np.shape(depths)[-1]))
        full = clamped_integral(self.c0, self.c1, self.c2, 0.0, np.where(np.isfinite(self.start), self.length, 0.0),
                                self.vlow, self.vhigh)
        before = np.concatenate([np.zeros((len(self.top), 1)), np.cumsum(full, axis=1)[:, :-1]], axis=1)
        piece, take, offset = self._locate(depths)
        total = take(before) + clamped_integral(take(self.c0), take(self.c1), take(self.c2), 0.0, offset,
                                                self.vlow, self.vhigh)
        above, below = depths < self.top[:, None], depths > self.bottom[:, None]
        if self.extrapolate:
            top_value, bottom_value = self._end_values()
            total = total + np.where(above, (depths - self.top[:, None]) * top_value[:, None], 0.0) \
                + np.where(below, (depths - self.bottom[:, None]) * bottom_value[:, None], 0.0)
        else:
            total = np.where(above | below, np.nan, total)
        return total

    def layer_means(self, tops, bottoms):
        """Mean of the clamped curve over each layer [tops, bottoms] (cm): (profiles, layers).

        tops, bottoms: (layers,) for every profile, or (profiles, layers).
        """
        tops, bottoms = np.broadcast_arrays(np.asarray(tops, dtype=float), np.asarray(bottoms, dtype=float))
        cumulative = self.cumulative(np.concatenate([tops, bottoms], axis=-1))
        n = tops.shape[-1]
        return (cumulative[:, n:] - cumulative[:, :n]) / (bottoms - tops)

    def evaluate(self, depths):
        """The clamped curve at depths (cm), (profiles, k); NaN outside the data unless extrapolating."""
        depths = np.broadcast_to(np.asarray(depths, dtype=float), (len(self.top), np.shape(depths)[-1]))
        piece, take, offset = self._locate(depths)
        values = np.clip(_polynomial(take(self.c0), take(self.c1), take(self.c2), offset), self.vlow, self.vhigh)
        outside = (depths < self.top[:, None]) | (depths > self.bottom[:, None])
        if self.extrapolate:
            top_value, bottom_value = self._end_values()
            values = np.where(depths < self.top[:, None], top_value[:, None], values)
            return np.where(depths > self.bottom[:, None], bottom_value[:, None], values)
        return np.where(outside, np.nan, values)

    def clamped_profiles(self):
        """True for profiles whose unclamped curve leaves [vlow, vhigh] somewhere."""
        used = np.isfinite(self.start)
        with np.errstate(invalid="ignore", divide="ignore"):
            vertex = np.where(self.c2 != 0, -self.c1 / (2.0 * self.c2), 0.0)
            vertex = np.clip(np.nan_to_num(vertex), 0.0, np.where(used, self.length, 0.0))
        ends = [_polynomial(self.c0, self.c1, self.c2, u) for u in (0.0, vertex, np.where(used, self.length, 0.0))]
        low = np.minimum.reduce(ends)
        high = np.maximum.reduce(ends)
        return (used & ((low < self.vlow) | (high > self.vhigh))).any(axis=1)


def fit_splines(profile, top, bottom, values, n_profiles, lam=DEFAULT_LAMBDA, vlow=0.0, vhigh=np.inf,
                extrapolate=False):
    """Fit the mass-preserving spline to many profiles of one property at once.

    profile: 0-based profile index of each horizon (sorted by profile, then depth);
    top, bottom: horizon depths (cm, non-overlapping within a profile); values: the
    property (NaN = missing: that horizon is left out and the spline bridges it).
    Returns a :class:`SplineFit` with ``n_profiles`` rows (profiles without values: NaN).
    """
    if not np.isfinite(lam) or lam < 0:
        raise InputError(f"lam (the smoothing parameter) must be zero or positive, not {lam:g}")
    if not vlow < vhigh:
        raise InputError(f"vlow ({vlow:g}) must be below vhigh ({vhigh:g})")
    profile, top, bottom, values = (np.asarray(a) for a in (profile, top, bottom, values))
    keep = np.isfinite(values)
    profile, top, bottom, y = profile[keep], top[keep].astype(float), bottom[keep].astype(float), values[keep]
    starts = np.searchsorted(profile, np.arange(n_profiles + 1))
    count = np.diff(starts).astype(float)
    h = _padded(profile, n_profiles, starts, bottom - top, 1.0)
    y_pad = _padded(profile, n_profiles, starts, y, np.nan)
    tops = _padded(profile, n_profiles, starts, top, np.nan)
    bottoms = _padded(profile, n_profiles, starts, bottom, np.nan)
    width = h.shape[1]
    slot = np.arange(width - 1)
    active = slot[None, :] < (count[:, None] - 1)            # inner boundaries i < n - 1
    coupled = slot[None, :] < (count[:, None] - 2)           # i and i + 1 both inner
    gap = np.where(active, tops[:, 1:] - bottoms[:, :-1], 0.0)
    smooth = 6.0 * count * lam                                # 6 n lam
    diag = np.where(active, 2.0 * (h[:, :-1] + h[:, 1:]) + 6.0 * gap + 2.0 * smooth[:, None], 1.0)
    off = np.where(coupled, h[:, 1:] - smooth[:, None], 0.0)
    rhs = np.where(active, 6.0 * (np.nan_to_num(y_pad[:, 1:]) - np.nan_to_num(y_pad[:, :-1])), 0.0)
    slopes = _solve_symmetric_tridiagonal(diag, off, rhs)
    zeros = np.zeros((n_profiles, 1))
    upper = np.concatenate([zeros, slopes], axis=1)           # f' at each horizon's top
    lower = np.concatenate([slopes, zeros], axis=1)           # f' at each horizon's bottom
    fitted = y_pad - smooth[:, None] / 6.0 * (upper - lower)
    c0 = fitted - upper * h / 3.0 - lower * h / 6.0
    c2 = (lower - upper) / (2.0 * h)
    end_value = fitted + upper * h / 6.0 + lower * h / 3.0
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse = np.sqrt(np.nansum((y_pad - fitted) ** 2, axis=1) / count)
    # interleave horizon pieces and gap pieces: 2 * width - 1 pieces
    pieces = 2 * width - 1
    start = np.full((n_profiles, pieces), np.inf)
    length, a0, a1, a2 = (np.zeros((n_profiles, pieces)) for _ in range(4))
    used = np.isfinite(y_pad)
    start[:, 0::2] = np.where(used, tops, np.inf)
    length[:, 0::2] = np.where(used, h, 0.0)
    a0[:, 0::2], a1[:, 0::2], a2[:, 0::2] = c0, upper, c2
    start[:, 1::2] = np.where(active, bottoms[:, :-1], np.inf)
    length[:, 1::2] = gap
    a0[:, 1::2], a1[:, 1::2] = end_value[:, :-1], lower[:, :-1]
    first = tops[:, 0]
    last = bottoms[np.arange(n_profiles), np.maximum(count.astype(int) - 1, 0)]
    none = count == 0
    return SplineFit(start=start, length=length, c0=np.nan_to_num(a0), c1=a1, c2=np.nan_to_num(a2),
                     top=np.where(none, np.nan, first), bottom=np.where(none, np.nan, last),
                     fitted=fitted, rmse=rmse, vlow=float(vlow), vhigh=float(vhigh), extrapolate=bool(extrapolate))


def _coverage_notes(fit, scheme, name):
    """Per-profile notes about layers the data do not cover (no extrapolation)."""
    notes = {}
    if fit.extrapolate:
        return notes
    for p in np.flatnonzero(np.isfinite(fit.top)):
        parts = []
        if scheme.breaks[0] < fit.top[p]:
            parts.append(f"above {format_depth(fit.top[p])} cm")
        if scheme.breaks[-1] > fit.bottom[p]:
            parts.append(f"below {format_depth(fit.bottom[p])} cm")
        if parts:
            notes[p] = (f"{name}: no value for layers reaching {' or '.join(parts)}, outside the horizons "
                        "with values (extrapolate would carry the end values there)")
    return notes


def spline_profiles(table, id_col, top_col, bottom_col, value_cols, layers=None, lam=DEFAULT_LAMBDA,
                    vlow=0.0, vhigh=np.inf, extrapolate=False, organic="exclude", progress=None, is_cancelled=None):
    """Harmonise horizon data onto layers with the mass-preserving spline.

    table: one row per profile and horizon; depths in cm (positive down); value_cols: the
    properties (each splined separately; a missing value leaves its horizon out).
    layers: anything :func:`~wholesoil.core.layers.layer_scheme` accepts (default
    0-20 ... 150-200 cm). lam: smoothing (0 = exact horizon means). Values are clamped to
    [vlow, vhigh]. Layers not covered by the data get NaN unless ``extrapolate`` (then the
    end values of the curve are carried beyond the data). organic: negative depths (organic
    horizons), see :func:`~wholesoil.core.horizons.read_horizons`.
    Returns :class:`ProfileLayers` (with ``fits``: property -> :class:`SplineFit`).
    """
    scheme = layer_scheme(layers)
    steps = as_progress(progress, is_cancelled)
    horizons = read_horizons(table, id_col, top_col, bottom_col, value_cols, organic=organic)
    require_some_profiles(horizons, "splined")
    steps.update(0.1)
    _note_gaps(horizons)
    out = layer_rows(horizons, scheme, top_col, bottom_col)
    fits, extra, messages = {}, {}, {}
    incomplete = np.zeros(horizons.n_profiles, bool)
    for k, name in enumerate(horizons.value_cols):
        values = horizons.column(name)
        _note_missing(horizons, values, name)
        fit = fit_splines(horizons.profile, horizons.top, horizons.bottom, values, horizons.n_profiles,
                          lam, vlow, vhigh, extrapolate)
        means = fit.layer_means(scheme.tops, scheme.bottoms)
        out[name] = means.reshape(-1)
        extra[f"rmse_{name}"] = fit.rmse
        for p in np.flatnonzero(fit.clamped_profiles()):
            horizons.note(p, f"{name}: curve clamped to [{vlow:g}, {vhigh:g}]")
        for p, text in _coverage_notes(fit, scheme, name).items():
            messages.setdefault(p, []).append(text)
        for p in np.flatnonzero(~np.isfinite(fit.top)):
            messages.setdefault(p, []).append(f"{name}: no values")
        incomplete |= ~np.isfinite(means).all(axis=1)
        fits[name] = fit
        steps.update(0.1 + 0.85 * (k + 1) / len(horizons.value_cols))
    extra = pd.DataFrame(extra)
    extra["status"] = np.where(incomplete, STATUS_INCOMPLETE, "ok")
    extra["message"] = ["; ".join(messages.get(p, [])) for p in range(horizons.n_profiles)]
    summary = profiles_summary(horizons, extra)
    return ProfileLayers(layers=with_attributes(out, horizons, len(scheme)), profiles=summary,
                         scheme=scheme, horizons=horizons, fits=fits)


def _note_gaps(horizons):
    """Record the gaps between consecutive horizons of each profile (bridged, not filled with data)."""
    same = horizons.profile[1:] == horizons.profile[:-1]
    gap = same & (horizons.top[1:] > horizons.bottom[:-1])
    for i in np.flatnonzero(gap):
        horizons.note(horizons.profile[i], f"gap {format_depth(horizons.bottom[i])}-"
                                           f"{format_depth(horizons.top[i + 1])} cm bridged by the curve")


def _note_missing(horizons, values, name):
    """Record horizons without a value of ``name`` in profiles that have other values."""
    missing = np.isnan(values)
    if not missing.any():
        return
    has_values = np.bincount(horizons.profile[~missing], minlength=horizons.n_profiles) > 0
    for p in np.unique(horizons.profile[missing]):
        if has_values[p]:
            rows = horizons.rows[missing & (horizons.profile == p)]
            horizons.note(p, f"{name}: no value in row(s) {', '.join(map(str, rows))}; left out and bridged")
