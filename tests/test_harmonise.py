"""Depth-weighted harmonisation onto target layers."""

import numpy as np
import pandas as pd
import pytest

from wholesoil.core.errors import InputError
from wholesoil.core.harmonise import depth_weighted


def test_inside_one_horizon_and_spanning_several():
    table = pd.DataFrame({"id": "a", "top": [0, 3, 19], "bottom": [3, 19, 44], "c": [100.0, 50.0, 10.0]})
    result = depth_weighted(table, "id", "top", "bottom", ["c"], layers="0,20,30,50")
    layers = result.layers
    assert layers["c"].iloc[0] == pytest.approx((3 * 100 + 16 * 50 + 1 * 10) / 20)
    assert layers["c"].iloc[1] == pytest.approx(10.0)  # inside one horizon
    assert layers["c"].iloc[2] == pytest.approx(10.0)  # only 30-44 covered: the covered part's mean
    np.testing.assert_allclose(layers["c_contrib"], [1.0, 1.0, 0.7])
    assert result.profiles.loc[0, "status"] == "ok"


def test_min_coverage_and_missing_values():
    table = pd.DataFrame({"id": "a", "top": [0, 10, 20], "bottom": [10, 20, 30], "c": [4.0, np.nan, 2.0]})
    result = depth_weighted(table, "id", "top", "bottom", ["c"], layers="0,20,40", min_coverage=0.6)
    np.testing.assert_allclose(result.layers["c_contrib"], [0.5, 0.5])
    assert result.layers["c"].isna().all()
    assert "no value for 0-20, 20-40 cm" in result.profiles.loc[0, "message"]
    with pytest.raises(InputError, match="min_coverage"):
        depth_weighted(table, "id", "top", "bottom", ["c"], min_coverage=1.5)


def test_mass_is_kept_and_fractions_lie_in_0_1(real_data):
    horizons = pd.read_csv(real_data / "neon_megapit" / "neon_megapit_soil_horizons.csv")
    columns = ["carbonTot", "bulkDen", "clayTotal"]
    result = depth_weighted(horizons, "siteID", "horizonTopDepth", "horizonBottomDepth", columns,
                            layers="globalsoilmap")
    layers = result.layers
    for name in columns:
        contrib = layers[name + "_contrib"]
        assert contrib.between(0.0, 1.0).all()
        assert (layers[name].isna() == contrib.eq(0)).all()
    # carbon x cm over 0-200 cm: layers and horizons hold the same amount
    thickness = layers["horizonBottomDepth"] - layers["horizonTopDepth"]
    layer_mass = (layers["carbonTot"] * layers["carbonTot_contrib"] * thickness).groupby(layers["siteID"]).sum()
    overlap = (horizons["horizonBottomDepth"].clip(upper=200) - horizons["horizonTopDepth"].clip(upper=200))
    horizon_mass = (horizons["carbonTot"] * overlap).groupby(horizons["siteID"]).sum()
    np.testing.assert_allclose(layer_mass.sort_index(), horizon_mass.sort_index(), rtol=1e-12)
    # profile attributes are kept, horizon-level ones are not
    assert {"soilOrder", "decimalLatitude"} <= set(layers.columns)
    assert "horizonName" not in layers.columns


def test_order_invariance_and_bad_profiles():
    table = pd.DataFrame({"id": ["a", "a", "a", "b", "b"], "top": [20, 0, 10, 0, "x"],
                          "bottom": [30, 10, 20, 10, 20], "c": [1.0, 3.0, 2.0, 5.0, 6.0]})
    result = depth_weighted(table, "id", "top", "bottom", ["c"], layers="0,15,30")
    np.testing.assert_allclose(result.layers["c"], [(10 * 3 + 5 * 2) / 15, (5 * 2 + 10 * 1) / 15])
    bad = result.profiles.set_index("id").loc["b"]
    assert bad["status"] == "error" and "'top' has non-numeric values ('x') in row 5" in bad["message"]
    assert "sorted" in result.profiles.set_index("id").loc["a", "repairs"]


def test_profile_of_zero_thickness_horizons_only_is_an_error_not_dropped():
    table = pd.DataFrame({"id": ["a", "a", "z", "z"], "top": [0, 10, 5, 5], "bottom": [10, 20, 5, 5],
                          "c": [1.0, 2.0, 3.0, 4.0]})
    result = depth_weighted(table, "id", "top", "bottom", ["c"], layers="0,20")
    z = result.profiles.set_index("id").loc["z"]
    assert z["status"] == "error" and "zero thickness" in z["message"] and "rows 3, 4" in z["message"]
    with pytest.raises(InputError, match="z: every horizon has zero thickness"):
        depth_weighted(table[table["id"] == "z"], "id", "top", "bottom", ["c"])


def test_repair_lines_list_the_first_repaired_profiles_and_count_the_rest():
    from wholesoil.core.horizons import REPAIRS_LISTED, repair_lines

    profiles = pd.DataFrame({"site": [f"s{i}" for i in range(REPAIRS_LISTED + 4)],
                             "status": ["ok"] * (REPAIRS_LISTED + 2) + ["incomplete", "ok"],
                             "repairs": ["sorted the horizons by depth"] * (REPAIRS_LISTED + 3) + [""]})
    lines, more = repair_lines(profiles, "site")
    assert lines[0] == "profile s0: repaired: sorted the horizons by depth" and len(lines) == REPAIRS_LISTED
    assert more == 2  # s10 and s11; s12 is not ok (listed as a warning instead), s13 was not repaired
