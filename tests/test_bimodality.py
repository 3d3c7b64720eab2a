"""Root bimodality: kernel modes, the 10 % rule, D0/D1/D2, phi, relative concentration, DEJU."""

import numpy as np
import pandas as pd
import pytest

from wholesoil.core.bimodality import (detect_bimodality, find_modes, phi, relative_concentration,
                                       weighted_kde)
from wholesoil.core.errors import InputError

NEON = "neon_megapit"


def increments(site, densities, profiles=1):
    """A root table of 10 cm increments (0-100) then 20 cm (100-200), repeated per profile."""
    breaks = np.concatenate([np.arange(0, 100, 10), np.arange(100, 201, 20)]).astype(float)
    rows = []
    for p in range(profiles):
        rows += [(site, f"{site}.{p}", t, b, d) for t, b, d in zip(breaks[:-1], breaks[1:], densities)]
    return pd.DataFrame(rows, columns=["site", "profile", "top", "bottom", "roots"])


def test_ten_percent_rule():
    grid = np.arange(0, 200, 0.1)
    strong = weighted_kde([5, 15, 125, 135], [100, 60, 30, 25], grid)
    weak = weighted_kde([5, 15, 125, 135], [100, 60, 4, 3], grid)
    assert find_modes(grid, strong)["modality"] == "bimodal"
    result = find_modes(grid, weak)
    assert result["modality"] == "unimodal" and len(result["modes"]) == 2
    assert find_modes(grid, weak, min_ratio=0.01)["modality"] == "bimodal"


def test_secondary_mode_at_exactly_ten_percent_counts():
    grid = np.arange(6.0)
    at = find_modes(grid, np.array([0.0, 1.0, 0.0, 0.0, 0.1, 0.0]))
    assert at["modality"] == "bimodal" and (at["d0"], at["d1"], at["d2"]) == (1.0, 2.0, 4.0)
    assert find_modes(grid, np.array([0.0, 1.0, 0.0, 0.0, 0.0999, 0.0]))["modality"] == "unimodal"


def test_bimodal_site_depths_and_phi():
    densities = [900, 500, 200, 60, 20, 10, 10, 30, 80, 120, 150, 90, 30, 10, 5]
    table = increments("X", densities, profiles=3)
    result = detect_bimodality(table, "site", "top", "bottom", "roots", profile_col="profile")
    row = result.sites.iloc[0]
    assert row["modality"] == "bimodal" and row["n_profiles"] == 3
    assert row["d0_cm"] < 15 and 100 <= row["d2_cm"] <= 125 and 40 < row["d1_cm"] < 80
    curve = result.curves["X"]
    assert curve["density"][np.searchsorted(curve["grid"], row["d1_cm"])] < \
        curve["density"][np.searchsorted(curve["grid"], row["d2_cm"])]
    expected_phi = phi(table["top"][:15], table["bottom"][:15], densities, row["d1_cm"], row["d2_cm"])
    assert row["phi_roots"] == pytest.approx(expected_phi)
    assert row["phi_roots"] > 1


def test_unimodal_site_uses_default_depths_and_missing_increments_are_zero():
    densities = [900, 400, 150, 60, 30, 15, 10, 5, 3, 2, 1, 1, 0.5, 0.2, 0.1]
    table = increments("Y", densities, profiles=2)
    table = table.drop(index=[10])  # profile Y.0 has no 100-120 row: counts as 0 there
    result = detect_bimodality(table, "site", "top", "bottom", "roots", profile_col="profile")
    row = result.sites.iloc[0]
    assert row["modality"] == "unimodal" and row["phi_depths"].startswith("default")
    mean = result.increments.set_index("top")["density"]
    assert mean[100.0] == pytest.approx(0.5) and mean[70.0] == pytest.approx(5.0)  # (0 + 1) / 2 and 5
    assert row["phi_roots"] == pytest.approx(0.5 / 5.0)  # Y(100) / Y(70)


def test_relative_concentration_exponent():
    depth = np.arange(5, 100, 10.0)
    roots = 100 * np.exp(-0.05 * depth)
    nutrient = 3 * np.exp(-0.02 * depth)
    relative, exponent, r2 = relative_concentration(depth, nutrient, roots)
    assert relative[0] == 1.0
    assert exponent == pytest.approx(0.03 / np.log(10))
    assert r2 == pytest.approx(1.0)


def test_bad_input():
    with pytest.raises(InputError, match="bandwidth"):
        weighted_kde([1, 2], [1, 1], np.arange(3.0), bandwidth=0)
    table = increments("Z", [1.0] * 15)
    table.loc[3, "roots"] = "lots"
    result = detect_bimodality(pd.concat([table, increments("W", [5.0] * 15)]), "site", "top", "bottom", "roots")
    sites = result.sites.set_index("site")
    assert sites.loc["Z", "modality"] == "error" and "non-numeric" in sites.loc["Z", "message"]
    assert sites.loc["W", "modality"] == "unimodal"


def test_deju_is_classified(real_data):
    roots = pd.read_csv(real_data / NEON / "neon_deju_megapit_root_samples.csv")
    live_fine = roots[(roots["rootStatus"] == "live") & (roots["sizeCategory"] == "<=4mm")]
    horizons = pd.read_csv(real_data / NEON / "neon_megapit_soil_horizons.csv")
    result = detect_bimodality(live_fine, "siteID", "topDepth_cm_from_id", None, "incrementRootDensity",
                               profile_col="pitProfileID", thickness=10.0, properties=horizons,
                               property_top_col="horizonTopDepth", property_bottom_col="horizonBottomDepth",
                               property_cols=["nitrogenTot"])
    row = result.sites.set_index("siteID").loc["DEJU"]
    assert row["n_profiles"] == 3 and row["n_increments"] == 9
    # one mode near the surface (measured: 5.9 cm; also found by scipy's find_peaks on the same kernel sum)
    assert row["modality"] == "unimodal" and row["n_modes"] == 1
    assert row["d0_cm"] == pytest.approx(5.9, abs=0.05)
    means = result.increments.set_index("top")["density"]
    by_hand = live_fine.groupby("topDepth_cm_from_id")["incrementRootDensity"].sum() / 3
    np.testing.assert_allclose(means.to_numpy(), by_hand.to_numpy())
    # the roots stop at 90 cm: phi needs D2 = 100 cm for a unimodal site and is not defined
    assert np.isnan(row["phi_roots"]) and "90 cm" in row["message"]
    assert np.isfinite(row["rel_nitrogenTot_exponent"])


@pytest.mark.parametrize("options, message", [
    ({"bandwidth": 0.0}, "bandwidth must be positive"),
    ({"bandwidth": float("nan")}, "bandwidth must be positive"),
    ({"min_ratio": 1.5}, "min_ratio must be between 0 and 1"),
    ({"properties": pd.DataFrame({"site": ["X"]})}, "property columns"),
])
def test_bad_parameters_stop_the_call_instead_of_failing_every_site(options, message):
    with pytest.raises(InputError, match=message):
        detect_bimodality(increments("X", [5.0] * 15), "site", "top", "bottom", "roots", **options)


def test_thickness_must_be_positive():
    table = increments("X", [5.0] * 15).drop(columns="bottom")
    with pytest.raises(InputError, match="positive increment thickness"):
        detect_bimodality(table, "site", "top", None, "roots", thickness=-10.0)


def test_thickness_narrower_than_the_increments_is_noted(real_data):
    """Silsoe fine roots: 30 cm increments; --thickness 10 would leave 20 cm gaps holding no roots and
    move D0 by 10 cm (the kernel points sit at top + 5 instead of top + 15)."""
    raw = pd.read_csv(real_data / "roots" / "silsoe_fine_root_by_depth.csv")
    raw["site"] = raw["year"].astype(str) + raw["treat"]
    raw["profile"] = raw["id"] + "/" + raw["dist_m"].astype(str)
    raw["top"], raw["bottom"] = raw["depth_cm"] - 15, raw["depth_cm"] + 15
    right = detect_bimodality(raw, "site", "top", "bottom", "mass_mg_cm3", "profile").sites.set_index("site")
    thin = detect_bimodality(raw, "site", "top", None, "mass_mg_cm3", "profile", thickness=10).sites.set_index("site")
    assert thin["message"].str.contains("increment tops lie up to 30 cm apart below 0 cm in every profile, but the "
                                        "thickness is 10 cm: 4 gap(s)", regex=False).all()
    assert not right["message"].str.contains("thickness").any()
    np.testing.assert_allclose(right["d0_cm"] - thin["d0_cm"], 10.0, atol=0.05)
    live = _deju_live(real_data)
    fine = detect_bimodality(live, "siteID", "topDepth_cm_from_id", None, "incrementRootDensity", "pitProfileID",
                             thickness=10).sites
    assert "thickness" not in fine.loc[0, "message"]
    thinner = detect_bimodality(live, "siteID", "topDepth_cm_from_id", None, "incrementRootDensity", "pitProfileID",
                                thickness=5).sites
    assert "10 cm apart below 0 cm in every profile, but the thickness is 5 cm" in thinner.loc[0, "message"]


def _deju_live(real_data):
    from wholesoil.core.horizons import select_rows

    roots = pd.read_csv(real_data / NEON / "neon_deju_megapit_root_samples.csv")
    return select_rows(roots, ["rootStatus=live", "sizeCategory=<=4mm"])
