"""Training tables from points and rasters: covariate values at point locations.

Points come from a table's geometry (a GeoPackage read by :func:`~wholesoil.core.tables.read_table`,
CRS in ``table.attrs['crs_wkt']``) or from two coordinate columns with a CRS. They are
reprojected to each raster's own CRS (pyproj), so rasters need not share a grid or a CRS.
Each band becomes one column (see :func:`..rasters.band_names`), or one band chosen as
``RASTER:BAND`` (by number or description), named as ``predict-raster`` names the covariates
(:func:`..maps.stack.covariate_bands`); a band's scale and offset
(e.g. netCDF scale_factor) are applied. Points outside a raster or on its nodata get NaN
and are listed in a problems table.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError, describe_rows
from ..progress import as_progress
from ..maps.stack import covariate_bands
from ..rasters import open_raster
from ..tables import GEOMETRY, cell_geometry, numeric_columns, row_numbers

DEFAULT_POINT_CRS = "EPSG:4326"


@dataclass
class SampleResult:
    """The table with one column per raster band, the problems found and a summary."""

    table: pd.DataFrame
    problems: pd.DataFrame
    summary: pd.DataFrame
    notes: list = field(default_factory=list)


def point_coordinates(table, x_col=None, y_col=None, crs=None):
    """(x, y, crs_wkt) of every row: from x/y columns (CRS ``crs``, default WGS 84 lon/lat)
    or from point geometry (CRS from the table). Rows without a location get NaN."""
    from pyproj import CRS

    if (x_col is None) != (y_col is None):
        raise InputError("give both the x and the y column, or neither (to use the geometry)")
    if x_col is not None:
        values = numeric_columns(table, [x_col, y_col])
        try:
            wkt = CRS.from_user_input(crs or DEFAULT_POINT_CRS).to_wkt()
        except Exception as error:  # pyproj raises CRSError, a subclass of Exception
            raise InputError(f"unknown CRS {crs!r}: {error}") from None
        return values[x_col].to_numpy(), values[y_col].to_numpy(), wkt
    if GEOMETRY not in table.columns:
        raise InputError("the points table has no geometry: give the x and y columns (and their CRS)")
    from osgeo import ogr

    x = np.full(len(table), np.nan)
    y = np.full(len(table), np.nan)
    not_points = []
    unreadable = []
    for i, cell in enumerate(table[GEOMETRY]):
        try:  # WKB from a vector file, WKT from a CSV that write_table wrote
            geometry = cell_geometry(cell)
        except RuntimeError:
            unreadable.append(i + 1)
            continue
        if geometry is None:
            continue
        if ogr.GT_Flatten(geometry.GetGeometryType()) != ogr.wkbPoint:
            not_points.append(i + 1)
            continue
        x[i], y[i] = geometry.GetX(), geometry.GetY()
    if unreadable:
        raise InputError(f"unreadable geometries in {describe_rows(unreadable)}")
    if not_points:
        raise InputError(f"geometries that are not points in {describe_rows(not_points)}")
    wkt = crs if crs else table.attrs.get("crs_wkt")
    if not wkt:
        raise InputError("the points have no CRS; give it")
    return x, y, CRS.from_user_input(wkt).to_wkt()


def with_point_geometry(table, x_col, y_col, crs=None):
    """``table`` with point geometry from its x/y columns (CRS ``crs``, default WGS 84 lon/lat), so that a
    vector file written from it shows the points on a map; rows without coordinates get no geometry."""
    from osgeo import ogr

    x, y, wkt = point_coordinates(table, x_col, y_col, crs)
    out = table.copy()
    points = []
    for a, b in zip(x, y):
        point = None
        if np.isfinite(a) and np.isfinite(b):
            geometry = ogr.Geometry(ogr.wkbPoint)
            geometry.AddPoint_2D(float(a), float(b))
            point = bytes(geometry.ExportToWkb())
        points.append(point)
    out[GEOMETRY] = points
    out.attrs["crs_wkt"] = wkt
    return out

def _pixel_indices(dataset, x, y, points_wkt):
    """Column and row of every point in the raster's grid (float; NaN = no location)."""
    from osgeo import gdal
    from pyproj import CRS, Transformer

    raster_wkt = dataset.GetProjection()
    if raster_wkt:
        target = CRS.from_wkt(raster_wkt)
        transformer = Transformer.from_crs(CRS.from_wkt(points_wkt), target, always_xy=True)
        with np.errstate(invalid="ignore"):
            x, y = transformer.transform(x, y)
        geographic = target.is_geographic
    else:
        geographic = CRS.from_wkt(points_wkt).is_geographic
    inverse = gdal.InvGeoTransform(dataset.GetGeoTransform())
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)

    def to_pixel(px):
        return (inverse[0] + inverse[1] * px + inverse[2] * y, inverse[3] + inverse[4] * px + inverse[5] * y)

    col, row = to_pixel(x)
    if geographic:  # a grid in 0-360 degrees of longitude still holds points given in -180-180
        for shift in (360.0, -360.0):
            outside = (col < 0) | (col >= dataset.RasterXSize)
            shifted_col, shifted_row = to_pixel(x + shift)
            inside = outside & (shifted_col >= 0) & (shifted_col < dataset.RasterXSize)
            col, row = np.where(inside, shifted_col, col), np.where(inside, shifted_row, row)
    return col, row, bool(raster_wkt)


def _read_points(band, cols, rows):
    """Values of one band at integer pixel positions, reading each block once."""
    block_x, block_y = band.GetBlockSize()
    values = np.empty(len(cols))
    keys = pd.DataFrame({"bx": cols // block_x, "by": rows // block_y})
    for (bx, by), index in keys.groupby(["bx", "by"]).indices.items():
        x0, y0 = int(bx * block_x), int(by * block_y)
        width = min(block_x, band.XSize - x0)
        height = min(block_y, band.YSize - y0)
        block = band.ReadAsArray(x0, y0, width, height).astype(float)
        values[index] = block[rows[index] - y0, cols[index] - x0]
    return values


def sample_rasters(table, rasters, names=None, x_col=None, y_col=None, crs=None, progress=None,
                   is_cancelled=None, check_columns=None):
    """Add the value of every band of every raster at each point of ``table``.

    rasters: list of paths (any GDAL raster), or RASTER:BAND (one band, by number or description);
    names: optional, per raster a name or a list of names (one per band), see
    :func:`..rasters.band_names`: a list in the order of ``rasters`` (None = the default), or a dict
    path -> names. x_col/y_col/crs: see :func:`point_coordinates`.
    check_columns: a function of the output's column names, called before any point is sampled
    (e.g. the output format's check of field names). Returns a :class:`SampleResult`; nothing is
    dropped (problem points get NaN).
    """
    if not rasters:
        raise InputError("no raster to sample")
    if not isinstance(names, (list, tuple)):
        names = [(names or {}).get(path) for path in rasters]
    steps = as_progress(progress, is_cancelled)
    x, y, points_wkt = point_coordinates(table, x_col, y_col, crs)
    chosen = [covariate_bands(name, str(item), "raster") for item, name in zip(rasters, names)]
    taken = list(table.columns)
    for path, bands, _ in chosen:
        columns = [column for _, column in bands]
        clash = [c for c in columns if c in taken]
        if clash:
            raise InputError(f"raster {path}: column {clash[0]!r} already exists; give the raster another name")
        taken += columns
    if check_columns is not None:
        check_columns(taken)
    no_location = ~(np.isfinite(x) & np.isfinite(y))
    out = table.copy()
    problems, summary, notes = [], [], []
    for k, (path, bands, _) in enumerate(chosen):
        steps.check()
        dataset = open_raster(path)
        col, row, has_crs = _pixel_indices(dataset, np.where(no_location, 0.0, x), np.where(no_location, 0.0, y),
                                           points_wkt)
        if not has_crs:
            notes.append(f"raster {path} has no CRS; its coordinates were taken to be those of the points")
        with np.errstate(invalid="ignore"):
            inside = ~no_location & (col >= 0) & (col < dataset.RasterXSize) & (row >= 0) & (row < dataset.RasterYSize)
        icol = np.where(inside, np.floor(np.where(inside, col, 0)), 0).astype(int)
        irow = np.where(inside, np.floor(np.where(inside, row, 0)), 0).astype(int)
        for band_number, column in bands:
            band = dataset.GetRasterBand(band_number)
            values = np.full(len(table), np.nan)
            values[inside] = _read_points(band, icol[inside], irow[inside])
            nodata = band.GetNoDataValue()
            on_nodata = inside & (~np.isfinite(values) | ((values == nodata) if nodata is not None else False))
            values[on_nodata] = np.nan
            values = values * (band.GetScale() or 1.0) + (band.GetOffset() or 0.0)
            out[column] = values
            for mask, what in ((~inside & ~no_location, "outside the raster"), (on_nodata, "nodata"),
                               (no_location, "no location")):
                problems += [{"row": i + 1, "feature": column, "raster": str(path), "problem": what}
                             for i in np.flatnonzero(mask)]
            summary.append({"feature": column, "raster": str(path), "band": band_number,
                            "valid": int(np.isfinite(values).sum()), "outside": int((~inside & ~no_location).sum()),
                            "nodata": int(on_nodata.sum()), "no_location": int(no_location.sum())})
        dataset = None
        steps.update((k + 1) / len(rasters))
    return SampleResult(out, pd.DataFrame(problems, columns=["row", "feature", "raster", "problem"]),
                        pd.DataFrame(summary), notes)


def join_observations(observations, sites, on):
    """Observations (e.g. layers of profiles) with the covariates of their site added.

    sites: one row per value of ``on`` (duplicates are an error naming the key). Every
    column of ``sites`` not in ``observations`` is added; observations whose key has no
    site are an InputError naming the rows. The observations' geometry is kept.
    """
    from .screening import level_text  # scikit-learn: imported here so that sampling works without it

    for name, frame in (("observations", observations), ("sites", sites)):
        if on not in frame.columns:
            raise InputError(f"the {name} table has no column {on!r}")
    site_keys = level_text(sites[on])  # 7.0 and 7 are one key
    duplicated = site_keys.duplicated(keep=False)
    if duplicated.any():
        raise InputError(f"site key {on!r} repeats in the sites table ({describe_rows(row_numbers(duplicated))}, "
                         f"e.g. {sites.loc[duplicated, on].iloc[0]!r})")
    added = [c for c in sites.columns if c not in observations.columns and c != GEOMETRY]
    lookup = sites.set_index(site_keys)[added]
    keys = level_text(observations[on])
    unmatched = ~keys.isin(lookup.index)
    if unmatched.any():
        raise InputError(f"no site for key {on!r} = {keys[unmatched].iloc[0]!r} in "
                         f"{describe_rows(row_numbers(unmatched))} of the observations")
    joined = observations.copy()
    for column in added:
        joined[column] = lookup[column].reindex(keys).to_numpy()
    return joined
