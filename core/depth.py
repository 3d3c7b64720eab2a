"""Depth distribution models of roots, belowground NPP and soil carbon (METHODS sections 2-3).

* Schenk & Jackson (2002) logistic model of the cumulative fraction above depth D (cm):
  ``F(D) = 1 / (1 + (D / D50) ** c)`` with ``c = -1.27875 / (log10 D95 - log10 D50)``.
* Gale & Grigal (1987) / Jackson et al. (1996) beta model: ``Y(d) = 1 - beta ** d``.
* The exponential share model of the Luo et al. BNPP study: ``share = a * exp(-b * depth)``.

Every function broadcasts over numpy arrays (scalars, table columns, raster blocks);
layer results are returned on the last axis. NaN inputs give NaN outputs (nodata).
"""

import numpy as np

from .errors import InputError, describe_rows
from .layers import format_depth, layer_scheme

#: log10(0.95 / 0.05) = log10(19) = 1.2787536: the constant that makes F(D95) = 0.95 exactly.
#: Schenk & Jackson (2002) print it rounded as 1.27875 (a 4e-7 difference in F).
LOGISTIC_CONSTANT = float(np.log10(19.0))

#: Depth (cm) of the profile whose total the fractions share when normalised: the METHODS Decision
#: "the fractions sum to 1 over the profile (0-200 cm)".
PROFILE_DEPTH = 200.0

#: Status values of a fitted profile: surface present (``ok``) or missing and fitted conditionally.
FITTED_STATUSES = ("ok", "conditional")
MISSING_SURFACE = ("refuse", "conditional")


def check_scalar(name, value):
    """Raise InputError if ``value`` is a single number that is NaN or infinite.

    Arrays (table columns, raster blocks) keep NaN as nodata; a parameter given as one number
    must be finite.
    """
    if np.ndim(value) == 0 and value is not None and not np.isfinite(float(value)):
        raise InputError(f"{name} must be a finite number, not {float(value):g}")


def _where(mask, labels):
    """Where ``mask`` is True: row labels if given, else a count ('3 of 100 values; ')."""
    flat = np.flatnonzero(np.ravel(mask))
    if labels is not None:
        labels = np.asarray(labels)
        return describe_rows([labels[i] for i in flat]) + "; "
    return "" if np.size(mask) == 1 else f"{flat.size} of {np.size(mask)} values; "


def check_logistic_parameters(d50, d95, labels=None):
    """Raise InputError unless D95 > D50 > 0 wherever both are given (NaN = nodata in arrays)."""
    check_scalar("D50", d50)
    check_scalar("D95", d95)
    d50, d95 = np.broadcast_arrays(np.asarray(d50, dtype=float), np.asarray(d95, dtype=float))
    given = np.isfinite(d50) & np.isfinite(d95)
    with np.errstate(invalid="ignore"):
        bad_d50 = given & ~(d50 > 0)
        bad_order = given & ~(d95 > d50) & ~bad_d50
    if bad_d50.any():
        where = _where(bad_d50, labels)
        raise InputError(f"D50 must be a positive depth in cm ({where}"
                         f"value {d50[bad_d50].flat[0]:g})")
    if bad_order.any():
        where = _where(bad_order, labels)
        first = np.flatnonzero(bad_order.ravel())[0]
        raise InputError(f"D95 must be greater than D50 ({where}D50={d50.flat[first]:g}, "
                         f"D95={d95.flat[first]:g})")
    return d50, d95


def check_beta(beta, labels=None):
    """Raise InputError unless 0 < beta < 1 wherever beta is given (NaN = nodata in arrays)."""
    check_scalar("beta", beta)
    beta = np.asarray(beta, dtype=float)
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(beta) & ~((beta > 0) & (beta < 1))
    if bad.any():
        where = _where(bad, labels)
        raise InputError(f"beta must be between 0 and 1 (exclusive) ({where}"
                         f"value {beta[bad].flat[0]:g})")
    return beta


def logistic_shape(d50, d95):
    """The shape parameter c (negative) of the logistic model from D50 and D95 (cm)."""
    d50, d95 = check_logistic_parameters(d50, d95)
    return -LOGISTIC_CONSTANT / (np.log10(d95) - np.log10(d50))


def _logistic_at(depths, log_d50, c):
    """F at each of ``depths`` (1-D, cm) for arrays log(D50) and c; depths on the last axis."""
    out = np.empty(np.shape(log_d50) + (len(depths),))
    for j, depth in enumerate(depths):
        if depth <= 0:
            out[..., j] = 0.0
        elif np.isinf(depth):
            out[..., j] = 1.0
        else:
            with np.errstate(over="ignore"):
                out[..., j] = 1.0 / (1.0 + np.exp(c * (np.log(depth) - log_d50)))
    return out


def logistic_cumulative(depth, d50, d95):
    """Cumulative fraction F(D) above depth D (cm) for the Schenk-Jackson model."""
    depth = np.asarray(depth, dtype=float)
    c = logistic_shape(d50, d95)
    with np.errstate(divide="ignore", over="ignore"):
        return 1.0 / (1.0 + np.power(depth / np.asarray(d50, dtype=float), c))


def profile_depth_of(scheme, normalize=True, profile_depth=PROFILE_DEPTH):
    """The depth (cm) of the profile whose total the layer fractions share: ``profile_depth``
    when normalising, infinity (the whole profile) otherwise.

    Raises InputError when normalised layers reach below the profile depth.
    """
    if not normalize:
        return np.inf
    check_scalar("profile depth", profile_depth)
    if not profile_depth > 0:
        raise InputError(f"profile depth must be a positive depth (cm), not {profile_depth:g}")
    if scheme.breaks[-1] > profile_depth:
        raise InputError(f"layers reach {format_depth(scheme.breaks[-1])} cm, below the profile depth "
                         f"({format_depth(profile_depth)} cm) over which the fractions are normalised: give a "
                         f"profile depth of at least {format_depth(scheme.breaks[-1])} cm, or layers that end above "
                         f"{format_depth(profile_depth)} cm")
    return float(profile_depth)


def coverage_note(layers=None, normalize=True, profile_depth=PROFILE_DEPTH, fractions=None):
    """A note when normalised layers cover only part of the profile 0-``profile_depth`` (cm); else None.

    fractions: the layer fractions of one profile, to state the share the layers hold.
    """
    scheme = layer_scheme(layers)
    if not normalize or (scheme.breaks[0] == 0 and scheme.breaks[-1] == profile_depth):
        return None
    share = "" if fractions is None else f" ({float(np.sum(fractions)):.3g})"
    return (f"the layers cover {format_depth(scheme.breaks[0])}-{format_depth(scheme.breaks[-1])} cm, not the whole "
            f"0-{format_depth(profile_depth)} cm profile: the fractions are shares of that profile and sum to "
            f"the share the layers hold{share}, not to 1")


def _fractions_from_cumulative(cum):
    """Layer fractions from F at the layer breaks and, last, at the profile depth (last axis)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diff(cum[..., :-1], axis=-1) / cum[..., -1:]


def logistic_layer_fractions(d50, d95, layers=None, normalize=True, profile_depth=PROFILE_DEPTH):
    """Fraction of roots/BNPP in each layer for the logistic model.

    d50, d95: depths (cm) above which 50 % and 95 % lie; scalars or arrays (broadcast).
    layers: anything :func:`~wholesoil.core.layers.layer_scheme` accepts (default 7 layers to 2 m).
    normalize: if True (the METHODS Decision) the fractions are shares of the profile from the
    surface to ``profile_depth`` (cm, default 200), so layers covering 0-200 cm sum to 1 and layers
    covering part of it sum to the share they hold (see :func:`coverage_note`); if False they are
    shares of the infinite-depth total.
    Returns an array of shape ``broadcast(d50, d95).shape + (n_layers,)``.
    """
    scheme = layer_scheme(layers)
    depths = scheme.breaks + (profile_depth_of(scheme, normalize, profile_depth),)
    d50, d95 = check_logistic_parameters(d50, d95)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_d50 = np.log(d50)
        c = -LOGISTIC_CONSTANT * np.log(10.0) / (np.log(d95) - log_d50)
    return _fractions_from_cumulative(_logistic_at(depths, log_d50, c))


def beta_cumulative(depth, beta):
    """Cumulative fraction Y(d) = 1 - beta**d from the surface to depth d (cm)."""
    beta = check_beta(beta)
    return 1.0 - np.power(beta, np.asarray(depth, dtype=float))


def beta_layer_fractions(beta, layers=None, normalize=True, profile_depth=PROFILE_DEPTH):
    """Share of each layer, beta**top - beta**bottom, for the beta model.

    normalize, profile_depth: as for :func:`logistic_layer_fractions` (if False, shares of the
    infinite-depth total, Jackson et al. 1996).
    Returns an array of shape ``np.shape(beta) + (n_layers,)``.
    """
    scheme = layer_scheme(layers)
    depths = scheme.breaks + (profile_depth_of(scheme, normalize, profile_depth),)
    beta = check_beta(beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_beta = np.log(beta)
    cum = np.empty(np.shape(beta) + (len(depths),))
    for j, depth in enumerate(depths):
        with np.errstate(invalid="ignore"):
            cum[..., j] = 1.0 - np.exp(log_beta * depth)
    return _fractions_from_cumulative(cum)


def beta_extrapolate(stock, depth, beta, target_depth=100.0, top=0.0):
    """Extrapolate a ``top``-``depth`` stock to 0-``target_depth`` (cm): X100 of METHODS section 3.

    X_target = (1 - beta**target) / (beta**top - beta**depth) * X_top-depth; with top = 0 (the
    stock starts at the surface) this is (1 - beta**target) / (1 - beta**depth) * X_depth.
    """
    check_scalar("target depth", target_depth)
    beta = check_beta(beta)
    depth, top = np.asarray(depth, dtype=float), np.asarray(top, dtype=float)
    if not target_depth > 0:
        raise InputError("beta extrapolation: the target depth must be positive (cm)")
    with np.errstate(invalid="ignore"):
        if np.any(depth <= top):
            raise InputError("beta extrapolation: the sampled depth must be below the top of the stock (cm)")
        if np.any(top < 0):
            raise InputError("beta extrapolation: the top of the stock must not be above the surface (cm)")
    return (1.0 - beta ** target_depth) / (beta ** top - beta ** depth) * np.asarray(stock, dtype=float)


def beta_depth_at_fraction(fraction, beta):
    """Depth (cm) above which ``fraction`` (0-1) lies: ln(1 - fraction) / ln(beta)."""
    check_scalar("fraction", fraction)
    beta = check_beta(beta)
    fraction = np.asarray(fraction, dtype=float)
    if np.any((fraction <= 0) | (fraction >= 1)):
        raise InputError("fraction must be between 0 and 1 (exclusive)")
    return np.log1p(-fraction) / np.log(beta)


def partition_total(total, fractions):
    """Split a total (e.g. BNPP, Mg C ha-1 yr-1) over layers: total[..., None] * fractions."""
    check_scalar("total", total)
    return np.asarray(total, dtype=float)[..., None] * np.asarray(fractions, dtype=float)


# ---------------------------------------------------------------------------------------------
# Fitting many profiles from a table of depth increments

#: The estimators live in :mod:`wholesoil.core.depth_models` (scipy, scikit-learn), imported on first use.
_ESTIMATORS = ("LogisticDepthModel", "BetaDepthModel", "ExponentialShareModel")


def __getattr__(name):
    """``depth.LogisticDepthModel`` etc. import scipy and scikit-learn only when asked for (PEP 562)."""
    if name in _ESTIMATORS:
        from . import depth_models

        return getattr(depth_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: Models :func:`fit_depth_profiles` can fit.
DEPTH_MODELS = ("logistic", "beta", "exponential")


def cumulative_profile(top, bottom, value, value_kind="amount"):
    """Cumulative fraction at the lower depth of each increment of one profile.

    top, bottom: increment depths (cm); value: amount per increment (``value_kind='amount'``,
    e.g. g m-2) or density per volume (``'density'``, e.g. mg cm-3, multiplied by thickness).
    Returns (lower depths, cumulative fractions, top, notes) with increments sorted by depth;
    ``top`` (cm) is the top of the first increment with a value: the amounts cover top to the
    deepest lower depth. Raises InputError for negative, inverted or overlapping increments or
    no positive total.
    """
    top, bottom, value = (np.asarray(a, dtype=float) for a in (top, bottom, value))
    if not (np.isfinite(top).all() and np.isfinite(bottom).all()):
        raise InputError("missing top or bottom depth")
    if (top < 0).any():
        raise InputError(f"negative depth {top.min():g} cm (depths are cm below the mineral soil surface; organic "
                         "horizons above it are excluded or kept by the horizon commands' organic option)")
    if (bottom <= top).any():
        i = int(np.flatnonzero(bottom <= top)[0])
        raise InputError(f"increment {top[i]:g}-{bottom[i]:g} cm has its bottom above or at its top")
    order = np.argsort(top, kind="stable")
    top, bottom, value = top[order], bottom[order], value[order]
    if (top[1:] < bottom[:-1]).any():
        i = int(np.flatnonzero(top[1:] < bottom[:-1])[0])
        raise InputError(f"increments {top[i]:g}-{bottom[i]:g} and {top[i + 1]:g}-{bottom[i + 1]:g} cm overlap")
    notes = []
    if np.isnan(value).any():
        notes.append(f"{int(np.isnan(value).sum())} increment(s) without a value dropped")
        keep = ~np.isnan(value)
        top, bottom, value = top[keep], bottom[keep], value[keep]
    if (value < 0).any():
        raise InputError("negative values")
    if (top[1:] > bottom[:-1]).any():
        notes.append("gaps between increments (treated as holding nothing)")
    amount = value * (bottom - top) if value_kind == "density" else value
    total = amount.sum()
    if not total > 0:
        raise InputError("no positive values in the profile")
    return bottom, np.minimum(np.cumsum(amount) / total, 1.0), float(top[0]), notes  # no 1 + 1e-16 from rounding


def fit_depth_profiles(table, id_col, top_col, bottom_col, value_col, model="logistic",
                       value_kind="amount", truncated=False, surface_tolerance=0.0, missing_surface="refuse",
                       progress=None, is_cancelled=None):
    """Fit a depth model to every profile of a table of increments; one row per profile.

    model: 'logistic' (D50, D95, c), 'beta' (beta with its derived D50 and D95), both
    fitted to the cumulative fraction at the increments' lower depths, or 'exponential'
    (a, b of share = a exp(-b mid-depth), fitted to the values as given, e.g. layer shares).
    truncated: fit logistic/beta as profiles cut at their deepest increment (see
    LogisticDepthModel) instead of taking the observed total as the whole profile.
    surface_tolerance (cm): a profile whose first increment with a value starts deeper than
    this misses its surface (the amount above it is unknown). missing_surface: 'refuse' (default,
    status ``not_fitted`` with the reason) or 'conditional' (fit the distribution of the covered
    depths, (F(d) - F(top)) / (F(D) - F(top)), status ``conditional``). Such a profile is never
    ``ok``. ``covered_top_cm`` is the top of the first increment with a value.
    A profile that cannot be fitted gets ``status`` and ``message`` instead of numbers;
    the other profiles are still fitted.
    """
    from .progress import as_progress
    from .tables import require_columns, numeric_columns

    if model not in DEPTH_MODELS:
        raise InputError(f"unknown depth model {model!r}; choose one of {', '.join(DEPTH_MODELS)}")
    if value_kind not in ("amount", "density"):
        raise InputError("value_kind must be 'amount' or 'density'")
    check_surface_options(surface_tolerance, missing_surface)
    require_columns(table, [id_col, top_col, bottom_col, value_col])
    data = numeric_columns(table, [top_col, bottom_col, value_col])
    data[id_col] = table[id_col].values
    steps = as_progress(progress, is_cancelled)
    groups = list(data.groupby(id_col, sort=False))
    rows = []
    for i, (profile, part) in enumerate(groups):
        row = {id_col: profile, "model": model, "n_increments": len(part),
               "max_depth_cm": float(part[bottom_col].max())}
        try:
            row.update(_fit_one_profile(part[top_col], part[bottom_col], part[value_col], model, value_kind,
                                        truncated, surface_tolerance, missing_surface))
        except InputError as error:
            row.update(status="not_fitted", message=str(error))
        rows.append(row)
        if i % 50 == 0 or i == len(groups) - 1:
            steps.update((i + 1) / len(groups))
    import pandas as pd

    columns = _FIT_COLUMNS[model]
    result = pd.DataFrame(rows)
    for column in columns + ["covered_top_cm"]:
        if column not in result:
            result[column] = np.nan
    return result[[id_col, "model", "n_increments", "covered_top_cm", "max_depth_cm"] + columns]


_FIT_COLUMNS = {
    "logistic": ["d50_cm", "d95_cm", "c", "rmse", "r2", "status", "message"],
    "beta": ["beta", "d50_cm", "d95_cm", "rmse", "r2", "status", "message"],
    "exponential": ["a", "b_per_cm", "rmse", "r2", "status", "message"],
}


def check_surface_options(surface_tolerance, missing_surface):
    """Raise InputError for an impossible surface tolerance (cm) or missing-surface rule."""
    check_scalar("surface tolerance", surface_tolerance)
    if surface_tolerance < 0:
        raise InputError(f"surface tolerance must be zero or a positive depth (cm), not {surface_tolerance:g}")
    if missing_surface not in MISSING_SURFACE:
        raise InputError(f"missing_surface must be one of {', '.join(MISSING_SURFACE)}, not {missing_surface!r}")


def _fit_one_profile(top, bottom, value, model, value_kind, truncated=False, surface_tolerance=0.0,
                     missing_surface="refuse"):
    """Fit one profile; returns the result columns (see ``_FIT_COLUMNS``)."""
    from .depth_models import BetaDepthModel, ExponentialShareModel, LogisticDepthModel

    if model == "exponential":
        keep = np.isfinite(value)
        fitted = ExponentialShareModel().fit((top[keep] + bottom[keep]) / 2.0, value[keep])
        return {"a": fitted.a_, "b_per_cm": fitted.b_, "rmse": fitted.rmse_, "r2": fitted.r2_,
                "status": "ok", "message": ""}
    depths, cum, covered_top, notes = cumulative_profile(top, bottom, value, value_kind)
    surface = 0.0
    if covered_top > surface_tolerance:
        if missing_surface == "refuse":
            raise InputError(f"the surface is missing: the first increment with a value starts at "
                             f"{covered_top:g} cm (surface tolerance {surface_tolerance:g} cm); add the top "
                             "increments or fit the covered depths conditionally (--missing-surface conditional; "
                             "in QGIS, Profiles missing their surface)")
        surface = covered_top
        notes.insert(0, f"surface missing: fitted conditionally on the {covered_top:g}-{depths.max():g} cm amount")
    elif covered_top > 0:
        notes.insert(0, f"first increment starts at {covered_top:g} cm, within the surface tolerance "
                        "(treated as starting at the surface)")
    if model == "logistic":
        fitted = LogisticDepthModel(truncated=truncated).fit(depths, cum, top=surface)
        params = {"d50_cm": fitted.d50_, "d95_cm": fitted.d95_, "c": fitted.c_}
    else:
        fitted = BetaDepthModel(truncated=truncated).fit(depths, cum, top=surface)
        params = {"beta": fitted.beta_, "d50_cm": fitted.d50_, "d95_cm": fitted.d95_}
    if not fitted.converged_:
        notes.append("the optimiser did not report convergence")
    if fitted.n_points_ <= (2 if model == "logistic" else 1) + int(truncated) + int(surface > 0):
        notes.append("as many parameters as increments: the fit is exact, not a test")
    status = "not_converged" if not fitted.converged_ else "conditional" if surface > 0 else "ok"
    params.update(rmse=fitted.rmse_, r2=fitted.r2_, message="; ".join(notes), status=status,
                  covered_top_cm=covered_top)
    return params


def fitted_curves(table, result, id_col, top_col, bottom_col, value_col, model, value_kind="amount",
                  truncated=False):
    """Observed cumulative fractions and fitted curves of the fitted profiles (status ok or conditional).

    Returns a list of dicts (label, depth, observed, curve) for
    :func:`wholesoil.core.plots.fitted_profiles_figure`; empty for the exponential model.
    Each curve is what was fitted: scaled to 1 at the deepest depth with ``truncated``, and the
    conditional distribution below the covered top for profiles whose surface is missing.
    """
    from .tables import numeric_columns

    if model == "exponential":
        return []
    data = numeric_columns(table, [top_col, bottom_col, value_col])
    data["id"] = table[id_col].to_numpy()
    fitted = result[result["status"].isin(FITTED_STATUSES)].set_index(id_col)
    curves = []
    for profile, part in data.groupby("id", sort=False):
        if profile not in fitted.index:
            continue
        depths, cum, _, _ = cumulative_profile(part[top_col], part[bottom_col], part[value_col], value_kind)
        row = fitted.loc[profile]
        if model == "logistic":
            cumulative = (lambda d, r=row: logistic_cumulative(d, r["d50_cm"], r["d95_cm"]))
        else:
            cumulative = (lambda d, r=row: beta_cumulative(d, r["beta"]))
        start = cumulative(row["covered_top_cm"]) if row["status"] == "conditional" else 0.0
        end = cumulative(depths.max()) if truncated else 1.0
        curve = (lambda d, f=cumulative, a=start, k=end: (f(d) - a) / (k - a))
        curves.append({"label": profile, "depth": depths, "observed": cum, "curve": curve})
    return curves
