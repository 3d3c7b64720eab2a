"""Depth fractions and partitioned totals over tables and raster stacks."""

import numpy as np
import pandas as pd
import pytest

from rasters_util import read_bands, write_raster
from wholesoil.core import depth
from wholesoil.core.errors import CancelledError, InputError
from wholesoil.core.layers import layer_scheme
from wholesoil.core.partitioning import (fraction_columns, raster_fractions, raster_partition_total,
                                         table_fractions, table_partition_total)

RNG = np.random.default_rng(7)


def test_table_fractions_keep_columns_and_missing_rows():
    table = pd.DataFrame({"site": ["a", "b", "c"], "D50": [15.0, np.nan, 30.0], "note": ["x", "y", "z"]})
    out = table_fractions(table, "logistic", {"d50": "D50", "d95": 90.0}, "0,20,100")
    assert list(out.columns) == ["site", "D50", "note", "frac_0_20", "frac_20_100"]
    np.testing.assert_allclose(out.loc[0, ["frac_0_20", "frac_20_100"]].to_numpy(dtype=float),
                               depth.logistic_layer_fractions(15.0, 90.0, "0,20,100"))
    assert out.loc[1, ["frac_0_20", "frac_20_100"]].isna().all()


def test_table_rows_with_impossible_parameters_are_named():
    table = pd.DataFrame({"D50": [10.0, 50.0, 20.0, 90.0], "D95": [40.0, 40.0, 60.0, 80.0]})
    with pytest.raises(InputError, match="D95 must be greater than D50 \\(rows 2, 4"):
        table_fractions(table, "logistic", {"d50": "D50", "d95": "D95"})


def test_table_partition_total():
    table = pd.DataFrame({"bnpp": [2.0, 3.0], "frac_0_20": [0.6, 0.5], "frac_20_40": [0.4, 0.5]})
    columns = fraction_columns(table)
    assert columns == ["frac_0_20", "frac_20_40"]
    out = table_partition_total(table, "bnpp", columns)
    np.testing.assert_allclose(out[["part_0_20", "part_20_40"]].to_numpy(), [[1.2, 0.8], [1.5, 1.5]])
    with pytest.raises(InputError, match="between 0 and 1 \\(row 2\\)"):
        table_partition_total(table.assign(frac_0_20=[0.5, 1.5]), 1.0, columns)


@pytest.fixture
def beta_raster(tmp_path):
    values = RNG.uniform(0.9, 0.99, (37, 53))
    values[3, 4] = np.nan
    return write_raster(tmp_path / "beta.tif", values), values


def test_raster_fractions_match_the_model_and_keep_nodata(beta_raster, tmp_path):
    path, values = beta_raster
    out = raster_fractions("beta", {"beta": path}, tmp_path / "f.tif", "standard5", block=16)
    bands, names = read_bands(out)
    assert names == layer_scheme("standard5").column_names("frac")
    expected = np.moveaxis(depth.beta_layer_fractions(values.astype(np.float32), "standard5"), -1, 0)
    np.testing.assert_allclose(bands, expected, rtol=2e-6, atol=1e-7)
    assert np.isnan(bands[:, 3, 4]).all() and np.isfinite(bands[:, 0, 0]).all()


@pytest.mark.parametrize("n_jobs, backend", [(2, "threading"), (2, "loky")])
def test_parallel_blocks_give_the_serial_result(beta_raster, tmp_path, n_jobs, backend):
    path, _ = beta_raster
    serial, _ = read_bands(raster_fractions("beta", {"beta": path}, tmp_path / "a.tif", block=8))
    parallel, _ = read_bands(raster_fractions("beta", {"beta": path}, tmp_path / "b.tif", block=8,
                                              n_jobs=n_jobs, backend=backend))
    np.testing.assert_array_equal(serial, parallel)


def test_mixed_raster_and_constant_parameters(tmp_path):
    d50 = write_raster(tmp_path / "d50.tif", np.full((4, 5), 20.0))
    bands, _ = read_bands(raster_fractions("logistic", {"d50": d50, "d95": 80.0}, tmp_path / "f.tif"))
    np.testing.assert_allclose(bands[:, 2, 2], depth.logistic_layer_fractions(20.0, 80.0), rtol=1e-6)


def test_rasters_in_different_crs_are_refused_and_nothing_written(tmp_path):
    d50 = write_raster(tmp_path / "d50.tif", np.full((4, 5), 20.0))
    d95 = write_raster(tmp_path / "d95.tif", np.full((4, 5), 80.0), epsg=3857)
    out = tmp_path / "f.tif"
    with pytest.raises(InputError, match=r"different CRSs: d50 \(.*d50.tif\) is EPSG:4326, d95 \(.*d95.tif\) is "
                                         r"EPSG:3857"):  # the files are named (QGIS users know them, not the blocks)
        raster_fractions("logistic", {"d50": d50, "d95": d95}, out)
    assert not out.exists()


@pytest.mark.parametrize("kwargs, message", [({"origin": (-9.0, 50.0)}, "not aligned"),
                                             ({"pixel": 0.25}, "not aligned")])
def test_misaligned_rasters_are_refused(tmp_path, kwargs, message):
    d50 = write_raster(tmp_path / "d50.tif", np.full((4, 5), 20.0))
    d95 = write_raster(tmp_path / "d95.tif", np.full((4, 5), 80.0), **kwargs)
    with pytest.raises(InputError, match=message):
        raster_fractions("logistic", {"d50": d50, "d95": d95}, tmp_path / "f.tif")


def test_bad_pixels_are_located_and_nothing_written(tmp_path):
    d50 = np.full((20, 20), 20.0)
    d50[15, 12] = 90.0
    path = write_raster(tmp_path / "d50.tif", d50)
    out = tmp_path / "f.tif"
    out.write_text("previous result")
    with pytest.raises(InputError, match="D95 must be greater than D50.*columns 0-15, rows 0-15"):
        raster_fractions("logistic", {"d50": path, "d95": 80.0}, out, block=16)
    assert out.read_text() == "previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d50.tif", "f.tif"]


def test_cancel_stops_and_leaves_nothing(beta_raster, tmp_path):
    path, _ = beta_raster
    calls = []
    with pytest.raises(CancelledError):
        raster_fractions("beta", {"beta": path}, tmp_path / "f.tif", block=8,
                         progress=calls.append, is_cancelled=lambda: len(calls) >= 1)
    assert calls and not (tmp_path / "f.tif").exists()


def test_progress_reaches_100(beta_raster, tmp_path):
    path, _ = beta_raster
    calls = []
    raster_fractions("beta", {"beta": path}, tmp_path / "f.tif", block=8, progress=calls.append)
    assert calls == sorted(calls) and calls[-1] == 100


def test_raster_partition_total_with_fraction_raster_and_model(beta_raster, tmp_path):
    path, values = beta_raster
    fractions = raster_fractions("beta", {"beta": path}, tmp_path / "f.tif", "0,30,100")
    total = RNG.uniform(1, 5, values.shape)
    total_path = write_raster(tmp_path / "total.tif", total)
    out, names = read_bands(raster_partition_total(total_path, tmp_path / "p.tif", fractions, prefix="bnpp"))
    assert names == ["bnpp_0_30", "bnpp_30_100"]
    frac, _ = read_bands(fractions)
    np.testing.assert_allclose(out, total.astype(np.float32) * frac, rtol=1e-6)
    direct, _ = read_bands(raster_partition_total(total_path, tmp_path / "q.tif", model="beta",
                                                  params={"beta": path}, layers="0,30,100", prefix="bnpp"))
    np.testing.assert_allclose(direct, out, rtol=1e-6)
    with pytest.raises(InputError, match="as a raster"):
        raster_partition_total(2.0, tmp_path / "r.tif", model="beta", params={"beta": 0.95})


def test_output_must_not_be_an_input(beta_raster):
    path, _ = beta_raster
    with pytest.raises(InputError, match="also an input"):
        raster_fractions("beta", {"beta": path}, path)
