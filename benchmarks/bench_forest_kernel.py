"""Micro benchmark of the compiled forest kernel (:mod:`wholesoil.core.maps.kernels`).

Times ``kernels._forest_kernel`` alone (no reading, no writing) on a window of the benchmark
stack, its pixels in Z order (as ``predict-raster`` passes them: consecutive pixels are
neighbours on the map, so groups of them go down the trees together), in row order, and
shuffled (no two consecutive pixels alike: the worst case). Reports the minimum over
repeats of the thread's CPU time (the VM is shared and noisy: wall time is not comparable
between runs; run it with ``nice -n -19`` too), as pixels per second and as ns per node on
the pixels' paths (counted with scikit-learn's ``decision_path``: what a walk of one pixel at
a time would visit).

Needs benchmarks/results/forest_<DATA>.pkl and stack_2000_<DATA>.tif (made by bench_predict_raster.py).
Run: .venv/bin/python benchmarks/bench_forest_kernel.py [--pixels 32768] [--repeats 9]
     [--super-chunk 4096,16384]
"""

import argparse
import pickle
import time
from pathlib import Path

import numpy as np
from bench_predict_raster import DATA

RESULTS = Path(__file__).resolve().parent / "results"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pixels", type=int, default=32768, help="valid pixels timed (of a 512 x 512 window)")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--super-chunk", default="4096,16384", help="comma-separated super-chunk sizes")
    args = parser.parse_args()

    from osgeo import gdal

    from wholesoil.core.maps import kernels

    forest = pickle.load(open(RESULTS / f"forest_{DATA}.pkl", "rb"))
    dataset = gdal.Open(str(RESULTS / f"stack_2000_{DATA}.tif"))
    stack = dataset.ReadAsArray(512, 512, 512, 512).astype(np.float32)
    nodata = dataset.GetRasterBand(1).GetNoDataValue()
    z_order = kernels.z_order(*stack.shape[1:])
    X = stack.reshape(stack.shape[0], -1).T[z_order]
    valid = (X != nodata).all(axis=1)
    X = np.ascontiguousarray(X[valid][: args.pixels])
    rows = np.argsort(z_order[valid][: args.pixels])
    orders = {"z order": X, "row order": np.ascontiguousarray(X[rows]),
              "shuffled": np.ascontiguousarray(X[np.random.default_rng(0).permutation(len(X))])}
    visits = sum(int(e.decision_path(X).nnz) - len(X) for e in forest.estimators_)
    packed = kernels.PackedForest(forest)
    arrays = (packed.code, packed.threshold32, packed.roots, packed.value, packed.back)
    print(f"{len(X)} pixels, {packed.n_trees} trees, {len(packed.code)} nodes, "
          f"{visits / len(X) / packed.n_trees:.1f} nodes per tree on a pixel's path")
    cases = [(name, int(chunk)) for chunk in args.super_chunk.split(",") for name in orders]
    best = dict.fromkeys(cases, np.inf)
    for case in cases:  # compile (or load from cache) before timing
        kernels._forest_kernel(orders[case[0]][:64], *arrays, case[1])
    for _ in range(args.repeats):  # cases interleaved, so that each sees the same noise
        for name, chunk in cases:
            start = time.thread_time()
            kernels._forest_kernel(orders[name], *arrays, chunk)
            best[name, chunk] = min(best[name, chunk], time.thread_time() - start)
    for (name, chunk), seconds in best.items():
        print(f"{name:9s} super_chunk={chunk:6d} {seconds * 1e3:8.1f} ms {len(X) / seconds / 1e3:7.1f} k px/s "
              f"{seconds / visits * 1e9:5.2f} ns per node on the paths")


if __name__ == "__main__":
    main()
