"""Aggregation of maps (core.maps.aggregate, `wholesoil aggregate`, wholesoil:aggregateraster).

Cell areas are checked against pyproj's geodesic polygon areas (an independent computation),
zone statistics against hand computations, and the window-by-window run against a
whole-array computation on the bundled Americas rasters.
"""

import math
import tracemalloc

import numpy as np
import pandas as pd
import pyproj
import pytest
from osgeo import gdal, ogr, osr

from rasters_util import write_raster
from wholesoil.core.cli import main
from wholesoil.core.maps.aggregate import aggregate_raster, aggregation_figure, ellipsoid_cell_area, total_unit
from wholesoil.core.rasters import read_raster

WGS84 = pyproj.Geod(ellps="WGS84")
BIOMES = "covariates/dismo_biome_americas_0p5deg.asc"


def pyproj_cell_area(west, south, east, north, geod=WGS84, points=2000):
    """Area (m²) of a longitude-latitude cell from pyproj: a geodesic polygon whose parallels are
    densified, so that its edges follow them."""
    lon = np.concatenate([np.linspace(west, east, points), np.linspace(east, west, points)])
    lat = np.concatenate([np.full(points, float(south)), np.full(points, float(north))])
    return abs(geod.polygon_area_perimeter(lon, lat)[0])


def rows_of(table, zoning, band=None):
    rows = table[table["zoning"] == zoning]
    return rows if band is None else rows[rows["band"] == band]


# 1. cell areas


@pytest.mark.parametrize("south", [0.0, 60.0])
@pytest.mark.parametrize("ellipsoid", ["WGS84", "GRS80", "sphere"])
def test_one_degree_cell_area_matches_pyproj_polygon_area(south, ellipsoid):
    geod = pyproj.Geod(a=6371007.181, f=0.0) if ellipsoid == "sphere" else pyproj.Geod(ellps=ellipsoid)
    ours = ellipsoid_cell_area(south, south + 1.0, 1.0, geod.a, geod.f)
    assert ours == pytest.approx(pyproj_cell_area(0.0, south, 1.0, south + 1.0, geod), rel=1e-9)


def test_cells_of_a_geographic_raster_take_the_area_of_their_row(tmp_path):
    """A 1° raster from the equator to 61° N: the cells of 0-1° and 60-61° total their pyproj areas."""
    path = write_raster(tmp_path / "ones.tif", np.ones((61, 3)), origin=(10.0, 61.0), pixel=1.0)
    table, _ = aggregate_raster(path, latitude_bands=1.0, units="Mg ha-1")
    bands = rows_of(table, "latitude").set_index("lat_min")
    for south in (0.0, 60.0):
        assert bands.loc[south, "area_ha"] == pytest.approx(3 * pyproj_cell_area(10, south, 11, south + 1) / 1e4,
                                                            rel=1e-9)
        assert bands.loc[south, "count"] == 3


def test_global_grid_cell_areas_sum_to_the_earth_surface(tmp_path):
    """Sum of every cell of a global 0.5° grid = 8 × pyproj's area of the geodesic octant triangle
    (equator and two meridians 90° apart) = the ellipsoid's closed-form surface area."""
    path = write_raster(tmp_path / "globe.tif", np.ones((360, 720)), origin=(-180.0, 90.0), pixel=0.5)
    table, notes = aggregate_raster(path, latitude_bands=1.0, units="Mg ha-1", block=100)
    octants = 8 * WGS84.polygon_area_perimeter([0.0, 90.0, 0.0], [0.0, 0.0, 90.0])[0]
    e = math.sqrt(WGS84.es)
    closed_form = 2 * math.pi * WGS84.a ** 2 * (1 + (1 - WGS84.es) / e * math.atanh(e))
    assert octants == pytest.approx(closed_form, rel=1e-12)
    whole = rows_of(table, "all").iloc[0]
    assert whole["area_ha"] * 1e4 == pytest.approx(octants, rel=1e-6)
    assert whole["total"] == pytest.approx(whole["area_ha"], rel=1e-12)  # 1 Mg ha-1 everywhere: Mg = ha
    bands = rows_of(table, "latitude")
    assert len(bands) == 180 and bands["count"].eq(2 * 720).all()  # two rows of 0.5° per 1° band
    assert bands["area_ha"].sum() == pytest.approx(whole["area_ha"], rel=1e-12)
    assert notes == []


def test_constant_field_over_a_geographic_box_totals_to_its_area(tmp_path):
    """1 Mg ha-1 over the box 5-15° E, 40-50° N (0.1° cells) totals to the box's area in ha, in Mg."""
    path = write_raster(tmp_path / "box.tif", np.ones((100, 100)), origin=(5.0, 50.0), pixel=0.1)
    whole = rows_of(aggregate_raster(path, units="Mg ha-1")[0], "all").iloc[0]
    box_ha = pyproj_cell_area(5.0, 40.0, 15.0, 50.0, points=20000) / 1e4
    assert whole["total"] == pytest.approx(box_ha, rel=1e-8)
    assert whole["total_unit"] == "Mg" and whole["total_pg"] == pytest.approx(box_ha * 1e-9, rel=1e-8)


def test_constant_field_on_an_equal_area_grid_totals_to_its_planar_area(tmp_path):
    """EPSG:6933 (equal-area): 30 × 20 cells of 1 km² are 60 000 ha; no distortion note."""
    path = write_raster(tmp_path / "ease.tif", np.ones((20, 30)), epsg=6933, origin=(1.0e6, 5.0e6), pixel=1000.0)
    table, notes = aggregate_raster(path, units="Mg C ha-1")
    whole = rows_of(table, "all").iloc[0]
    assert (whole["area_ha"], whole["total"]) == (pytest.approx(60000.0), pytest.approx(60000.0))
    assert whole["total_unit"] == "Mg C" and whole["total_pg_unit"] == "Pg C"
    assert notes == []


def test_projected_grid_that_is_not_equal_area_is_noted_with_its_error(tmp_path):
    """Web Mercator at 50-60° N: planar cells are 2.5-4 times their real area; the note says so."""
    transformer = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
    x0, y0 = transformer.transform(0.0, 60.0)
    _, y1 = transformer.transform(0.0, 50.0)
    pixel = (y0 - y1) / 10
    path = write_raster(tmp_path / "mercator.tif", np.ones((10, 10)), epsg=3857, origin=(x0, y0), pixel=pixel)
    table, notes = aggregate_raster(path, units="Mg ha-1")
    assert rows_of(table, "all").iloc[0]["area_ha"] == pytest.approx(100 * pixel ** 2 / 1e4)
    (note,) = notes
    assert "not equal-area" in note and "EPSG:6933" in note
    low, high = [float(v) for v in note.split("by ")[1].split(" % at")[0].replace(" % to ", " ").split()]
    # the Mercator area scale is 1/cos²(latitude) on the sphere: 2.4 at 50° N, 4 at 60° N
    assert 130 < low < high < 310


def test_latitude_bands_of_a_projected_grid_follow_the_cell_centres(tmp_path):
    transformer = pyproj.Transformer.from_crs(6933, 4326, always_xy=True)
    values = np.arange(40 * 30, dtype=float).reshape(40, 30)
    origin, pixel = (-2.0e6, 6.5e6), 50000.0
    path = write_raster(tmp_path / "ease.tif", values, epsg=6933, origin=origin, pixel=pixel)
    table, _ = aggregate_raster(path, latitude_bands=5.0, units="Mg ha-1")
    col, row = np.meshgrid(np.arange(30) + 0.5, np.arange(40) + 0.5)
    _, latitude = transformer.transform(origin[0] + col * pixel, origin[1] - row * pixel)
    south = np.floor(latitude / 5.0) * 5.0
    bands = rows_of(table, "latitude").set_index("lat_min")
    for band_south in np.unique(south):
        inside = south == band_south
        assert bands.loc[band_south, "count"] == inside.sum()
        assert bands.loc[band_south, "mean"] == pytest.approx(values[inside].mean(), rel=1e-12)  # equal areas


# 2. zone statistics


def test_zone_statistics_and_total_uncertainty_against_a_hand_computation(tmp_path):
    """3 × 4 cells of 1° at 40-43° N with an sd band; a class raster with a nodata cell; one value missing."""
    mean = np.array([[100.0, 200.0, 300.0, 400.0], [50.0, np.nan, 150.0, 250.0], [10.0, 20.0, 30.0, 40.0]])
    sd = np.array([[10.0, 20.0, 30.0, 40.0], [5.0, 1.0, 15.0, np.nan], [1.0, 2.0, 3.0, 4.0]])
    classes = np.array([[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, np.nan], [3.0, 3.0, 3.0, 3.0]])
    path = write_raster(tmp_path / "map.tif", [mean, sd], origin=(0.0, 43.0), pixel=1.0)
    dataset = gdal.Open(path, gdal.GA_Update)
    for i, name in enumerate(["flux_mean", "flux_sd"], start=1):
        dataset.GetRasterBand(i).SetDescription(name)
        dataset.GetRasterBand(i).SetMetadata({"units": "g C m-2 yr-1"})
    dataset = None
    zones = write_raster(tmp_path / "classes.tif", classes, origin=(0.0, 43.0), pixel=1.0)
    table, notes = aggregate_raster(path, zone_raster=zones)

    area = np.array([pyproj_cell_area(0, 42 - r, 1, 43 - r) for r in range(3)])[:, None] * np.ones((1, 4)) / 1e4
    assert notes == ["band flux_mean: 1 cells have a value but no sd (flux_sd); the uncertainty of its totals "
                     "leaves them out"]
    got = rows_of(table, "zones", "flux_mean").set_index("zone")
    assert list(got.index) == ["1", "2", "3"]
    for label, code in (("1", 1.0), ("2", 2.0), ("3", 3.0)):
        cells = (classes == code) & ~np.isnan(mean)
        a, x, s = area[cells], mean[cells], sd[cells]
        weighted_mean = np.sum(a * x) / np.sum(a)
        row = got.loc[label]
        assert row["count"] == cells.sum()
        assert row["area_ha"] == pytest.approx(a.sum(), rel=1e-9)
        assert row["mean"] == pytest.approx(weighted_mean, rel=1e-9)
        assert row["sd"] == pytest.approx(np.sqrt(np.sum(a * (x - weighted_mean) ** 2) / np.sum(a)), rel=1e-9)
        assert row["total"] == pytest.approx(np.sum(a * x), rel=1e-9)
        known = ~np.isnan(s)
        assert row["total_sd_independent"] == pytest.approx(np.sqrt(np.sum((a[known] * s[known]) ** 2)), rel=1e-9)
        assert row["total_sd_correlated"] == pytest.approx(np.sum(a[known] * s[known]), rel=1e-9)
        # g m-2 × m² = g; 1 Pg = 1e15 g
        assert row["total_pg"] == pytest.approx(np.sum(a * 1e4 * x) / 1e15, rel=1e-9)
        assert row["total_pg_sd_correlated"] == pytest.approx(row["total_sd_correlated"] * 1e4 / 1e15, rel=1e-12)
        assert (row["unit"], row["total_pg_unit"]) == ("g C m-2 yr-1", "Pg C yr-1")
    whole = rows_of(table, "all", "flux_mean").iloc[0]
    assert whole["count"] == 11  # the cell without a class counts in the whole map
    assert whole["total"] == pytest.approx(np.nansum(area * mean), rel=1e-9)
    assert "total_sd_independent" in table and rows_of(table, "all", "flux_sd")["total_sd_independent"].isna().all()
    assert rows_of(table, "all", "flux_sd")["total"].isna().all()  # the sum of sds is not a total


def polygon_layer(path, polygons, epsg=4326, field="zone"):
    """A GeoPackage of (label, WKT) polygons."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("zones", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn(field, ogr.OFTString))
    for label, wkt in polygons:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField(field, label)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    source = None
    return str(path)


def test_a_polygon_holds_the_cells_whose_centre_it_contains(tmp_path, capsys):
    """4 × 4 cells of 1°: a polygon to x 2.2, y 1.6 holds the centres (0.5|1.5, 0.5|1.5) only; a polygon that
    holds no centre is named in a note; the CLI writes the table and a plot."""
    values = np.arange(16, dtype=float).reshape(4, 4)
    path = write_raster(tmp_path / "map.tif", values, origin=(0.0, 4.0), pixel=1.0)
    zones = polygon_layer(tmp_path / "zones.gpkg", [
        ("A", "POLYGON((0 0,2.2 0,2.2 1.6,0 1.6,0 0))"), ("tiny", "POLYGON((3.1 3.1,3.4 3.1,3.4 3.4,3.1 3.1))")])
    output, plot = tmp_path / "out.csv", tmp_path / "out.png"
    code = main(["aggregate", path, "--output", str(output), "--zones", zones, "--zone-field", "zone", "--units",
                 "Mg ha-1", "--plot", str(plot), "--quiet"])
    assert code == 0
    assert "note: zones that hold no cell centre of the raster: tiny" in capsys.readouterr().err
    table = pd.read_csv(output)
    (row,) = rows_of(table, "zones").itertuples()
    assert (row.zone, row.count) == ("A", 4)
    area = np.array([pyproj_cell_area(0, s, 1, s + 1) for s in (1.0, 0.0)]) / 1e4   # rows 2 and 3
    assert row.total == pytest.approx(area[0] * (8 + 9) + area[1] * (12 + 13), rel=1e-9)
    assert plot.stat().st_size > 10000


@pytest.fixture(scope="module")
def biome_polygons(real_data, tmp_path_factory):
    """The biome class raster of the bundled covariates, polygonised (one polygon per patch of a class)."""
    path = tmp_path_factory.mktemp("biomes") / "biomes.gpkg"
    source = gdal.Open(str(real_data / BIOMES))
    target = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    layer = target.CreateLayer("biomes", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("biome", ogr.OFTInteger))
    band = source.GetRasterBand(1)
    gdal.Polygonize(band, band.GetMaskBand(), layer, 0)
    target = source = None
    return str(path)


@pytest.mark.parametrize("epsg", [4326, 3857])
def test_biome_polygons_give_the_statistics_of_the_class_raster_they_come_from(real_data, resources, tmp_path,
                                                                                biome_polygons, epsg):
    """Polygons drawn from the biome raster (also reprojected to Web Mercator) hold exactly its cells."""
    from wholesoil.core.tables import read_table

    zones = read_table(biome_polygons)
    if epsg != 4326:
        path = tmp_path / "biomes_3857.gpkg"
        gdal.VectorTranslate(str(path), biome_polygons, dstSRS=f"EPSG:{epsg}")
        zones = read_table(path)
    beta = resources / "sample_data" / "americas_root_beta.tif"
    by_polygons, _ = aggregate_raster(beta, zones=zones, zone_field="biome", units="1")
    by_classes, _ = aggregate_raster(beta, zone_raster=real_data / BIOMES, units="1")
    assert len(zones) > 100 and rows_of(by_classes, "zones")["zone"].nunique() == 13
    pd.testing.assert_frame_equal(by_polygons, by_classes, rtol=1e-12)


# 3. window by window, memory flat


def whole_array_statistics(values, classes, latitude_width, south_edge, pixel):
    """Per class and per latitude band: count, area (ha), area-weighted mean, sd and total, from whole arrays and
    pyproj cell areas."""
    rows = values.shape[0]
    edges = south_edge + pixel * np.arange(rows + 1)[::-1]
    row_area = np.array([pyproj_cell_area(0.0, edges[r + 1], pixel, edges[r], points=1000) for r in range(rows)]) / 1e4
    area = row_area[:, None] * np.ones(values.shape)
    centre = (edges[:-1] + edges[1:]) / 2
    band = (np.floor((centre + 90) / latitude_width))[:, None] * np.ones(values.shape)
    result = {}
    for name, keys in (("zones", classes), ("latitude", band)):
        for key in np.unique(keys[~np.isnan(keys)]):
            cells = (keys == key) & ~np.isnan(values)
            a, x = area[cells], values[cells]
            mean = np.sum(a * x) / a.sum() if a.sum() else np.nan
            result[(name, key)] = (cells.sum(), a.sum(), mean, np.sqrt(np.sum(a * (x - mean) ** 2) / a.sum()),
                                   np.sum(a * x))
    return result


@pytest.mark.parametrize("block", [None, 7, 64])
def test_windows_give_the_whole_array_statistics_on_the_americas_rasters(real_data, resources, block):
    """Mean annual precipitation of the Americas (WorldClim, 0.5°) per biome and per 1° band of latitude."""
    bio12 = resources / "sample_data" / "worldclim_bio12_americas.tif"
    table, _ = aggregate_raster(bio12, zone_raster=real_data / BIOMES, latitude_bands=1.0, units="mm", block=block)
    expected = whole_array_statistics(read_raster(bio12), read_raster(real_data / BIOMES), 1.0, -56.0, 0.5)
    got = table.assign(key=[float(z) if k == "zones" else round((lat + 90) / 1.0) for k, z, lat in
                            zip(table["zoning"], table["zone"], table["lat_min"].fillna(0))])
    checked = 0
    for (name, key), (count, area, mean, sd, total) in expected.items():
        row = got[(got["zoning"] == name) & (got["key"] == key)].iloc[0]
        assert row["count"] == count
        assert row["area_ha"] == pytest.approx(area, rel=1e-9)
        assert row["total"] == pytest.approx(total, rel=1e-9)
        if count:
            assert row["mean"] == pytest.approx(mean, rel=1e-9)
            assert row["sd"] == pytest.approx(sd, rel=1e-7, abs=1e-9 * mean)
        checked += 1
    assert checked == len(rows_of(table, "zones")) + len(rows_of(table, "latitude")) == 13 + 96


def gradient_raster(path, rows, cols=3000):
    """A float32 raster of 2 + row / rows on 0.1° × 0.05° cells, written in strips; returns its row values."""
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), cols, rows, 1, gdal.GDT_Float32)
    dataset.SetGeoTransform((-150.0, 0.1, 0.0, 80.0, 0.0, -0.05))
    dataset.SetProjection(pyproj.CRS.from_epsg(4326).to_wkt())
    values = (2.0 + np.arange(rows) / rows).astype(np.float32)
    for start in range(0, rows, 200):
        stop = min(start + 200, rows)
        dataset.GetRasterBand(1).WriteArray(np.repeat(values[start:stop, None], cols, axis=1), 0, start)
    dataset = None
    return values.astype(np.float64)


def test_memory_stays_flat_in_raster_size(tmp_path):
    """Rasters of 2.4 and 9.6 million cells (19 and 77 MB as float64) summarised with a 1 MB budget: numpy's peak
    memory is the same for both and a fraction of either raster, and the totals equal the whole-array ones."""
    peaks = []
    for rows in (800, 3200):
        values = gradient_raster(tmp_path / f"{rows}.tif", rows)
        tracemalloc.start()
        try:
            table, _ = aggregate_raster(tmp_path / f"{rows}.tif", latitude_bands=1.0, units="Mg ha-1", memory_mb=1)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        edges = 80.0 - 0.05 * np.arange(rows + 1)
        area = ellipsoid_cell_area(edges[1:], edges[:-1], 0.1, WGS84.a, WGS84.f) / 1e4 * 3000
        assert rows_of(table, "all").iloc[0]["total"] == pytest.approx(np.sum(area * values), rel=1e-9)
    assert peaks[1] < 1.2 * peaks[0], f"peaks {peaks[0] / 2 ** 20:.1f} and {peaks[1] / 2 ** 20:.1f} MB"
    assert peaks[0] < 800 * 3000 * 8 / 2, f"peak {peaks[0] / 2 ** 20:.1f} MB"


# 4. units, bands and bad input


@pytest.mark.parametrize("unit, total, pg, factor", [
    ("Mg C ha-1 yr-1", "Mg C yr-1", "Pg C yr-1", 1e-9),
    ("Mg C ha⁻¹ yr⁻¹", "Mg C yr-1", "Pg C yr-1", 1e-9),
    ("MgC/ha/yr", "Mg C yr-1", "Pg C yr-1", 1e-9),
    ("g C m-2 yr-1", "10000 g C yr-1", "Pg C yr-1", 1e4 * 1e-15),
    ("kg m^-2", "10000 kg", "Pg", 1e4 * 1e-12),
    ("Mg C km-2", "0.01 Mg C", "Pg C", 1e-2 * 1e-9),
    ("t CO2 ha-1", "t CO2", "Pg CO2", 1e-9),
    ("1", "ha", "", None),
    ("mm", "mm × ha", "", None),
    ("", "ha × (no unit)", "", None),
])
def test_units_of_totals(unit, total, pg, factor):
    kind = total_unit(unit)
    assert (kind.total, kind.pg) == (total, pg)
    assert kind.pg_factor == pytest.approx(factor) if factor else math.isnan(kind.pg_factor)


def test_predicted_map_pairs_mean_and_sd_bands_and_reads_their_units(tmp_path):
    """Bands named as predict-raster names them: rh_mean with rh_sd; rh_cv has no sd band."""
    mean, sd = np.full((4, 5), 300.0), np.full((4, 5), 30.0)
    path = write_raster(tmp_path / "rh.tif", [mean, sd, sd / mean], origin=(0.0, 2.0), pixel=0.5)
    dataset = gdal.Open(path, gdal.GA_Update)
    for i, (name, unit) in enumerate([("rh_mean", "g C m-2 yr-1"), ("rh_sd", "g C m-2 yr-1"), ("rh_cv", "1")], 1):
        dataset.GetRasterBand(i).SetDescription(name)
        dataset.GetRasterBand(i).SetMetadata({"units": unit})
    dataset = None
    table, notes = aggregate_raster(path, units="ignored: every band has its unit")
    whole = rows_of(table, "all").set_index("band")
    assert notes == ["units 'ignored: every band has its unit' not used: every band records its unit "
                     "(give BAND=UNIT to override)",
                     "no totals for rh_cv: their sum over cells means nothing (a spread, ratio, index, "
                     "class or time); their mean and sd are given"]
    assert math.isnan(whole.loc["rh_sd", "total"]) and whole.loc["rh_sd", "mean"] == pytest.approx(30.0)
    assert whole.loc["rh_mean", "total_sd_correlated"] == pytest.approx(0.1 * whole.loc["rh_mean", "total"])
    assert whole.loc["rh_mean", "total_sd_independent"] == pytest.approx(
        whole.loc["rh_mean", "total_sd_correlated"] / math.sqrt(20), rel=1e-3)  # 20 cells of nearly equal area
    assert math.isnan(whole.loc["rh_cv", "total"]) and whole.loc["rh_cv", "total_unit"] == ""
    only, _ = aggregate_raster(path, bands=["rh_mean"], band_units={"rh_mean": "Mg C ha-1 yr-1"})
    assert list(only["band"]) == ["rh_mean"] and only["total_pg_unit"].iloc[0] == "Pg C yr-1"
    assert only["total_sd_correlated"].iloc[0] == pytest.approx(whole.loc["rh_mean", "total_sd_correlated"])
    figure = aggregation_figure(table)
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["all"]
    assert "g C m-2 yr-1" in figure.axes[0].get_xlabel()
    profile, _ = aggregate_raster(path, bands=["rh_mean"], latitude_bands=1.0)
    shading = aggregation_figure(profile).axes[2].collections[0].get_paths()[0].vertices[:, 0]
    assert (shading.min(), shading.max()) == (pytest.approx(270.0), pytest.approx(330.0))  # mean ± mean sd


def test_g_per_m2_total_is_in_the_mass_its_unit_names(tmp_path):
    """100 g C m-2 yr-1 on 1 km² cells (EPSG:6933): 6 cells hold 6e8 g C yr-1; total × the unit's scale says so."""
    path = write_raster(tmp_path / "g.tif", np.full((2, 3), 100.0), epsg=6933, origin=(1.0e6, 5.0e6), pixel=1000.0)
    whole = rows_of(aggregate_raster(path, units="g C m-2 yr-1")[0], "all").iloc[0]
    scale, unit = whole["total_unit"].split(" ", 1)
    assert unit == "g C yr-1" and whole["total"] * float(scale) == pytest.approx(100.0 * 6e6)
    assert whole["total_pg"] == pytest.approx(6e8 / 1e15)


def test_interval_bound_and_index_bands_of_a_predicted_map_get_no_total(tmp_path):
    """Bands as predict-raster names them: _lower, _upper, _di and _aoa have a mean but no total (a note says why
    for the bounds); _class codes have neither a mean nor an sd (a mean of codes 1-6 was given); a class
    probability totals to the class's expected area (ha)."""
    names = ["rh_mean", "rh_sd", "rh_lower", "rh_upper", "rh_di", "rh_aoa", "soil_class", "soil_p_forest"]
    values = [300.0, 30.0, 240.0, 360.0, 0.2, 1.0, 2.0, 0.25]
    path = write_raster(tmp_path / "rh.tif", [np.full((4, 5), v) for v in values], origin=(0.0, 2.0), pixel=0.5)
    dataset = gdal.Open(path, gdal.GA_Update)
    for i, name in enumerate(names, 1):
        dataset.GetRasterBand(i).SetDescription(name)
        if name.startswith("rh_") and name not in ("rh_di", "rh_aoa"):
            dataset.GetRasterBand(i).SetMetadata({"units": "g C m-2 yr-1"})
    dataset = None
    table, notes = aggregate_raster(path, band_units={"rh_di": "1", "rh_aoa": "1", "soil_class": "1",
                                                      "soil_p_forest": "1"})
    whole = rows_of(table, "all").set_index("band")
    assert notes == ["no totals for rh_lower, rh_upper: sums of per-pixel interval bounds are not an interval of "
                     "the total; use total_sd_independent and total_sd_correlated of the mean band (with its sd band)",
                     "soil_class: class codes are names, not amounts: count and area only (no total, mean or sd); "
                     "the area of each class is the total of its _p_<class> band (expected) or, by zone, "
                     "--zone-raster with the class band in a raster of its own",
                     "no totals for rh_di, rh_aoa: their sum over cells means nothing (a spread, ratio, "
                     "index, class or time); their mean and sd are given"]
    assert math.isnan(whole.loc["soil_class", "mean"]) and math.isnan(whole.loc["soil_class", "sd"])
    assert whole.loc["soil_class", "count"] == 20
    for name, value in zip(names, values):
        assert name == "soil_class" or whole.loc[name, "mean"] == pytest.approx(value)
        if name in ("rh_sd", "rh_lower", "rh_upper", "rh_di", "rh_aoa", "soil_class"):
            assert math.isnan(whole.loc[name, "total"]) and math.isnan(whole.loc[name, "total_pg"])
            assert whole.loc[name, "total_unit"] == "" and math.isnan(whole.loc[name, "total_sd_correlated"])
    area = whole.loc["rh_mean", "area_ha"]
    assert whole.loc["rh_mean", "total"] == pytest.approx(300.0 * area)
    assert whole.loc["soil_p_forest", "total"] == pytest.approx(0.25 * area)
    assert whole.loc["soil_p_forest", "total_unit"] == "ha"


@pytest.mark.parametrize("extra, message", [
    (["--zones", "ZONES"], "give the zone field of the zone polygons (--zone-field)"),
    (["--zones", "ZONES", "--zone-field", "name"], "the zone polygons have no field 'name' (they have: zone)"),
    (["--zone-raster", "OTHER"], "rasters not aligned"),
    (["--latitude-bands", "0"], "latitude bands of 0.0 degrees: give a width above 0 and at most 180"),
    (["--bands", "nitrogen"], "bands: the raster has no band 'nitrogen' (it has: band_1)"),
    (["--zone-field", "zone"], "--zone-field goes with --zones (polygons)"),
    (["--units", "Mg", "kg"], "--units: give one unit for every band"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, extra, message):
    path = write_raster(tmp_path / "map.tif", np.ones((4, 4)), origin=(0.0, 4.0), pixel=1.0)
    other = write_raster(tmp_path / "other.tif", np.ones((4, 4)), origin=(0.5, 4.0), pixel=1.0)
    zones = polygon_layer(tmp_path / "zones.gpkg", [("A", "POLYGON((0 0,2 0,2 2,0 2,0 0))")])
    extra = [{"ZONES": zones, "OTHER": other}.get(item, item) for item in extra]
    output = tmp_path / "out.csv"
    assert main(["aggregate", path, "--output", str(output), "--plot", str(tmp_path / "p.png"), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not output.exists() and not (tmp_path / "p.png").exists()


def test_zones_that_are_not_polygons_are_refused_and_missing_labels_noted(tmp_path):
    from wholesoil.core.errors import InputError

    path = write_raster(tmp_path / "map.tif", np.ones((4, 4)), origin=(0.0, 4.0), pixel=1.0)
    wkb = [ogr.CreateGeometryFromWkt(w).ExportToWkb() for w in
           ("POLYGON((0 0,2 0,2 2,0 2,0 0))", "POLYGON((2 2,4 2,4 4,2 4,2 2))", "POINT(1 1)")]
    zones = pd.DataFrame({"zone": ["A", None, "B"], "geometry": [bytes(g) for g in wkb]})
    zones.attrs["crs_wkt"] = pyproj.CRS.from_epsg(4326).to_wkt()
    with pytest.raises(InputError, match=r"zones must be polygons; features that are not \(or unreadable\): row 3"):
        aggregate_raster(path, zones=zones, zone_field="zone")
    table, notes = aggregate_raster(path, zones=zones.iloc[:2], zone_field="zone", units="1")
    assert "zone polygons without a zone value or a geometry are left out: row 2" in notes
    assert list(rows_of(table, "zones")["zone"]) == ["A"] and rows_of(table, "zones")["count"].iloc[0] == 4
    as_wkt = zones.iloc[:2].assign(geometry=["POLYGON((0 0,2 0,2 2,0 2,0 0))", None])  # a CSV's geometry
    assert aggregate_raster(path, zones=as_wkt, zone_field="zone", units="1")[0].equals(table)


# 5. QGIS


def test_processing_algorithm_gives_the_core_table_and_a_report(wholesoil_processing, real_data, resources, tmp_path,
                                                                biome_polygons):
    beta = resources / "sample_data" / "americas_root_beta.tif"
    report = tmp_path / "report.html"
    result = wholesoil_processing.run("wholesoil:aggregateraster", {
        "INPUT": str(beta), "ZONES": biome_polygons, "ZONE_FIELD": "biome", "LATITUDE_BANDS": 1.0, "UNITS": "1",
        "OUTPUT": str(tmp_path / "out.gpkg"), "OUTPUT_HTML": str(report)})
    from wholesoil.core.tables import read_table

    got = read_table(result["OUTPUT"]).drop(columns=["fid"], errors="ignore")
    expected, _ = aggregate_raster(beta, zone_raster=real_data / BIOMES, latitude_bands=1.0, units="1")
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False, rtol=1e-12)
    page = report.read_text(encoding="utf-8")
    assert page.count("<img") == 1 and "lat_min" in page and "About this run" in page


def test_a_zone_without_a_valid_cell_has_no_total(tmp_path):
    """Its total is unknown, not 0 (a class whose cells are all nodata in the map)."""
    mean = np.array([[100.0, 200.0], [np.nan, np.nan]])
    path = write_raster(tmp_path / "map.tif", [mean, mean / 10], origin=(0.0, 43.0), pixel=1.0)
    dataset = gdal.Open(path, gdal.GA_Update)
    for i, name in enumerate(["flux_mean", "flux_sd"], start=1):
        dataset.GetRasterBand(i).SetDescription(name)
        dataset.GetRasterBand(i).SetMetadata({"units": "Mg C ha-1 yr-1"})
    dataset = None
    zones = write_raster(tmp_path / "classes.tif", np.array([[1.0, 1.0], [2.0, 2.0]]), origin=(0.0, 43.0), pixel=1.0)
    table, _ = aggregate_raster(path, zone_raster=zones)
    empty = rows_of(table, "zones", "flux_mean").set_index("zone").loc["2"]
    assert empty["count"] == 0 and np.isnan(empty["total"]) and np.isnan(empty["total_pg"])
    assert np.isnan(empty["total_sd_independent"]) and np.isnan(empty["total_pg_sd_correlated"])
    full = rows_of(table, "zones", "flux_mean").set_index("zone").loc["1"]
    assert full["total"] > 0 and full["total_sd_independent"] > 0


def test_qgis_log_says_no_total_for_bands_without_one(wholesoil_processing, tmp_path):
    """An sd or cv band has no total: the log says so in words, not 'total nan'; unit 1 reads as unitless."""
    from test_qgis_experience import RecordingFeedback

    mean = np.array([[100.0, 200.0], [300.0, 400.0]])
    path = write_raster(tmp_path / "map.tif", [mean, mean / 10, mean / 1000], origin=(0.0, 43.0), pixel=1.0)
    dataset = gdal.Open(path, gdal.GA_Update)
    for i, (name, unit) in enumerate([("flux_mean", "Mg C ha-1 yr-1"), ("flux_sd", "Mg C ha-1 yr-1"),
                                      ("flux_cv", "1")], start=1):
        dataset.GetRasterBand(i).SetDescription(name)
        dataset.GetRasterBand(i).SetMetadata({"units": unit})
    dataset = None
    feedback = RecordingFeedback.create()
    wholesoil_processing.run("wholesoil:aggregateraster", {"INPUT": path, "OUTPUT": str(tmp_path / "t.csv")},
                             feedback=feedback)
    lines = {line.split(":", 1)[0]: line for line in feedback.infos if line.startswith("flux_")}
    assert "total" in lines["flux_mean"] and "Pg C yr-1" in lines["flux_mean"]
    assert lines["flux_sd"].endswith("; no total") and lines["flux_cv"].endswith("; no total")
    assert "(unitless) over" in lines["flux_cv"] and "nan" not in " ".join(lines.values())


def test_fill_values_of_a_raster_without_nodata_are_noted(tmp_path):
    """-9999 cells of a raster that declares no nodata value count as data (a total of -600 Pg): a note says so."""
    values = np.full((4, 5), 2.0)
    values[0, :3] = -9999.0
    path = write_raster(tmp_path / "flux.tif", values, nodata=None)
    table, notes = aggregate_raster(path, units="Mg C ha-1 yr-1")
    assert [n for n in notes if n.startswith("band band_1: 3 cells hold a value rasters use for nodata (-9999, ")
            and f"gdal_edit.py -a_nodata VALUE {path}" in n], notes
    declared = write_raster(tmp_path / "declared.tif", values, nodata=-9999.0)
    assert not [n for n in aggregate_raster(declared, units="Mg C ha-1 yr-1")[1] if "use for nodata" in n]


def test_a_table_of_a_geopackage_is_named_by_the_table(tmp_path):
    """GDAL describes a GeoPackage table's band as 'Height': its rows are named after the table."""
    from rasters_util import write_geopackage

    gpkg = write_geopackage(tmp_path / "maps.gpkg", {"bnpp": np.full((4, 4), 3.0), "beta": np.full((4, 4), 0.95)})
    table, _ = aggregate_raster(f"GPKG:{gpkg}:bnpp", units="Mg C ha-1 yr-1")
    assert table["band"].unique().tolist() == ["bnpp"]


def test_the_unit_gdal_records_as_unit_type_is_the_band_s_unit(tmp_path):
    """gdal_edit.py -units writes GDAL's unit type: aggregate takes it (it said the band has no unit)."""
    path = write_raster(tmp_path / "soc.tif", np.full((4, 5), 50.0))
    dataset = gdal.Open(path, gdal.GA_Update)
    dataset.GetRasterBand(1).SetUnitType("Mg C ha-1")
    dataset = None
    table, notes = aggregate_raster(path)
    assert table["unit"].iloc[0] == "Mg C ha-1" and table["total_pg_unit"].iloc[0] == "Pg C"
    assert not [n for n in notes if "has no unit" in n]


def test_a_band_given_as_its_own_sd_is_refused(tmp_path):
    from wholesoil.core.errors import InputError

    path = write_raster(tmp_path / "m.tif", [np.full((3, 4), 2.0), np.full((3, 4), 0.5)])
    with pytest.raises(InputError, match="sd bands: 1=1 gives band band_1 as its own sd"):
        aggregate_raster(path, units="Mg C ha-1", sd_bands={"1": "1"})
    table, _ = aggregate_raster(path, units="Mg C ha-1", sd_bands={"1": "2"})
    assert table["total_sd_correlated"].notna().iloc[0]
