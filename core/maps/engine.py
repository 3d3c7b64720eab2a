"""The block-wise raster engine: windows → read → block function → write.

Every raster command of wholesoil runs here. A run reads top to bottom in this module:

1. **windows** (:func:`plan_windows`): the grid is cut into windows whose size follows a
   memory budget and the inputs' own tiling (square multiples of the 256-pixel output
   tiles, or whole-width bands for striped inputs);
2. **read** (:func:`read_window`): each worker (thread, process or Dask worker) opens its
   own handle on every input and reads one window as float64, NaN for nodata, with the
   bands' scale and offset applied;
3. **block function**: a pure module-level function turns the window's arrays into the
   output bands (for maps of a model: covariates → features → forest kernel, see
   :mod:`.predict`); nodata in any input gives nodata in every output band of that pixel,
   unless the function sets nodata itself (maps of several models: per model);
4. **write** (:class:`_Writer`): one writer, the only code that touches the output file,
   writes each window into a tiled, DEFLATE-compressed GeoTIFF while the workers compute
   the next windows; it flushes as it goes with GDAL's block cache capped, and GDAL
   compresses tiles on ``n_jobs`` threads;
5. **commit**: the file lives in a temporary folder next to the destination and is moved
   into place only when every window is written (:func:`..outputs.atomic_output`).

Results do not depend on the number of workers or the window size: every pixel is
computed from its own input values only.
"""

import collections
import contextlib
import functools
import math
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import InputError
from ..outputs import atomic_output, note
from ..progress import as_progress
from ..rasters import DEFAULT_NODATA, RASTER_OUTPUT, check_aligned, open_raster, raster_info, read_window
from ..workers import local_workers

TILE = 256                   #: output tile size (pixels)
DEFAULT_MEMORY_MB = 512      #: memory budget of one run's windows in flight
GDAL_CACHE_MB = 64           #: GDAL block cache in every process of a run (GDAL's default is 5 % of RAM)
BACKENDS = ("threading", "loky", "dask")
DASK_HELP = ("the dask backend needs dask's 'distributed' package: apt install python3-distributed "
             "(Debian/Ubuntu) or pip install distributed")


class RasterRun(str):
    """The path of the raster a run wrote (it is that path, as a str), with what the run saw.

    ``band_names``; per band ``valid`` (pixel count) and ``mean`` (over valid pixels);
    ``counts``: the counters the block function returned, summed over windows (e.g. pixels
    whose class the model never saw); ``notes``: messages for the user (also given to the
    command's output transaction, which shows them: CLI notes, QGIS warnings).
    """

    def __new__(cls, path, band_names, valid, mean, counts=None, notes=None):
        run = super().__new__(cls, str(path))
        run.band_names, run.valid, run.mean = list(band_names), valid, mean
        run.counts, run.notes = dict(counts or {}), list(notes or [])
        return run


# 1. windows


def plan_windows(width, height, input_blocks=(), bytes_per_pixel=64, memory_mb=DEFAULT_MEMORY_MB, in_flight=2,
                 block=None, at_least=1):
    """Windows (x offset, y offset, columns, rows) covering a grid, row by row.

    block: a fixed square window size in pixels. Otherwise the size keeps ``in_flight``
    windows of ``bytes_per_pixel`` each within ``memory_mb``: whole-width bands when an
    input is stored in whole-width strips (``input_blocks`` lists (x, y) block sizes),
    else squares that are multiples of the output tiles and of the inputs' tiles. A grid is
    cut into ``at_least`` whole-width bands instead (as many as its rows allow) when that gives
    more windows, so that every worker has some (a small map of a costly product, e.g. the
    Monte Carlo of loss maps, was one window on one core).
    """
    if block is not None:
        if int(block) < 1:
            raise InputError(f"block size {block}: give 1 pixel or more")
        side_x = side_y = int(block)
    else:
        pixels = max(TILE * TILE, memory_mb * 2 ** 20 / max(bytes_per_pixel * in_flight, 1))
        if any(bx >= width for bx, _ in input_blocks):
            strip = max([by for bx, by in input_blocks if bx >= width] + [1])
            rows = max(strip, int(pixels // width) // strip * strip)
            side_x, side_y = width, (rows // TILE * TILE if rows >= TILE else rows)
        else:
            unit = TILE
            for bx, by in input_blocks:
                unit = math.lcm(unit, bx, by) if math.lcm(unit, bx, by) <= 2048 else unit
            side_x = side_y = max(unit, min(4096, int(math.sqrt(pixels)) // unit * unit))
        rows = math.ceil(height / min(at_least, height))  # whole-width bands, if they make more windows
        if math.ceil(height / rows) > math.ceil(width / side_x) * math.ceil(height / side_y):
            side_x, side_y = width, rows
    return [(x, y, min(side_x, width - x), min(side_y, height - y))
            for y in range(0, height, side_y) for x in range(0, width, side_x)]


# 2. read

_handles = threading.local()


def _dataset(path, run):
    """This worker's own handle on ``path`` for run ``run`` (one per thread or process).

    Handles are reused for every window of one run and dropped when a new run starts, so
    a file rewritten between runs is never read through a stale handle.
    """
    if getattr(_handles, "run", None) != run:
        _handles.run, _handles.datasets = run, {}
        _cap_gdal_cache()  # worker processes too: windows are read once, a large cache only holds memory
    if path not in _handles.datasets:
        _handles.datasets[path] = open_raster(path)
    return _handles.datasets[path]


def _watch_parent(parent):
    """In a worker process, exit when the process that started the run is gone.

    Process pools otherwise outlive a killed parent until their idle timeout.
    """
    if parent is None or parent == os.getpid() or getattr(_watch_parent, "started", False):
        return
    _watch_parent.started = True

    def watch():
        import time

        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="wholesoil-parent-watch", daemon=True).start()


# 3. block function (runs in a worker)


def _no_check():
    """The cancel check of a window computed in another process: none (its run stops between windows)."""


def _process_window(func, groups, window, params, run, parent, nodata):
    """Read one window of every input, apply ``func``, mask nodata and prepare it for writing.

    Returns (window, bands as float32 with ``nodata`` filled in, counters, valid pixels per
    band, sum per band, pixels with data in every input, {input: pixels with data}):
    everything but the writing itself happens here, in the worker.
    """
    _watch_parent(parent)
    blocks = {}
    for path, members in groups.items():
        values = read_window(_dataset(path, run), window, [band for _, band in members])
        blocks.update({name: layer for (name, _), layer in zip(members, values)})
    where = {"window": window} if getattr(func, "takes_window", False) else {}
    try:
        result = func(blocks, **params, **where)
    except InputError as error:
        x, y, cols, rows = window
        raise InputError(f"{error} in the pixels of columns {x}-{x + cols - 1}, rows {y}-{y + rows - 1}") from None
    values, counts = result if isinstance(result, tuple) else (result, {})
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2:
        values = values[None]
    valid, present = np.ones(values.shape[1:], dtype=bool), {}
    for name, block in blocks.items():
        data = ~np.isnan(block)
        present[name] = int(data.sum())
        valid &= data
    finite = np.isfinite(values)
    if not getattr(func, "masks_nodata", False):
        finite &= valid
    sums = np.where(finite, values, 0.0).sum(axis=(1, 2))
    return (window, np.where(finite, values, nodata).astype(np.float32), counts, finite.sum(axis=(1, 2)), sums,
            int(valid.sum()), present)


# 4. write


class _Writer:
    """The only code touching the output: writes windows, flushes finished tiles, keeps band statistics.

    GDAL compresses and writes every tile in its cache when flushed, finished or not; a tile
    written again later is appended to the file (its first copy stays, unused). So the cache
    is flushed only when every tile written since the last flush is finished: after every
    window when windows are made of whole tiles (the default), else when a window finishes
    the last of them (a ``block`` that is not a multiple of the tiles).
    """

    def __init__(self, dataset):
        self.dataset = dataset
        self.bands = [dataset.GetRasterBand(i + 1) for i in range(dataset.RasterCount)]
        self.valid = np.zeros(len(self.bands), dtype=np.int64)
        self.sums = np.zeros(len(self.bands))
        self.counts, self.with_data, self.present = {}, 0, collections.Counter()
        width, height = dataset.RasterXSize, dataset.RasterYSize
        rows, columns = (np.minimum(TILE, size - np.arange(0, size, TILE)) for size in (height, width))
        self.missing = np.outer(rows, columns)  # per tile: pixels not yet written
        self.unflushed = set()

    def write(self, result):
        """Write one :func:`_process_window` result."""
        (x, y, cols, rows), values, counts, valid, sums, with_data, present = result
        if values.shape[0] != len(self.bands):
            raise InputError(f"block function returned {values.shape[0]} bands, expected {len(self.bands)}")
        for band, layer in zip(self.bands, values):
            band.WriteArray(layer, x, y)
        self.valid += valid
        self.sums += sums
        self.with_data += with_data
        self.present.update(present)
        for name, count in counts.items():
            self.counts[name] = self.counts.get(name, 0) + int(count)
        for tile_y in range(y // TILE, (y + rows - 1) // TILE + 1):
            for tile_x in range(x // TILE, (x + cols - 1) // TILE + 1):
                overlap_y = min(y + rows, (tile_y + 1) * TILE) - max(y, tile_y * TILE)
                overlap_x = min(x + cols, (tile_x + 1) * TILE) - max(x, tile_x * TILE)
                self.missing[tile_y, tile_x] -= overlap_y * overlap_x
                self.unflushed.add((tile_y, tile_x))
        if not any(self.missing[tile] for tile in self.unflushed):
            self.dataset.FlushCache()  # compress and write the finished tiles now, not all at the end
            self.unflushed.clear()

    def close(self):
        self.bands = self.dataset = None  # GDAL writes and closes the file when the last reference goes


def _cap_gdal_cache():
    from osgeo import gdal

    if gdal.GetCacheMax() > GDAL_CACHE_MB * 2 ** 20:
        gdal.SetCacheMax(GDAL_CACHE_MB * 2 ** 20)


class _GdalCache:
    """Cap GDAL's block cache for the duration of a run, then restore it."""

    def __init__(self, megabytes):
        from osgeo import gdal

        self.gdal, self.limit = gdal, megabytes * 2 ** 20

    def __enter__(self):
        self.previous = self.gdal.GetCacheMax()
        self.gdal.SetCacheMax(min(self.previous, self.limit))

    def __exit__(self, *exc):
        self.gdal.SetCacheMax(self.previous)


def _create(path, grid, band_names, nodata, metadata, band_metadata, threads):
    from osgeo import gdal

    # DEFLATE level 3 with the floating-point predictor: files within ~5 % of level 6's, written twice as fast
    options = ["TILED=YES", f"BLOCKXSIZE={TILE}", f"BLOCKYSIZE={TILE}", "COMPRESS=DEFLATE", "PREDICTOR=3", "ZLEVEL=3",
               "INTERLEAVE=BAND", "BIGTIFF=IF_SAFER", f"NUM_THREADS={threads}"]
    target = gdal.GetDriverByName("GTiff").Create(path, grid.width, grid.height, len(band_names), gdal.GDT_Float32,
                                                  options=options)
    target.SetGeoTransform(grid.geotransform)
    target.SetProjection(grid.crs_wkt)
    if metadata:
        target.SetMetadata({str(k): str(v) for k, v in metadata.items()})
    for i, name in enumerate(band_names):
        band = target.GetRasterBand(i + 1)
        band.SetDescription(str(name))
        band.SetNoDataValue(nodata)
        if band_metadata and band_metadata.get(name):
            band.SetMetadata({str(k): str(v) for k, v in band_metadata[name].items()})
            band.SetUnitType(str(band_metadata[name].get("units", "")))  # GDAL's own field (gdalinfo, QGIS)
    return target


def _to_cog(source, destination, threads, classes=()):
    """Rewrite a finished GeoTIFF as a Cloud Optimized GeoTIFF with overviews (halving until under a
    tile): each overview pixel is the average of the valid pixels it covers, or for the bands named
    in ``classes`` their most frequent value (GDAL's default, cubic, invents values: class codes
    that do not exist, negative sd)."""
    from osgeo import gdal

    dataset = gdal.Open(source, gdal.GA_Update)
    levels = [2 ** k for k in range(1, 32) if max(dataset.RasterXSize, dataset.RasterYSize) // 2 ** k >= TILE]
    if levels:
        dataset.BuildOverviews("AVERAGE", levels)
        for index in range(1, dataset.RasterCount + 1):
            band = dataset.GetRasterBand(index)
            if band.GetDescription() in classes:
                gdal.RegenerateOverviews(band, [band.GetOverview(k) for k in range(band.GetOverviewCount())], "MODE")
    dataset = None
    gdal.Translate(destination, source, format="COG",
                   creationOptions=["COMPRESS=DEFLATE", "PREDICTOR=YES", "BIGTIFF=IF_SAFER", f"NUM_THREADS={threads}",
                                    "OVERVIEWS=FORCE_USE_EXISTING" if levels else "OVERVIEWS=NONE"])


# the run


def _input_groups(inputs):
    """{name: path | (path, band)} -> {path: [(name, band), ...]} (one read per file and window)."""
    groups = {}
    for name, value in inputs.items():
        path, band = (value, 1) if isinstance(value, (str, os.PathLike)) else value
        groups.setdefault(str(path), []).append((name, int(band)))
    return groups


def _dask_client(scheduler):
    """A client of the Dask cluster at ``scheduler`` (or the current one); InputError if none."""
    try:
        from distributed import Client, get_client
    except ImportError:
        raise InputError(DASK_HELP) from None
    if scheduler is None:
        try:
            client, own = get_client(), False
        except ValueError:
            raise InputError("the dask backend needs a scheduler address (e.g. tcp://host:8786) "
                             "or a running dask Client") from None
    else:
        try:
            client, own = Client(scheduler, timeout="20s"), True
        except (OSError, TimeoutError) as error:
            raise InputError(f"cannot reach the Dask scheduler {scheduler}: {error}") from None
    try:
        _check_dask_workers(client, scheduler or client.scheduler.address)
    except InputError:
        if own:
            client.close()
        raise
    return client, own


def _check_dask_workers(client, address):
    """InputError unless every worker of the cluster imports the same wholesoil as this process."""
    import pydoc  # its locate() imports a module on the worker and returns a value, or None: no pickled wholesoil code

    from ... import __version__

    try:
        versions = client.run(pydoc.locate, "wholesoil.__version__")
    except Exception as error:  # noqa: BLE001 - e.g. wholesoil fails to import on a worker (another numpy)
        raise InputError(f"the Dask workers at {address} cannot import wholesoil: {error}") from None
    if not versions:
        raise InputError(f"the Dask cluster at {address} has no worker; start one: python -m "
                         f"distributed.cli.dask_worker {address}")
    missing = sorted(worker for worker, version in versions.items() if version is None)
    if missing:
        raise InputError(f"Dask workers {', '.join(missing)} cannot import wholesoil: start them with the Python "
                         f"that runs wholesoil: python -m distributed.cli.dask_worker {address} (the dask-worker "
                         "program of another Python, such as Debian's /usr/bin/dask-worker, lacks it)")
    other = sorted(f"{worker} ({version})" for worker, version in versions.items() if version != __version__)
    if other:
        raise InputError(f"Dask workers {', '.join(other)} run another wholesoil than this command "
                         f"({__version__}); install the same version on every machine")


def _results(func, groups, work, params, run, workers, backend, scheduler, nodata):
    """Yield the :func:`_process_window` result of each window, in order, computed by the chosen workers.

    Twice as many windows as workers are in flight: a worker that finishes a window starts
    the next one at once (no batch waits for its slowest window), while the caller writes
    the results in order.
    """
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend != "dask" and workers == 1:
        for window in work:
            yield _process_window(func, groups, window, params, run, None, nodata)
        return
    parent = os.getpid() if backend == "loky" else None
    client, own_client = _dask_client(scheduler) if backend == "dask" else (None, False)
    threads, in_flight = None, collections.deque()
    try:
        if client is not None:
            workers = sum(client.nthreads().values())
            params = client.scatter([params], broadcast=True)[0]  # the models go to each worker once
            submit = functools.partial(client.submit, pure=False)
        elif backend == "loky":
            # joblib's reusable pool (kept between runs), made as joblib makes it so that joblib can take
            # it over; windows travel pickled (max_nbytes=None: no memory-mapped temporary files)
            from joblib.executor import get_memmapping_executor

            submit = get_memmapping_executor(workers, max_nbytes=None).submit
        else:
            threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wholesoil-worker")
            submit = threads.submit
        for window in work[:2 * workers]:
            in_flight.append(submit(_process_window, func, groups, window, params, run, parent, nodata))
        for window in work[2 * workers:] + [None] * len(in_flight):
            result = in_flight.popleft().result()
            if window is not None:
                in_flight.append(submit(_process_window, func, groups, window, params, run, parent, nodata))
            yield result
    finally:
        for future in in_flight:
            future.cancel()
        if threads is not None:
            threads.shutdown(wait=True)
        if own_client:
            client.close()


def map_blocks(func, inputs, output, band_names, params=None, block=None, n_jobs=1, backend="threading",
               nodata=DEFAULT_NODATA, progress=None, is_cancelled=None, metadata=None, band_metadata=None,
               scheduler=None, memory_mb=DEFAULT_MEMORY_MB, bytes_per_pixel=None, cog=False, classes=(), explain=None,
               reads=()):
    """Apply ``func`` to aligned rasters window by window and write a multi-band GeoTIFF.

    func: ``func(blocks, **params)`` with ``blocks`` a dict name -> 2-D float64 array (NaN =
    nodata), returning an array (bands, rows, cols) or (rows, cols), or a tuple (that array,
    {counter: count}); counters are summed over windows into ``RasterRun.counts``. It must
    be a module-level function (picklable) for process and Dask backends. A function with the
    attribute ``takes_window = True`` also receives ``window=(x offset, y offset, columns,
    rows)`` of the grid (e.g. to key per-pixel random numbers by the global pixel position); one
    with ``takes_check = True`` receives ``check``, a function to call now and then in a long
    window: it raises CancelledError when the run is cancelled (threads and one worker);
    one with ``masks_nodata = True`` sets nodata (NaN) itself, e.g. per group of bands that
    depend on some inputs only (otherwise nodata in any input is nodata in every band).
    inputs: {name: path} or {name: (path, band)}; all must share one grid.
    block: window size in pixels (default: from ``memory_mb`` and the inputs' tiling).
    n_jobs: workers (-1 = all cores). backend: 'threading' (the only one inside QGIS),
    'loky' (processes, headless) or 'dask' (the cluster at ``scheduler``, an address such
    as tcp://host:8786, or the current dask Client; its workers must see the input paths).
    bytes_per_pixel: memory ``func`` needs per pixel (default: inputs and outputs in float64).
    metadata: dataset metadata; band_metadata: {band name: {key: value}}. cog: write a
    Cloud Optimized GeoTIFF (with overviews: averages, or the most frequent value in the bands named in
    ``classes``, e.g. classes or flags). Nothing is left at ``output`` if this fails
    or is cancelled, or if no pixel got a value although some had data in every input (an
    InputError; ``explain``, a function of the summed counters, gives its reasons, e.g.
    impossible values). reads: other files the run reads (model files, the rasters behind
    warped VRTs): ``output`` must not be one of them, nor an input. Returns a :class:`RasterRun`.
    """
    if os.path.splitext(str(output))[1].lower() not in RASTER_OUTPUT:
        raise InputError(f"output {output}: wholesoil writes GeoTIFF rasters; name it .tif or .tiff")
    groups = _input_groups(inputs)
    infos = {path: raster_info(path) for path in groups}
    grid = check_aligned({f"{members[0][0]} ({path})": infos[path] for path, members in groups.items()})
    for path, members in groups.items():
        count = infos[path].band_count
        for name, band in members:
            if not 1 <= band <= count:
                raise InputError(f"raster {name} ({path}) has no band {band} (it has {count})")
    if n_jobs == 0:
        raise InputError("0 workers: give 1 or more, or -1 for all cores")
    params = params or {}
    steps = as_progress(progress, is_cancelled)
    n_inputs = sum(len(members) for members in groups.values())
    per_pixel = bytes_per_pixel or 8 * (n_inputs + 2 * len(band_names))
    input_blocks = []
    for path in groups:
        dataset = open_raster(path)
        input_blocks.append(tuple(dataset.GetRasterBand(1).GetBlockSize()))
        dataset = None
    workers = 1 if backend == "dask" else local_workers(n_jobs)
    work = plan_windows(grid.width, grid.height, input_blocks, per_pixel, memory_mb,
                        in_flight=2 * max(2, workers * 2), block=block, at_least=2 * workers if workers > 1 else 1)
    workers = min(workers, len(work))
    threads = workers if backend != "dask" else max(1, os.cpu_count() or 1)
    if getattr(func, "takes_check", False):  # a cancel stops it inside a window (in this process only)
        in_process = backend == "threading" or (backend != "dask" and workers == 1)
        params = {**params, "check": steps.check if in_process else _no_check}
    run = uuid.uuid4().hex
    with atomic_output(output, inputs=list(groups) + list(reads)) as tmp, _GdalCache(GDAL_CACHE_MB):
        tiled = tmp + ".tiled.tif" if cog else tmp
        writer = _Writer(_create(tiled, grid, band_names, nodata, metadata, band_metadata, threads))
        done = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wholesoil-writer") as pool:
            pending = None
            results = _results(func, groups, work, params, run, workers, backend, scheduler, nodata)
            with contextlib.closing(results):  # on an error or a cancel: stop the windows in flight now
                for result in results:
                    if pending is not None:
                        pending.result()
                    if workers == 1 and backend != "dask":
                        writer.write(result)  # one worker: one core, no overlap
                    else:
                        pending = pool.submit(writer.write, result)
                    done += 1
                    steps.update(done / len(work))
            if pending is not None:
                pending.result()
        writer.close()
        if writer.with_data and not writer.valid.any():
            reasons = "; ".join(explain(writer.counts) if explain else [])
            raise InputError(f"{output}: no pixel got a value: {writer.with_data} pixels have data in every input "
                             f"and each gave nodata{f' ({reasons})' if reasons else ''}; nothing was written")
        if cog:
            _to_cog(tiled, tmp, threads, classes)
            os.unlink(tiled)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = writer.sums / writer.valid
    empty = [name for name, count in zip(band_names, writer.valid) if count == 0]
    if len(empty) == len(band_names) and len(empty) > 1:
        notes = [f"{output}: no band has a valid pixel (all nodata)"]
    else:
        notes = [f"{output}: band{'s' if len(empty) > 1 else ''} {', '.join(empty)} "
                 f"{'have' if len(empty) > 1 else 'has'} no valid pixel (all nodata)"] if empty else []
    blank = [f"{name} ({path})" if os.path.exists(path) else name  # not a warped VRT's text
             for path, members in groups.items() for name, _ in members if writer.present[name] == 0]
    if blank:
        notes.insert(0, f"input{'s' if len(blank) > 1 else ''} {', '.join(blank)} "
                        f"{'have' if len(blank) > 1 else 'has'} no valid pixel (all nodata)")
    for text in notes:
        note(text)
    return RasterRun(str(output), list(band_names), writer.valid, mean, writer.counts, notes)
