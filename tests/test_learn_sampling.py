"""Covariate rasters sampled at points: reprojection, nodata, outside points, names, joins."""

import numpy as np
import pandas as pd
import pytest
from osgeo import gdal, ogr, osr
from pyproj import Transformer

from rasters_util import write_raster
from wholesoil.core.errors import InputError
from wholesoil.core.learn.sampling import join_observations, sample_rasters
from wholesoil.core.rasters import band_names
from wholesoil.core.tables import check_columns_writable, read_table, write_table

# a 20 x 20 grid of 0.5 degree cells, west edge -10, north edge 50; value = 100 * row + col
GRID = np.add.outer(100.0 * np.arange(20), np.arange(20.0))


def lonlat_points():
    return pd.DataFrame({"site": ["a", "b", "c", "d"], "lon": [-9.75, -4.1, 20.0, -1.3],
                         "lat": [49.75, 45.2, 45.0, 41.1]})


def expected_values(lon, lat):
    col, row = np.floor((np.asarray(lon) + 10) / 0.5), np.floor((50 - np.asarray(lat)) / 0.5)
    inside = (col >= 0) & (col < 20) & (row >= 0) & (row < 20)
    return np.where(inside, 100 * row + col, np.nan)


def points_gpkg(path, table, epsg):
    """A GeoPackage of the points, reprojected from lon/lat to ``epsg``."""
    x, y = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True).transform(table["lon"], table["lat"])
    out = table.copy()
    out["geometry"] = [bytes(ogr.CreateGeometryFromWkt(f"POINT ({a} {b})").ExportToWkb()) for a, b in zip(x, y)]
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    out.attrs["crs_wkt"] = srs.ExportToWkt()
    write_table(out, path)
    return read_table(path)


def test_points_in_another_crs_are_reprojected_and_problems_reported(tmp_path):
    grid = GRID.copy()
    grid[9, 11] = np.nan  # the cell of point b is nodata
    raster = write_raster(tmp_path / "clim.tif", grid)
    points = points_gpkg(tmp_path / "points.gpkg", lonlat_points(), 3857)
    result = sample_rasters(points, [raster])
    values = result.table["clim"].to_numpy()
    expected = expected_values(lonlat_points()["lon"], lonlat_points()["lat"])
    assert expected[1] == 911 and np.isnan(expected[2])
    np.testing.assert_array_equal(values[[0, 3]], expected[[0, 3]])
    assert np.isnan(values[1]) and np.isnan(values[2])
    assert result.problems[["row", "problem"]].values.tolist() == [[3, "outside the raster"], [2, "nodata"]]
    assert result.summary.loc[0, ["valid", "outside", "nodata"]].tolist() == [2, 1, 1]
    assert "geometry" in result.table.columns and result.table["site"].tolist() == ["a", "b", "c", "d"]


def test_rasters_in_a_projected_crs_and_coordinate_columns(tmp_path):
    # the same values on a UTM zone 31N grid: 1 km cells
    raster = write_raster(tmp_path / "utm.tif", GRID, epsg=32631, origin=(400000.0, 4600000.0), pixel=1000.0)
    x, y = 400000.0 + np.array([500.0, 12500.0, 19500.0]), 4600000.0 - np.array([500.0, 3500.0, 19999.0])
    lon, lat = Transformer.from_crs("EPSG:32631", "EPSG:4326", always_xy=True).transform(x, y)
    table = pd.DataFrame({"lon": lon, "lat": lat})
    result = sample_rasters(table, [raster], x_col="lon", y_col="lat")
    np.testing.assert_allclose(result.table["utm"], [0.0, 312.0, 1919.0])
    same_crs = sample_rasters(pd.DataFrame({"e": x, "n": y}), [raster], x_col="e", y_col="n", crs="EPSG:32631")
    np.testing.assert_allclose(same_crs.table["utm"], [0.0, 312.0, 1919.0])


def test_longitudes_0_to_360(tmp_path):
    values = np.arange(720.0)[None, :].repeat(2, axis=0)
    raster = write_raster(tmp_path / "global.tif", values, origin=(0.0, 1.0), pixel=0.5)
    result = sample_rasters(pd.DataFrame({"lon": [-99.9, 10.2], "lat": [0.5, 0.5]}), [raster], x_col="lon",
                            y_col="lat")
    np.testing.assert_array_equal(result.table["global"], [520.0, 20.0])


def test_band_names_and_clashes(tmp_path):
    path = write_raster(tmp_path / "stack.tif", [GRID, GRID * 2])
    dataset = gdal.Open(path, gdal.GA_Update)
    dataset.GetRasterBand(1).SetDescription("bio1")
    dataset = None
    assert band_names(path) == ["bio1", "stack_b2"]
    assert band_names(path, "wc") == ["bio1", "wc_b2"]
    assert band_names(path, ["t", "p"]) == ["t", "p"]
    result = sample_rasters(lonlat_points(), [path], x_col="lon", y_col="lat")
    np.testing.assert_array_equal(result.table["stack_b2"][[0, 3]], 2 * expected_values([-9.75, -1.3], [49.75, 41.1]))
    with pytest.raises(InputError, match="column 'site' already exists"):
        sample_rasters(lonlat_points(), [path], {path: ["site", "x"]}, x_col="lon", y_col="lat")
    with pytest.raises(InputError, match="has no geometry"):
        sample_rasters(lonlat_points(), [path])



def test_one_band_of_a_raster_is_sampled_as_predict_raster_names_it(tmp_path, capsys):
    """RASTER:BAND (by number or description) samples one band of a stack whose bands have no descriptions
    (gdalbuildvrt -separate), with the items predict-raster takes, so a model trained on the table maps the stack."""
    from wholesoil.core.cli import main
    from wholesoil.core.maps.stack import CovariateStack

    files = [write_raster(tmp_path / name, GRID * factor) for name, factor in (("t.tif", 1), ("p.tif", 3))]
    stack = str(tmp_path / "stack.vrt")
    gdal.BuildVRT(stack, files, separate=True).FlushCache()
    items = [f"bio1={stack}:1", f"bio12={stack}:2"]
    result = sample_rasters(lonlat_points(), [i.split("=")[1] for i in items], ["bio1", "bio12"], x_col="lon",
                            y_col="lat")
    expected = expected_values(lonlat_points()["lon"], lonlat_points()["lat"])
    np.testing.assert_array_equal(result.table["bio12"], 3 * expected)
    assert list(result.table.columns[-2:]) == ["bio1", "bio12"]
    assert result.summary["band"].tolist() == [1, 2]
    assert list(CovariateStack(items).layers) == ["bio1", "bio12"]  # the same names for predict-raster
    unnamed = sample_rasters(lonlat_points(), [f"{stack}:2"], x_col="lon", y_col="lat").table
    assert list(unnamed.columns[-1:]) == ["stack_b2"]  # as predict-raster names it
    points = tmp_path / "points.csv"
    write_table(lonlat_points(), points)
    assert main(["sample-rasters", str(points), str(tmp_path / "out.csv"), *items, "--x-col", "lon", "--y-col", "lat",
                 "--quiet"]) == 0
    np.testing.assert_array_equal(read_table(tmp_path / "out.csv")["bio1"], expected)
    assert main(["sample-rasters", str(points), str(tmp_path / "o.csv"), f"x={stack}:3", "--x-col", "lon",
                 "--y-col", "lat"]) == 2
    assert "has no band 3 (it has 2)" in capsys.readouterr().err and not (tmp_path / "o.csv").exists()
    # the raster behind RASTER:BAND is an input: an output over it is refused before anything is written
    gpkg = tmp_path / "covariates.gpkg"
    gdal.Translate(str(gpkg), files[0], format="GPKG")
    before = gpkg.read_bytes()
    assert main(["sample-rasters", str(points), str(gpkg), f"t={gpkg}:1", "--x-col", "lon", "--y-col", "lat"]) == 2
    assert gpkg.read_bytes() == before

def test_column_clashes_are_found_before_any_point_is_sampled(tmp_path):
    first = write_raster(tmp_path / "elev.tif", GRID)
    second = write_raster(tmp_path / "slope.tif", GRID)
    steps = []
    with pytest.raises(InputError, match="slope.tif: column 'elev' already exists"):  # the second raster's name
        sample_rasters(lonlat_points(), [first, second], [None, "elev"], x_col="lon", y_col="lat",
                       progress=steps.append)
    assert steps == []  # the first raster was not sampled before the clash was found
    # names that differ only in case, which a GeoPackage output ignores: refused before sampling too
    with pytest.raises(InputError, match="cannot write out.gpkg: the columns 'site' and 'SITE' differ only in case"):
        sample_rasters(lonlat_points(), [first, second], [None, "SITE"], x_col="lon", y_col="lat",
                       progress=steps.append, check_columns=lambda columns: check_columns_writable(columns, "out.gpkg"))
    assert steps == []
    result = sample_rasters(lonlat_points(), [first, second], [None, "SITE"], x_col="lon", y_col="lat",
                            check_columns=lambda columns: check_columns_writable(columns, "out.csv"))
    assert list(result.table.columns) == ["site", "lon", "lat", "elev", "SITE"]


def test_join_observations_to_sites():
    sites = pd.DataFrame({"profile": ["p1", "p2"], "bio1": [3.0, 4.0]})
    layers = pd.DataFrame({"profile": ["p1", "p1", "p2"], "depth": [10, 30, 10]})
    joined = join_observations(layers, sites, "profile")
    assert joined["bio1"].tolist() == [3.0, 3.0, 4.0]
    with pytest.raises(InputError, match="no site for key 'profile' = 'p9' in row 2"):
        join_observations(layers.assign(profile=["p1", "p9", "p2"]), sites, "profile")
    with pytest.raises(InputError, match="repeats in the sites table"):
        join_observations(layers, pd.concat([sites, sites]), "profile")
    # integer keys in a GeoPackage, the same keys as floats in a CSV column with a gap
    numbered = join_observations(pd.DataFrame({"site": [1.0, 2.0, 2.0]}), pd.DataFrame({"site": [1, 2], "v": [5, 6]}),
                                 "site")
    assert numbered["v"].tolist() == [5, 6, 6]


def test_the_cells_of_a_csv_come_back_as_they_were(tmp_path):
    """sample-rasters from CSV to CSV wrote 1984 as 1984.0 in a column with a gap and site 007 as 7 (the predict
    command keeps them; both use tables.keep_csv_text)."""
    from wholesoil.core.cli import main

    raster = write_raster(tmp_path / "clim.tif", GRID)
    (tmp_path / "sites.csv").write_text("site,year,lon,lat\n007,1984,-9.75,49.75\n0042,,-1.3,41.1\n")
    assert main(["sample-rasters", str(tmp_path / "sites.csv"), str(tmp_path / "out.csv"), raster, "--x-col", "lon",
                 "--y-col", "lat", "--quiet"]) == 0
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert out[["site", "year", "lon"]].values.tolist() == [["007", "1984", "-9.75"], ["0042", "", "-1.3"]]
    assert out["clim"].astype(float).tolist() == expected_values([-9.75, -1.3], [49.75, 41.1]).tolist()
    (tmp_path / "layers.csv").write_text("site,top\n007,0\n007,20\n0042,0\n")
    assert main(["sample-rasters", str(tmp_path / "sites.csv"), str(tmp_path / "joined.csv"), raster, "--x-col",
                 "lon", "--y-col", "lat", "--join", str(tmp_path / "layers.csv"), "--on", "site", "--quiet"]) == 0
    joined = pd.read_csv(tmp_path / "joined.csv", dtype=str, keep_default_na=False)
    assert joined["site"].tolist() == ["007", "007", "0042"] and joined["clim"].astype(float).tolist()[2] == 1717.0
    assert joined["year"].tolist() == ["1984", "1984", ""]  # the points' own cells too, not 1984.0


def test_points_from_coordinate_columns_are_points_in_a_geopackage_output(tmp_path):
    """A CSV with --x-col/--y-col sampled into a GeoPackage gave a table without geometry (no points in QGIS)."""
    from wholesoil.core.cli import main

    raster = write_raster(tmp_path / "clim.tif", GRID)
    (tmp_path / "sites.csv").write_text("site,lon,lat\na,-9.75,49.75\nb,,\nc,-1.3,41.1\n")
    assert main(["sample-rasters", str(tmp_path / "sites.csv"), str(tmp_path / "out.gpkg"), raster, "--x-col", "lon",
                 "--y-col", "lat", "--quiet"]) == 0
    source = ogr.Open(str(tmp_path / "out.gpkg"))  # kept while its layer is read
    layer = source.GetLayer(0)
    assert layer.GetSpatialRef().GetAuthorityCode(None) == "4326"
    points = [(f["site"], f.GetGeometryRef() and (f.GetGeometryRef().GetX(), f.GetGeometryRef().GetY()))
              for f in layer]
    source = None
    assert points == [("a", (-9.75, 49.75)), ("b", None), ("c", (-1.3, 41.1))]
    assert main(["sample-rasters", str(tmp_path / "sites.csv"), str(tmp_path / "out.csv"), raster, "--x-col", "lon",
                 "--y-col", "lat", "--quiet"]) == 0
    assert "geometry" not in read_table(tmp_path / "out.csv").columns  # a CSV keeps its own columns only
