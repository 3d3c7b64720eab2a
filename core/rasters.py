"""Block-by-block raster processing with GDAL.

The model is rasterio's windowed reading: a pure function is applied to one window of
aligned input rasters at a time; each worker keeps its own dataset handles; one writer
(the calling thread) writes the results into a temporary GeoTIFF that is renamed into
place only when every window has been written.

Nodata in any input gives nodata in every output band of that pixel.
"""

import os
import threading
import uuid
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .progress import as_progress
from .tables import atomic_output

DEFAULT_NODATA = -9999.0
DEFAULT_BLOCK = 512


@dataclass(frozen=True)
class RasterInfo:
    """Grid of a raster: size, geotransform, CRS (WKT), band count and nodata."""

    path: str
    width: int
    height: int
    geotransform: tuple
    crs_wkt: str
    band_count: int
    nodata: object


def open_raster(path):
    """Open a raster read-only with GDAL; an InputError names the file if that fails."""
    from osgeo import gdal

    gdal.UseExceptions()
    try:
        dataset = gdal.Open(str(path))
    except RuntimeError as error:
        raise InputError(f"cannot open raster {path}: {error}") from None
    if dataset is None:
        raise InputError(f"cannot open raster {path}")
    return dataset


def raster_info(path):
    """Read the grid description of a raster file."""
    if not os.path.exists(str(path)) and not str(path).startswith(("/vsi", "NETCDF:", "HDF")):
        raise InputError(f"raster {path} does not exist")
    dataset = open_raster(path)
    info = RasterInfo(str(path), dataset.RasterXSize, dataset.RasterYSize, tuple(dataset.GetGeoTransform()),
                      dataset.GetProjection() or "", dataset.RasterCount,
                      dataset.GetRasterBand(1).GetNoDataValue())
    dataset = None
    return info


def _same_crs(wkt_a, wkt_b):
    if wkt_a == wkt_b:
        return True
    if not wkt_a or not wkt_b:
        return False
    from osgeo import osr

    a, b = osr.SpatialReference(), osr.SpatialReference()
    a.ImportFromWkt(wkt_a)
    b.ImportFromWkt(wkt_b)
    return bool(a.IsSame(b))


def _crs_name(wkt):
    if not wkt:
        return "no CRS"
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    code = srs.GetAuthorityCode(None)
    return f"EPSG:{code}" if code else (srs.GetName() or "unnamed CRS")


def check_aligned(infos):
    """Raise InputError unless all rasters share CRS, size and geotransform.

    ``infos``: mapping of a user-facing name (parameter or file) to RasterInfo.
    Returns the common grid (the first RasterInfo).
    """
    items = list(infos.items())
    if not items:
        raise InputError("no input raster given")
    ref_name, ref = items[0]
    for name, info in items[1:]:
        if not _same_crs(ref.crs_wkt, info.crs_wkt):
            raise InputError(f"rasters in different CRSs: {ref_name} is {_crs_name(ref.crs_wkt)}, "
                             f"{name} is {_crs_name(info.crs_wkt)}; reproject one of them first")
        if (ref.width, ref.height) != (info.width, info.height):
            raise InputError(f"rasters of different sizes: {ref_name} is {ref.width}x{ref.height}, "
                             f"{name} is {info.width}x{info.height} pixels; resample to one grid first")
        pixel = max(abs(ref.geotransform[1]), abs(ref.geotransform[5]))
        if not np.allclose(ref.geotransform, info.geotransform, rtol=0, atol=1e-6 * pixel):
            raise InputError(f"rasters not aligned: {ref_name} and {name} have different origins or "
                             f"pixel sizes ({ref.geotransform} vs {info.geotransform})")
    return ref


def windows(width, height, block=DEFAULT_BLOCK):
    """Windows (x offset, y offset, columns, rows) covering a grid, row by row."""
    return [(x, y, min(block, width - x), min(block, height - y))
            for y in range(0, height, block) for x in range(0, width, block)]


_handles = threading.local()


def _dataset(path, run):
    """This worker's own handle on ``path`` for run ``run`` (one per thread or process).

    Handles are reused for every window of one run and dropped when a new run starts,
    so a file rewritten between runs is never read through a stale handle.
    """
    if getattr(_handles, "run", None) != run:
        _handles.run, _handles.datasets = run, {}
    if path not in _handles.datasets:
        _handles.datasets[path] = open_raster(path)
    return _handles.datasets[path]


def read_window(dataset, window, band=1):
    """One window of one band of an open dataset as float64, NaN where nodata."""
    raster_band = dataset.GetRasterBand(band)
    x, y, cols, rows = window
    values = raster_band.ReadAsArray(x, y, cols, rows).astype(np.float64)
    nodata = raster_band.GetNoDataValue()
    if nodata is not None and not np.isnan(nodata):
        values[values == nodata] = np.nan
    return values


def _process_window(func, inputs, window, params, run):
    """Read one window of every input, apply ``func`` and mask nodata (runs in a worker)."""
    blocks = {name: read_window(_dataset(path, run), window, band) for name, (path, band) in inputs.items()}
    try:
        result = np.asarray(func(blocks, **params), dtype=np.float64)
    except InputError as error:
        x, y, cols, rows = window
        raise InputError(f"{error} in the pixels of columns {x}-{x + cols - 1}, rows {y}-{y + rows - 1}") from None
    if result.ndim == 2:
        result = result[None]
    valid = np.ones(result.shape[1:], dtype=bool)
    for block in blocks.values():
        valid &= np.isfinite(block)
    result[:, ~valid] = np.nan
    return window, result


def _normalise_inputs(inputs):
    """{name: path} or {name: (path, band)} -> {name: (path, band)}."""
    out = {}
    for name, value in inputs.items():
        path, band = (value, 1) if isinstance(value, (str, os.PathLike)) else value
        out[name] = (str(path), int(band))
    return out


def map_blocks(func, inputs, output, band_names, params=None, block=DEFAULT_BLOCK, n_jobs=1,
               backend="threading", nodata=DEFAULT_NODATA, progress=None, is_cancelled=None,
               metadata=None):
    """Apply ``func`` to aligned rasters window by window and write a multi-band GeoTIFF.

    func: ``func(blocks, **params)`` with ``blocks`` a dict name -> 2-D float64 array (NaN =
    nodata) returning an array (bands, rows, cols) or (rows, cols). It must be a module-level
    function (picklable) for process backends.
    inputs: {name: path} or {name: (path, band)}; all must share one grid.
    backend: a joblib backend: 'threading' (default; the only one to use inside QGIS),
    'loky' (processes, headless only) or any registered one (e.g. 'dask' for a cluster).
    Returns the output path. Nothing is left at ``output`` if this fails or is cancelled.
    """
    from joblib import Parallel, delayed
    from osgeo import gdal

    gdal.UseExceptions()
    inputs = _normalise_inputs(inputs)
    infos = {name: raster_info(path) for name, (path, _) in inputs.items()}
    grid = check_aligned(infos)
    for name, (path, band) in inputs.items():
        if band > infos[name].band_count:
            raise InputError(f"raster {name} ({path}) has no band {band}")
    if os.path.abspath(str(output)) in {os.path.abspath(p) for p, _ in inputs.values()}:
        raise InputError(f"output {output} is also an input; choose another file")
    params = params or {}
    run = uuid.uuid4().hex
    steps = as_progress(progress, is_cancelled)
    work = windows(grid.width, grid.height, block)
    batch = max(1, int(n_jobs if n_jobs > 0 else os.cpu_count() or 1) * 4)
    with atomic_output(output) as tmp:
        target = gdal.GetDriverByName("GTiff").Create(
            tmp, grid.width, grid.height, len(band_names), gdal.GDT_Float32,
            options=["COMPRESS=DEFLATE", "TILED=YES", "BIGTIFF=IF_SAFER", "PREDICTOR=3"])
        target.SetGeoTransform(grid.geotransform)
        target.SetProjection(grid.crs_wkt)
        if metadata:
            target.SetMetadata({str(k): str(v) for k, v in metadata.items()})
        bands = [target.GetRasterBand(i + 1) for i in range(len(band_names))]
        for raster_band, name in zip(bands, band_names):
            raster_band.SetDescription(str(name))
            raster_band.SetNoDataValue(nodata)
        with Parallel(n_jobs=n_jobs, backend=backend) as parallel:
            for start in range(0, len(work), batch):
                steps.check()
                chunk = work[start:start + batch]
                results = parallel(delayed(_process_window)(func, inputs, w, params, run) for w in chunk)
                for (x, y, _, _), values in results:
                    if values.shape[0] != len(band_names):
                        raise InputError(f"block function returned {values.shape[0]} bands, "
                                         f"expected {len(band_names)}")
                    values = np.where(np.isfinite(values), values, nodata)
                    for raster_band, layer in zip(bands, values):
                        raster_band.WriteArray(layer.astype(np.float32), x, y)
                steps.update(min(start + batch, len(work)) / len(work))
        for raster_band in bands:
            raster_band.FlushCache()
        bands = None
        target = None  # close before the rename
    return str(output)


def read_raster(path, band=1):
    """A whole band as float64 with NaN for nodata (small rasters, tests and plots)."""
    dataset = open_raster(path)
    if band > dataset.RasterCount:
        raise InputError(f"raster {path} has no band {band}")
    values = read_window(dataset, (0, 0, dataset.RasterXSize, dataset.RasterYSize), band)
    dataset = None
    return values


def band_means(path, block=DEFAULT_BLOCK):
    """Mean of each band over its valid pixels, read window by window (any raster size)."""
    dataset = open_raster(path)
    sums = np.zeros(dataset.RasterCount)
    counts = np.zeros(dataset.RasterCount)
    for window in windows(dataset.RasterXSize, dataset.RasterYSize, block):
        for i in range(dataset.RasterCount):
            values = read_window(dataset, window, i + 1)
            valid = np.isfinite(values)
            sums[i] += values[valid].sum()
            counts[i] += valid.sum()
    dataset = None
    with np.errstate(invalid="ignore"):
        return sums / counts
