"""The demo runs on the bundled sample data and writes what it promises."""

import re
from pathlib import Path

from wholesoil.core.demo import run_demo
from wholesoil.core.tables import read_table


def test_demo_writes_every_output(tmp_path, monkeypatch):
    from wholesoil.core import demo

    figures = {}
    save_png = demo.save_png
    monkeypatch.setattr(demo, "save_png", lambda figure, path: figures.setdefault(Path(path).name, figure)
                        and save_png(figure, path))
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
    page = open(index).read()
    assert page.count("class='note'") >= page.count("<img"), "one sentence per panel"
    for name, figure in figures.items():  # every axis says its unit (or is a fraction or a share)
        for axes in figure.axes:
            for label in (axes.get_xlabel(), axes.get_ylabel()):
                assert not label or re.search(r"\(|fraction|share|Mg C|g m-|‰|°|yr", label), (name, label)
    americas = figures["americas_root_fractions.png"]
    assert [a.get_xlabel() for a in americas.axes if a.get_images()] == ["longitude (°)", "longitude (°)"]
    assert figures["srdb_bnpp_by_layer.png"].axes[0].get_xlabel() == "mean BNPP in the layer (Mg C ha-1 yr-1)"
