"""Benchmark: radiocarbon ages (every root of the one-pool model) for 100,000 samples.

Samples: decay rates k log-uniform in 1e-5..1 yr-1, sampling years 1955-2018, all five Hua 2021
zones; their Δ14C comes from the forward model. wholesoil's vectorised inverse is timed on all
of them; the baseline, measured in the same run on a subset, is a straightforward per-sample root
search: the forward model on a log-k grid for that sample, then scipy's brentq on every sign change.
Both run on one core. Target: >= 100,000 samples/s.
Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_radiocarbon.py [N] [N_BASELINE]
"""

import sys
import time

import numpy as np
from scipy.optimize import brentq

from wholesoil.core.radiocarbon import forward_d14c, load_curve, radiocarbon_ages


def baseline_roots(d14c, year, zone, curve, grid):
    """Per-sample search: sign changes of forward(k) - d14c on ``grid``, each refined by brentq."""
    values = forward_d14c(grid, year, zone, curve) - d14c
    roots = []
    for i in np.flatnonzero(np.sign(values[1:]) != np.sign(values[:-1])):
        roots.append(brentq(lambda k: forward_d14c(k, year, zone, curve) - d14c, grid[i], grid[i + 1],
                            rtol=1e-12))
    return roots


def main(n=100_000, n_baseline=300):
    rng = np.random.default_rng(2024)
    curve = load_curve("hua2021")
    k = np.exp(rng.uniform(np.log(1e-5), np.log(1.0), n))
    year = rng.integers(1955, 2019, n)
    zone = rng.integers(0, len(curve.zones), n)
    d14c = forward_d14c(k, year, zone, curve)

    radiocarbon_ages(d14c[:1000], year[:1000], zone[:1000], curve)  # warm-up
    times = []
    for _ in range(3):
        start = time.perf_counter()
        ages = radiocarbon_ages(d14c, year, zone, curve)
        times.append(time.perf_counter() - start)
    fast = n / min(times)
    error = np.nanmin(np.abs(ages.roots - k[:, None]) / k[:, None], axis=1)

    grid = np.exp(np.linspace(np.log(1e-9), np.log(1e4), 521))
    start = time.perf_counter()
    baseline = [baseline_roots(d14c[i], year[i], zone[i], curve, grid) for i in range(n_baseline)]
    slow = n_baseline / (time.perf_counter() - start)
    agree = all(len(b) == ages.n_roots[i] and np.allclose(b, ages.roots[i, :len(b)], rtol=1e-6)
                for i, b in enumerate(baseline))

    print(f"samples: {n:,} (k 1e-5..1 yr-1, years 1955-2018, 5 zones); roots found: {int(ages.n_roots.sum()):,} "
          f"({int((ages.n_roots >= 2).sum()):,} samples with 2 or more)")
    print(f"wholesoil radiocarbon_ages: {fast:,.0f} samples/s (best of 3: {min(times):.3f} s)")
    print(f"baseline per-sample search (grid + brentq) on {n_baseline} samples: {slow:,.0f} samples/s")
    print(f"ratio: {fast / slow:,.0f}x; worst relative error of the generating k: {np.nanmax(error):.1e}; "
          f"baseline and wholesoil agree on the {n_baseline} samples: {agree}")
    print(f"target >= 100,000 samples/s: {'met' if fast >= 100_000 else 'NOT met'}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
