"""Benchmark: logistic and beta layer fractions for 1 million profiles x 7 layers.

Prints the time of wholesoil's vectorised functions and, as the baseline measured in the
same run, a straightforward numpy version that evaluates the textbook formula
(D / D50) ** c at every layer break. Target: the vectorised call well under a second.
Run: .venv/bin/python benchmarks/bench_depth_fractions.py [N]
"""

import sys
import time

import numpy as np

from wholesoil.core.depth import beta_layer_fractions, logistic_layer_fractions
from wholesoil.core.layers import layer_scheme


def baseline_logistic(d50, d95, scheme):
    """Textbook formula at each break, then differences and normalisation."""
    c = -1.27875 / (np.log10(d95) - np.log10(d50))
    cum = np.stack([1.0 / (1.0 + (b / d50) ** c) if b > 0 else np.zeros_like(d50) for b in scheme.breaks], axis=-1)
    fractions = np.diff(cum, axis=-1)
    return fractions / (cum[:, -1] - cum[:, 0])[:, None]


def best_of(function, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(n=1_000_000):
    rng = np.random.default_rng(1)
    d50 = rng.uniform(5, 60, n)
    d95 = d50 * rng.uniform(1.5, 6, n)
    beta = rng.uniform(0.9, 0.99, n)
    scheme = layer_scheme("standard7")
    t_log, fractions = best_of(lambda: logistic_layer_fractions(d50, d95, scheme))
    t_base, reference = best_of(lambda: baseline_logistic(d50, d95, scheme))
    t_beta, _ = best_of(lambda: beta_layer_fractions(beta, scheme))
    assert np.allclose(fractions, reference, atol=1e-5)
    print(f"profiles x layers: {n:,} x {len(scheme)}")
    print(f"logistic_layer_fractions: {t_log:.3f} s ({n / t_log / 1e6:.1f} M profiles/s)")
    print(f"baseline (textbook power formula, same run): {t_base:.3f} s")
    print(f"ratio baseline / wholesoil: {t_base / t_log:.2f}x")
    print(f"beta_layer_fractions: {t_beta:.3f} s ({n / t_beta / 1e6:.1f} M profiles/s)")
    print(f"target: well under 1 s for 1 M profiles -> {'met' if max(t_log, t_beta) < 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
