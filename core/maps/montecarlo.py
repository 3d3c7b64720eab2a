"""Per-pixel Monte Carlo: random draws keyed by the pixel, never by the block or the worker.

The random numbers of a pixel are a function of (seed, quantity, global row, global column,
draw) only, so a map is identical whatever its window size, worker count or backend.
They come from numpy's Philox4x64-10 counter-based generator (Salmon et al. 2011): for
quantity ``q`` and image row ``r`` the stream is ``Philox(key=seed + q * 2**64, counter=(block,
r, 0, 0))``, and the value of column ``c`` and draw ``d`` is raw output number
``c * draws + d`` of that stream (4 outputs per counter block), so any window starts its row
by setting the counter, without generating what lies left of it.

Raw 64-bit outputs become uniforms in (0, 1) as ((raw >> 11) + 0.5) / 2**53, and normal
deviates by the inverse normal CDF (one uniform each), so every deviate depends on its own
counter only.
"""

import numpy as np

#: Default number of draws per pixel (the Iloss study's 500 Monte Carlo simulations).
DEFAULT_DRAWS = 500
#: Central interval reported (lower and upper percentiles of the draws).
INTERVAL = (2.5, 97.5)
#: Statistics over the draws, in band order.
STATISTICS = ("mean", "sd", "lower", "upper")


def check_seed(seed):
    """The seed as an int in [0, 2**64); InputError otherwise."""
    from ..errors import InputError

    if isinstance(seed, bool) or not float(seed).is_integer() or not 0 <= int(seed) < 2 ** 64:
        raise InputError(f"seed {seed}: give a whole number from 0 to 2**64 - 1")
    return int(seed)


def _runs(row):
    """(first, stop) column of each run of True in a boolean row."""
    edges = np.flatnonzero(np.diff(np.concatenate(([False], row, [False])).astype(np.int8)))
    return zip(edges[::2], edges[1::2])


def pixel_uniforms(seed, quantity, window, draws, mask=None):
    """Uniform deviates in (0, 1) for the pixels of ``window``: shape (rows, cols, draws), or
    (pixels, draws) for the True pixels of ``mask`` (rows, cols) in row order (only those are drawn).

    window: (x offset, y offset, columns, rows) in the grid; quantity: a small whole number
    naming what is drawn (each quantity has its own stream).
    """
    from numpy.random import Philox

    x, y, cols, rows = window
    key = check_seed(seed) + int(quantity) * 2 ** 64
    chosen = np.ones((rows, cols), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    out = np.empty((int(chosen.sum()), draws))
    done = 0
    for i in range(rows):
        for first, stop in _runs(chosen[i]):
            start = (x + first) * draws  # position of the run's first value in the row's stream
            skip, count = start % 4, (stop - first) * draws
            raw = Philox(key=key, counter=[start // 4, y + i, 0, 0]).random_raw(count + skip)[skip:]
            out[done:done + stop - first] = (((raw >> np.uint64(11)).astype(np.float64) + 0.5)
                                             * 2.0 ** -53).reshape(-1, draws)
            done += stop - first
    return out if mask is not None else out.reshape(rows, cols, draws)


def pixel_normals(seed, quantity, window, draws, mask=None):
    """Standard normal deviates: the inverse normal CDF of :func:`pixel_uniforms` (same shapes)."""
    from scipy.special import ndtri

    return ndtri(pixel_uniforms(seed, quantity, window, draws, mask))


def lognormal_parameters(mean, sd):
    """(mu, sigma) of the log of a lognormal variable with this mean and sd (mean > 0, sd >= 0).

    sigma**2 = ln(1 + (sd / mean)**2), mu = ln(mean) - sigma**2 / 2: the draws keep the mean and
    the sd of the input exactly (in expectation), and are never negative.
    """
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma2 = np.log1p((sd / mean) ** 2)
        return np.log(mean) - sigma2 / 2.0, np.sqrt(sigma2)


def lognormal_draws(mean, sd, normals):
    """Draws (..., draws) of a lognormal with ``mean`` and ``sd`` (arrays (...)) from standard normals.

    A mean of 0 with sd 0 gives 0 in every draw.
    """
    mu, sigma = lognormal_parameters(mean, sd)
    with np.errstate(invalid="ignore", over="ignore"):
        values = np.exp(mu[..., None] + sigma[..., None] * normals)
    return np.where((np.asarray(mean) == 0)[..., None], 0.0, values)


def summarise(draws):
    """Mean, sd (ddof = 1), lower and upper percentiles (:data:`INTERVAL`) over the last axis."""
    lower, upper = np.percentile(draws, INTERVAL, axis=-1)
    return [draws.mean(axis=-1), draws.std(axis=-1, ddof=1), lower, upper]
