"""SOC density and stocks per horizon and per layer."""

import numpy as np
import pandas as pd
import pytest

from wholesoil.core.errors import InputError
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
