"""The wholesoil command line: outputs, help, and one-line errors with exit code 2."""

import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from rasters_util import read_bands, write_raster
from wholesoil.core.cli import COMMAND_MODULES, build_parser, main
from wholesoil.core.outputs import Terminated
from wholesoil.core.depth import beta_layer_fractions, logistic_layer_fractions


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_numbers_print_the_fractions(capsys, tmp_path):
    code, out, _ = run(capsys, "depth-fractions", "--d50", 20, "--d95", 80, "--plot", tmp_path / "p.png")
    assert code == 0 and "150-200" in out
    printed = [float(line.split()[3]) for line in out.splitlines()[1:]]
    np.testing.assert_allclose(printed, logistic_layer_fractions(20, 80), rtol=1e-5)
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    code, out, _ = run(capsys, "depth-fractions", "--beta", 0.96, "--layers", "0,30,100", "--no-normalize")
    printed = [float(line.split()[3]) for line in out.splitlines()[1:]]
    np.testing.assert_allclose(printed, beta_layer_fractions(0.96, "0,30,100", normalize=False), rtol=1e-5)


def test_cumulative_counts_from_the_surface_when_the_layers_start_deeper(capsys):
    """The share from the surface to each bottom: with layers 30-100 and 100-200 cm, 1 - β^100 then 1
    (β model, shares of the 0-200 cm profile), not the running sum of those layers alone."""
    code, out, _ = run(capsys, "depth-fractions", "--beta", 0.95, "--layers", "30,100,200")
    cumulative = [float(line.split()[4]) for line in out.splitlines()[1:]]
    assert code == 0
    np.testing.assert_allclose(cumulative, [(1 - 0.95 ** 100) / (1 - 0.95 ** 200), 1.0], rtol=1e-5)


@pytest.mark.parametrize("args, message", [
    (["--d50", "80", "--d95", "20"], "D95 must be greater than D50"),
    (["--d50", "20"], "needs both --d50 and --d95"),
    (["--d50", "20", "--d95", "80", "--beta", "0.9"], "not both"),
    (["--d50", "20", "--d95", "80", "--layers", "0-20,10-40"], "overlaps"),
    (["--beta", "shallow"], "not a number or an existing raster"),
    (["--d50", "20", "--d95", "80", "--frobnicate"], "unrecognized arguments"),
])
def test_bad_input_exits_2_with_one_line(capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        code = main(["depth-fractions"] + args)
        raise SystemExit(code)
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_table_mode_keeps_columns(capsys, resources, tmp_path):
    out = tmp_path / "jackson.csv"
    code, _, _ = run(capsys, "depth-fractions", "--input", resources / "sample_data" / "jackson1996_beta_by_biome.csv",
                     "--beta", "beta", "--layers", "0,30", "--no-normalize", "--output", out)
    table = pd.read_csv(out)
    assert code == 0 and {"biome", "beta", "frac_0_30"} <= set(table.columns)
    assert table.set_index("biome").loc["tundra", "frac_0_30"] == pytest.approx(0.9326, abs=1e-4)


def test_missing_column_writes_nothing(capsys, resources, tmp_path):
    out = tmp_path / "x.csv"
    code, _, err = run(capsys, "depth-fractions", "--input", resources / "sample_data" / "jackson1996_beta_by_biome.csv",
                       "--d50", "D50", "--d95", "80", "--output", out)
    assert code == 2 and "no column 'D50'" in err and not out.exists()


def test_raster_mode_and_partition(capsys, tmp_path):
    beta = write_raster(tmp_path / "beta.tif", np.full((6, 7), 0.95))
    frac = tmp_path / "frac.tif"
    code, _, _ = run(capsys, "depth-fractions", "--beta", beta, "--output", frac, "--jobs", 2, "--backend", "threading",
                     "--plot", tmp_path / "mean.png")
    bands, names = read_bands(frac)
    assert code == 0 and names[0] == "frac_0_20" and bands.shape == (7, 6, 7)
    np.testing.assert_allclose(bands[:, 0, 0], beta_layer_fractions(np.float32(0.95)), rtol=1e-6)
    code, _, _ = run(capsys, "partition-total", "--total", 2.5, "--fractions", frac, "--output", tmp_path / "p.tif")
    parts, names = read_bands(tmp_path / "p.tif")
    assert code == 0 and names[-1] == "part_150_200"
    np.testing.assert_allclose(parts, 2.5 * bands, rtol=1e-6)


def test_partition_table_with_a_model(capsys, resources, tmp_path):
    out = tmp_path / "sites.gpkg"
    code, _, _ = run(capsys, "partition-total", "--input", resources / "sample_data" / "srdb_bnpp_sites.gpkg",
                     "--total", "bnpp_Mg_ha_yr", "--beta", "beta", "--prefix", "bnpp", "--output", out)
    from wholesoil.core.tables import read_table

    table = read_table(out)
    layers = [c for c in table.columns if c.startswith("bnpp_") and c[5:6].isdigit()]
    assert code == 0 and len(layers) == 7 and "geometry" in table
    ok = table["beta"].notna()
    np.testing.assert_allclose(table.loc[ok, layers].sum(axis=1), table.loc[ok, "bnpp_Mg_ha_yr"], rtol=1e-9)


def test_partition_a_number_with_a_model(capsys, tmp_path):
    """As depth-fractions does for numbers: one row, the total times the share of the 0-200 cm profile."""
    from wholesoil.core.tables import read_table

    code, _, err = run(capsys, "partition-total", "--total", "3.28", "--d50", "20", "--d95", "80", "--layers", "30,100",
                       "--output", tmp_path / "p.csv")
    table = read_table(tmp_path / "p.csv")
    assert code == 0 and len(table) == 1 and "cover 30-100 cm" in err
    assert table["part_30_100"].iloc[0] == pytest.approx(3.28 * table["frac_30_100"].iloc[0], rel=1e-12)


def test_fit_depth_model(capsys, resources, tmp_path):
    out = tmp_path / "fits.csv"
    code, stdout, err = run(capsys, "fit-depth-model", resources / "sample_data" / "silsoe_fine_roots.csv", out,
                            "--id-col", "profile_id", "--top-col", "top_cm", "--bottom-col", "bottom_cm",
                            "--value-col", "mass_mg_cm3", "--value-kind", "density", "--model", "beta",
                            "--plot", tmp_path / "fits.png")
    fits = pd.read_csv(out)
    assert code == 0 and len(fits) == 66 and "fitted 66 of 66" in err
    assert fits["beta"].between(0.85, 1).all() and (tmp_path / "fits.png").exists()
    label, header, values = stdout.splitlines()[:3]  # the summary says what its numbers are
    assert label == "median over the 66 fitted profiles:" and header.split() == ["d50_cm", "d95_cm", "beta", "r2"]
    assert float(values.split()[2]) == pytest.approx(fits["beta"].median(), rel=1e-5)


def test_every_command_has_help(capsys):
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"depth-fractions", "fit-depth-model", "partition-total", "demo"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert "usage: wholesoil " + name in capsys.readouterr().out
    assert COMMAND_MODULES[0] == "depth"


def test_console_script_runs():
    exe = [sys.executable, "-m", "wholesoil.core.cli"]
    done = subprocess.run(exe + ["depth-fractions", "--d50", "20", "--d95", "10"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith("wholesoil depth-fractions: error: D95")
    done = subprocess.run(exe + ["depth-fractions", "--beta", "0.96", "--layers", "0,30"], capture_output=True,
                          text=True)
    assert done.returncode == 0 and "0.706343" in done.stdout and "sum to the share" in done.stderr


def test_the_program_imports_scikit_learn_without_setuptools():
    """setuptools' distutils shim (installed with setuptools, as here) would make joblib's
    ``import distutils`` load setuptools and pkg_resources at the start of every command."""
    script = ("import sys, _distutils_hack; _distutils_hack.add_shim()\n"
              "from wholesoil.core.cli import use_standard_distutils\n"
              "use_standard_distutils()\n"
              "import sklearn.ensemble, distutils\n"
              "print('setuptools' in sys.modules, 'pkg_resources' in sys.modules, distutils.__file__)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["False", "False"] and "setuptools" not in done.stdout.split()[2]

@pytest.mark.parametrize("interruption, code, words", [(Terminated(signal.SIGTERM), 143, "stopped by SIGTERM"),
                                                        (KeyboardInterrupt(), 130, "cancelled")])
def test_an_interruption_inside_compiled_code_ends_as_the_interruption(capsys, monkeypatch, tmp_path, interruption,
                                                                       code, words):
    """A signal handled while the numba kernel runs comes back wrapped in a SystemError."""
    from wholesoil.core.cli import maps

    def run_in_compiled_code(args):
        try:
            try:
                raise interruption
            except KeyboardInterrupt as error:
                raise SystemError("<function _numba_unpickle> returned a result with an exception set") from error
        except SystemError as error:
            raise SystemError("CPUDispatcher(<function _forest_loop>) returned a result with an exception set") \
                from error

    monkeypatch.setattr(maps, "run_predict_raster", run_in_compiled_code)
    assert main(["predict-raster", "m.wsmodel", "--covariates", "c.tif", "--output", str(tmp_path / "o.tif")]) == code
    err = capsys.readouterr().err
    assert words in err and "nothing was written" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_raster_commands_work_on_threads_unless_told_otherwise():
    """Threads start at once and scale (the kernels, GDAL and numpy release the GIL); each
    worker process would load the models again (docs/maps.md has the measured table)."""
    parser = build_parser()
    for argv in (["depth-fractions", "--beta", "beta.tif"],
                 ["predict-raster", "m.wsmodel", "--covariates", "c.tif", "--output", "o.tif"]):
        assert parser.parse_args(argv).backend == "threading"
        assert parser.parse_args(argv + ["--backend", "loky"]).backend == "loky"


@pytest.mark.parametrize("layers, message", [("-10,20,40", "negative depth"), ("0-20,15-40", "overlaps")])
def test_impossible_layers_on_the_cli_write_nothing(capsys, tmp_path, layers, message):
    out = tmp_path / "f.csv"
    code, _, err = run(capsys, "depth-fractions", "--d50", 20, "--d95", 80, f"--layers={layers}", "--output", out)
    assert code == 2 and message in err and not out.exists()


def test_rasters_in_different_crs_on_the_cli(capsys, tmp_path):
    d50 = write_raster(tmp_path / "d50.tif", np.full((3, 3), 20.0))
    d95 = write_raster(tmp_path / "d95.tif", np.full((3, 3), 80.0), epsg=3035)
    out = tmp_path / "f.tif"
    code, _, err = run(capsys, "depth-fractions", "--d50", d50, "--d95", d95, "--output", out)
    assert code == 2 and "different CRSs" in err and "EPSG:3035" in err and not out.exists()


def test_an_error_after_progress_starts_on_its_own_line(capsys, tmp_path):
    d50 = np.full((40, 40), 20.0)
    d50[39, 39] = 90.0  # impossible pixel in the last block
    path = write_raster(tmp_path / "d50.tif", d50)
    code, _, err = run(capsys, "depth-fractions", "--d50", path, "--d95", 80, "--output", tmp_path / "f.tif",
                       "--block", 8)
    assert code == 2 and "0..." in err
    assert err.splitlines()[-1].startswith("wholesoil depth-fractions: error: D95 must be greater than D50")


# ---------------------------------------------------------------------------------------------
# Non-finite numbers (issue 10, item 7), negative option values and fraction rasters (item 10),
# layers covering part of the profile (issue 11, item 4)


@pytest.mark.parametrize("args, message", [
    (["depth-fractions", "--d50", "nan", "--d95", "80"], "--d50: nan is not a finite number"),
    (["depth-fractions", "--beta", "inf"], "--beta: inf is not a finite number"),
    (["depth-fractions", "--beta", "0.96", "--profile-depth", "nan"], "profile depth must be a finite number"),
    (["partition-total", "--total", "-inf", "--beta", "0.96", "--output", "{tmp}/p.csv", "--input", "{jackson}"],
     "--total: -inf is not a finite number"),
    (["depth-fractions", "--d50", "20", "--d95", "80", "--layers", "-10,0,20"], "layers: negative depth -10 cm"),
    (["partition-total", "--total", "2.0", "--fractions", "{beta_tif}", "--output", "{tmp}/p.tif"],
     "has a single band and records no layers"),
])
def test_impossible_numbers_and_rasters_exit_2_and_write_nothing(capsys, resources, tmp_path, args, message):
    sample = resources / "sample_data"
    args = [a.format(tmp=tmp_path, jackson=sample / "jackson1996_beta_by_biome.csv",
                     beta_tif=sample / "americas_root_beta.tif") for a in args]
    code, _, err = run(capsys, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_nan_constant_with_a_raster_parameter_is_refused(capsys, tmp_path):
    d50 = write_raster(tmp_path / "d50.tif", np.full((3, 3), 20.0))
    code, _, err = run(capsys, "depth-fractions", "--d50", d50, "--d95", "nan", "--output", tmp_path / "f.tif")
    assert code == 2 and "--d95: nan is not a finite number" in err and not (tmp_path / "f.tif").exists()


def test_partial_layers_hold_their_share_of_the_profile_total(capsys, resources, tmp_path):
    """SRDB BNPP (0-200 cm totals) split with each site's β over 30-100 cm only: the layer gets the share
    (β^30 - β^100) / (1 - β^200) of the total, not all of it, and the user is told."""
    out = tmp_path / "sites.csv"
    code, _, err = run(capsys, "partition-total", "--input", resources / "sample_data" / "srdb_bnpp_sites.gpkg",
                       "--total", "bnpp_Mg_ha_yr", "--beta", "beta", "--layers", "30,100", "--output", out)
    table = pd.read_csv(out)
    beta = table["beta"]
    expected = table["bnpp_Mg_ha_yr"] * (beta ** 30 - beta ** 100) / (1 - beta ** 200)
    assert code == 0 and table["beta"].notna().sum() > 10
    np.testing.assert_allclose(table["part_30_100"], expected, rtol=1e-9)
    assert "note: the layers cover 30-100 cm, not the whole 0-200 cm profile" in err
    code, out_text, err = run(capsys, "depth-fractions", "--d50", 20, "--d95", 80, "--layers", "30,100")
    assert "sum to the share the layers hold (0.267)" in err and "0.267" in out_text
    code, _, err = run(capsys, "depth-fractions", "--d50", 20, "--d95", 80, "--layers", "0,50,100",
                       "--profile-depth", 100)
    assert code == 0 and "note" not in err


def test_soc_stocks_organic_carbon_in_percent(capsys, resources, tmp_path):
    """ISRaD's lyr_c_org is %: with --oc-unit percent the per-horizon stocks match ISRaD's lyr_soc."""
    source = resources / "sample_data" / "israd_sample_profiles.csv"
    args = ["soc-stocks", source, tmp_path / "s.csv", "--id-col", "profile_id", "--top-col", "lyr_top",
            "--bottom-col", "lyr_bot", "--soc-col", "lyr_c_org", "--bd-col", "lyr_bd_samp_filled"]
    code, _, err = run(capsys, *args, "--oc-unit", "percent")
    stocks = pd.read_csv(tmp_path / "s.csv")
    both = stocks["soc_mg_ha"].notna() & stocks["lyr_soc"].notna()
    assert code == 0 and both.sum() >= 20 and "looks like %" not in err
    np.testing.assert_allclose(np.median(stocks.loc[both, "soc_mg_ha"] / (100 * stocks.loc[both, "lyr_soc"])), 1.0,
                               atol=0.02)
    code, _, err = run(capsys, *args)
    assert code == 0 and "note: organic carbon looks like %, not g kg-1" in err


def test_one_monte_carlo_draw_is_refused_with_the_rule_the_help_gives(capsys, tmp_path):
    assert "2 or more" in build_parser().commands.choices["loss-maps"].format_help()
    assert main(["loss-maps", "--bnpp", "1", "--beta", "0.9", "--ibulk", "i.tif", "--draws", "1",
                 "--output", str(tmp_path / "l.tif")]) == 2
    assert "draws must be a whole number of at least 2 (got 1)" in capsys.readouterr().err


def test_raster_commands_read_a_table_of_a_geopackage(tmp_path, capsys):
    """depth-fractions and turnover took GPKG:x.gpkg:table for a column name ('is not a number or an existing raster
    file'); they read it as the raster it is, the same as a GeoTIFF of it."""
    from rasters_util import write_geopackage

    gpkg = write_geopackage(tmp_path / "maps.gpkg", {"beta": np.full((6, 8), 0.95), "stock": np.full((6, 8), 50.0)})
    tif = write_raster(tmp_path / "beta.tif", np.full((6, 8), 0.95))
    assert main(["depth-fractions", "--beta", f"GPKG:{gpkg}:beta", "--output", str(tmp_path / "a.tif")]) == 0
    assert main(["depth-fractions", "--beta", tif, "--output", str(tmp_path / "b.tif")]) == 0
    np.testing.assert_array_equal(read_bands(tmp_path / "a.tif")[0], read_bands(tmp_path / "b.tif")[0])
    assert main(["turnover", "--stock", f"GPKG:{gpkg}:stock", "--flux", "2.5", "--output",
                 str(tmp_path / "tau.tif")]) == 0
    assert np.allclose(read_bands(tmp_path / "tau.tif")[0], 20.0)
    capsys.readouterr()
    assert main(["depth-fractions", "--beta", f"GPKG:{gpkg}:nope", "--output", str(tmp_path / "c.tif")]) == 2
    assert "--beta: cannot open raster GPKG:" in capsys.readouterr().err and not (tmp_path / "c.tif").exists()


def test_profiles_with_the_same_fractions_share_one_labelled_line():
    """Jackson's boreal forest and temperate grassland have one β (0.943): their curves lay on each other,
    so the legend named a line that could not be seen. They are one line now, labelled with both, and
    in the bars (up to 4 profiles) both have that line's colour."""
    from matplotlib.colors import to_rgba

    from wholesoil.core.layers import layer_scheme
    from wholesoil.core.plots import depth_fractions_figure

    scheme = layer_scheme("standard7")
    same, other = [0.5, 0.2, 0.1, 0.1, 0.05, 0.03, 0.02], [0.4, 0.2, 0.2, 0.1, 0.05, 0.03, 0.02]
    few = {"boreal forest": same, "temperate grassland": same, "tundra": other}
    many = {**{f"biome {i}": [v + 0.001 * i for v in other] for i in range(1, 7)}, **few}
    for profiles in (few, many):
        figure = depth_fractions_figure(scheme, profiles)
        lines = {line.get_label(): line for line in figure.axes[1].get_lines()}
        assert "boreal forest = temperate grassland" in lines and len(lines) == len(profiles) - 1
    bars = {container.get_label(): container.patches[0].get_facecolor() for container in
            depth_fractions_figure(scheme, few).axes[0].containers}
    line = {line.get_label(): line for line in depth_fractions_figure(scheme, few).axes[1].get_lines()}
    joint = to_rgba(line["boreal forest = temperate grassland"].get_color())
    assert bars["boreal forest"] == bars["temperate grassland"] == joint != bars["tundra"]
