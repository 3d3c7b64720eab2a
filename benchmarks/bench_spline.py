"""Speed of the mass-preserving spline: wholesoil against the PyPI ``mpspline`` package, same run.

    .venv/bin/python benchmarks/bench_spline.py [--profiles 10000] [--baseline-profiles N] [--seed 1]

Random profiles (2-10 horizons, random boundaries to 200 cm, no two profiles alike, so
mpspline's cache of matrices per depth pattern does not help) with 3 properties, onto
the GlobalSoilMap layers with lam = 0.1. mpspline runs its own multi-profile call
(``spline_multiple``) on the first ``--baseline-profiles`` profiles (default: all).
Prints profiles per second of each and the ratio.
"""

import argparse
import logging
import time

import numpy as np
import pandas as pd

LAYERS = [(0, 5), (5, 15), (15, 30), (30, 60), (60, 100), (100, 200)]
PROPERTIES = ["soc", "clay", "bd"]


def random_profiles(n, seed):
    """n profiles of 2-10 contiguous horizons from 0 to 200 cm with 3 positive properties."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(2, 11, n)
    rows = []
    for p, k in enumerate(counts):
        breaks = np.concatenate(([0.0], np.sort(rng.choice(np.arange(1, 200), k - 1, replace=False)), [200.0]))
        decay = np.exp(-breaks[:-1] / rng.uniform(20, 80))
        for j in range(k):
            rows.append((p, breaks[j], breaks[j + 1], 40 * decay[j] + rng.gamma(1.0, 1.0),
                         rng.uniform(5, 60), rng.uniform(0.8, 1.7)))
    return pd.DataFrame(rows, columns=["id", "top", "bottom"] + PROPERTIES)


def time_wholesoil(table):
    from wholesoil.core.spline import spline_profiles

    breaks = ",".join(str(t) for t, _ in LAYERS) + ",200"
    start = time.perf_counter()
    result = spline_profiles(table, "id", "top", "bottom", PROPERTIES, layers=breaks)
    return time.perf_counter() - start, result


def time_mpspline(table):
    import mpspline

    logging.getLogger("mpspline").setLevel(logging.ERROR)
    start = time.perf_counter()
    result = mpspline.spline_multiple(table, PROPERTIES, lam=0.1, sid_col="id", depth_col_top="top",
                                      depth_col_bottom="bottom", target_depths=LAYERS)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=10000)
    parser.add_argument("--baseline-profiles", type=int, default=None,
                        help="profiles given to mpspline (default: all; fewer makes the run shorter)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    table = random_profiles(args.profiles, args.seed)
    n_baseline = min(args.baseline_profiles or args.profiles, args.profiles)
    baseline_table = table[table["id"] < n_baseline]
    print(f"{args.profiles} profiles ({len(table)} horizons) x {len(PROPERTIES)} properties, "
          f"{len(LAYERS)} layers, lam 0.1")
    ours, result = time_wholesoil(table)
    theirs, their_result = time_mpspline(baseline_table)
    ours_rate, their_rate = args.profiles / ours, n_baseline / theirs
    print(f"wholesoil spline_profiles: {ours:8.2f} s  {ours_rate:10.0f} profiles/s")
    print(f"mpspline spline_multiple:  {theirs:8.2f} s  {their_rate:10.0f} profiles/s ({n_baseline} profiles)")
    print(f"ratio (wholesoil / mpspline profiles per second): {ours_rate / their_rate:.1f}x")
    # the two agree to within the 1-cm averaging of mpspline (a sanity check of the run)
    ours_soc = result.layers[result.layers["id"] < n_baseline]["soc"].to_numpy().reshape(n_baseline, len(LAYERS))
    theirs_soc = np.array([their_result["soc"][str(p)]["est_dcm"] for p in range(n_baseline)])
    relative = np.abs(ours_soc - theirs_soc) / np.abs(ours_soc)
    print(f"soc layer means, |wholesoil - mpspline| / wholesoil: median {np.median(relative):.2%}, "
          f"95th percentile {np.percentile(relative, 95):.2%}")


if __name__ == "__main__":
    main()
