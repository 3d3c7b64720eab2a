"""β per profile (METHODS section 3): fit, layer fractions, X100, and the exponential share model.

Thin layer over :mod:`wholesoil.core.depth`: the horizons are checked per profile
(:func:`~wholesoil.core.horizons.read_horizons`), β is fitted by
:func:`~wholesoil.core.depth.fit_depth_profiles`, the fractions come from
:func:`~wholesoil.core.depth.beta_layer_fractions` and the extrapolated stock from
:func:`~wholesoil.core.depth.beta_extrapolate`. The exponential share model
(share = a exp(-b mid-depth), Luo et al. BNPP study Table S3) is fitted with
:class:`~wholesoil.core.depth.ExponentialShareModel` to the observed shares of the
increments (amount in the increment / profile total) of all profiles of a group.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .depth import (FITTED_STATUSES, PROFILE_DEPTH, ExponentialShareModel, beta_extrapolate, beta_layer_fractions,
                    fit_depth_profiles, fitted_curves)
from .errors import InputError
from .horizons import missing_geometry_as_none, read_horizons, require_some_profiles
from .layers import format_depth, layer_scheme
from .partitioning import FRACTION_PREFIX
from .progress import as_progress

VALUE_KINDS = ("amount", "density")


@dataclass
class BetaProfiles:
    """``profiles``: one row per input profile (β fit, fractions, observed total, X at the
    target depth, kept attributes); ``groups``: the exponential share model per group."""

    profiles: pd.DataFrame
    groups: pd.DataFrame
    scheme: object
    horizons: object
    value_kind: str = "amount"
    truncated: bool = False

    def curves(self):
        """Observed cumulative fractions and fitted curves of the fitted profiles, for
        :func:`wholesoil.core.plots.fitted_profiles_figure`."""
        horizons = self.horizons
        clean = pd.DataFrame({horizons.id_col: horizons.ids[horizons.profile], "top": horizons.top,
                              "bottom": horizons.bottom, "value": horizons.values[:, 0]})
        return fitted_curves(clean, self.profiles, horizons.id_col, "top", "bottom", "value", "beta",
                             self.value_kind, self.truncated)


def _amounts(horizons, value_kind):
    """Amount in each increment: the value, or value x thickness (cm) for densities."""
    values = horizons.values[:, 0]
    return values * (horizons.bottom - horizons.top) if value_kind == "density" else values


def _share_models(horizons, amounts, totals, groups):
    """ExponentialShareModel per group fitted to (mid-depth, observed share) of every increment."""
    share = amounts / totals[horizons.profile]
    middle = (horizons.top + horizons.bottom) / 2.0
    group_of_row = groups[horizons.profile]
    rows = []
    for group in pd.unique(groups):
        mask = (group_of_row == group) & np.isfinite(share)
        row = {"group": group, "n_profiles": int(np.sum(groups == group)), "n_points": int(mask.sum())}
        try:
            model = ExponentialShareModel().fit(middle[mask], share[mask])
            row.update(a=model.a_, b_per_cm=model.b_, rmse=model.rmse_, r2=model.r2_, status="ok", message="")
        except InputError as error:
            row.update(a=np.nan, b_per_cm=np.nan, rmse=np.nan, r2=np.nan, status="not_fitted", message=str(error))
        rows.append(row)
    return pd.DataFrame(rows)


def fit_beta_profiles(table, id_col, top_col, bottom_col, value_col, value_kind="amount", layers=None,
                      normalize=True, target_depth=100.0, group_col=None, truncated=False, surface_tolerance=0.0,
                      missing_surface="refuse", profile_depth=PROFILE_DEPTH, organic="exclude", progress=None,
                      is_cancelled=None):
    """Fit Y(d) = 1 - β^d to every profile and derive its layer fractions and X at ``target_depth``.

    value_col: amount per increment (e.g. Mg C ha-1, g m-2) or, with value_kind='density',
    per cm or per volume (multiplied by the thickness in cm). layers: the fraction layers
    (default 0-20 ... 150-200 cm); normalize, profile_depth: the fractions are shares of the
    profile 0-profile_depth cm (see :func:`~wholesoil.core.depth.beta_layer_fractions`).
    Output columns besides the fit (beta, d50_cm, d95_cm, rmse, r2, status, message):
    ``frac_<top>_<bottom>``, ``observed_total`` (sum of the amounts), ``observed_depth_cm``
    (deepest bottom with a value), ``x<target>`` = beta_extrapolate(observed_total,
    observed_depth_cm, beta, target_depth, top) with top = 0, or the covered top
    (``covered_top_cm``) of a profile whose surface is missing and was fitted conditionally.
    group_col: profile-level column grouping the exponential share model (None: one group
    'all'). truncated, surface_tolerance, missing_surface: see
    :func:`~wholesoil.core.depth.fit_depth_profiles`. organic: negative depths (organic
    horizons above the mineral surface), see :func:`~wholesoil.core.horizons.read_horizons`.
    """
    if value_kind not in VALUE_KINDS:
        raise InputError(f"value_kind must be 'amount' or 'density', not {value_kind!r}")
    if not target_depth > 0:
        raise InputError("target_depth must be a positive depth (cm)")
    scheme = layer_scheme(layers)
    steps = as_progress(progress, is_cancelled)
    horizons = read_horizons(table, id_col, top_col, bottom_col, [value_col], organic=organic)
    require_some_profiles(horizons, "fitted")
    if group_col is not None and group_col not in horizons.attributes.columns:
        raise InputError(f"group column {group_col!r} is missing or not constant within each profile")
    clean = pd.DataFrame({id_col: horizons.ids[horizons.profile], top_col: horizons.top,
                          bottom_col: horizons.bottom, value_col: horizons.values[:, 0]})
    fits = fit_depth_profiles(clean, id_col, top_col, bottom_col, value_col, "beta", value_kind, truncated,
                              surface_tolerance, missing_surface, progress=steps.sub(0.0, 0.8))
    amounts = _amounts(horizons, value_kind)
    present = np.isfinite(amounts)
    starts = horizons.starts[:-1]
    totals = np.add.reduceat(np.where(present, amounts, 0.0), starts)
    deepest = np.maximum.reduceat(np.where(present, horizons.bottom, -np.inf), starts)
    fits["observed_total"] = totals
    fits["observed_depth_cm"] = np.where(np.isfinite(deepest), deepest, np.nan)
    beta = fits["beta"].to_numpy(dtype=float)
    fitted = fits["status"].isin(FITTED_STATUSES).to_numpy() & np.isfinite(beta)
    top = np.where(fits["status"].eq("conditional"), fits["covered_top_cm"], 0.0)
    extrapolated = np.full(len(fits), np.nan)
    if fitted.any():
        extrapolated[fitted] = beta_extrapolate(totals[fitted], deepest[fitted], beta[fitted], target_depth,
                                                top[fitted])
    fits[f"x{format_depth(target_depth)}".replace(".", "p")] = extrapolated
    fractions = np.full((len(fits), len(scheme)), np.nan)
    if fitted.any():
        fractions[fitted] = beta_layer_fractions(beta[fitted], scheme, normalize, profile_depth)
    for column, values in zip(scheme.column_names(FRACTION_PREFIX), fractions.T):
        fits[column] = values
    fits["repairs"] = ["; ".join(horizons.repairs.get(i, [])) for i in horizons.ids]
    attributes = horizons.attributes.drop(columns=[id_col])
    profiles = pd.concat([fits.reset_index(drop=True), attributes.reset_index(drop=True)], axis=1)
    if horizons.errors:
        bad = pd.DataFrame({id_col: list(horizons.errors), "model": "beta", "status": "not_fitted",
                            "message": list(horizons.errors.values())})
        profiles = pd.concat([profiles, bad], ignore_index=True)
    profiles = missing_geometry_as_none(profiles)
    profiles.attrs = dict(horizons.attributes.attrs)
    groups = (horizons.attributes[group_col].to_numpy() if group_col is not None
              else np.full(horizons.n_profiles, "all", dtype=object))
    share_models = _share_models(horizons, amounts, totals, groups)
    if group_col is not None:
        share_models = share_models.rename(columns={"group": group_col})
    steps.update(1.0)
    return BetaProfiles(profiles=profiles, groups=share_models, scheme=scheme, horizons=horizons,
                        value_kind=value_kind, truncated=truncated)
