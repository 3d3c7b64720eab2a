"""Benchmark: a 200-tree random forest predicted over a 30-band covariate stack, and the raster
engine's write path (6000 x 6000 depth fractions), against baselines measured in the same run.

Every case runs in its own process. Memory: the driver samples, every 50 ms, the peak resident
memory of that process so far (its high-water mark) plus the resident memory of its children
(worker processes), and reports the largest sample; also how far that peak lies above the
process's memory when its clock started (the imports and libraries). Throughput is valid
pixels per second of the whole process (start, imports, model loading, read, predict, write),
and, second, after start-up: from the end of the imports to the end of the run (what a long run
or a QGIS session, where the libraries are already loaded, sees; for wholesoil it includes
reading the command line, which imports the modules of the other commands, about 0.1 s). The
cases the targets compare (pyspatialml, wholesoil mean + sd with 1 and 2 workers,
depth-fractions with 1 and 2 workers) run ``--repeats`` times, interleaved so that each sees the
same noise of a shared machine; the median run is reported, and for the ratios of the targets
also the median of the interleaved pairs' ratios. Before each case the driver syncs the disks,
so that writing the previous case's output does not slow it. Cases:

* pyspatialml ``Raster.predict`` (mean only; serial 256 x 256 windows), in its own virtual
  environment ``benchmarks/.venv-pyspatialml`` (made on first use: pip install pyspatialml
  with scikit-learn 1.2.1, as Debian's, so the same pickled forest runs in both): with the
  forest as fitted (one thread, the target's baseline), and once with the forest's
  ``n_jobs=2`` (scikit-learn predicts the trees of each window in two threads);
* naive scikit-learn: the whole stack read into memory, one ``predict`` with ``n_jobs=2``
  (mean only);
* naive per-tree stacking: a (pixels x trees) array, then mean and sd (the smallest size only);
* wholesoil, as a user runs it (``wholesoil predict-raster``, threads, the CLI's default): mean
  only, and mean + sd with the compiled (numba) kernel and with the scikit-learn fallback (in a
  process where numba cannot be imported, as in a QGIS install without it);
* wholesoil mean + sd with 1 and 2 workers;
* wholesoil mean + sd with 2 workers on the first map of the model file: with an empty cache
  of prepared forests of its own, so it reads the model file and packs the forest (the other
  wholesoil cases read the forest the first run cached, as every later map of a model does);
* ``wholesoil depth-fractions`` of a 6000 x 6000 β raster into 7 bands with 1 and 2 workers,
  and a whole-array numpy script as the baseline.

The data: smooth fields about 100 pixels across, correlated through 5 latent factors, 15 %
nodata in blobs; the forest is trained on 5000 sites of another landscape of the same
covariates, and the share of each stack's pixels outside the training range (wholesoil's own
note) is printed. Generated files carry the version :data:`DATA` in their names and are reused
between runs.

numba compiles wholesoil's kernels on their first use after an installation or update (about a
minute) and caches them; a small untimed run fills that cache, and wholesoil's cache of
prepared forests (``benchmarks/results/forest-cache``, emptied at the start), before the timed cases.
wholesoil's modules are byte-compiled first, as an installation does (``compile_wholesoil``).

Run: .venv/bin/python benchmarks/bench_predict_raster.py [--sizes 1000,2000,4000] [--repeats 3]
     [--skip pyspatialml,naive,fallback,fractions]
Results and the generated data go to benchmarks/results/ (not committed).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SPATIALML_VENV = HERE / ".venv-pyspatialml"
BANDS, TREES, NODATA_SHARE = 30, 200, 0.15
#: Version of the generated data, part of their file names: change it with the generators, so that
#: files made by an earlier version are never reused.
DATA = "v2"
FIRST_MAP = "wholesoil (mean+sd, 2 workers, first map)"
SPATIALML_TWO = "pyspatialml Raster.predict (mean), n_jobs=2"


# ---------------------------------------------------------------------------------------------
# data


def correlated_fields(size, seed):
    """BANDS smooth fields (float32, size x size), correlated through 5 latent factors.

    ``seed`` draws the latent fields (the landscape); the loadings are the same for every size
    and seed, so the stacks of every size and the training sites share one distribution of
    covariates, as a map and the sites of its model do."""
    from scipy.ndimage import zoom

    loadings = np.random.default_rng(1).normal(size=(BANDS, 5))
    rng = np.random.default_rng(seed)
    coarse = max(4, size // 100)  # features about 100 pixels across at every size
    latent = [zoom(rng.normal(size=(coarse, coarse)), size / coarse, order=3)[:size, :size] for _ in range(5)]
    for band in range(BANDS):
        field = sum(loadings[band, k] * latent[k] for k in range(5))
        yield (field + 0.3 * zoom(rng.normal(size=(coarse, coarse)), size / coarse, order=1)[:size, :size]
               ).astype(np.float32)


def make_stack(size, path):
    """A tiled, compressed BANDS-band GeoTIFF with ~15 % nodata (blobs where every band is nodata)."""
    from osgeo import gdal, osr
    from scipy.ndimage import zoom

    if path.exists():
        return path
    rng = np.random.default_rng(size)
    coarse = max(4, size // 200)
    mask_field = zoom(rng.normal(size=(coarse, coarse)), size / coarse, order=1)[:size, :size]
    nodata = mask_field < np.quantile(mask_field, NODATA_SHARE)
    tmp = path.with_suffix(".part.tif")
    dataset = gdal.GetDriverByName("GTiff").Create(str(tmp), size, size, BANDS, gdal.GDT_Float32,
                                                   options=["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=3",
                                                            "INTERLEAVE=BAND", "BIGTIFF=IF_SAFER"])
    dataset.SetGeoTransform((0, 1000, 0, size * 1000, 0, -1000))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3035)
    dataset.SetProjection(srs.ExportToWkt())
    for i, field in enumerate(correlated_fields(size, seed=7)):
        band = dataset.GetRasterBand(i + 1)
        band.SetNoDataValue(-9999)
        band.SetDescription(f"cov{i:02d}")
        band.WriteArray(np.where(nodata, -9999, field).astype(np.float32))
    dataset = None
    os.replace(tmp, path)
    return path


def make_model(folder):
    """A 200-tree forest of a nonlinear target of the 30 covariates (wholesoil model file + pickled forest)."""
    import pandas as pd

    from wholesoil.core.learn.modelfile import save_model
    from wholesoil.core.learn.training import train_model

    model_path, pickle_path = folder / f"forest_{DATA}.wsmodel", folder / f"forest_{DATA}.pkl"
    if model_path.exists() and pickle_path.exists():
        return model_path, pickle_path
    rng = np.random.default_rng(0)
    fields = np.stack(list(correlated_fields(1000, seed=11)))  # 5000 sites of another landscape of the same covariates
    rows, cols = rng.integers(0, 1000, 5000), rng.integers(0, 1000, 5000)
    table = pd.DataFrame({f"cov{i:02d}": fields[i, rows, cols] for i in range(BANDS)})
    table["y"] = (np.sin(table.cov00) * 3 + table.cov01 * table.cov02 + np.abs(table.cov03)
                  + rng.normal(scale=0.5, size=len(table)))
    trained = train_model(table, "y", list(table.columns[:-1]), independent_rows=True, n_trees=TREES, n_splits=2,
                          screen=False, permutation_repeats=1, n_jobs=2)
    save_model(model_path, trained)
    import pickle

    with open(pickle_path, "wb") as handle:
        pickle.dump(trained.model.pipeline_[-1], handle)
    return model_path, pickle_path


def make_beta(size, path):
    """A smooth β raster (for the depth-fractions write-path case)."""
    from osgeo import gdal, osr

    if path.exists():
        return path
    tmp = path.with_suffix(".part.tif")
    dataset = gdal.GetDriverByName("GTiff").Create(str(tmp), size, size, 1, gdal.GDT_Float32,
                                                   options=["TILED=YES", "COMPRESS=DEFLATE"])
    dataset.SetGeoTransform((0, 100, 0, size * 100, 0, -100))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3035)
    dataset.SetProjection(srs.ExportToWkt())
    band = dataset.GetRasterBand(1)
    band.SetNoDataValue(-9999)
    columns = np.linspace(0, 6, size)
    for start in range(0, size, 500):
        rows = np.linspace(start / size * 6, (start + 500) / size * 6, 500)[:, None]
        band.WriteArray((0.95 + 0.03 * np.sin(rows) * np.cos(columns)).astype(np.float32)[:size - start], 0, start)
    dataset = None
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------------------------------------
# cases (each runs in its own process: python bench_predict_raster.py --case NAME ...)


def valid_pixels(stack):
    from osgeo import gdal

    dataset = gdal.Open(str(stack))  # keep the dataset alive while its band is used
    band = dataset.GetRasterBand(1)
    return int((band.ReadAsArray() != band.GetNoDataValue()).sum())


def case_wholesoil(stack, model, output, outputs, n_jobs):
    wholesoil_command("predict-raster", model, "--covariates", stack, "--output", output, "--outputs", outputs,
                      "--jobs", n_jobs)


def wholesoil_command(*args):
    """Run a wholesoil command in this process, as the ``wholesoil`` program does."""
    from wholesoil.core.cli import main

    if main([str(a) for a in args] + ["--quiet"]) != 0:
        raise SystemExit(f"wholesoil {args[0]} failed")


def case_naive_sklearn(stack, pickled, output, per_tree):
    """Whole stack in memory, one predict (or per-tree stacking for mean + sd), one write."""
    import pickle

    from osgeo import gdal

    with open(pickled, "rb") as handle:
        forest = pickle.load(handle)
    forest.n_jobs = 2  # as a user of these 2 cores would: scikit-learn predicts the trees in 2 threads
    source = gdal.Open(str(stack))
    values = source.ReadAsArray()                                        # bands x rows x cols
    valid = (values != -9999).all(axis=0)
    X = values[:, valid].T
    if per_tree:
        trees = np.column_stack([tree.predict(X, check_input=False) for tree in forest.estimators_])
        layers = [trees.mean(axis=1), trees.std(axis=1, ddof=1)]
    else:
        layers = [forest.predict(X)]
    target = gdal.GetDriverByName("GTiff").Create(str(output), source.RasterXSize, source.RasterYSize, len(layers),
                                                  gdal.GDT_Float32, options=["TILED=YES", "COMPRESS=DEFLATE"])
    for i, layer in enumerate(layers):
        full = np.full(valid.shape, -9999, dtype=np.float32)
        full[valid] = layer
        target.GetRasterBand(i + 1).WriteArray(full)
    target = None


def case_depth_fractions(beta, output, n_jobs):
    wholesoil_command("depth-fractions", "--beta", beta, "--layers", "standard7", "--output", output, "--jobs", n_jobs)


def case_depth_fractions_numpy(beta, output):
    """The whole-array script a user would write: read all, compute, write all."""
    from osgeo import gdal

    from wholesoil.core.depth import beta_layer_fractions

    source = gdal.Open(str(beta))
    values = source.GetRasterBand(1).ReadAsArray().astype(float)
    values[values == -9999] = np.nan
    fractions = beta_layer_fractions(values, "standard7")
    target = gdal.GetDriverByName("GTiff").Create(str(output), source.RasterXSize, source.RasterYSize, 7,
                                                  gdal.GDT_Float32, options=["TILED=YES", "COMPRESS=DEFLATE",
                                                                             "PREDICTOR=3"])
    for i in range(7):
        target.GetRasterBand(i + 1).WriteArray(np.nan_to_num(fractions[..., i], nan=-9999).astype(np.float32))
    target = None


SPATIALML_SCRIPT = """
import pickle, sys, time
import sklearn.ensemble
from pyspatialml import Raster
print("start rss", next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmRSS")))
start = time.perf_counter()
with open(sys.argv[2], "rb") as handle:
    forest = pickle.load(handle)
if sys.argv[4] != "default":
    forest.n_jobs = int(sys.argv[4])  # scikit-learn predicts the trees of each window in that many threads
Raster(sys.argv[1]).predict(forest, file_path=sys.argv[3], nodata=-9999, compress="deflate")
print("work seconds", time.perf_counter() - start)
"""
#: What each case imports before its clock starts (the start-up the second throughput leaves out).
CASE_IMPORTS = {"wholesoil": ("wholesoil.core.cli", "wholesoil.core.maps.predict"),
                "naive": ("sklearn.ensemble", "osgeo.gdal"),
                "fractions": ("wholesoil.core.cli", "wholesoil.core.partitioning"),
                "fractions_numpy": ("wholesoil.core.depth", "osgeo.gdal")}


# ---------------------------------------------------------------------------------------------
# driver


def peak_memory_run(command):
    """Run a command; (seconds, seconds after start-up it reports, peak resident MB of it and its
    children, its resident MB when its clock started, its standard error)."""
    os.sync()  # the previous case's output is on disk: its writing does not slow this case
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss(process.pid))
            time.sleep(0.05)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - start
    watcher.join()
    if process.returncode != 0:
        raise RuntimeError(f"{command[-4:]} failed: {err[-2000:]}")
    reported = [float(line.split()[-1]) for line in out.splitlines() if line.startswith("work seconds")]
    if not reported:
        raise RuntimeError(f"{command[-4:]} did not report its time: {out[-2000:]}")
    at_start = next(float(line.split()[-1]) for line in out.splitlines() if line.startswith("start rss"))
    return seconds, reported[-1], peak[0] / 1024, at_start / 1024, err


def tree_rss(pid):
    """Memory (kB): the peak resident memory of a process so far (its high-water mark, exact between
    samples) plus the resident memory of all its descendants now (worker processes).

    Follows each process's list of children (``/proc/PID/task/TID/children``) instead of reading
    every process of the machine: a sample costs about 0.3 ms of CPU instead of 1.7 ms, which
    with both cores busy (two workers) slowed the measured process itself."""
    total, frontier = 0, [(pid, "VmHWM")]
    while frontier:
        member, field = frontier.pop()
        try:
            with open(f"/proc/{member}/status") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith(field))
            tasks = os.listdir(f"/proc/{member}/task")
        except (OSError, StopIteration):  # ended meanwhile
            continue
        for task in tasks:
            try:
                with open(f"/proc/{member}/task/{task}/children") as handle:
                    frontier += [(int(child), "VmRSS") for child in handle.read().split()]
            except OSError:  # this thread ended meanwhile
                continue
    return total


def ensure_spatialml():
    python, made = SPATIALML_VENV / "bin" / "python", SPATIALML_VENV / "installed"
    if not made.exists():  # also after an installation that was interrupted
        print("making the pyspatialml environment (once)...", file=sys.stderr)
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(SPATIALML_VENV)], check=True)
        subprocess.run([str(SPATIALML_VENV / "bin" / "pip"), "install", "-q", "numpy<2", "scikit-learn==1.2.1",
                        "pyspatialml"], check=True)
        made.touch()
    return python


def compile_wholesoil():
    """Byte-compile wholesoil's modules, as an installation does (pip, Debian's packages).

    Python caches a module's compiled code after its first import, unless
    PYTHONDONTWRITEBYTECODE is set (as in some containers): every run would then compile
    wholesoil again (about 0.3 s), while the libraries it is compared with come compiled.
    """
    import compileall

    import wholesoil

    root = Path(wholesoil.__file__).parent
    compileall.compile_file(str(root / "__init__.py"), quiet=1)
    for package in ("core", "processing_provider", "plugin"):
        compileall.compile_dir(str(root / package), quiet=1)


def self_case(*args):
    return [sys.executable, __file__, "--case", *map(str, args)]


def spatialml_case(stack, pickled, out, n_jobs):
    """pyspatialml in its own environment; n_jobs: the forest's ("default": as fitted, one thread)."""
    return [str(ensure_spatialml()), "-c", SPATIALML_SCRIPT, str(stack), str(pickled), str(out), str(n_jobs)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000,4000", help="square stack sizes in pixels")
    parser.add_argument("--fractions-size", type=int, default=6000)
    parser.add_argument("--skip", default="", help="comma-separated case names to skip")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each compared case (the median is reported)")
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be 1 or more")
    if args.case:
        run_case(*args.case)
        return
    RESULTS.mkdir(exist_ok=True)
    skip = set(args.skip.split(","))
    sizes = [int(s) for s in args.sizes.split(",")]
    model, pickled = make_model(RESULTS)
    runs, extrapolated = [], {}

    def record(case, size, pixels, command):
        for old in RESULTS.glob("out_*.tif"):
            old.unlink()
        for old in RESULTS.glob("forest-cache-*"):  # of the first-map cases
            shutil.rmtree(old)
        seconds, work, peak, at_start, err = peak_memory_run(command)
        runs.append({"case": case, "size": size, "seconds": seconds, "pixels_per_s": pixels / seconds,
                     "work_seconds": work, "work_pixels_per_s": pixels / work, "peak_mb": peak,
                     "growth_mb": peak - at_start})
        print(f"{case:<46} {size:>5}²  {seconds:7.1f} s {pixels / seconds / 1e3:7.1f} k/s  after start-up "
              f"{work:7.1f} s {pixels / work / 1e3:7.1f} k/s  peak {peak:5.0f} MB (+{peak - at_start:4.0f})",
              flush=True)
        outside = re.search(r"(\d+) pixels have covariates outside their range", err)
        if outside and size not in extrapolated:  # wholesoil's own note: how far the data lie from the training sites
            extrapolated[size] = int(outside.group(1)) / pixels
            print(f"  ({size}²: {extrapolated[size]:.1%} of the valid pixels lie outside the training range "
                  "of some covariate)", flush=True)

    out = RESULTS / "out_prediction.tif"
    compile_wholesoil()
    cache = RESULTS / "forest-cache"
    shutil.rmtree(cache, ignore_errors=True)
    os.environ["WHOLESOIL_CACHE_DIR"] = str(cache)  # the cases' processes inherit it
    # numba compiles the kernels once per installation (about a minute) and caches them: not part of a run
    warm = make_stack(300, RESULTS / f"stack_300_{DATA}.tif")
    subprocess.run(self_case("wholesoil", warm, model, out, "mean,sd", "numba", 1), check=True,
                   stdout=subprocess.DEVNULL)
    for size in sizes:
        stack = make_stack(size, RESULTS / f"stack_{size}_{DATA}.tif")
        pixels = valid_pixels(stack)
        compared = [("wholesoil (mean+sd, numba)", self_case("wholesoil", stack, model, out, "mean,sd", "numba", 1)),
                    ("wholesoil (mean+sd, numba, 2 workers)",
                     self_case("wholesoil", stack, model, out, "mean,sd", "numba", 2))]
        if "pyspatialml" not in skip:
            compared.insert(0, ("pyspatialml Raster.predict (mean)", spatialml_case(stack, pickled, out, "default")))
        once = [("wholesoil (mean)", self_case("wholesoil", stack, model, out, "mean", "numba", 1)),
                (FIRST_MAP, self_case("wholesoil", stack, model, out, "mean,sd", "numba", 2, "first"))]
        if "pyspatialml" not in skip:
            once.insert(0, (SPATIALML_TWO, spatialml_case(stack, pickled, out, 2)))
        if "naive" not in skip:
            once.append(("naive scikit-learn predict (mean, 2 threads)",
                         self_case("naive", stack, pickled, out, "mean")))
            if size == sizes[0]:
                once.append(("naive per-tree stacking (mean+sd)", self_case("naive", stack, pickled, out, "per_tree")))
        if "fallback" not in skip:
            once.append(("wholesoil (mean+sd, fallback)",
                         self_case("wholesoil", stack, model, out, "mean,sd", "no-numba", 1)))
        for _ in range(args.repeats):
            for case, command in compared:
                record(case, size, pixels, command)
        for case, command in once:
            record(case, size, pixels, command)
    if "fractions" not in skip:
        beta = make_beta(args.fractions_size, RESULTS / f"beta_{args.fractions_size}_{DATA}.tif")
        pixels = args.fractions_size ** 2
        record("depth-fractions, whole-array numpy", args.fractions_size, pixels,
               self_case("fractions_numpy", beta, RESULTS / "out_fractions.tif"))
        for _ in range(args.repeats):
            for jobs in (1, 2):
                record(f"depth-fractions, {jobs} worker{'s' if jobs > 1 else ''}", args.fractions_size, pixels,
                       self_case("fractions", beta, RESULTS / "out_fractions.tif", jobs))
    for old in RESULTS.glob("forest-cache-*"):
        shutil.rmtree(old)
    rows = medians(runs)
    (RESULTS / "bench_predict_raster.json").write_text(json.dumps({"runs": runs, "medians": rows}, indent=1))
    if args.repeats > 1:
        print(f"\nmedians of {args.repeats} runs:")
        for row in rows:
            print(f"{row['case']:<46} {row['size']:>5}²  {row['pixels_per_s'] / 1e3:7.1f} k/s  after start-up "
                  f"{row['work_pixels_per_s'] / 1e3:7.1f} k/s  peak {row['peak_mb']:5.0f} MB "
                  f"(+{row['growth_mb']:4.0f})")
    summarise(rows, runs, sizes)


def run_case(name, *rest):
    """One case, in this process: its imports, then the clocked run; prints the seconds after start-up."""
    import importlib

    if name in ("wholesoil", "fractions"):
        from wholesoil.core.cli import use_standard_distutils

        use_standard_distutils()  # as the wholesoil program starts
    if name == "wholesoil" and rest[4] == "no-numba":
        sys.modules["numba"] = None  # the fallback, as in an install without numba
    elif name == "wholesoil":
        import numba  # noqa: F401 - the compiled case must not quietly measure the fallback
    for module in CASE_IMPORTS[name]:
        importlib.import_module(module)
    with open("/proc/self/status") as status:
        print("start rss", next(line.split()[1] for line in status if line.startswith("VmRSS")), flush=True)
    start = time.perf_counter()
    if name == "wholesoil":
        stack, model, output, outputs, _, jobs = rest[:6]
        if rest[6:] == ("first",):  # the first map of the model: an empty cache of prepared forests
            os.environ["WHOLESOIL_CACHE_DIR"] = tempfile.mkdtemp(prefix="forest-cache-", dir=RESULTS)
        case_wholesoil(stack, model, output, outputs, jobs)
    elif name == "naive":
        case_naive_sklearn(rest[0], rest[1], rest[2], rest[3] == "per_tree")
    elif name == "fractions":
        case_depth_fractions(rest[0], rest[1], rest[2])
    elif name == "fractions_numpy":
        case_depth_fractions_numpy(rest[0], rest[1])
    print("work seconds", time.perf_counter() - start, flush=True)
    if name in ("wholesoil", "fractions"):
        from wholesoil.core.cli import finish

        finish(0)  # the wholesoil program's exit


def medians(runs):
    """One row per case and size: the run with the median whole-process time (all its figures;
    of an even number of runs, the faster of the middle two)."""
    grouped = {}
    for run in runs:
        grouped.setdefault((run["case"], run["size"]), []).append(run)
    rows = []
    for group in grouped.values():
        ordered = sorted(group, key=lambda run: run["seconds"])
        rows.append(dict(ordered[(len(ordered) - 1) // 2], runs=len(group)))
    return rows


def paired(runs, case, baseline, size):
    """Ratios of throughput of the interleaved runs of two cases, run by run (sorted)."""
    def of(name):
        return [r["pixels_per_s"] for r in runs if r["case"] == name and r["size"] == size]

    return sorted(a / b for a, b in zip(of(case), of(baseline)))


def summarise(rows, runs, sizes):
    """Ratios against the baselines of the same run, and the targets."""
    def get(case, size):
        return next((r for r in rows if r["case"] == case and r["size"] == size), None)

    def ratio(a, b):
        return f"{a['pixels_per_s'] / b['pixels_per_s']:.2f}x ({a['work_pixels_per_s'] / b['work_pixels_per_s']:.2f}x)"

    def spread(ratios):
        return f"median of {len(ratios)} interleaved pairs {ratios[(len(ratios) - 1) // 2]:.2f}x " \
               f"(range {ratios[0]:.2f}-{ratios[-1]:.2f})" if len(ratios) > 1 else ""

    one_case, two_case, base_case = ("wholesoil (mean+sd, numba)", "wholesoil (mean+sd, numba, 2 workers)",
                                     "pyspatialml Raster.predict (mean)")
    print("\nratios of the median runs (same run; whole process, and after start-up in brackets):")
    for size in sizes:
        base, best, one = get(base_case, size), get(two_case, size), get(one_case, size)
        first, threaded = get(FIRST_MAP, size), get(SPATIALML_TWO, size)
        if base:
            print(f"  {size}²: wholesoil mean+sd / pyspatialml mean: 1 worker {ratio(one, base)}, "
                  f"2 workers {ratio(best, base)} (target >= 3x, goal 5x); "
                  f"{spread(paired(runs, two_case, base_case, size))}"
                  + (f"; 2 workers, first map of the model {ratio(first, base)}" if first else ""))
        if threaded:
            print(f"  {size}²: wholesoil mean+sd, 2 workers / pyspatialml mean with the forest's n_jobs=2: "
                  f"{ratio(best, threaded)}")
        print(f"  {size}²: 2 workers / 1 worker: {ratio(best, one)} (target >= 1.7x); "
              f"{spread(paired(runs, two_case, one_case, size))}")
    for case in (one_case, two_case):
        small, large = get(case, sizes[0]), get(case, sizes[-1])
        print(f"  peak memory {sizes[-1]}² / {sizes[0]}² ({(sizes[-1] / sizes[0]) ** 2:.0f}x the pixels), "
              f"{case}: {large['peak_mb'] / small['peak_mb']:.2f} (target within 1.2); above the process's memory "
              f"when its clock started: {small['growth_mb']:.0f} -> {large['growth_mb']:.0f} MB")
    fractions = [r for r in rows if r["case"].startswith("depth-fractions")]
    if fractions:
        one = next(r for r in fractions if r["case"].endswith("1 worker"))
        two = next(r for r in fractions if r["case"].endswith("2 workers"))
        numpy_run = next(r for r in fractions if "numpy" in r["case"])
        print(f"  depth-fractions: 2 workers / 1 worker: {ratio(two, one)} (target >= 1.7x); "
              f"1 worker vs whole-array numpy: {ratio(one, numpy_run)}; peak memory "
              f"{one['peak_mb']:.0f} / {two['peak_mb']:.0f} MB (numpy script {numpy_run['peak_mb']:.0f} MB)")
    rate = get("wholesoil (mean+sd, numba, 2 workers)", sizes[-1])
    # land pixels of a global grid: 34.0 % of 0.5° cells are at least half land (the SRDB fractional-land grid;
    # land is 29 % of the area, but high-latitude pixels are small)
    pixels = 43200 * 21600 * 0.34
    print(f"  30 arc-second global run, 7 depth models, mean+sd, 2 workers: about "
          f"{7 * pixels / rate['pixels_per_s'] / 3600:.1f} h at {rate['peak_mb']:.0f} MB peak "
          f"(from the {sizes[-1]}² rate; {pixels / 1e6:.0f} M land pixels)")


if __name__ == "__main__":
    main()
