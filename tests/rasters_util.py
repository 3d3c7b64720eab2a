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


def write_geopackage(path, tables, **grid):
    """A GeoPackage holding one raster table per {name: 2-D array} (GDAL subdatasets GPKG:path:name)."""
    for name, values in tables.items():
        source = write_raster(f"/vsimem/{name}.tif", values, **grid)
        gdal.Translate(str(path), source, format="GPKG", creationOptions=[f"RASTER_TABLE={name}",
                                                                          "APPEND_SUBDATASET=YES"])
        gdal.Unlink(source)
    return str(path)


def write_netcdf(path, variables, origin=(-10.0, 50.0), pixel=0.5):
    """A NetCDF file holding one float64 variable per {name: 2-D array} on lat/lon axes (no CRS), made with GDAL's
    netCDF driver (GDAL subdatasets NETCDF:"path":name); skips the test without that driver."""
    import pytest

    driver = gdal.GetDriverByName("netCDF")
    if driver is None:
        pytest.skip("this GDAL has no netCDF driver")
    rows, cols = np.asarray(next(iter(variables.values()))).shape
    dataset = driver.CreateMultiDimensional(str(path))
    root = dataset.GetRootGroup()
    number, text = gdal.ExtendedDataType.Create(gdal.GDT_Float64), gdal.ExtendedDataType.CreateString()
    axes = []
    for name, size, centres, units in (("lat", rows, origin[1] - pixel * (np.arange(rows) + 0.5), "degrees_north"),
                                       ("lon", cols, origin[0] + pixel * (np.arange(cols) + 0.5), "degrees_east")):
        axis = root.CreateDimension(name, None, None, size)
        coordinate = root.CreateMDArray(name, [axis], number)
        coordinate.Write(centres)
        coordinate.CreateAttribute("units", [], text).WriteString(units)
        axes.append(axis)
    for name, values in variables.items():
        root.CreateMDArray(name, axes, number).Write(np.asarray(values, dtype=float))
    dataset = None
    return str(path)
