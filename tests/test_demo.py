"""The demo runs on the bundled sample data and writes what it promises."""

import re
from pathlib import Path

import pytest

from wholesoil.core.demo import run_demo
from wholesoil.core.tables import read_table


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(output folder, index path, log lines, figures by PNG name) of one demo run."""
    from wholesoil.core import demo as module

    folder = tmp_path_factory.mktemp("run") / "demo"
    figures = {}
    save_png = module.save_png
    lines = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "save_png", lambda figure, path: figures.setdefault(Path(path).name, figure)
                      and save_png(figure, path))
        index = run_demo(folder, log=lines.append)
    return folder, index, lines, figures


def test_demo_writes_every_output(demo):
    folder, index, lines, _ = demo
    names = {p.name for p in folder.iterdir()}
    for expected in ("index.html", "jackson_biome_fractions.csv", "silsoe_beta_fits.csv", "srdb_bnpp_by_layer.gpkg",
                     "americas_root_fractions.tif", "americas_bnpp_by_layer.tif", "israd_ages.csv",
                     "neon_spline_globalsoilmap.csv", "neon_DEJU_roots.png", "srdb_rh_forest.wsmodel",
                     "srdb_rh_forest.html"):
        assert expected in names
    assert str(folder) in lines[-1]
    assert open(index).read().count("<img") >= 6
    ages = read_table(folder / "israd_ages.csv")
    assert ages["status"].isin(["ok", "two_roots", "out_of_range", "extrapolated_curve", "missing_input"]).all()
    assert not any(p.name.startswith(".") for p in folder.iterdir())


def test_demo_soc_stocks_are_organic_carbon_only(demo, resources):
    """The demo's NEON stocks come from estimatedOC, not carbonTot (which holds carbonate carbon): each layer
    stock is the overlap-weighted sum of estimatedOC x bulkDen / 10 over the horizons, computed here."""
    folder, index, _, _ = demo
    horizons = read_table(resources / "sample_data" / "neon_megapit_horizons.csv")
    stocks = read_table(folder / "neon_soc_stocks.csv").dropna(subset=["soc_mg_ha"])
    assert len(stocks) >= 80
    for _, row in stocks.iterrows():
        top, bottom = row["horizonTopDepth"], row["horizonBottomDepth"]
        part = horizons[horizons["siteID"] == row["siteID"]]
        overlap = part["horizonBottomDepth"].clip(top, bottom) - part["horizonTopDepth"].clip(top, bottom)
        assert row["soc_mg_ha"] == pytest.approx((part["estimatedOC"] * part["bulkDen"] / 10 * overlap).sum(),
                                                 rel=1e-9)
    jorn = stocks[(stocks["siteID"] == "JORN") & (stocks["horizonTopDepth"] == 30)]["soc_mg_ha"].iloc[0]
    assert jorn == pytest.approx(6.71, abs=0.01)  # carbonTot, with carbonate carbon, gives 106
    assert "estimatedOC" in open(index).read()


def test_demo_page_explains_each_panel_with_units_on_every_axis(demo):
    _, index, _, figures = demo
    page = open(index).read()
    assert page.count("class='note'") >= page.count("<img"), "one sentence per panel"
    for name, figure in figures.items():  # every axis says its unit (or is a fraction or a share)
        for axes in figure.axes:
            for label in (axes.get_xlabel(), axes.get_ylabel()):
                assert not label or re.search(r"\(|fraction|share|Mg C|g m-|‰|°|yr", label), (name, label)
    americas = figures["americas_root_fractions.png"]
    assert [a.get_xlabel() for a in americas.axes if a.get_images()] == ["longitude (°)", "longitude (°)"]
    assert figures["srdb_bnpp_by_layer.png"].axes[0].get_xlabel() == "mean BNPP in the layer (Mg C ha-1 yr-1)"


def test_demo_maps_the_rh_forest(demo):
    """The demo's climate-only Rh forest is mapped (mean, sd, area of applicability) and shown in index.html."""
    import numpy as np

    from rasters_util import read_bands

    folder, index, _, figures = demo
    bands, names = read_bands(folder / "americas_rh_map.tif")
    assert names == ["Rh_annual_mean", "Rh_annual_sd", "Rh_annual_aoa"]
    valid = np.isfinite(bands[0])
    assert valid.sum() > 5000 and np.array_equal(valid, np.isfinite(bands[1]))
    assert 50 < np.nanmedian(bands[0]) < 2000 and (bands[1][valid] >= 0).all()   # g C m-2 yr-1
    assert set(np.unique(bands[2][valid])) <= {0.0, 1.0} and 0 < np.nanmean(bands[2]) <= 1
    assert "americas_rh_map.png" in figures and "area of applicability" in open(index).read()
