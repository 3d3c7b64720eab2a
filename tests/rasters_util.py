"""Small GeoTIFFs for tests."""

import numpy as np
from osgeo import gdal, osr


def write_raster(path, values, epsg=4326, origin=(-10.0, 50.0), pixel=0.5, nodata=-9999.0):
    """Write a float32 GeoTIFF (one band per 2-D array in ``values``); NaN becomes nodata (none: no nodata value)."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 2:
        values = values[None]
    bands, rows, cols = values.shape
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), cols, rows, bands, gdal.GDT_Float32)
    dataset.SetGeoTransform((origin[0], pixel, 0.0, origin[1], 0.0, -pixel))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    dataset.SetProjection(srs.ExportToWkt())
    for i in range(bands):
        band = dataset.GetRasterBand(i + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(np.where(np.isnan(values[i]), nodata, values[i]).astype(np.float32))
    dataset = None
    return str(path)


def read_bands(path):
    """All bands as float64 (bands, rows, cols) with NaN for nodata, and their descriptions."""
    dataset = gdal.Open(str(path))
    arrays, names = [], []
    for i in range(dataset.RasterCount):
        band = dataset.GetRasterBand(i + 1)
        values = band.ReadAsArray().astype(float)
        values[values == band.GetNoDataValue()] = np.nan
        arrays.append(values)
        names.append(band.GetDescription())
    dataset = None
    return np.array(arrays), names
