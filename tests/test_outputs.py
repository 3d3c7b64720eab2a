"""Never lose a user's data: outputs that are inputs, GeoPackage layers, Shapefile sets,
outputs checked before any work and committed together, one-line errors (issue 10)."""

import os
import shutil

import numpy as np
import pandas as pd
import pytest
from osgeo import ogr

from conftest import run_qgis_process
from rasters_util import write_geopackage, write_netcdf, write_raster
from wholesoil.core.cli import main
from wholesoil.core.errors import InputError
from wholesoil.core.outputs import (OutputTransaction, atomic_output, check_output_path, register_input,
                                     remove_stale_temporaries)
from wholesoil.core.tables import read_table, write_table

FIT = ["--id-col", "profile_id", "--top-col", "top_cm", "--bottom-col", "bottom_cm", "--value-col", "mass_mg_cm3"]


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err, *words):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], lines[0]


def hidden_leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.fixture
def roots(resources, tmp_path):
    """A copy of the Silsoe fine-root increments (a real table) in a scratch folder."""
    path = tmp_path / "roots.csv"
    shutil.copy(resources / "sample_data" / "silsoe_fine_roots.csv", path)
    return path


@pytest.fixture
def sites_gpkg(resources, tmp_path):
    """A GeoPackage with two layers: the SRDB BNPP sites and a second layer that must survive."""
    path = tmp_path / "m.gpkg"
    table = read_table(resources / "sample_data" / "srdb_bnpp_sites.gpkg")
    write_table(table, path, layer="pts")
    write_table(table.head(3), path, layer="keep_me")
    return path, table


def gpkg_layers(path):
    source = ogr.Open(str(path))
    return {source.GetLayerByIndex(i).GetName(): source.GetLayerByIndex(i).GetFeatureCount()
            for i in range(source.GetLayerCount())}


# 1. output = input


@pytest.mark.parametrize("spelling", ["same", "dotdot", "symlink"])
def test_table_output_equal_to_input_is_refused(capsys, roots, spelling):
    before = roots.read_bytes()
    output = {"same": roots, "dotdot": roots.parent / "x" / ".." / roots.name,
              "symlink": roots.parent / "link.csv"}[spelling]
    if spelling == "symlink":
        output.symlink_to(roots)
    (roots.parent / "x").mkdir()
    code, _, err = run(capsys, "fit-depth-model", roots, output, *FIT)
    one_line_error(code, err, "is also an input")
    assert roots.read_bytes() == before


def test_predictions_equal_to_the_training_table_are_refused(capsys, resources, tmp_path):
    data = tmp_path / "rh.csv"
    shutil.copy(resources / "sample_data" / "srdb_rh_records.csv", data)
    before = data.read_bytes()
    code, _, err = run(capsys, "train-model", data, tmp_path / "m.wsmodel", "--target", "Rh_annual",
                       "--features", "MAT,MAP", "--independent-rows", "--predictions", data)
    one_line_error(code, err, "--predictions", "is also an input")
    assert data.read_bytes() == before and not (tmp_path / "m.wsmodel").exists()


def test_plot_equal_to_an_input_is_refused(capsys, tmp_path):
    png = tmp_path / "p.png"
    png.write_bytes(b"\x89PNG not really")
    code, _, err = run(capsys, "depth-fractions", "--input", png, "--beta", "beta", "--output", tmp_path / "o.csv",
                       "--plot", png)
    one_line_error(code, err, "--plot", "is also an input")
    assert png.read_bytes() == b"\x89PNG not really"


def test_geopackage_input_as_output_keeps_every_layer(capsys, sites_gpkg):
    path, _ = sites_gpkg
    code, _, err = run(capsys, "depth-fractions", "--input", path, "--layer", "pts", "--beta", "beta",
                       "--output", path)
    one_line_error(code, err, "is also an input")
    assert gpkg_layers(path) == {"pts": 137, "keep_me": 3}


def test_an_output_over_the_file_holding_a_raster_read_as_a_subdataset_is_refused(capsys, tmp_path):
    """GPKG:x.gpkg:table and NETCDF:"x.nc":variable read x.gpkg and x.nc: an output there would destroy the input."""
    gpkg = write_geopackage(tmp_path / "maps.gpkg", {"bnpp": np.full((4, 4), 3.0), "beta": np.full((4, 4), 0.95)})
    before = (tmp_path / "maps.gpkg").read_bytes()
    code, _, err = run(capsys, "aggregate", f"GPKG:{gpkg}:bnpp", "--output", gpkg, "--units", "Mg_ha_yr")
    assert code == 2 and err.strip().splitlines()[-1] == (f"wholesoil aggregate: error: --output: {gpkg} is also an "
                                                          f"input ({gpkg}); write to another file so that the input "
                                                          "is not destroyed")
    assert (tmp_path / "maps.gpkg").read_bytes() == before and hidden_leftovers(tmp_path) == []
    netcdf = write_netcdf(tmp_path / "maps.nc", {"bnpp": np.full((4, 4), 3.0)})
    for source, container in ((f'NETCDF:"{netcdf}":bnpp', netcdf), (f"GPKG:{gpkg}:beta", gpkg)):
        with pytest.raises(InputError, match="is also an input"), atomic_output(container, inputs=[source]):
            pass
        with pytest.raises(InputError, match="is also an input"), OutputTransaction():
            register_input(source)
            with atomic_output(container):
                pass


@pytest.mark.qgis_process
def test_qgis_process_refuses_an_output_that_is_its_input(roots):
    before = roots.read_bytes()
    done = run_qgis_process("run", "wholesoil:fitdepthmodel", "--", f"INPUT={roots}", "ID_FIELD=profile_id",
                            "TOP_FIELD=top_cm", "BOTTOM_FIELD=bottom_cm", "VALUE_FIELD=mass_mg_cm3",
                            f"OUTPUT={roots}", check=False)
    assert done.returncode != 0 and "is also an input" in done.stderr
    assert roots.read_bytes() == before


def test_an_output_that_is_a_file_inside_a_virtual_raster_is_refused(capsys, tmp_path):
    """A VRT reads its source files: writing over one of them destroys the input."""
    from osgeo import gdal

    folder = tmp_path / "stack"
    folder.mkdir()
    beta = write_raster(folder / "beta.tif", np.full((4, 4), 0.95))
    gdal.BuildVRT(str(folder / "inner.vrt"), [beta]).FlushCache()
    gdal.BuildVRT(str(tmp_path / "outer.vrt"), [str(folder / "inner.vrt")]).FlushCache()
    before = (folder / "beta.tif").read_bytes()
    for vrt in (folder / "inner.vrt", tmp_path / "outer.vrt"):
        code, _, err = run(capsys, "depth-fractions", "--beta", vrt, "--output", folder / "beta.tif")
        assert code == 2 and "is also an input" in err and "beta.tif" in err
    assert (folder / "beta.tif").read_bytes() == before


def test_a_raster_output_named_as_another_format_is_refused(wholesoil_processing, tmp_path):
    """Every raster wholesoil writes is a GeoTIFF: x.asc would be a GeoTIFF under a wrong name."""
    from qgis.core import QgsApplication, QgsProcessingException

    beta = write_raster(tmp_path / "beta.tif", np.full((4, 4), 0.95))
    for output in ("x.asc", "x.nc", "x"):
        with pytest.raises(QgsProcessingException, match=f"{output} is not a GeoTIFF; wholesoil writes rasters"):
            wholesoil_processing.run("wholesoil:depthfractionsbetaraster",
                                     {"BETA_RASTER": beta, "OUTPUT": str(tmp_path / output)})
        assert not (tmp_path / output).exists()
    assert QgsApplication.processingRegistry().providerById("wholesoil").supportedOutputRasterLayerExtensions() \
        == ["tif"]  # the dialog offers GeoTIFF only


def test_qgis_outputs_naming_one_file_or_another_format_are_refused(wholesoil_processing, resources, tmp_path):
    """A map and its report (or picture) under one name: the second replaced the first without a word;
    a model file named x.tif replaced a map."""
    from qgis.core import QgsProcessingException

    beta = str(resources / "sample_data" / "americas_root_beta.tif")
    for output, extra in (("same.tif", {"QUICKLOOK": "same.tif"}), ("map.tif", {"QUICKLOOK": "look.jpg"})):
        with pytest.raises(QgsProcessingException, match="Quick-look picture .*(name the same file|should end with "
                                                         "one of .png)"):
            wholesoil_processing.run("wholesoil:subsoilsocmap", {
                "BETA_RASTER": beta, "TOPSOIL_RASTER": beta, "OUTPUT": str(tmp_path / output),
                **{k: str(tmp_path / v) for k, v in extra.items()}})
    with pytest.raises(QgsProcessingException, match=r"Model file: .*m.tif should end with one of .wsmodel"):
        wholesoil_processing.run("wholesoil:trainmodel", {
            "INPUT": str(resources / "sample_data" / "srdb_bnpp_sites.gpkg"), "TARGET": "bnpp_Mg_ha_yr",
            "FEATURES": ["beta"], "OUTPUT_MODEL": str(tmp_path / "m.tif")})
    assert list(tmp_path.iterdir()) == []


# 2. GeoPackage layers


def test_existing_geopackage_keeps_its_other_layers(capsys, resources, sites_gpkg, tmp_path):
    path, table = sites_gpkg
    out = tmp_path / "results.gpkg"
    write_table(table.head(5), out, layer="earlier")
    code, _, err = run(capsys, "depth-fractions", "--input", path, "--layer", "pts", "--beta", "beta",
                       "--output", out)
    assert code == 0 and "kept the other layers (earlier)" in err
    assert gpkg_layers(out) == {"earlier": 5, "results": 137}
    code, _, err = run(capsys, "depth-fractions", "--input", path, "--layer", "pts", "--beta", "beta",
                       "--layers", "0,30,100", "--output", out, "--output-layer", "results")
    assert code == 0 and "replaced layer 'results'" in err
    assert gpkg_layers(out) == {"earlier": 5, "results": 137}
    assert "frac_30_100" in read_table(out, "results").columns
    assert not hidden_leftovers(tmp_path)


@pytest.mark.qgis_process
def test_qgis_process_writes_a_layer_into_an_existing_geopackage(resources, sites_gpkg, tmp_path):
    path, table = sites_gpkg
    out = tmp_path / "results.gpkg"
    write_table(table.head(5), out, layer="earlier")
    run_qgis_process("run", "wholesoil:depthfractionsbeta", "--", f"INPUT={path}|layername=pts", "BETA_FIELD=beta",
                     f"OUTPUT={out}")
    assert gpkg_layers(out) == {"earlier": 5, "results": 137}
    done = run_qgis_process("run", "wholesoil:depthfractionsbeta", "--", f"INPUT={path}|layername=pts",
                            "BETA_FIELD=beta", f"OUTPUT={out}")  # again: its layer 'results' is replaced, and said so
    assert "writing layer 'results', replacing the layer 'results' it holds; the file's other layers are kept" \
        in done.stdout + done.stderr
    assert gpkg_layers(out) == {"earlier": 5, "results": 137}


# 3. Shapefiles


def test_shapefile_is_written_as_a_complete_set(capsys, resources, tmp_path):
    out = tmp_path / "o.shp"
    code, _, err = run(capsys, "depth-fractions", "--input", resources / "sample_data" / "srdb_bnpp_sites.gpkg",
                       "--beta", "beta", "--output", out)
    assert code == 0, err
    assert {p.name for p in tmp_path.iterdir()} >= {"o.shp", "o.shx", "o.dbf", "o.prj"}
    assert not hidden_leftovers(tmp_path)
    assert ogr.Open(str(out)).GetLayer(0).GetFeatureCount() == 137
    # rewriting replaces the whole set
    code, _, _ = run(capsys, "depth-fractions", "--input", resources / "sample_data" / "srdb_bnpp_sites.gpkg",
                     "--beta", "beta", "--layers", "0,30", "--output", out)
    assert code == 0 and "frac_0_30" in read_table(out).columns and "frac_30_100" not in read_table(out).columns


def test_a_replaced_raster_loses_the_sidecars_of_the_old_one(capsys, tmp_path):
    """gdalinfo -stats and QGIS write statistics to map.tif.aux.xml (external overviews to .ovr): left
    beside a new map, they described the old one (QGIS stretched the new map with the old range)."""
    from osgeo import gdal

    beta = write_raster(tmp_path / "beta.tif", np.full((20, 30), 0.95))
    out = tmp_path / "map.tif"
    assert run(capsys, "depth-fractions", "--beta", beta, "--layers", "0,30,100", "--output", out)[0] == 0
    previous = gdal.GetConfigOption("GDAL_PAM_ENABLED")
    gdal.SetConfigOption("GDAL_PAM_ENABLED", "YES")  # as outside the tests (scripts/qgis_env.sh turns it off)
    try:
        gdal.Info(str(out), stats=True)
    finally:
        gdal.SetConfigOption("GDAL_PAM_ENABLED", previous)
    gdal.Open(str(out)).BuildOverviews("AVERAGE", [2])
    assert {p.name for p in tmp_path.iterdir()} >= {"map.tif.aux.xml", "map.tif.ovr"}
    assert run(capsys, "depth-fractions", "--beta", beta, "--layers", "0,10", "--output", out)[0] == 0
    assert not {p.name for p in tmp_path.iterdir()} & {"map.tif.aux.xml", "map.tif.ovr"}
    assert gdal.Open(str(out)).GetRasterBand(1).GetStatistics(False, False) in ([0, 0, 0, -1], None)


def test_table_without_geometry_to_shapefile_is_refused(capsys, resources, tmp_path):
    code, _, err = run(capsys, "depth-fractions", "--input", resources / "sample_data" / "jackson1996_beta_by_biome.csv",
                       "--beta", "beta", "--output", tmp_path / "o.shp")
    one_line_error(code, err, "Shapefile needs geometry")
    assert not list(tmp_path.iterdir())


# 4. nothing written on error


def test_bad_plot_suffix_stops_before_any_work(capsys, roots, tmp_path):
    code, _, err = run(capsys, "fit-depth-model", roots, tmp_path / "o.csv", *FIT, "--plot", tmp_path / "p.jpg")
    one_line_error(code, err, "--plot", ".png")
    assert not (tmp_path / "o.csv").exists()


def test_plot_in_a_missing_folder_leaves_no_raster(capsys, tmp_path):
    beta = write_raster(tmp_path / "beta.tif", np.full((20, 30), 0.96))
    code, _, err = run(capsys, "depth-fractions", "--beta", beta, "--output", tmp_path / "o.tif",
                       "--plot", tmp_path / "nodir" / "p.png")
    one_line_error(code, err, "does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beta.tif"]


def test_outputs_of_one_command_appear_together_or_not_at_all(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    with pytest.raises(InputError):
        with OutputTransaction():
            write_table(pd.DataFrame({"x": [1]}), first)
            assert not first.exists()  # not before the command ends
            raise InputError("a later step failed")
    assert not first.exists() and not hidden_leftovers(tmp_path)
    with OutputTransaction():
        write_table(pd.DataFrame({"x": [1]}), first)
        write_table(pd.DataFrame({"x": [2]}), second)
    assert first.exists() and second.exists() and not hidden_leftovers(tmp_path)


def test_two_outputs_to_one_file_are_refused(capsys, roots, tmp_path):
    code, _, err = run(capsys, "fit-beta", roots, tmp_path / "o.csv", *FIT[:6], "--value-col", "mass_mg_cm3",
                       "--groups", tmp_path / "o.csv")
    one_line_error(code, err, "name the same file")


# 5. debris of killed runs


def test_a_later_run_removes_what_a_killed_run_left(tmp_path):
    target = tmp_path / "out.tif"
    dead = tmp_path / ".out.tif.wholesoil-999999999-0123456789ab.tmp"   # no such process
    alive = tmp_path / f".out.tif.wholesoil-{os.getpid()}-0123456789ab.tmp"
    other = tmp_path / ".other.tif.wholesoil-999999999-0123456789ab.tmp"
    for folder in (dead, alive, other):
        folder.mkdir()
        (folder / "out.tif").write_bytes(b"half written")
    remove_stale_temporaries(target)
    assert not dead.exists() and alive.exists() and other.exists()
    with atomic_output(target) as tmp:
        open(tmp, "wb").close()
    assert target.exists()


# 6. one clear line instead of a traceback


def test_header_only_table(capsys, tmp_path):
    table = tmp_path / "header_only.csv"
    table.write_text("profile_id,top_cm,bottom_cm,mass_mg_cm3\n")
    code, _, err = run(capsys, "fit-depth-model", table, tmp_path / "o.csv", *FIT)
    one_line_error(code, err, "no data rows")


@pytest.mark.qgis_process
def test_header_only_table_through_qgis_process(tmp_path):
    table = tmp_path / "header_only.csv"
    table.write_text("profile_id,top_cm,bottom_cm,mass_mg_cm3\n")
    done = run_qgis_process("run", "wholesoil:fitdepthmodel", "--", f"INPUT={table}", "ID_FIELD=profile_id",
                            "TOP_FIELD=top_cm", "BOTTOM_FIELD=bottom_cm", "VALUE_FIELD=mass_mg_cm3",
                            f"OUTPUT={tmp_path / 'o.csv'}", check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert not (tmp_path / "o.csv").exists()


def test_output_layer_outside_a_geopackage_is_refused(capsys, roots, tmp_path):
    code, _, err = run(capsys, "fit-depth-model", roots, tmp_path / "o.csv", *FIT, "--output-layer", "fits")
    one_line_error(code, err, "--output-layer names a layer inside a GeoPackage")
    assert not (tmp_path / "o.csv").exists()


def test_holdout_that_is_not_a_fraction(capsys, resources, tmp_path):
    with pytest.raises(SystemExit) as stop:
        main(["train-model", str(resources / "sample_data" / "srdb_rh_records.csv"), str(tmp_path / "m.wsmodel"),
              "--target", "Rh_annual", "--features", "MAT,MAP", "--holdout", "1.5"])
    _, err = capsys.readouterr()
    assert stop.value.code == 2 and len(err.strip().splitlines()) == 1 and "--holdout: 1.5 is not a fraction" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option, value, words", [("--block", "0", ["--block", "give 1 or more"]),
                                                  ("--jobs", "0", ["--jobs", "0 workers"])])
def test_engine_options_out_of_range(capsys, tmp_path, option, value, words):
    beta = write_raster(tmp_path / "beta.tif", np.full((4, 4), 0.96))
    with pytest.raises(SystemExit) as stop:
        main(["depth-fractions", "--beta", beta, "--output", str(tmp_path / "o.tif"), option, value])
    _, err = capsys.readouterr()
    assert stop.value.code == 2 and len(err.strip().splitlines()) == 1
    for word in words:
        assert word in err


def test_read_only_folder(capsys, roots, tmp_path, monkeypatch):
    """CI runs as root, who may write anywhere: the permission answer is simulated."""
    folder = tmp_path / "ro"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(folder) else real_access(path, mode))
    code, _, err = run(capsys, "fit-depth-model", roots, folder / "o.csv", *FIT)
    one_line_error(code, err, "not writable")


def test_output_that_is_a_folder(capsys, roots, tmp_path):
    (tmp_path / "o.csv").mkdir()
    code, _, err = run(capsys, "fit-depth-model", roots, tmp_path / "o.csv", *FIT)
    one_line_error(code, err, "is a folder")


def test_input_that_is_a_folder(capsys, tmp_path):
    (tmp_path / "in.csv").mkdir()
    code, _, err = run(capsys, "fit-depth-model", tmp_path / "in.csv", tmp_path / "o.csv", *FIT)
    one_line_error(code, err, "is a folder")


@pytest.mark.parametrize("command", [["depth-fractions", "--beta", "{folder}", "--output", "{tmp}/o.tif"],
                                     ["sample-rasters", "{points}", "{tmp}/o.csv", "{folder}"]])
def test_raster_input_that_is_a_folder(capsys, resources, tmp_path, command):
    folder = tmp_path / "rasters"
    folder.mkdir()
    points = resources / "sample_data" / "srdb_bnpp_sites.gpkg"
    code, _, err = run(capsys, *[c.format(folder=folder, tmp=tmp_path, points=points) for c in command])
    one_line_error(code, err, "is a folder")


def test_all_nodata_result_is_noted(capsys, tmp_path):
    beta = write_raster(tmp_path / "beta.tif", np.full((8, 9), np.nan))
    code, _, err = run(capsys, "depth-fractions", "--beta", beta, "--output", tmp_path / "o.tif")
    assert code == 0 and err.count("no band has a valid pixel (all nodata)") == 1


def test_an_output_over_a_file_read_as_a_subdataset_is_refused_before_the_work(capsys, tmp_path, monkeypatch):
    """The command line registers GPKG:x.gpkg:table as reading x.gpkg at once: refused before the raster is read."""
    from wholesoil.core.maps import aggregate

    gpkg = write_geopackage(tmp_path / "maps.gpkg", {"bnpp": np.full((4, 4), 3.0), "beta": np.full((4, 4), 0.95)})
    monkeypatch.setattr(aggregate, "aggregate_raster", lambda *args, **kwargs: pytest.fail("the map was read"))
    code, _, err = run(capsys, "aggregate", f"GPKG:{gpkg}:bnpp", "--output", gpkg, "--units", "Mg_ha_yr")
    assert code == 2 and "is also an input" in err


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc, a folder no one can write in")
def test_a_folder_that_cannot_be_written_is_one_line_even_for_root(capsys):
    """os.access calls /proc writable for root (as it may a read-only mount): the temporary folder could not be made
    and the run ended in a traceback (exit 1)."""
    with pytest.raises(InputError, match=r"^--output: cannot write in folder /proc \("):
        with atomic_output("/proc/never.tif", "--output"):
            pass
    assert main(["depth-fractions", "--beta", "0.96", "--output", "/proc/never.csv"]) == 2
    assert "cannot write in folder /proc" in capsys.readouterr().err
    with pytest.raises(InputError, match=r"^OUTPUT: cannot write in folder /proc"):  # checked before any work
        check_output_path("/proc/never.csv", "OUTPUT")
