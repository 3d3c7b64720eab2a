"""The demo runs on the bundled sample data and writes what it promises."""

from wholesoil.core.demo import run_demo
from wholesoil.core.tables import read_table


def test_demo_writes_every_output(tmp_path):
    lines = []
    index = run_demo(tmp_path / "demo", log=lines.append)
    names = {p.name for p in (tmp_path / "demo").iterdir()}
    for expected in ("index.html", "jackson_biome_fractions.csv", "silsoe_beta_fits.csv", "srdb_bnpp_by_layer.gpkg",
                     "americas_root_fractions.tif", "americas_bnpp_by_layer.tif", "israd_ages.csv",
                     "neon_spline_globalsoilmap.csv", "neon_DEJU_roots.png", "srdb_rh_forest.wsmodel",
                     "srdb_rh_forest.html"):
        assert expected in names
    assert str(tmp_path / "demo") in lines[-1]
    assert open(index).read().count("<img") >= 6
    ages = read_table(tmp_path / "demo" / "israd_ages.csv")
    assert ages["status"].isin(["ok", "two_roots", "out_of_range", "extrapolated_curve", "missing_input"]).all()
    assert not any(p.name.startswith(".") for p in (tmp_path / "demo").iterdir())
