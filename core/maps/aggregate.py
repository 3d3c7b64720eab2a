"""Aggregation of raster maps: cell areas, totals, area-weighted means, zones and latitude profiles.

METHODS §9: totals are Σ value × cell area with ellipsoidal cell areas for geographic grids,
means are area-weighted, and summaries go by zone (biome polygons or a class raster) and by
1° latitude band (the latitude profile of Luo et al.'s BNPP study, Fig. 5).

The raster is read window by window (:func:`.engine.plan_windows`, :func:`..rasters.read_window`)
and only sums per zone and band are kept, so memory does not grow with the raster's size.
Every choice a referee may ask about (areas, the border rule, the uncertainty of a total,
units) is described in docs/maps.md, "Aggregation".
"""

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, describe_rows
from ..progress import as_progress
from ..outputs import subdataset
from ..rasters import band_names, band_unit, check_aligned, open_raster, raster_info, read_window
from ..tables import cell_geometry
from .engine import DEFAULT_MEMORY_MB, plan_windows

ALL = "all"                       #: the zone (and the ``zoning``) of the whole raster
ZONES = "zones"                   #: ``zoning`` of the rows per polygon zone or raster class
LATITUDE = "latitude"             #: ``zoning`` of the rows per latitude band
M2_PER_HA = 1e4
#: Projected grids: planar cell areas further than this (relative) from the ellipsoidal areas are reported.
DISTORTION_TOLERANCE = 1e-4
#: Cells checked for the distortion of a projected grid (a SAMPLES × SAMPLES lattice).
SAMPLES = 9
#: Bands drawn in the pictures at most (the title says how many were left out).
MAX_PLOT_BANDS = 12
#: Fill values rasters use for nodata: a band that declares no nodata value and holds them gets a note.
FILL_VALUES = (-9999.0, -99999.0, -32768.0, -3.4028234663852886e38)


# 1. cell areas


def ellipsoid_cell_area(south, north, width, a, f):
    """Area (m²) of a cell bounded by two parallels and two meridians on an ellipsoid of revolution.

    south, north: latitudes (degrees, clipped to ±90); width: longitude extent (degrees);
    a: semi-major axis (m); f: flattening. Exact (the authalic-latitude integral): the area
    between the equator and latitude φ per radian of longitude is b²/2·(sin φ / (1 − e² sin² φ)
    + atanh(e sin φ) / e), b² = a²(1 − e²); a sphere (f = 0) gives a² sin φ.
    """
    e2 = f * (2.0 - f)
    e = math.sqrt(e2)

    def zone(latitude):
        s = np.sin(np.radians(np.clip(latitude, -90.0, 90.0)))
        if e == 0.0:
            return a * a * s
        return a * a * (1.0 - e2) / 2.0 * (s / (1.0 - e2 * s * s) + np.arctanh(e * s) / e)

    return np.abs(np.radians(width) * (zone(north) - zone(south)))


def _crs(info):
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if not info.crs_wkt:
        raise InputError(f"raster {info.path} has no CRS: cell areas need one (assign it, e.g. gdal_edit.py -a_srs)")
    try:
        return CRS.from_wkt(info.crs_wkt)
    except CRSError as error:
        raise InputError(f"raster {info.path}: cannot read its CRS ({error})") from None


class GridCells:
    """Cell areas (ha) and cell-centre latitudes (degrees) of a raster grid.

    Geographic grids: the exact ellipsoidal area of each cell on the CRS's own ellipsoid
    (:func:`ellipsoid_cell_area`; all cells of a row share it). Projected grids: the planar
    area |dx·dy| in m²; ``notes`` says how far that is from the ellipsoidal area when the
    projection is not equal-area (checked at a lattice of cells).
    """

    def __init__(self, info):
        gt = info.geotransform
        if gt[2] != 0.0 or gt[4] != 0.0:
            raise InputError(f"raster {info.path} has a rotated grid: warp it to a north-up grid first")
        self.geotransform = gt
        self.crs = _crs(info)
        self.geod = self.crs.get_geod()
        if self.geod is None:
            raise InputError(f"raster {info.path}: its CRS has no ellipsoid, so cell areas are unknown")
        self.geographic = self.crs.is_geographic
        self.notes = []
        if self.geographic:
            self.degrees = math.degrees(self.crs.axis_info[0].unit_conversion_factor)  # degrees per CRS unit
            self.transformer = None
        else:
            from pyproj import Transformer

            metres = self.crs.axis_info[0].unit_conversion_factor
            self.planar_ha = abs(gt[1] * gt[5]) * metres * metres / M2_PER_HA
            self.transformer = Transformer.from_crs(self.crs, self.crs.geodetic_crs, always_xy=True)
            self.notes += self._distortion(info)

    def _corners(self, x, y):
        """x, y of cell corners (grid column, row) in CRS units."""
        gt = self.geotransform
        return gt[0] + x * gt[1], gt[3] + y * gt[5]

    def _distortion(self, info):
        """A note when planar areas differ from the ellipsoidal areas of a lattice of cells."""
        ratios = []
        steps = np.linspace(0.0, 1.0, 5)[:-1]  # 4 points per cell edge
        edge_x = np.concatenate([steps, np.ones(4), 1.0 - steps, np.zeros(4)])
        edge_y = np.concatenate([np.zeros(4), steps, np.ones(4), 1.0 - steps])
        for col in np.linspace(0, info.width - 1, SAMPLES).round():
            for row in np.linspace(0, info.height - 1, SAMPLES).round():
                lon, lat = self.transformer.transform(*self._corners(col + edge_x, row + edge_y))
                if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
                    continue
                area, _ = self.geod.polygon_area_perimeter(lon, lat)
                if area != 0.0:
                    ratios.append(self.planar_ha * M2_PER_HA / abs(area))
        if not ratios or max(abs(r - 1.0) for r in ratios) <= DISTORTION_TOLERANCE:
            return []
        return [f"{info.path}: its CRS ({self.crs.name}) is not equal-area: planar cell areas differ from the "
                f"ellipsoidal areas by {100 * (min(ratios) - 1):+.3g} % to {100 * (max(ratios) - 1):+.3g} % at "
                f"{len(ratios)} cells checked, and totals and means carry that error; warp the map to an "
                f"equal-area CRS (e.g. EPSG:6933) or a geographic grid for exact areas"]

    def areas(self, window):
        """Cell areas (ha) of a window (x, y, cols, rows), shape (rows, cols)."""
        x, y, cols, rows = window
        if not self.geographic:
            return np.full((rows, cols), self.planar_ha)
        _, top = self._corners(0, y + np.arange(rows))
        _, bottom = self._corners(0, y + np.arange(1, rows + 1))
        width = abs(self.geotransform[1]) * self.degrees
        row_areas = ellipsoid_cell_area(bottom * self.degrees, top * self.degrees, width, self.geod.a,
                                        self.geod.f) / M2_PER_HA
        return np.broadcast_to(row_areas[:, None], (rows, cols))

    def latitudes(self, window):
        """Cell-centre latitudes (degrees) of a window, shape (rows, cols)."""
        x, y, cols, rows = window
        if self.geographic:
            _, centre = self._corners(0, y + np.arange(rows) + 0.5)
            return np.broadcast_to((centre * self.degrees)[:, None], (rows, cols))
        column, row = np.meshgrid(x + np.arange(cols) + 0.5, y + np.arange(rows) + 0.5)
        _, latitude = self.transformer.transform(*self._corners(column, row))
        return np.asarray(latitude)


# 2. units


_MASS_PG = {"mg": 1e-18, "g": 1e-15, "kg": 1e-12, "Mg": 1e-9, "t": 1e-9, "Gg": 1e-6, "Tg": 1e-3, "Pg": 1.0}
#: (area unit, power) -> the factor from value × area in ha to value × area in that unit.
_PER_AREA = {("ha", -1): 1.0, ("m", -2): M2_PER_HA, ("km", -2): 1e-2}
_TOKEN = re.compile(r"^(?P<base>[A-Za-z]+?)(?P<power>-?\d+)?$")
_GLUED_MASS = re.compile(r"^(mg|g|kg|Mg|t|Gg|Tg|Pg)(C|N)$")  # "MgC", "gC"


@dataclass(frozen=True)
class TotalUnit:
    """Units of a band's mean and sd (``unit``), of its total = value × area in ha (``total``) and,
    when the unit is a mass per area, of ``total_pg`` (``pg``, with ``pg_factor`` = total_pg / total)."""

    unit: str
    total: str
    pg: str = ""
    pg_factor: float = float("nan")


def total_unit(unit):
    """How the total of a band in ``unit`` is expressed (:class:`TotalUnit`).

    A unit made of one mass (mg, g, kg, Mg or t, Gg, Tg, Pg), one area denominator (ha-1,
    m-2, km-2) and other tokens (element, time: "C", "yr-1") allows Pg: "Mg C ha-1 yr-1" totals
    in "Mg C yr-1" and "Pg C yr-1"; "g C m-2 yr-1" in "10000 g C yr-1" (g m-2 × ha = 10⁴ g) and "Pg C yr-1".
    Superscripts (ha⁻¹), carets (m^-2) and slashes (Mg/ha/yr) are understood.
    """
    unit = (unit or "").strip()
    if not unit:
        return TotalUnit("", "ha × (no unit)")
    text = unit.translate(str.maketrans("⁻¹²³", "-123")).replace("^", "").replace("·", " ").replace("*", " ")
    text = re.sub(r"/\s*", " /", text)
    mass, per_area, rest = [], [], []
    for token in text.split():
        inverse = token.startswith("/")
        token = token.lstrip("/")
        glued = _GLUED_MASS.match(token)
        if glued:
            mass.append(glued.group(1))
            rest.append(glued.group(2))
            continue
        match = _TOKEN.match(token)
        if match is None:
            rest.append(token)
            continue
        base, power = match.group("base"), int(match.group("power") or 1)
        if inverse:
            power = -power
        if base in _MASS_PG and power == 1:
            mass.append(base)
        elif (base, power) in _PER_AREA:
            per_area.append((base, power))
        else:
            rest.append(f"{base}{power}" if power != 1 else base)
    if len(mass) != 1 or len(per_area) != 1:
        return TotalUnit(unit, "ha" if unit == "1" else f"{unit} × ha")
    kept = " ".join(rest)
    factor = _PER_AREA[per_area[0]]
    total = " ".join(([] if factor == 1.0 else [f"{factor:g}"]) + [mass[0]] + rest)
    return TotalUnit(unit, total, f"Pg {kept}".strip(), _MASS_PG[mass[0]] * factor)


#: Bands whose sum over cells means nothing: spreads, ratios, indices, classes and times.
_NOT_ADDITIVE_NAME = re.compile(r"(_(sd|cv|utotal|di|aoa|class|lower|upper)$|(^|_)fraction(_|$)|^tau(_|$))")
#: Per-pixel interval bounds (predict-raster, Monte Carlo maps), which get a note of their own.
_BOUND_NAME = re.compile(r"_(lower|upper)$")
#: Class codes (predict-raster's ``_class`` bands): names, not amounts, so neither summed nor averaged.
_CLASS_NAME = re.compile(r"_class$")
_TIME_UNITS = {"yr", "year", "years", "a", "d", "day", "days"}


def is_additive(name, unit):
    """Whether value × area summed over cells is a total (a stock or flux per area, a count, a share of
    area): not for sd, cv, U_total, DI, AOA, class, fraction, τ or interval-bound (lower, upper) bands,
    nor for bands in time units."""
    return _NOT_ADDITIVE_NAME.search(name or "") is None and (unit or "").strip() not in _TIME_UNITS


# 3. sums per zone and band


class _Sums:
    """Per (zone, band) sums, merged window by window (the pairwise update of Chan, Golub & LeVeque, 1979).

    count; area (ha); value_area = Σ area·x; m2 = Σ area·(x − mean)²; var_independent =
    Σ (area·sd)²; sd_correlated = Σ area·sd (sd from the band's sd band). ``index``: zone key -> row.
    """

    FIELDS = ("count", "area", "value_area", "m2", "var_independent", "sd_correlated")

    def __init__(self, n_bands):
        self.n_bands = n_bands
        self.index = {}
        self.data = {name: np.zeros((0, n_bands)) for name in self.FIELDS}

    def rows(self, keys):
        """Row numbers of ``keys`` (new zones get new rows)."""
        new = [k for k in keys if k not in self.index]
        for key in new:
            self.index[key] = len(self.index)
        if new:
            for name in self.FIELDS:
                self.data[name] = np.vstack([self.data[name], np.zeros((len(new), self.n_bands))])
        return np.array([self.index[k] for k in keys], dtype=np.int64)

    def add(self, rows, band, count, area, value_area, m2, var_independent, sd_correlated):
        """Merge one window's sums of ``band`` for the zones at ``rows``."""
        d = self.data
        old_area, old_mean = d["area"][rows, band], _ratio(d["value_area"][rows, band], d["area"][rows, band])
        total = old_area + area
        d["m2"][rows, band] += m2 + (_ratio(value_area, area) - old_mean) ** 2 * _ratio(old_area * area, total)
        d["count"][rows, band] += count
        d["area"][rows, band] = total
        d["value_area"][rows, band] += value_area
        d["var_independent"][rows, band] += var_independent
        d["sd_correlated"][rows, band] += sd_correlated


def _ratio(numerator, denominator):
    return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), 0.0)


class _BandTerms:
    """One band of a window, flat, with nodata cells given zero weight: valid (1/0), area, area·x, x (0 where
    nodata) and, with an sd band, area·sd (0 where either is nodata)."""

    def __init__(self, x, sd, areas):
        valid = ~np.isnan(x)
        self.valid = valid.astype(np.float64)
        self.area = np.where(valid, areas, 0.0)
        self.x = np.where(valid, x, 0.0)
        self.value_area = self.area * self.x
        self.sd_area = None if sd is None else np.where(np.isnan(sd), 0.0, self.area * sd)


def _zone_bins(keys):
    """(bin of each cell, bins in use, their zone keys) for the zone keys of a window (flat floats, NaN = in
    no zone, which goes to the last bin). Whole-number keys are their own bins (offset by the smallest);
    other keys are numbered by np.unique. Bins are None when every cell is in one zone."""
    inside = ~np.isnan(keys)
    present = keys[inside]
    if present.size == 0:
        return None, None, []
    low, high = present.min(), present.max()
    if low == high and present.size == keys.size:
        return None, None, [low]
    if high - low < 2 ** 16 and np.array_equal(present, np.floor(present)):
        bins = np.where(inside, keys - low, high - low + 1).astype(np.int64)
        used = np.flatnonzero(np.bincount(bins, minlength=int(high - low) + 2)[:-1])
        return bins, used, (low + used).tolist()
    zone_keys, inverse = np.unique(present, return_inverse=True)
    bins = np.full(keys.shape, len(zone_keys), dtype=np.int64)
    bins[inside] = inverse
    return bins, np.arange(len(zone_keys)), zone_keys.tolist()


def _add_window(sums, keys, bands):
    """Add a window to ``sums``: zone keys (flat floats, NaN = in no zone) and a :class:`_BandTerms` per band."""
    bins, used, zone_keys = _zone_bins(keys)
    if not zone_keys:
        return
    rows = sums.rows(zone_keys)
    if bins is None:  # one zone: plain sums
        def per_bin(weights):
            return np.array([weights.sum()])

        def at_cells(per_zone):
            return per_zone[0]
        used = [0]
    else:
        n = int(bins.max()) + 1

        def per_bin(weights):
            return np.bincount(bins, weights, n)

        def at_cells(per_zone):
            return per_zone[bins]

    for band, terms in enumerate(bands):
        area, value_area = per_bin(terms.area), per_bin(terms.value_area)
        m2 = per_bin(terms.area * (terms.x - at_cells(_ratio(value_area, area))) ** 2)[used]
        var_independent = sd_correlated = np.zeros(len(used))
        if terms.sd_area is not None:
            var_independent, sd_correlated = per_bin(terms.sd_area ** 2)[used], per_bin(terms.sd_area)[used]
        sums.add(rows, band, per_bin(terms.valid)[used], area[used], value_area[used], m2, var_independent,
                 sd_correlated)


# 4. zones


def _class_label(value):
    """A class raster's value as a zone label: whole numbers without decimals."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"


def _sort_key(label):
    try:
        return 0, float(label), str(label)
    except ValueError:
        return 1, 0.0, str(label)


class _PolygonZones:
    """Polygons of a table (WKB ``geometry``, CRS in ``attrs['crs_wkt']``) burnt into each window.

    Border rule: a cell belongs to the polygon that contains its centre (GDAL's default
    rasterisation); where polygons overlap, the later feature wins. Features of equal
    ``field`` value form one zone. Zone keys are codes 1, 2, ... of the sorted labels.
    """

    def __init__(self, table, field, grid, notes):
        from osgeo import gdal, ogr, osr

        gdal.UseExceptions()
        if "geometry" not in table.columns:
            raise InputError("the zone layer has no geometry: give polygons (GeoPackage, Shapefile, GeoJSON...)")
        if field is None:
            raise InputError("give the zone field of the zone polygons (--zone-field)")
        if field not in table.columns:
            raise InputError(f"the zone polygons have no field {field!r} (they have: "
                             f"{', '.join(str(c) for c in table.columns if c != 'geometry')})")
        self.grid, self.gdal = grid, gdal
        target = osr.SpatialReference()
        target.ImportFromWkt(grid.crs_wkt)
        target.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        transform = None
        if table.attrs.get("crs_wkt"):
            source = osr.SpatialReference()
            source.ImportFromWkt(table.attrs["crs_wkt"])
            source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            if not source.IsSame(target):
                transform = osr.CoordinateTransformation(source, target)
        else:
            notes.append("the zone polygons have no CRS: taken to be in the raster's CRS")
        labels = [None if pd.isna(v) else _class_label(v) if isinstance(v, (float, np.floating)) else str(v)
                  for v in table[field]]
        unusable = [row for row, (label, shape) in enumerate(zip(labels, table["geometry"]), start=1)
                    if label is None or shape is None]
        if unusable:
            notes.append(f"zone polygons without a {field} value or a geometry are left out: "
                         f"{describe_rows(unusable)}")
        self.labels = sorted({label for label in labels if label is not None}, key=_sort_key)
        codes = {label: code for code, label in enumerate(self.labels, start=1)}
        self.source = ogr.GetDriverByName("Memory").CreateDataSource("zones")
        self.layer = self.source.CreateLayer("zones", target, ogr.wkbMultiPolygon)
        self.layer.CreateField(ogr.FieldDefn("code", ogr.OFTInteger))
        not_polygons = []
        for row, (shape, label) in enumerate(zip(table["geometry"], labels), start=1):
            if label is None or shape is None:
                continue
            try:
                geometry = cell_geometry(shape)
            except RuntimeError:
                geometry = None
            if geometry is None or ogr.GT_Flatten(geometry.GetGeometryType()) not in (ogr.wkbPolygon,
                                                                                      ogr.wkbMultiPolygon):
                not_polygons.append(row)
                continue
            if transform is not None:
                geometry.Transform(transform)
            feature = ogr.Feature(self.layer.GetLayerDefn())
            feature.SetField("code", codes[label])
            feature.SetGeometry(geometry)
            self.layer.CreateFeature(feature)
        if not_polygons:
            raise InputError(f"zones must be polygons; features that are not (or unreadable): "
                             f"{describe_rows(not_polygons)}")

    def label(self, key):
        return self.labels[int(key) - 1]

    def keys(self, window):
        """Zone codes of a window's cells (float, NaN outside every polygon)."""
        x, y, cols, rows = window
        gt = self.grid.geotransform
        left, top = gt[0] + x * gt[1], gt[3] + y * gt[5]
        xs, ys = sorted((left, left + cols * gt[1])), sorted((top, top + rows * gt[5]))
        target = self.gdal.GetDriverByName("MEM").Create("", cols, rows, 1, self.gdal.GDT_Int32)
        target.SetGeoTransform((left, gt[1], 0.0, top, 0.0, gt[5]))
        target.SetProjection(self.grid.crs_wkt)
        self.layer.SetSpatialFilterRect(xs[0], ys[0], xs[1], ys[1])
        self.gdal.RasterizeLayer(target, [1], self.layer, options=["ATTRIBUTE=code"])
        self.layer.SetSpatialFilter(None)
        codes = target.ReadAsArray().astype(np.float64)
        target = None
        codes[codes == 0] = np.nan
        return codes


def _latitude_band(latitudes, degrees):
    """Index of the latitude band (``degrees`` wide, from 90° S) of each latitude (NaN stays NaN)."""
    count = math.ceil(180.0 / degrees - 1e-9)
    return np.clip(np.floor((latitudes + 90.0) / degrees), 0, count - 1)


def _latitude_columns(key, degrees):
    south = round(-90.0 + key * degrees, 9)
    north = round(min(south + degrees, 90.0), 9)
    return {"zone": f"{south:g} to {north:g}", "lat_min": south, "lat_max": north}


# 5. bands


def _band_names(dataset, raster):
    """Band descriptions, else band_<n>; a one-band table or variable of a file holding several rasters is named by
    it (GPKG:x.gpkg:bnpp is bnpp, where GDAL describes the band as 'Height')."""
    if dataset.RasterCount == 1 and subdataset(raster):
        return [band_names(raster)[0]]
    return [dataset.GetRasterBand(i + 1).GetDescription() or f"band_{i + 1}" for i in range(dataset.RasterCount)]


def _band_numbers(names, bands, option="bands"):
    """1-based numbers of bands given by name or number."""
    chosen = []
    for item in bands:
        text = str(item).strip()
        if text in names:
            chosen.append(names.index(text) + 1)
        elif text.isdigit() and 1 <= int(text) <= len(names):
            chosen.append(int(text))
        else:
            raise InputError(f"{option}: the raster has no band {text!r} (it has: {', '.join(names)})")
    return list(dict.fromkeys(chosen))


def sd_band_pairs(names, sd_bands=None):
    """{value band number: sd band number}: ``<name>_sd`` goes with ``<name>_mean`` (what predict-raster
    writes) or else ``<name>``; ``sd_bands`` ({value band: sd band}, names or numbers) adds or overrides pairs."""
    pairs = {}
    for number, name in enumerate(names, start=1):
        stem = name[:-3] if name.endswith("_sd") else None
        value = next((v for v in (f"{stem}_mean", stem) if stem and v in names), None)
        if value is not None:
            pairs[names.index(value) + 1] = number
    for value, sd in (sd_bands or {}).items():
        value_number, sd_number = (_band_numbers(names, [band], "sd bands")[0] for band in (value, sd))
        if value_number == sd_number:
            raise InputError(f"sd bands: {value}={sd} gives band {names[value_number - 1]} as its own sd; give the "
                             "band that holds its sd")
        pairs[value_number] = sd_number
    return pairs


def _units(dataset, names, numbers, units, band_units):
    """{band number: unit}: ``band_units`` ({band: unit}), else the unit the band records, else ``units``."""
    given = {_band_numbers(names, [band], "units")[0]: unit for band, unit in (band_units or {}).items()}
    return {number: given.get(number) or band_unit(dataset.GetRasterBand(number)) or units or ""
            for number in numbers}


# 6. the run


def aggregate_raster(raster, bands=None, zones=None, zone_field=None, zone_raster=None, latitude_bands=None,
                     units=None, band_units=None, sd_bands=None, block=None, memory_mb=DEFAULT_MEMORY_MB,
                     progress=None, is_cancelled=None):
    """Count, area, area-weighted mean and sd, and total of raster bands, overall and per zone.

    raster: path of a single- or multi-band raster (nodata cells are left out, band by band).
    bands: band names or 1-based numbers (default all). zones: a table with polygon
    ``geometry`` (WKB, CRS in ``attrs['crs_wkt']``, as :func:`..tables.read_table` gives)
    and ``zone_field``; or zone_raster: a class raster on the same grid. latitude_bands:
    width (degrees) of the bands of cell-centre latitude, e.g. 1. units: the unit of bands
    without ``units`` metadata; band_units: {band: unit} over the metadata. sd_bands:
    {value band: sd band}, added to the ``<name>_sd`` convention (:func:`sd_band_pairs`).
    block: window size in pixels (default from ``memory_mb``).

    Returns (table, notes). One row per zoning (``all``, ``zones``, ``latitude``), zone and
    band: zone, band, unit, count (valid cells), area_ha, mean (area-weighted), sd
    (area-weighted spread across cells), total (Σ value × area in ha), total_unit; with an
    sd band, total_sd_independent (√Σ (sd·area)², independent cell errors) and
    total_sd_correlated (Σ sd·area, fully correlated errors); total_pg (and its sds) and
    total_pg_unit where the unit is a mass per area; lat_min and lat_max of latitude bands.
    """
    if zones is not None and zone_raster is not None:
        raise InputError("give zone polygons or a zone raster, not both")
    if latitude_bands is not None and not 0 < float(latitude_bands) <= 180:
        raise InputError(f"latitude bands of {latitude_bands} degrees: give a width above 0 and at most 180")
    info = raster_info(raster)
    cells = GridCells(info)
    dataset = open_raster(raster)
    names = _band_names(dataset, raster)
    chosen = _band_numbers(names, bands) if bands else list(range(1, len(names) + 1))
    pairs = {v: s for v, s in sd_band_pairs(names, sd_bands).items() if v in chosen}
    read = list(dict.fromkeys(chosen + list(pairs.values())))
    unit_of = _units(dataset, names, chosen, units, band_units)
    notes = list(cells.notes)
    if units and all(band_unit(dataset.GetRasterBand(b)) for b in chosen):
        notes.append(f"units {units!r} not used: every band records its unit (give BAND=UNIT to override)")
    blocks = [tuple(dataset.GetRasterBand(1).GetBlockSize())]
    zoning = {ALL: (_Sums(len(chosen)), lambda key: {"zone": ALL})}
    polygons = classes = None
    if zones is not None:
        polygons = _PolygonZones(zones, zone_field, info, notes)
        zoning[ZONES] = (_Sums(len(chosen)), lambda key: {"zone": polygons.label(key)})
    if zone_raster is not None:
        check_aligned({str(raster): info, str(zone_raster): raster_info(zone_raster)})
        classes = open_raster(zone_raster)
        blocks.append(tuple(classes.GetRasterBand(1).GetBlockSize()))
        zoning[ZONES] = (_Sums(len(chosen)), lambda key: {"zone": _class_label(key)})
    if latitude_bands is not None:
        zoning[LATITUDE] = (_Sums(len(chosen)), lambda key: _latitude_columns(key, float(latitude_bands)))
    per_pixel = 8 * (6 * len(read) + len(zoning) + 6)  # measured: 82 bytes for 1 band, 185 for 3 bands, 3 zonings
    windows = plan_windows(info.width, info.height, blocks, per_pixel, memory_mb, in_flight=1, block=block)
    steps = as_progress(progress, is_cancelled)
    missing_sd = dict.fromkeys(pairs, 0)
    fills = {b: 0 for b in chosen if dataset.GetRasterBand(b).GetNoDataValue() is None}
    for done, window in enumerate(windows, start=1):
        values = dict(zip(read, read_window(dataset, window, read)))
        for b in fills:
            fills[b] += int(np.isin(values[b], FILL_VALUES).sum())
        areas = cells.areas(window).ravel()
        terms = [_BandTerms(values[b].ravel(), values[pairs[b]].ravel() if b in pairs else None, areas)
                 for b in chosen]
        for b in pairs:
            missing_sd[b] += int(np.sum(~np.isnan(values[b]) & np.isnan(values[pairs[b]])))
        window_keys = {ALL: np.zeros(areas.size)}
        if polygons is not None:
            window_keys[ZONES] = polygons.keys(window)
        if classes is not None:
            window_keys[ZONES] = read_window(classes, window)[0]
        if latitude_bands is not None:
            window_keys[LATITUDE] = _latitude_band(cells.latitudes(window), float(latitude_bands))
        for name, keys in window_keys.items():
            _add_window(zoning[name][0], np.asarray(keys, dtype=np.float64).ravel(), terms)
        steps.update(done / len(windows))
    dataset = classes = None
    for b, count in missing_sd.items():
        if count:
            notes.append(f"band {names[b - 1]}: {count} cells have a value but no sd ({names[pairs[b] - 1]}); "
                         "the uncertainty of its totals leaves them out")
    fill_text = ", ".join(f"{value:g}" for value in FILL_VALUES)
    notes += [f"band {names[b - 1]}: {count} cells hold a value rasters use for nodata ({fill_text}) but the raster "
              f"declares no nodata value, so they count as data; if they are nodata, declare it "
              f"(gdal_edit.py -a_nodata VALUE {raster})" for b, count in fills.items() if count]
    if polygons is not None:
        found = {polygons.label(key) for key in zoning[ZONES][0].index}
        empty = [label for label in polygons.labels if label not in found]
        if empty:
            notes.append(f"zones that hold no cell centre of the raster: {', '.join(empty)}")
    notes += [f"band {names[b - 1]} has no unit (band metadata 'units' or the units option): its totals are "
              "value × area in ha" for b in chosen if not unit_of[b]]
    bands_out = [(names[b - 1], total_unit(unit_of[b]), b in pairs) for b in chosen]
    partners = {names[s - 1] for s in pairs.values()}  # sd bands of a mean band: their role goes without saying
    skipped = [name for name, kind, _ in bands_out if not is_additive(name, kind.unit) and name not in partners]
    bounds = [name for name in skipped if _BOUND_NAME.search(name)]
    if bounds:
        notes.append(f"no totals for {', '.join(bounds)}: sums of per-pixel interval bounds are not an interval of "
                     "the total; use total_sd_independent and total_sd_correlated of the mean band (with its sd band)")
    codes = [name for name in skipped if _CLASS_NAME.search(name)]
    if codes:
        notes.append(f"{', '.join(codes)}: class codes are names, not amounts: count and area only (no total, mean "
                     "or sd); the area of each class is the total of its _p_<class> band (expected) or, by zone, "
                     "--zone-raster with the class band in a raster of its own")
    skipped = [name for name in skipped if name not in bounds + codes]
    if skipped:
        notes.append(f"no totals for {', '.join(skipped)}: their sum over cells means nothing (a spread, ratio, "
                     "index, class or time); their mean and sd are given")
    return _table(zoning, bands_out), notes


COLUMNS = ("zoning", "zone", "band", "unit", "count", "area_ha", "mean", "sd", "total", "total_unit",
           "total_sd_independent", "total_sd_correlated", "total_pg", "total_pg_sd_independent",
           "total_pg_sd_correlated", "total_pg_unit", "lat_min", "lat_max")


def _table(zoning, bands):
    """The output rows (see :func:`aggregate_raster`); bands: (name, TotalUnit, has an sd band)."""
    records = []
    for name, (sums, describe) in zoning.items():
        for key in sorted(sums.index):
            row = sums.index[key]
            for band, (label, kind, has_sd) in enumerate(bands):
                d = {field: sums.data[field][row, band] for field in _Sums.FIELDS}
                area = d["area"]
                record = {"zoning": name, **describe(key), "band": label, "unit": kind.unit, "count": int(d["count"]),
                          "area_ha": area, "mean": d["value_area"] / area if area > 0 else np.nan,
                          "sd": math.sqrt(d["m2"] / area) if area > 0 else np.nan,
                          "total": d["value_area"] if d["count"] > 0 else np.nan,  # no valid cell: unknown, not 0
                          "total_unit": kind.total}
                if _CLASS_NAME.search(label):
                    record.update(mean=np.nan, sd=np.nan)
                if not is_additive(label, kind.unit):
                    record.update(total=np.nan, total_unit="")
                    records.append(record)
                    continue
                if has_sd and d["count"] > 0:
                    record.update(total_sd_independent=math.sqrt(d["var_independent"]),
                                  total_sd_correlated=d["sd_correlated"])
                if not math.isnan(kind.pg_factor):
                    record.update({f"total_pg{suffix}": record[f"total{suffix}"] * kind.pg_factor
                                   for suffix in ("", "_sd_independent", "_sd_correlated")
                                   if f"total{suffix}" in record}, total_pg_unit=kind.pg)
                records.append(record)
    table = pd.DataFrame.from_records(records)
    return table[[c for c in COLUMNS if c in table.columns]]


# 7. pictures


def _plotted_bands(table):
    """Bands to draw: those with an sd band when some have one (not the sd, cv... bands), else all."""
    with_sd = table["total_sd_independent"].notna() if "total_sd_independent" in table else None
    bands = list(dict.fromkeys(table.loc[with_sd, "band"] if with_sd is not None and with_sd.any()
                               else table["band"]))
    return bands[:MAX_PLOT_BANDS], len(bands)


def _axis_unit(rows, bands, column):
    """(axis label unit, legend labels): the common unit, else each band's unit in the legend."""
    units = {band: rows.loc[rows["band"] == band, column].iloc[0] for band in bands}
    if len(set(units.values())) == 1:
        return next(iter(units.values())), {band: band for band in bands}
    return "units in the legend", {band: f"{band} ({unit})" for band, unit in units.items()}


def _total_column(rows, bands):
    """The total to draw: total_pg when every drawn band has it, else total; with its unit column."""
    if "total_pg" in rows and rows.loc[rows["band"].isin(bands), "total_pg"].notna().all():
        return "total_pg", "total_pg_unit"
    return "total", "total_unit"


def aggregation_figure(table, title="Aggregation"):
    """The latitude profile (area-weighted mean and total per latitude band) and the zone table
    (mean ± spread across cells, total ± its uncertainty with fully correlated cell errors) as bars.

    table: the result of :func:`aggregate_raster`. Without zones the whole raster is the one zone.
    """
    from ..plots import new_figure, series_colours

    bands, n_bands = _plotted_bands(table)
    zone_kind = ZONES if (table["zoning"] == ZONES).any() else ALL
    kinds = [zone_kind] + ([LATITUDE] if (table["zoning"] == LATITUDE).any() else [])
    figure, axes = new_figure(11.0, 4.5 * len(kinds), ncols=2, nrows=len(kinds))
    axes = np.atleast_2d(axes)
    colours = dict(zip(bands, series_colours(len(bands))))
    for (mean_axes, total_axes), kind in zip(axes, kinds):
        rows = table[(table["zoning"] == kind) & table["band"].isin(bands)]
        unit, labels = _axis_unit(rows, bands, "unit")
        total, total_unit_column = _total_column(rows, bands)
        total_unit_text, total_labels = _axis_unit(rows, bands, total_unit_column)
        spread = f"{total}_sd_correlated"
        if kind == LATITUDE:
            for band in bands:
                band_rows = rows[rows["band"] == band]
                centre = (band_rows["lat_min"] + band_rows["lat_max"]) / 2
                mean_axes.plot(band_rows["mean"], centre, "-", color=colours[band], label=labels[band])
                total_axes.plot(band_rows[total], centre, "-", color=colours[band], label=total_labels[band])
                if spread in band_rows:  # the area-weighted mean of the sd band, and the total's correlated sd
                    half = band_rows["total_sd_correlated"] / band_rows["area_ha"]
                    mean_axes.fill_betweenx(centre, band_rows["mean"] - half, band_rows["mean"] + half,
                                            color=colours[band], alpha=0.2, linewidth=0)
                    total_axes.fill_betweenx(centre, band_rows[total] - band_rows[spread],
                                             band_rows[total] + band_rows[spread], color=colours[band], alpha=0.2,
                                             linewidth=0)
            for ax in (mean_axes, total_axes):
                ax.set_ylabel("latitude (degrees, band centre)")
                ax.axhline(0.0, color="#999", linewidth=0.6)
            mean_axes.set_xlabel(f"area-weighted mean ({unit})" + (" ± mean sd" if spread in rows else ""))
            total_axes.set_xlabel(f"total per latitude band ({total_unit_text})" + (" ± sd, correlated errors"
                                                                                    if spread in rows else ""))
            mean_axes.set_title("Latitude profile")
        else:
            zones = list(dict.fromkeys(rows["zone"]))
            height = 0.8 / len(bands)
            for i, band in enumerate(bands):
                band_rows = rows[rows["band"] == band].set_index("zone").reindex(zones)
                position = np.arange(len(zones)) + i * height
                mean_axes.barh(position, band_rows["mean"], height=height, xerr=band_rows["sd"],
                               color=colours[band], label=labels[band], error_kw={"elinewidth": 0.8})
                total_axes.barh(position, band_rows[total], height=height, color=colours[band],
                                xerr=band_rows[spread] if spread in band_rows else None, label=total_labels[band],
                                error_kw={"elinewidth": 0.8})
            for ax in (mean_axes, total_axes):
                ax.set_yticks(np.arange(len(zones)) + 0.4 - height / 2)
                ax.set_yticklabels([str(z) for z in zones], fontsize="small")
                ax.invert_yaxis()
            mean_axes.set_xlabel(f"area-weighted mean ({unit}) ± sd across cells")
            total_axes.set_xlabel(f"total ({total_unit_text})" + (" ± sd, correlated errors" if spread in rows
                                                                  else ""))
            mean_axes.set_title("Zones" if kind == ZONES else "Whole map")
        for ax in (mean_axes, total_axes):
            ax.grid(alpha=0.3)
        if len(bands) > 1 or unit == "units in the legend":
            mean_axes.legend(fontsize="small")
    figure.suptitle(title + (f" (first {len(bands)} of {n_bands} bands)" if n_bands > len(bands) else ""))
    return figure
