"""The profile commands of the wholesoil CLI: spline, harmonise, soc-stocks, fit-beta, root-bimodality."""

import re

import pandas as pd
import pytest

from wholesoil.core.cli import main

NEON_COLUMNS = ["--id-col", "siteID", "--top-col", "horizonTopDepth", "--bottom-col", "horizonBottomDepth"]


@pytest.fixture()
def horizons_csv(real_data, tmp_path):
    """Six NEON sites plus a profile with overlapping horizons."""
    horizons = pd.read_csv(real_data / "neon_megapit" / "neon_megapit_soil_horizons.csv")
    part = horizons[horizons["siteID"].isin(["ABBY", "BART", "DEJU", "HEAL", "KONZ", "YELL"])]
    bad = part[part["siteID"] == "YELL"].head(2).assign(siteID="BAD", horizonTopDepth=[0, 1])
    path = tmp_path / "horizons.csv"
    pd.concat([part, bad]).to_csv(path, index=False)
    return path


def test_spline_command_as_documented(horizons_csv, tmp_path, capsys):
    out = tmp_path / "layers.csv"
    code = main(["spline", str(horizons_csv), str(out), *NEON_COLUMNS, "--value-cols", "carbonTot,bulkDen",
                 "--layers", "0,20,40,60,80,100", "--lam", "0.1", "--plot", str(tmp_path / "p.png"),
                 "--summary", str(tmp_path / "summary.csv")])
    assert code == 0
    layers = pd.read_csv(out)
    assert list(layers.columns[:5]) == ["siteID", "horizonTopDepth", "horizonBottomDepth", "carbonTot", "bulkDen"]
    assert len(layers) == 6 * 5 and "soilOrder" in layers.columns
    assert layers.groupby("siteID").size().eq(5).all()
    err = capsys.readouterr().err
    assert "profile BAD: error: horizons 0-" in err and "overlap" in err
    assert "profile HEAL: incomplete" in err and "below 84 cm" in err
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert set(summary["status"]) == {"ok", "incomplete", "error"}
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_repairs_are_listed_without_a_summary(tmp_path, capsys):
    """A repaired profile is ok, but the user is told what was changed, with or without --summary."""
    path = tmp_path / "h.csv"
    pd.DataFrame({"site": ["a"] * 4 + ["b"] * 2, "top": [0, 20, 10, 10, 0, 15], "bottom": [10, 40, 20, 20, 15, 30],
                  "soc": [3, 1, 2, 2, 4, 2]}).to_csv(path, index=False)
    code = main(["spline", str(path), str(tmp_path / "l.csv"), "--id-col", "site", "--top-col", "top",
                 "--bottom-col", "bottom", "--value-cols", "soc", "--layers", "0,20,30"])
    err = capsys.readouterr().err
    assert code == 0
    assert "profile a: repaired: sorted the horizons by depth; dropped row 4, a duplicate of row 3 (10-20 cm)" in err
    assert "profile b" not in err


def test_missing_column_exits_2_and_writes_nothing(horizons_csv, tmp_path, capsys):
    out = tmp_path / "layers.csv"
    code = main(["harmonise", str(horizons_csv), str(out), *NEON_COLUMNS, "--value-cols", "carbon"])
    assert code == 2 and not out.exists()
    assert "no column 'carbon'" in capsys.readouterr().err


def test_harmonise_stocks_and_beta_chain(horizons_csv, tmp_path):
    stocks = tmp_path / "stocks.csv"
    assert main(["soc-stocks", str(horizons_csv), str(stocks), *NEON_COLUMNS, "--soc-col", "estimatedOC",
                 "--bd-col", "bulkDen", "--layers", "0,10,20,30,50,70,100"]) == 0
    table = pd.read_csv(stocks)
    assert {"soc_mg_ha", "soc_contrib", "soc_cum_mg_ha"} <= set(table.columns)
    beta = tmp_path / "beta.csv"
    assert main(["fit-beta", str(stocks), str(beta), *NEON_COLUMNS, "--value-col", "soc_mg_ha",
                 "--groups", str(tmp_path / "groups.csv"), "--plot", str(tmp_path / "b.png")]) == 0
    fits = pd.read_csv(beta)
    assert fits["beta"].between(0.9, 1).all() and "x100" in fits.columns
    assert (tmp_path / "b.png").exists() and (tmp_path / "groups.csv").exists()


def test_soc_stocks_says_how_many_profiles_its_printed_totals_leave_out(real_data, tmp_path, capsys):
    horizons = real_data / "neon_megapit" / "neon_megapit_soil_horizons.csv"
    profiles = pd.read_csv(horizons)["siteID"].nunique()
    args = ["soc-stocks", str(horizons), str(tmp_path / "stocks.csv"), *NEON_COLUMNS, "--soc-col", "estimatedOC",
            "--bd-col", "bulkDen"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert profiles > 20 and len(printed.splitlines()) == 1 + 20 + 1  # header, 20 profiles, what is left out
    computed = int(re.search(r"the first 20 of (\d+) profiles; --summary FILE writes all", printed).group(1))
    assert computed <= profiles
    assert main(args + ["--summary", str(tmp_path / "summary.csv")]) == 0
    assert f"the first 20 of {computed} profiles; all in {tmp_path / 'summary.csv'}" in capsys.readouterr().out
    assert pd.read_csv(tmp_path / "summary.csv")["status"].ne("error").sum() == computed


def test_root_bimodality_command(real_data, tmp_path, capsys):
    out = tmp_path / "sites.csv"
    code = main(["root-bimodality", str(real_data / "neon_megapit" / "neon_deju_megapit_root_samples.csv"),
                 str(out), "--site-col", "siteID", "--profile-col", "pitProfileID", "--top-col",
                 "topDepth_cm_from_id", "--thickness", "10", "--value-col", "incrementRootDensity",
                 "--where", "rootStatus=live", "--where", "sizeCategory=<=4mm", "--plot", str(tmp_path / "r.png")])
    assert code == 0
    sites = pd.read_csv(out)
    assert sites.loc[0, "siteID"] == "DEJU" and sites.loc[0, "n_profiles"] == 3
    assert "DEJU" in capsys.readouterr().out
    assert (tmp_path / "r.png").exists()
    code = main(["root-bimodality", str(real_data / "neon_megapit" / "neon_deju_megapit_root_samples.csv"),
                 str(out), "--site-col", "siteID", "--top-col", "topDepth_cm_from_id", "--thickness", "10",
                 "--value-col", "incrementRootDensity", "--where", "rootStatus=alive"])
    assert code == 2 and "no row matches" in capsys.readouterr().err


def test_where_matches_numbers_in_numeric_columns(horizons_csv, tmp_path):
    out = tmp_path / "layers.csv"
    # pitDepth is read as 200.0 (the column has gaps): 200 must still match
    assert main(["spline", str(horizons_csv), str(out), *NEON_COLUMNS, "--value-cols", "carbonTot",
                 "--where", "pitDepth=200", "--where", "soilOrder=Mollisol"]) == 0
    assert set(pd.read_csv(out)["siteID"]) == {"KONZ", "YELL"}


def test_fid_column_is_not_repeated_on_layer_rows(tmp_path):
    """A GeoPackage needs unique fids: layer rows must not copy the input's fid column."""
    table = pd.DataFrame({"fid": [7, 8], "id": ["a", "b"], "top": [0, 0], "bottom": [30, 40], "v": [1.0, 2.0]})
    table.to_csv(tmp_path / "h.csv", index=False)
    out = tmp_path / "layers.gpkg"
    assert main(["harmonise", str(tmp_path / "h.csv"), str(out), "--id-col", "id", "--top-col", "top",
                 "--bottom-col", "bottom", "--value-cols", "v", "--layers", "0,10,20"]) == 0
    from wholesoil.core.tables import read_table

    assert read_table(out)["id"].tolist() == ["a", "a", "b", "b"]


ROOTS = ["--site-col", "siteID", "--profile-col", "pitProfileID", "--top-col", "topDepth_cm_from_id",
         "--thickness", "10", "--value-col", "incrementRootDensity", "--where", "rootStatus=live"]


@pytest.mark.parametrize("command, extra", [
    ("spline", ["--plot", "{tmp}/p.png", "--plot-profile", "NOPE"]),
    ("spline", ["--summary", "{tmp}/summary.xlsx"]),
    ("harmonise", ["--plot", "{tmp}/p.jpg"]),
    ("fit-beta", ["--groups", "{tmp}/missing/groups.csv"]),
    ("root-bimodality", ["--plot", "{tmp}/r.png", "--plot-site", "NOPE"]),
    ("root-bimodality", ["--increments", "{tmp}/increments.xlsx"]),
])
def test_bad_extra_output_exits_2_before_writing_anything(command, extra, horizons_csv, real_data, tmp_path,
                                                          capsys):
    out = tmp_path / "out.csv"
    if command == "root-bimodality":
        args = [str(real_data / "neon_megapit" / "neon_deju_megapit_root_samples.csv"), str(out), *ROOTS,
                "--where", "sizeCategory=<=4mm"]
    else:
        args = [str(horizons_csv), str(out), *NEON_COLUMNS,
                *(["--value-col", "carbonTot"] if command == "fit-beta" else ["--value-cols", "carbonTot"])]
    code = main([command, *args, *[e.format(tmp=tmp_path) for e in extra]])
    assert code == 2 and not out.exists()
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["horizons.csv"]


def test_help_states_the_real_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["soc-stocks", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "150-200, default" not in text and "default: none, one row per horizon" in text
    with pytest.raises(SystemExit):
        main(["spline", "--help"])
    assert "--vlow=-inf" in " ".join(capsys.readouterr().out.split())
