"""Interrupted raster runs leave nothing behind (issue 10, item 5): SIGTERM and SIGKILL at 50 % of
a 6000 x 6000 run leave no file at the destination, the next run to the same destination removes
what a killed run left, and no worker process outlives its parent by more than a few seconds."""

import os
import signal
import subprocess
import time

import numpy as np
import pytest
from osgeo import gdal, osr

from conftest import ROOT

pytestmark = pytest.mark.slow

SIZE = 6000


@pytest.fixture(scope="module")
def big_beta(tmp_path_factory):
    """A 6000 x 6000 β raster (smooth, tiled) written band-block by band-block."""
    path = tmp_path_factory.mktemp("big") / "beta.tif"
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), SIZE, SIZE, 1, gdal.GDT_Float32,
                                                   options=["TILED=YES", "COMPRESS=DEFLATE"])
    dataset.SetGeoTransform((0, 100, 0, 600000, 0, -100))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3035)
    dataset.SetProjection(srs.ExportToWkt())
    band = dataset.GetRasterBand(1)
    band.SetNoDataValue(-9999)
    columns = np.linspace(0, 6, SIZE)
    for start in range(0, SIZE, 1000):
        rows = np.linspace(start / SIZE * 6, (start + 1000) / SIZE * 6, 1000)[:, None]
        band.WriteArray((0.95 + 0.03 * np.sin(rows) * np.cos(columns)).astype(np.float32), 0, start)
    dataset = None
    return path


def children(pid):
    """Pids of the live children of ``pid`` (read from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start_run(beta, output):
    command = [str(ROOT / ".venv" / "bin" / "wholesoil"), "depth-fractions", "--beta", str(beta), "--output",
               str(output), "--jobs", "2", "--backend", "loky", "--block", "512"]
    return subprocess.Popen(command, stderr=subprocess.PIPE, text=True, bufsize=1)


def wait_for_half(process):
    """Read the progress line until it passes 50 %; returns the output's worker pids."""
    seen = ""
    while "50..." not in seen:
        character = process.stderr.read(1)
        if not character:
            raise AssertionError(f"the run ended before 50 %: {seen}")
        seen += character
    workers = []
    for child in children(process.pid):
        workers += [child] + children(child)
    return workers


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_killed_run_leaves_no_output_and_no_workers(big_beta, tmp_path, signum):
    output = tmp_path / "fractions.tif"
    process = start_run(big_beta, output)
    workers = wait_for_half(process)
    assert workers, "a loky run has worker processes"
    process.send_signal(signum)
    process.wait(timeout=60)
    message = process.stderr.read()
    deadline = time.monotonic() + 10
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(w) for w in workers), "worker processes outlived their parent by 10 s"
    assert not output.exists()
    leftovers = [p.name for p in tmp_path.iterdir()]
    if signum == signal.SIGTERM:
        assert process.returncode == 128 + signal.SIGTERM and "nothing was written" in message
        assert leftovers == []
    else:  # SIGKILL cannot be caught: the next run to the same destination clears the debris
        assert leftovers and all(name.startswith(".fractions.tif.wholesoil-") for name in leftovers)
        small = tmp_path / "small.tif"
        from rasters_util import write_raster
        write_raster(small, np.full((10, 10), 0.96))
        done = subprocess.run([str(ROOT / ".venv" / "bin" / "wholesoil"), "depth-fractions", "--beta", str(small),
                               "--output", str(output)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["fractions.tif", "small.tif"]
