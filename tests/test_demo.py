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
                     "americas_bnpp_map.tif", "americas_bnpp_by_layer.tif", "americas_loss_maps.tif", "israd_ages.csv",
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
    for name, figure in figures.items():  # every axis says its unit (1: dimensionless), or is a fraction or share
        for axes in figure.axes:
            for label in (axes.get_xlabel(), axes.get_ylabel()):
                assert not label or re.search(r"\(|fraction|share|Mg C|g m-|‰|°|yr|^1$", label), (name, label)
    americas = figures["americas_bnpp_by_layer.png"]
    assert [a.get_xlabel() for a in americas.axes if a.get_images()] == ["longitude (°)"] * 7
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


def test_demo_shows_depth_resolved_bnpp_the_iloss_map_and_the_latitude_profile(demo):
    """index.html shows BNPP per layer with U_total, the latitude profile and the Iloss map; the layers add up to
    the BNPP map (β shares of the 0-200 cm profile sum to 1) and the latitude bands to the whole map."""
    import numpy as np

    from rasters_util import read_bands

    folder, index, _, figures = demo
    page = open(index).read()
    for name in ("americas_bnpp_by_layer.png", "americas_bnpp_utotal.png", "americas_bnpp_latitude.png",
                 "americas_iloss_map.png"):
        assert name in figures
    assert "latitude profile" in page and "Iloss" in page and "U_total" in page
    bnpp, _ = read_bands(folder / "americas_bnpp_map.tif")
    layers, names = read_bands(folder / "americas_bnpp_by_layer.tif")
    means = [i for i, n in enumerate(names) if n.endswith("_mean")]
    assert len(means) == 7 and names[1] == "bnpp_0_20_sd" and names[2] == "bnpp_0_20_utotal"
    valid = np.isfinite(layers[means[0]])
    assert valid.sum() > 5000
    assert np.allclose(layers[means].sum(axis=0)[valid], bnpp[0][valid], rtol=1e-5)
    # no PDD uncertainty (one β per biome): U_total is the forest's sd / mean in every layer
    assert np.allclose(layers[means[-1] + 2][valid], (bnpp[1] / bnpp[0])[valid], rtol=1e-4)
    totals = read_table(folder / "americas_bnpp_totals.csv")
    whole = totals[totals["zoning"] == "all"]["total"].iloc[0]
    assert totals[totals["zoning"] == "latitude"]["total"].sum() == pytest.approx(whole, rel=1e-9)
    loss, loss_names = read_bands(folder / "americas_loss_maps.tif")
    fraction = loss[loss_names.index("iloss_fraction_profile_mean")]
    assert np.nanmax(fraction) <= 1 and 0 < np.nanmean(fraction) < 1
