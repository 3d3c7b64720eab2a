"""Table reading/writing: formats, geometry, atomic writes, column checks."""

import re

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


NOT_TABLES = {
    "model.wsmodel": b"PK\x03\x04" + bytes(300),  # a zip: a model file given as the input table
    "map.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    "random.gpkg": bytes(range(256)) * 4,
    "random.xyz": bytes(range(256)) * 4,
    "table.xyz": b"a,b\n1,2\n",  # a CSV under a suffix it is not read by
    "broken.geojson": b'{"type": "FeatureCollection", "features": [',
    "binary.csv": b"a,b\n\xff\xfe\x00\x01,2\n",
}


@pytest.mark.parametrize("name", NOT_TABLES)
def test_a_file_that_is_not_a_table_is_one_clear_error(tmp_path, name):
    """ogr.Open returned None for most of these, and read_table ended in an AttributeError."""
    path = tmp_path / name
    path.write_bytes(NOT_TABLES[name])
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))} is not a table wholesoil can read.*; it reads "
                                         r"CSV \(.csv, .txt, .tsv\) and the vector formats GDAL opens"):
        read_table(path)


def test_empty_and_damaged_files_are_input_errors(resources, tmp_path):
    for name in ("empty.gpkg", "empty.csv", "empty.xyz"):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(InputError, match=rf"^{re.escape(str(tmp_path / name))} is empty$"):
            read_table(tmp_path / name)
    data = bytearray((resources / "sample_data" / "srdb_bnpp_sites.gpkg").read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4000] = b"\xab" * 4000  # opens, but reading its features fails
    (tmp_path / "damaged.gpkg").write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"damaged.gpkg is not a table wholesoil can read \(.*malformed\); it reads"):
        read_table(tmp_path / "damaged.gpkg")
