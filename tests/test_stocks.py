"""SOC density and stocks per horizon and per layer."""

import numpy as np
import pandas as pd
import pytest

from wholesoil.core.errors import InputError, describe_rows
from wholesoil.core.stocks import soc_stocks

COLUMNS = ("id", "top", "bottom", "oc", "bd")


def simple():
    return pd.DataFrame({"id": ["a"] * 3 + ["b"] * 2, "top": [0, 10, 30, 0, 25], "bottom": [10, 30, 60, 25, 50],
                         "oc": [30.0, 10.0, 2.0, 20.0, 5.0], "bd": [1.0, 1.3, 1.5, 1.2, 1.4],
                         "cf": [0.0, 0.1, 0.2, 0.0, 0.0]})


def test_per_horizon_density_and_cumulative():
    result = soc_stocks(simple(), *COLUMNS)
    np.testing.assert_allclose(result.layers["soc_mg_ha"], [30.0, 26.0, 9.0, 60.0, 17.5])
    np.testing.assert_allclose(result.layers["soc_cum_mg_ha"], [30.0, 56.0, 65.0, 60.0, 77.5])
    with_coarse = soc_stocks(simple(), *COLUMNS, coarse_col="cf")
    np.testing.assert_allclose(with_coarse.layers["soc_mg_ha"], [30.0, 23.4, 7.2, 60.0, 17.5])


def test_layer_stocks_keep_the_carbon_mass():
    result = soc_stocks(simple(), *COLUMNS, layers="0,20,40,60", area=2.0)
    a = result.layers[result.layers["id"] == "a"]
    # 0-20: 10 cm at 3.0 + 10 cm at 1.3 Mg/ha/cm; 20-40: 10 x 1.3 + 10 x 0.3; 40-60: 20 x 0.3
    np.testing.assert_allclose(a["soc_mg_ha"], [43.0, 16.0, 6.0])
    np.testing.assert_allclose(a["soc_stock_mg"], [86.0, 32.0, 12.0])
    assert a["soc_cum_mg_ha"].iloc[-1] == pytest.approx(65.0)
    b = result.layers[result.layers["id"] == "b"]
    assert b["soc_mg_ha"].iloc[2] != b["soc_mg_ha"].iloc[2]  # 50-60 not covered: no stock
    assert b["soc_contrib"].iloc[2] == pytest.approx(0.5)
    spline = soc_stocks(simple(), *COLUMNS, layers="0,20,40,60", method="spline", lam=0.0)
    np.testing.assert_allclose(spline.layers["soc_cum_mg_ha"].iloc[2], 65.0, rtol=1e-12)


def test_unit_slips_are_named_with_rows_and_other_profiles_go_on():
    table = simple()
    table.loc[3, "bd"] = 1200.0  # kg m-3 by mistake in profile b
    result = soc_stocks(table, *COLUMNS, layers="0,20")
    b = result.profiles.set_index("id").loc["b"]
    assert b["status"] == "error" and "bulk density above 2.65 g cm-3" in b["message"] and "row 4" in b["message"]
    assert set(result.layers["id"]) == {"a"}
    table = simple()
    table["cf"] = [0, 10, 20, 0, 0]
    result = soc_stocks(table, *COLUMNS, coarse_col="cf")
    assert "coarse fragment fraction" in result.profiles.set_index("id").loc["a", "message"]
    ok = soc_stocks(table, *COLUMNS, coarse_col="cf", coarse_unit="percent")
    assert ok.profiles["status"].eq("ok").all()
    with pytest.raises(InputError, match="method"):
        soc_stocks(simple(), *COLUMNS, layers="0,20", method="cubic")


def test_neon_stocks(real_data):
    horizons = pd.read_csv(real_data / "neon_megapit" / "neon_megapit_soil_horizons.csv")
    result = soc_stocks(horizons, "siteID", "horizonTopDepth", "horizonBottomDepth", "estimatedOC", "bulkDen",
                        layers="0,30,100")
    totals = result.profiles.set_index("siteID")["soc_total_mg_ha"].dropna()
    assert len(totals) >= 40
    assert totals.between(5, 1500).all()  # Mg C ha-1 in 0-100 cm
    # the same amount as the horizons' carbon within 0-100 cm
    overlap = horizons["horizonBottomDepth"].clip(upper=100) - horizons["horizonTopDepth"].clip(upper=100)
    carbon = (horizons["estimatedOC"] * horizons["bulkDen"] / 10 * overlap).groupby(horizons["siteID"]).sum()
    np.testing.assert_allclose(totals, carbon[totals.index], rtol=1e-12)


def test_unit_slip_messages_name_the_likely_unit():
    table = simple()
    table.loc[3, "bd"] = 1200.0  # kg m-3
    table.loc[0, "oc"] = 3000.0  # not g kg-1
    with pytest.raises(InputError) as error:  # both profiles are bad
        soc_stocks(table, *COLUMNS, coarse_col="cf")
    assert "a: organic carbon above 1000 g kg-1: give it in g kg-1 (1 % = 10 g kg-1) in row 1" in str(error.value)
    assert "b: bulk density above 2.65 g cm-3 (it looks like kg m-3; divide by 1000)" in str(error.value)
    table = simple()
    table["cf"] = [0, 10, 20, 0, 0]
    result = soc_stocks(table, *COLUMNS, coarse_col="cf")
    assert "it looks like %; divide by 100" in result.profiles.set_index("id").loc["a", "message"]
    assert "value(s)" not in result.profiles.set_index("id").loc["a", "message"]


@pytest.mark.parametrize("method", ["depth-weighted", "spline"])
def test_min_coverage_below_1_accepts_partly_covered_layers_with_either_method(method):
    # 1 Mg C ha-1 per cm from 0 to 50 cm; the layer 40-60 is half covered
    table = pd.DataFrame({"id": "a", "top": [0, 25], "bottom": [25, 50], "oc": [10.0, 10.0], "bd": [1.0, 1.0]})
    full = soc_stocks(table, *COLUMNS, layers="0,40,60", method=method)
    assert np.isnan(full.layers["soc_mg_ha"].iloc[1]) and full.layers["soc_contrib"].iloc[1] == 0.5
    half = soc_stocks(table, *COLUMNS, layers="0,40,60", method=method, min_coverage=0.5)
    np.testing.assert_allclose(half.layers["soc_mg_ha"], [40.0, 20.0])  # the covered part's mean x 20 cm
    assert half.profiles.loc[0, "status"] == "ok"


# ---------------------------------------------------------------------------------------------
# Organic carbon unit (issue 11, item 2) and organic horizons / value-less overlaps (item 5)

ISRAD = ("profile_id", "lyr_top", "lyr_bot", "lyr_c_org", "lyr_bd_samp")


@pytest.fixture(scope="module")
def israd(real_data):
    return pd.read_csv(real_data / "israd" / "israd_layer_14c.csv", low_memory=False)


def test_israd_organic_carbon_in_percent_gives_israd_stocks(israd):
    """ISRaD's lyr_c_org is weight %; its own layer stock lyr_soc (g C cm-2, x 100 = Mg C ha-1) checks ours."""
    result = soc_stocks(israd, *ISRAD, oc_unit="percent")
    layers = result.layers
    both = layers["soc_mg_ha"].notna() & (layers["lyr_soc"] > 0)
    ratio = layers.loc[both, "soc_mg_ha"] / (100 * layers.loc[both, "lyr_soc"])
    assert both.sum() >= 100 and ratio.median() == pytest.approx(1.0, abs=0.01)
    assert not any("looks like %" in note for note in result.notes)
    as_g_kg = soc_stocks(israd, *ISRAD)  # the default unit, g kg-1: 10 times too low, and said so
    assert as_g_kg.layers.loc[both, "soc_mg_ha"].sum() == pytest.approx(layers.loc[both, "soc_mg_ha"].sum() / 10)
    assert any("organic carbon looks like %, not g kg-1" in note for note in as_g_kg.notes)
    with pytest.raises(InputError, match="oc_unit must be one of percent, g_kg"):
        soc_stocks(israd, *ISRAD, oc_unit="mg_g")


def test_neon_organic_carbon_in_g_kg_is_plausible_and_percent_is_noted(real_data):
    horizons = pd.read_csv(real_data / "neon_megapit" / "neon_megapit_soil_horizons.csv")
    columns = ("siteID", "horizonTopDepth", "horizonBottomDepth", "estimatedOC", "bulkDen")
    assert soc_stocks(horizons, *columns).notes == []
    noted = soc_stocks(horizons, *columns, oc_unit="percent").notes
    high = horizons["estimatedOC"] > 58  # above 58 % read as percent; computed here from the table
    assert len(noted) == 1 and "the values look like g kg-1" in noted[0]
    assert describe_rows(np.flatnonzero(high) + 1) in noted[0]


def test_organic_horizons_above_the_mineral_surface(israd):
    """ISRaD writes organic horizons with negative depths; main rejected every such profile."""
    negative = israd.groupby("profile_id").apply(lambda p: (p["lyr_top"] < 0).any())
    spans = israd.groupby("profile_id").apply(lambda p: ((p["lyr_top"] < 0) & (p["lyr_bot"] > 0)).any())
    only_organic = israd.groupby("profile_id").apply(lambda p: (p["lyr_bot"] <= 0).all())
    result = soc_stocks(israd, *ISRAD, oc_unit="percent")
    profiles = result.profiles.set_index("profile_id")
    usable = negative & ~spans & ~only_organic
    assert usable.sum() > 50
    repaired = profiles.loc[usable[usable].index]
    assert repaired["status"].ne("error").mean() > 0.95  # the rest fail for other reasons (overlaps, no depth)
    assert not repaired["message"].str.contains("negative|mineral soil surface").any()
    assert repaired.loc[repaired["status"].ne("error"), "repairs"].str.contains("left out the organic horizon").all()
    assert (profiles.loc[spans[spans].index, "message"].str.contains("spans the mineral soil surface")
            | profiles.loc[spans[spans].index, "message"].str.contains("every horizon lies above")).all()
    kept = soc_stocks(israd, *ISRAD, oc_unit="percent", organic="keep").profiles.set_index("profile_id")
    organic = kept.loc[negative[negative].index]
    assert not organic["message"].str.contains("mineral soil surface", na=False).any()
    # kept: depths measured from the top of the organic layer (aqp accumulateDepths), computed here
    first = israd[negative.reindex(israd["profile_id"]).to_numpy()].groupby("profile_id")
    shift = -first["lyr_top"].min()
    bottom = (first["lyr_bot"].max() + shift).reindex(organic.index)
    ok = organic["status"].ne("error") & ~organic["repairs"].str.contains("dropped")  # no row dropped
    assert ok.sum() > 100
    np.testing.assert_allclose(organic.loc[ok, "top_cm"], 0.0)
    np.testing.assert_allclose(organic.loc[ok, "bottom_cm"], bottom[ok])


def test_overlapping_rows_without_a_value_are_dropped(israd):
    """A row without organic carbon and bulk density cannot clash with the rows that have them."""
    from wholesoil.core.horizons import read_horizons

    horizons = read_horizons(israd, *ISRAD[:3], ["lyr_c_org"], organic="keep")
    dropped = [p for p, repairs in horizons.repairs.items() if any("without a value" in r for r in repairs)]
    assert len(dropped) >= 10
    for profile in dropped:  # overlaps with every row, none among the rows with a value (checked here)
        rows = israd[israd["profile_id"] == profile].sort_values(["lyr_top", "lyr_bot"])
        valued = rows[rows["lyr_c_org"].notna()]
        assert (rows["lyr_top"].to_numpy()[1:] < rows["lyr_bot"].cummax().to_numpy()[:-1]).any()
        assert not (valued["lyr_top"].to_numpy()[1:] < valued["lyr_bot"].cummax().to_numpy()[:-1]).any()
        assert profile not in horizons.errors


def test_a_profile_without_any_soc_and_bd_has_no_total_not_zero():
    table = pd.concat([simple(), pd.DataFrame({"id": ["c", "c"], "top": [0, 20], "bottom": [20, 40],
                                               "oc": [np.nan, np.nan], "bd": [1.2, np.nan]})])
    profiles = soc_stocks(table, *COLUMNS).profiles.set_index("id")
    assert np.isnan(profiles.loc["c", "soc_total_mg_ha"]) and profiles.loc["c", "status"] == "incomplete"
    assert profiles.loc["a", "soc_total_mg_ha"] == pytest.approx(65.0)
