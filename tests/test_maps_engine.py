"""The raster engine (core.maps.engine): windows, GDAL's block cache in every process of a run."""

import os

import numpy as np
from osgeo import gdal

from rasters_util import read_bands, write_geopackage, write_raster
from wholesoil.core.maps import engine


def cache_of_worker(blocks):
    """Block function: this process's GDAL cache limit (MB) and id in every pixel."""
    shape = next(iter(blocks.values())).shape
    return np.stack([np.full(shape, gdal.GetCacheMax() / 2 ** 20), np.full(shape, float(os.getpid()))])


def test_windows_cover_the_grid_once_and_follow_the_tiles():
    windows = engine.plan_windows(1000, 700, [(256, 256)], bytes_per_pixel=64, memory_mb=8)
    covered = np.zeros((700, 1000), dtype=int)
    for x, y, cols, rows in windows:
        covered[y:y + rows, x:x + cols] += 1
        assert x % 256 == 0 and y % 256 == 0
    assert (covered == 1).all()
    strips = engine.plan_windows(1000, 700, [(1000, 1)], bytes_per_pixel=64, memory_mb=8)
    assert all(cols == 1000 for _, _, cols, _ in strips)



def thread_of_window(blocks):
    """Block function: which thread computed each pixel."""
    import threading

    return np.full(next(iter(blocks.values())).shape, float(threading.get_ident() % 1_000_003))


def test_a_map_smaller_than_one_window_is_cut_so_that_every_worker_has_windows(tmp_path):
    """A small map of a costly product (loss-maps' Monte Carlo over a few thousand pixels) was one window: --jobs 2
    ran on one core. Whole-width bands now give every worker windows; maps are the same for any cut."""
    assert engine.plan_windows(150, 90, [(256, 256)], bytes_per_pixel=64) == [(0, 0, 150, 90)]
    bands = engine.plan_windows(150, 90, [(256, 256)], bytes_per_pixel=64, at_least=4)
    assert bands == [(0, 0, 150, 23), (0, 23, 150, 23), (0, 46, 150, 23), (0, 69, 150, 21)]
    assert engine.plan_windows(150, 3, at_least=4) == [(0, 0, 150, 1), (0, 1, 150, 1), (0, 2, 150, 1)]
    wide = engine.plan_windows(2000, 3, bytes_per_pixel=96, in_flight=32)  # a few rows: squares make more windows
    assert engine.plan_windows(2000, 3, bytes_per_pixel=96, in_flight=32, at_least=16) == wide and len(wide) == 8
    assert len(engine.plan_windows(1000, 1000, [(256, 256)], bytes_per_pixel=64, memory_mb=8, at_least=4)) == 16
    source = write_raster(tmp_path / "in.tif", np.ones((90, 150)))
    if (os.cpu_count() or 1) > 1:
        run = engine.map_blocks(thread_of_window, {"a": source}, tmp_path / "two.tif", ["thread"], n_jobs=2,
                                backend="threading")
        assert len(np.unique(read_bands(run)[0])) == 2  # both worker threads computed windows

def wave(blocks):
    """Block function: a smooth surface that compresses well."""
    return np.sin(blocks["a"] / 40.0)


def test_any_block_size_writes_each_tile_once(tmp_path):
    """Windows that are not multiples of the 256-pixel tiles wrote a tile at each flush that touched
    it: with --block 30 a map was 40 times as large (each copy stays in the file) and slower."""
    rows, columns = np.mgrid[0:600, 0:700]
    source = write_raster(tmp_path / "in.tif", (rows + columns).astype(float))
    sizes = {}
    for block in (None, 256, 100, 30):
        output = engine.map_blocks(wave, {"a": source}, tmp_path / f"out_{block}.tif", ["wave"], block=block)
        sizes[block] = os.path.getsize(output)
        assert np.array_equal(read_bands(output)[0], read_bands(tmp_path / "out_None.tif")[0])
    assert max(sizes.values()) < 1.05 * sizes[None], sizes


def test_gdal_cache_is_capped_in_every_process_of_a_run_and_restored(tmp_path):
    source = write_raster(tmp_path / "in.tif", np.ones((40, 50)))
    before = gdal.GetCacheMax()
    gdal.SetCacheMax(1024 * 2 ** 20)
    try:
        for backend in ("threading", "loky"):
            run = engine.map_blocks(cache_of_worker, {"a": source}, tmp_path / f"{backend}.tif", ["cache", "pid"],
                                    block=16, n_jobs=2, backend=backend)
            bands, _ = read_bands(run)
            assert bands[0].max() <= engine.GDAL_CACHE_MB, backend
            if backend == "loky" and (os.cpu_count() or 1) > 1:
                assert (bands[1] != os.getpid()).all()  # really measured in worker processes
            assert gdal.GetCacheMax() == 1024 * 2 ** 20  # the caller's setting is back after the run
    finally:
        gdal.SetCacheMax(before)


def test_joblib_runs_processes_after_a_map_in_processes(tmp_path):
    """A script that maps with loky and cross-validates with loky, in one process, in either order
    (joblib took over the map's pool and failed on it, 'no attribute _temp_folder_manager')."""
    from joblib import Parallel, delayed

    source = write_raster(tmp_path / "in.tif", np.ones((40, 50)))
    for turn in range(2):
        engine.map_blocks(cache_of_worker, {"a": source}, tmp_path / f"loky{turn}.tif", ["cache", "pid"], block=16,
                          n_jobs=2, backend="loky")
        assert Parallel(n_jobs=2, backend="loky")(delayed(abs)(-i) for i in range(4)) == [0, 1, 2, 3]


def test_more_workers_than_cores_are_reduced_with_a_note(tmp_path, capsys):
    from wholesoil.core.cli import main

    source = write_raster(tmp_path / "beta.tif", np.full((30, 40), 0.95))
    code = main(["depth-fractions", "--beta", source, "--output", str(tmp_path / "f.tif"), "--jobs", "1000",
                 "--backend", "loky", "--block", "8"])
    assert code == 0
    assert f"1000 workers asked for, this machine has {os.cpu_count()} cores" in capsys.readouterr().err
    assert engine.local_workers(1000, tasks=3) <= 3 and engine.local_workers(-1) == (os.cpu_count() or 1)


def nothing_valid(blocks):
    """Block function: no value anywhere, with a counter saying why."""
    shape = next(iter(blocks.values())).shape
    return np.full(shape, np.nan), {"impossible": int(np.isfinite(blocks["a"]).sum())}


def test_a_run_where_no_pixel_with_data_gets_a_value_is_refused_and_writes_nothing(tmp_path):
    import pytest

    from wholesoil.core.errors import InputError

    source = write_raster(tmp_path / "in.tif", np.where(np.arange(20 * 30).reshape(20, 30) % 3, 1.0, np.nan))
    for jobs in (1, 2):
        with pytest.raises(InputError, match=r"o.tif: no pixel got a value: 400 pixels have data in every input and "
                                             r"each gave nodata \(400 impossible\); nothing was written"):
            engine.map_blocks(nothing_valid, {"a": source}, tmp_path / "o.tif", ["x"], block=16, n_jobs=jobs,
                              explain=lambda counts: [f"{n} {what}" for what, n in counts.items()])
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.tif"]
    empty = write_raster(tmp_path / "empty.tif", np.full((20, 30), np.nan))  # no data (the sea): a map, with a note
    run = engine.map_blocks(nothing_valid, {"a": empty}, tmp_path / "sea.tif", ["x"], block=16)
    assert run.valid[0] == 0 and run.notes == [f"input a ({empty}) has no valid pixel (all nodata)",
                                               f"{tmp_path / 'sea.tif'}: band x has no valid pixel (all nodata)"]


def classes_and_steps(blocks):
    """Block function: a class band (codes 1-3) and a step between 0 and 100."""
    a = blocks["a"]
    return np.stack([1.0 + (a // 97) % 3, np.where((a // 50) % 2 == 0, 0.0, 100.0)])


def test_cog_overviews_average_values_and_take_the_most_frequent_class(tmp_path):
    """GDAL's default overviews (cubic) showed class codes that do not exist and values beyond the data's range."""
    rows, columns = np.mgrid[0:700, 0:600]
    values = (rows + 3 * columns).astype(float)
    values[:40, :40] = np.nan
    source = write_raster(tmp_path / "in.tif", values)
    output = engine.map_blocks(classes_and_steps, {"a": source}, tmp_path / "c.tif", ["x_class", "step"], cog=True,
                               classes=["x_class"])
    dataset = gdal.Open(str(output))
    assert dataset.GetMetadata("IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    full_classes, full_steps = (dataset.GetRasterBand(i).ReadAsArray() for i in (1, 2))
    for index, allowed in ((1, set(np.unique(full_classes))), (2, None)):
        band = dataset.GetRasterBand(index)
        assert band.GetOverviewCount() >= 1
        overview = band.GetOverview(0).ReadAsArray()
        data = overview[overview != band.GetNoDataValue()]
        if allowed is not None:
            assert set(np.unique(data)) <= allowed
        else:
            assert data.min() >= 0 and data.max() <= 100 and 0 < np.mean((data > 0) & (data < 100))


class StubClient:
    """A Dask client whose workers answer ``run`` with the given results."""

    def __init__(self, answers):
        self.answers = answers

    def run(self, func, *args):
        return self.answers


def test_dask_workers_without_wholesoil_are_named_before_any_work():
    """Workers started with Debian's dask-worker (another Python) failed the run with a 60-line traceback."""
    import pytest

    from wholesoil import __version__
    from wholesoil.core.errors import InputError

    engine._check_dask_workers(StubClient({"tcp://a:1": __version__, "tcp://b:2": __version__}), "tcp://s:8786")
    with pytest.raises(InputError, match=r"Dask workers tcp://b:2 cannot import wholesoil: .*python -m "
                                         r"distributed.cli.dask_worker tcp://s:8786"):
        engine._check_dask_workers(StubClient({"tcp://a:1": __version__, "tcp://b:2": None}), "tcp://s:8786")
    with pytest.raises(InputError, match=r"tcp://a:1 \(0.0.1\) run another wholesoil"):
        engine._check_dask_workers(StubClient({"tcp://a:1": "0.0.1"}), "tcp://s:8786")
    with pytest.raises(InputError, match="has no worker"):
        engine._check_dask_workers(StubClient({}), "tcp://s:8786")


def test_map_products_and_aggregate_read_a_table_of_a_geopackage(tmp_path):
    """GPKG:x.gpkg:table reads as the raster file holding the same values; a table followed by :BAND is a band
    of it, and the GeoPackage itself (several rasters) says which it holds."""
    import pytest

    from wholesoil.core.errors import InputError
    from wholesoil.core.maps.aggregate import aggregate_raster
    from wholesoil.core.maps.products import RootInputs, bnpp_by_depth

    rows, columns = np.mgrid[0:20, 0:30]
    bnpp, beta = 2.0 + rows / 10.0, 0.9 + columns / 400.0
    tifs = {name: write_raster(tmp_path / f"{name}.tif", values) for name, values in (("bnpp", bnpp), ("beta", beta))}
    gpkg = write_geopackage(tmp_path / "roots.gpkg", {"bnpp": bnpp, "beta": beta})
    expected = read_bands(bnpp_by_depth(tmp_path / "tif.tif", RootInputs(bnpp=tifs["bnpp"], beta=tifs["beta"],
                                                                          layers="0,30,100")))[0]
    run = bnpp_by_depth(tmp_path / "gpkg.tif", RootInputs(bnpp=f"GPKG:{gpkg}:bnpp:1", beta=f"GPKG:{gpkg}:beta",
                                                          layers="0,30,100"))
    np.testing.assert_array_equal(read_bands(run)[0], expected)
    totals = aggregate_raster(tifs["bnpp"], units="Mg_ha_yr")[0]
    read = aggregate_raster(f"GPKG:{gpkg}:bnpp", units="Mg_ha_yr")[0]
    columns = ["count", "area_ha", "mean", "total"]
    np.testing.assert_array_equal(read[columns], totals[columns])
    with pytest.raises(InputError, match=r"^raster .*roots\.gpkg holds 2 rasters; give one of them \(GPKG:.*roots"
                                         r"\.gpkg:bnpp, GPKG:.*roots\.gpkg:beta\)$"):
        aggregate_raster(gpkg)
