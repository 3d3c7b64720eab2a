"""The demo runs on the bundled sample data and writes what it promises."""

import pytest

from wholesoil.core.demo import run_demo
from wholesoil.core.tables import read_table


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(output folder, index path, log lines) of one demo run."""
    folder = tmp_path_factory.mktemp("run") / "demo"
    lines = []
    index = run_demo(folder, log=lines.append)
    return folder, index, lines


def test_demo_writes_every_output(demo):
    folder, index, lines = demo
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
    folder, index, _ = demo
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
