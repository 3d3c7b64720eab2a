"""scikit-learn estimators of the depth models of :mod:`wholesoil.core.depth`, fitted by non-linear least squares.

Kept apart from :mod:`wholesoil.core.depth` so that the depth fractions (numpy only) work
without scipy and scikit-learn; ``wholesoil.core.depth`` still offers these classes by name.
"""

import numpy as np
from scipy.optimize import least_squares
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .depth import (LOGISTIC_CONSTANT, _logistic_at, beta_cumulative, beta_layer_fractions, check_beta,
                    check_logistic_parameters, check_scalar, logistic_cumulative, logistic_layer_fractions,
                    logistic_shape)
from .errors import InputError


def _fit_statistics(residuals, observed):
    """RMSE and R2 of a fit of ``observed``."""
    ss_res = float(np.sum(residuals ** 2))
    ss_tot = float(np.sum((observed - np.mean(observed)) ** 2))
    rmse = float(np.sqrt(ss_res / len(observed)))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else np.nan
    return rmse, r2


def _depths_and_targets(X, y, top=0.0):
    check_scalar("top", top)
    if top < 0:
        raise InputError("the top of the observed depths must not be above the surface (cm)")
    depths = np.asarray(X, dtype=float).reshape(-1)
    cum = np.asarray(y, dtype=float).reshape(-1)
    if depths.shape != cum.shape:
        raise InputError("depths and cumulative fractions differ in length")
    keep = np.isfinite(depths) & np.isfinite(cum)
    depths, cum = depths[keep], cum[keep]
    if np.any(depths <= top):
        raise InputError("depths for fitting must be below the surface and the top of the observed depths (cm)")
    if np.any((cum < 0) | (cum > 1)):
        raise InputError("cumulative fractions must lie in [0, 1]")
    return depths, cum


def _interpolated_depth(depths, cum, level):
    """Depth at which the observed cumulative fraction reaches ``level`` (log-linear)."""
    order = np.argsort(depths)
    d, f = depths[order], np.maximum.accumulate(cum[order])
    d = np.concatenate(([d[0] / 2.0], d))
    f = np.concatenate(([0.0], f))
    if level >= f[-1]:
        return d[-1] * 1.5
    return float(np.exp(np.interp(level, f, np.log(d))))


class LogisticDepthModel(RegressorMixin, BaseEstimator):
    """Schenk-Jackson logistic cumulative fraction F(D), fitted by non-linear least squares.

    d50, d95: starting values (cm); None estimates them from the data.
    truncated: False (default) fits F(d) itself, taking the observed total as the whole
    profile (Schenk & Jackson); True fits F(d) / F(D), D = the deepest depth in X, for
    profiles that stop before all roots are reached.
    ``fit(X, y, top=0)``: X = depths (cm, the increments' lower depths), y = cumulative fraction
    of the observed amount. ``top`` > 0 (cm): the observations start below the surface and y is
    fitted with the conditional distribution (F(d) - F(top)) / (F(D or infinity) - F(top)).
    Learned: ``d50_``, ``d95_`` (cm), ``c_``, ``rmse_``, ``r2_``, ``converged_``, ``n_points_``, ``top_``.
    """

    def __init__(self, d50=None, d95=None, truncated=False):
        self.d50 = d50
        self.d95 = d95
        self.truncated = truncated

    def fit(self, X, y, top=0.0):
        depths, cum = _depths_and_targets(X, y, top)
        needed = (3 if self.truncated else 2) + int(top > 0)
        if len(depths) < needed:
            raise InputError(f"the logistic model needs at least {needed} depth increments to fit D50 and D95"
                             + (" of a truncated profile" if self.truncated else "")
                             + (" below a missing surface" if top > 0 else ""))
        d50 = self.d50 if self.d50 is not None else _interpolated_depth(depths, cum, 0.5)
        d95 = self.d95 if self.d95 is not None else max(_interpolated_depth(depths, cum, 0.95), d50 * 1.5)
        check_logistic_parameters(d50, d95)
        depths_with_top = np.concatenate(([top], depths))
        end = np.inf if not self.truncated else depths.max()

        def residuals(p):  # p = [log D50, log(D95 - D50)]
            c = -LOGISTIC_CONSTANT * np.log(10.0) / (np.log(np.exp(p[0]) + np.exp(p[1])) - p[0])
            at_top, model, at_end = np.split(_logistic_at(np.append(depths_with_top, end), p[0], c), [1, -1])
            return (model - at_top) / (at_end - at_top) - cum

        start = np.array([np.log(d50), np.log(d95 - d50)])
        result = least_squares(residuals, start, method="lm" if len(depths) > needed else "trf",
                               x_scale="jac", max_nfev=2000)
        self.d50_ = float(np.exp(result.x[0]))
        self.d95_ = float(self.d50_ + np.exp(result.x[1]))
        self.c_ = float(logistic_shape(self.d50_, self.d95_))
        self.rmse_, self.r2_ = _fit_statistics(result.fun, cum)
        self.converged_ = bool(result.success)
        self.n_points_ = len(depths)
        self.top_ = float(top)
        return self

    def predict(self, X):
        """Cumulative fraction above each depth in X (cm)."""
        check_is_fitted(self, "d50_")
        return logistic_cumulative(np.asarray(X, dtype=float).reshape(-1), self.d50_, self.d95_)

    def layer_fractions(self, layers=None, normalize=True):
        """Fractions of the fitted profile in each layer."""
        check_is_fitted(self, "d50_")
        return logistic_layer_fractions(self.d50_, self.d95_, layers, normalize)


class BetaDepthModel(RegressorMixin, BaseEstimator):
    """Beta model Y(d) = 1 - beta**d, fitted by non-linear least squares.

    beta: starting value, None estimates it from the data.
    truncated: False (default) fits Y(d), taking the observed total as the whole profile;
    True fits Y(d) / Y(D), D = the deepest depth in X, which removes the bias towards small
    beta of profiles that stop early.
    ``fit(X, y, top=0)``: as :class:`LogisticDepthModel`; the conditional distribution of the beta
    model below ``top`` is the model itself shifted down by ``top`` (beta**top cancels).
    Learned: ``beta_``, ``d50_`` and ``d95_`` (derived, cm), ``rmse_``, ``r2_``, ``converged_``, ``top_``.
    """

    def __init__(self, beta=None, truncated=False):
        self.beta = beta
        self.truncated = truncated

    def fit(self, X, y, top=0.0):
        depths, cum = _depths_and_targets(X, y, top)
        needed = (2 if self.truncated else 1) + int(top > 0)
        if len(depths) < needed:
            raise InputError(f"the beta model needs at least {needed} depth increment(s)"
                             + (" for a truncated profile" if self.truncated else "")
                             + (" below a missing surface" if top > 0 else ""))
        beta = self.beta
        if beta is None:
            beta = 0.5 ** (1.0 / _interpolated_depth(depths - top, cum, 0.5))
        check_beta(beta)

        deepest = int(np.argmax(depths))

        def residuals(p):  # p = [log(-log beta)] keeps 0 < beta < 1
            model = -np.expm1(-np.exp(p[0]) * (depths - top))
            return (model / model[deepest] if self.truncated else model) - cum

        result = least_squares(residuals, [np.log(-np.log(beta))], method="trf",
                               x_scale="jac", max_nfev=2000)
        self.beta_ = float(np.exp(-np.exp(result.x[0])))
        self.d50_ = float(np.log(0.5) / np.log(self.beta_))
        self.d95_ = float(np.log(0.05) / np.log(self.beta_))
        self.rmse_, self.r2_ = _fit_statistics(result.fun, cum)
        self.converged_ = bool(result.success)
        self.n_points_ = len(depths)
        self.top_ = float(top)
        return self

    def predict(self, X):
        """Cumulative fraction from the surface to each depth in X (cm)."""
        check_is_fitted(self, "beta_")
        return beta_cumulative(np.asarray(X, dtype=float).reshape(-1), self.beta_)

    def layer_fractions(self, layers=None, normalize=True):
        """Shares of the fitted profile in each layer."""
        check_is_fitted(self, "beta_")
        return beta_layer_fractions(self.beta_, layers, normalize)


class ExponentialShareModel(RegressorMixin, BaseEstimator):
    """Layer share against layer mid-depth: y = a * exp(-b * depth) (the Luo et al. BNPP study, Table S3).

    Fitted by non-linear least squares, started from a log-linear fit.
    Learned: ``a_``, ``b_`` (cm-1), ``rmse_``, ``r2_``, ``n_points_``.
    """

    def fit(self, X, y):
        depth = np.asarray(X, dtype=float).reshape(-1)
        share = np.asarray(y, dtype=float).reshape(-1)
        keep = np.isfinite(depth) & np.isfinite(share)
        depth, share = depth[keep], share[keep]
        if len(depth) < 2 or np.unique(depth).size < 2:
            raise InputError("the exponential share model needs values at 2 or more depths")
        positive = share > 0
        if positive.sum() >= 2 and np.unique(depth[positive]).size >= 2:
            slope, intercept = np.polyfit(depth[positive], np.log(share[positive]), 1)
            start = [intercept, -slope]
        else:
            start = [np.log(max(share.max(), 1e-9)), 0.01]

        def residuals(p):  # p = [log a, b]
            return np.exp(p[0] - p[1] * depth) - share

        result = least_squares(residuals, start, method="lm" if len(depth) > 2 else "trf")
        self.a_ = float(np.exp(result.x[0]))
        self.b_ = float(result.x[1])
        self.rmse_, self.r2_ = _fit_statistics(result.fun, share)
        self.n_points_ = len(depth)
        return self

    def predict(self, X):
        """Share at each mid-depth in X (cm)."""
        check_is_fitted(self, "a_")
        return self.a_ * np.exp(-self.b_ * np.asarray(X, dtype=float).reshape(-1))
