"""Raster files: opening, grid descriptions, alignment checks and window reads (GDAL).

The block-wise engine that runs every raster command is :mod:`.maps.engine`.
"""

import os
import re
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .outputs import readable_path, register_input, subdataset

DEFAULT_NODATA = -9999.0
#: Names of the rasters wholesoil writes (always GeoTIFF).
RASTER_OUTPUT = (".tif", ".tiff")
#: DRIVER: or DRIVER_KIND: before a GDAL subdataset (GPKG:, NETCDF:, HDF5:, HDF4_SDS:); two characters or more,
#: so that C:\x.tif is a path
_DRIVER_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9]+)(?:_[A-Za-z0-9_]*)?:")


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
    """Open a raster read-only with GDAL; an InputError names the file if that fails, and lists the rasters of a
    file holding several (a GeoPackage's tables, a NetCDF file's variables: GPKG:x.gpkg:table is one).

    An output the current command has written but not yet moved into place is read from
    its temporary file.
    """
    from osgeo import gdal

    gdal.UseExceptions()
    try:
        dataset = gdal.Open(readable_path(path))
    except RuntimeError as error:
        if os.path.isdir(readable_path(path)):  # some formats are folders (ESRI grids): only when GDAL fails
            raise InputError(f"raster {path} is a folder, not a raster file") from None
        raise InputError(f"cannot open raster {path}: {error}") from None
    if dataset is None:
        raise InputError(f"cannot open raster {path}")
    if dataset.RasterCount == 0:  # a file holding several rasters (GeoPackage tables, NetCDF variables)
        names = [name for name, _ in dataset.GetSubDatasets()]
        raise InputError(f"raster {path} holds {len(names)} rasters; give one of them ({', '.join(names[:5])}"
                         f"{', ...' if len(names) > 5 else ''})" if names else f"raster {path} has no band")
    return dataset


def band_unit(band):
    """The unit a GDAL band records: its ``units`` metadata (what wholesoil writes), else GDAL's unit type
    (``gdal_edit.py -units``, rasterio, terra); None when it records none."""
    return band.GetMetadataItem("units") or band.GetUnitType() or None


def gdal_source(path):
    """Whether ``path`` is a raster GDAL reads that is not a file: /vsi… (in an archive, online), VRT text, or
    one raster of a file holding several (a subdataset: GPKG:x.gpkg:table, NETCDF:"x.nc":variable)."""
    text = str(path)
    if text.startswith(("/vsi", "<VRT")):
        return True
    match = _DRIVER_PREFIX.match(text)
    if match is None:
        return False
    from osgeo import gdal

    return gdal.GetDriverByName(match[1]) is not None


def opens_as_raster(path):
    """Whether GDAL opens ``path`` as a raster with bands (quietly: False when it cannot)."""
    from osgeo import gdal

    gdal.UseExceptions()
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        dataset = gdal.OpenEx(str(path), gdal.OF_RASTER)
        return dataset is not None and dataset.RasterCount > 0
    except RuntimeError:
        return False
    finally:
        gdal.PopErrorHandler()


def raster_stem(path):
    """What names a raster: a subdataset's table or variable (bio1 of GPKG:x.gpkg:bio1 or NETCDF:"x.nc":bio1),
    else its file name without extension."""
    found = subdataset(path)
    if found is not None and found[1]:
        return found[1].rsplit("/", 1)[-1]  # HDF5:"x.h5"://group/bio1
    return os.path.splitext(os.path.basename(str(path) if found is None else found[0]))[0]


def band_names(path, names=None):
    """Column names for the bands of a raster.

    names: a list (one per band) is used as is; a single name (or, without one, the file
    stem, unless a single band has a description) names a single-band raster, and
    multi-band rasters take their band descriptions, else ``<name>_b<band>``. A subdataset
    is named by its table or variable (bio1 of GPKG:x.gpkg:bio1), whatever its band's
    description (a GeoPackage's is 'Height').
    """
    dataset = open_raster(path)
    count = dataset.RasterCount
    descriptions = [dataset.GetRasterBand(i + 1).GetDescription().strip() for i in range(count)]
    dataset = None
    if isinstance(names, (list, tuple)):
        if len(names) != count:
            raise InputError(f"raster {path} has {count} bands but {len(names)} names were given")
        return list(names)
    stem, found = raster_stem(path), subdataset(path)
    if count == 1:
        return [names or (stem if found and found[1] else descriptions[0] or stem)]
    return [d or f"{names or stem}_b{i + 1}" for i, d in enumerate(descriptions)]


def raster_info(path):
    """Read the grid description of a raster file (or of a :func:`gdal_source`)."""
    readable = readable_path(path)
    if not os.path.exists(readable) and not gdal_source(readable):
        raise InputError(f"raster {path} does not exist")
    if os.path.isdir(readable):
        raise InputError(f"raster {path} is a folder, not a raster file")
    register_input(path)
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
            remedy = ("assign the CRS to the raster that has none (gdal_edit.py -a_srs EPSG:XXXX FILE), or reproject"
                      if not (ref.crs_wkt and info.crs_wkt) else "reproject one of them first")
            raise InputError(f"rasters in different CRSs: {ref_name} is {_crs_name(ref.crs_wkt)}, "
                             f"{name} is {_crs_name(info.crs_wkt)}; {remedy}")
        if (ref.width, ref.height) != (info.width, info.height):
            raise InputError(f"rasters of different sizes: {ref_name} is {ref.width}x{ref.height}, "
                             f"{name} is {info.width}x{info.height} pixels; resample to one grid first")
        pixel = max(abs(ref.geotransform[1]), abs(ref.geotransform[5]))
        if not np.allclose(ref.geotransform, info.geotransform, rtol=0, atol=1e-6 * pixel):
            raise InputError(f"rasters not aligned: {ref_name} and {name} have different origins or "
                             f"pixel sizes ({ref.geotransform} vs {info.geotransform})")
    return ref


def read_window(dataset, window, bands=(1,)):
    """Bands of one window of an open dataset: (bands, rows, cols) float64, NaN for nodata.

    Scale and offset of each band are applied, as :mod:`.learn.sampling` does at points.
    """
    x, y, cols, rows = window
    values = dataset.ReadAsArray(x, y, cols, rows, band_list=list(bands)).astype(np.float64, copy=False)
    values = values.reshape(len(bands), rows, cols)
    for layer, number in zip(values, bands):
        band = dataset.GetRasterBand(number)
        nodata = band.GetNoDataValue()
        if nodata is not None and not np.isnan(nodata):
            layer[layer == nodata] = np.nan
        layer[~np.isfinite(layer)] = np.nan
        scale, offset = band.GetScale(), band.GetOffset()
        if scale not in (None, 1.0) or offset not in (None, 0.0):
            layer *= 1.0 if scale is None else scale
            layer += offset or 0.0
    return values


def read_raster(path, band=1):
    """A whole band as float64 with NaN for nodata (small rasters, tests and plots)."""
    dataset = open_raster(path)
    if not 1 <= band <= dataset.RasterCount:
        raise InputError(f"raster {path} has no band {band}")
    values = read_window(dataset, (0, 0, dataset.RasterXSize, dataset.RasterYSize), [band])[0]
    dataset = None
    return values
