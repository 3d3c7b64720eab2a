"""Table reading/writing: formats, geometry, atomic writes, column checks."""

import pandas as pd
import pytest

from wholesoil.core.errors import InputError
from wholesoil.core.tables import atomic_output, numeric_columns, read_table, require_columns, write_table


def test_geopackage_round_trip_keeps_points_and_crs(resources, tmp_path):
    sites = read_table(resources / "sample_data" / "srdb_bnpp_sites.gpkg")
    assert "geometry" in sites and "WGS 84" in sites.attrs["crs_wkt"]
    out = write_table(sites.assign(extra=1.5), tmp_path / "copy.gpkg")
    again = read_table(out)
    assert list(again["geometry"]) == list(sites["geometry"])
    assert again["extra"].eq(1.5).all() and len(again) == len(sites)
    path = write_table(sites, tmp_path / "copy.csv")
    assert pd.read_csv(path)["geometry"].iloc[0].startswith("POINT")  # WKT in the CSV
    csv = read_table(path)  # read back as WKB, as from any vector file (the CSV holds no CRS)
    from osgeo import ogr

    def points(column):
        return [ogr.CreateGeometryFromWkb(g).GetPoint_2D() for g in column]

    assert points(csv["geometry"]) == pytest.approx(points(sites["geometry"]), abs=1e-12)
    assert csv.attrs["crs_wkt"] is None


def test_atomic_output_leaves_nothing_and_keeps_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            open(tmp, "w").write("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_column_checks_name_the_problem():
    table = pd.DataFrame({"a": ["1", "2", "x", ""], "b": [1, 2, 3, 4]})
    with pytest.raises(InputError, match="no columns 'c', 'd'.*it has: a, b"):
        require_columns(table, ["a", "c", "d"])
    with pytest.raises(InputError, match=r"column 'a' has non-numeric values \('x'\) in row 3"):
        numeric_columns(table, ["a"])
    assert numeric_columns(table.iloc[[0, 1, 3]], ["a"])["a"].isna().sum() == 1


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="use .csv"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_a_fid_column_is_kept_as_a_field_in_geopackages(tmp_path):
    table = pd.DataFrame({"fid": [1, 1, 2], "a": [1.0, 2.0, 3.0]})
    again = read_table(write_table(table, tmp_path / "dup.gpkg"))
    assert list(again["fid"]) == [1, 1, 2] and list(again["a"]) == [1.0, 2.0, 3.0]
