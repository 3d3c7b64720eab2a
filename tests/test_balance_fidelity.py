"""Issue 11 item 6 (balance parts) on real ISRaD profiles: per-row errors in bulk-inputs, what the
carbon-balance profile sums cover, the raster Iroot and whole-profile bands, and the profile
attributes and layer age carried by bulk-inputs --layers."""

import numpy as np
import pandas as pd
import pytest

from wholesoil.core import balance as b
from wholesoil.core.cli import main
from wholesoil.core.radiocarbon import radiocarbon_age_table
from wholesoil.core.rasters import read_raster

from test_balance import _band_names, _raster

ISRAD_COLUMNS = ["--oc-col", "lyr_c_org_filled", "--bd-col", "lyr_bd_samp_filled"]


@pytest.fixture(scope="module")
def ages(real_data):
    """Slow-root ages of McFarlane_2013 (21 profiles, organic layers above 0) and 60 other profiles."""
    israd = pd.read_csv(real_data / "israd" / "israd_layer_14c.csv", low_memory=False)
    others = israd.loc[israd["entry_name"] != "McFarlane_2013", "profile_id"].drop_duplicates().iloc[:60]
    chosen = israd[(israd["entry_name"] == "McFarlane_2013") | israd["profile_id"].isin(others)]
    return radiocarbon_age_table(chosen.reset_index(drop=True))[0]


def _expected_stock(table):
    """Layer stock (Mg C ha-1) computed here: lyr_soc x 100, else BD x OC % x 10 x thickness / 10 x (1 - coarse %)."""
    thickness = table["lyr_bot"] - table["lyr_top"]
    computed = table["lyr_bd_samp_filled"] * table["lyr_c_org_filled"] * thickness \
        * (1 - table["lyr_coarse_tot"].fillna(0) / 100)
    stock = table["lyr_soc"].mul(100).where(table["lyr_soc"].notna(), computed.where(thickness > 0))
    implied_bd = stock / 100 / (thickness * table["lyr_c_org_filled"].where(table["lyr_c_org_filled"] > 0, 100) / 100)
    return stock.where(~(implied_bd > 2.65), computed.where(thickness > 0))


def test_one_negative_organic_carbon_leaves_only_its_row_without_a_result(ages, tmp_path, capsys):
    bad = ages.index[(ages["entry_name"] == "McFarlane_2013") & (ages["lyr_top"] == 5)][0]
    broken = ages.copy()
    broken.loc[bad, "lyr_c_org_filled"] = -0.4  # as the held-out McFarlane_2013 row 801
    source, output = tmp_path / "ages.csv", tmp_path / "ibulk.csv"
    broken.to_csv(source, index=False)
    assert main(["bulk-inputs", "--input", str(source), "--output", str(output)] + ISRAD_COLUMNS) == 0
    assert f"'lyr_c_org_filled': organic C (percent) must be finite and between 0 and 100; impossible values, " \
           f"rows left without a result: row {bad + 1}" in capsys.readouterr().err
    out = pd.read_csv(output)
    assert np.isnan(out.loc[bad, b.STOCK]) and np.isnan(out.loc[bad, b.IBULK])
    others = out.index != bad
    expected = _expected_stock(ages)
    np.testing.assert_allclose(out.loc[others, b.STOCK], expected[others], rtol=1e-9)
    np.testing.assert_allclose(out.loc[others, b.IBULK], (expected / ages["age_slow_yr"])[others], rtol=1e-9)
    # harmonised: the profile's layer holding the bad row is empty, its other layers and the other profiles are not
    layered = tmp_path / "layers.csv"
    assert main(["bulk-inputs", "--input", str(source), "--output", str(layered), "--layers", "0,20,40"]
                + ISRAD_COLUMNS) == 0
    layers = pd.read_csv(layered).set_index(["profile_id", "lyr_top"])
    profile = ages.loc[bad, "profile_id"]
    assert np.isnan(layers.loc[(profile, 0), b.IBULK]) and np.isfinite(layers.loc[(profile, 20), b.IBULK])
    clean, _ = b.bulk_inputs_table(ages, bd_col="lyr_bd_samp_filled", oc_col="lyr_c_org_filled", layers="0,20,40")
    clean = clean.set_index(["profile_id", "lyr_top"]).drop(index=(profile, 0))
    np.testing.assert_allclose(layers.drop(index=(profile, 0))[b.IBULK], clean[b.IBULK], rtol=1e-12)


def test_organic_layers_are_kept_on_request(ages):
    """Harvard Forest H2 (McFarlane_2013) has organic layers from -9 to 0 cm (-9 to -8 without a bulk
    density): with --organic keep, depths count from the top of the organic layer (-9 cm), so its
    1-9 cm layer holds exactly the carbon of the organic layers from -8 to 0 cm."""
    columns = {"bd_col": "lyr_bd_samp_filled", "oc_col": "lyr_c_org_filled", "layers": "1,9"}
    profile = ages[ages["profile_id"] == "McFarlane_2013|MA Harvard Forest|H2"].reset_index(drop=True)
    per_row, _ = b.bulk_inputs_table(profile, bd_col="lyr_bd_samp_filled", oc_col="lyr_c_org_filled")
    organic = per_row[(per_row["lyr_top"] >= -8) & (per_row["lyr_top"] < 0)]
    assert len(organic) == 2 and organic[b.STOCK].notna().all()
    kept, _ = b.bulk_inputs_table(profile, organic="keep", **columns)
    excluded, notes = b.bulk_inputs_table(profile, **columns)
    assert kept[b.STOCK].iloc[0] == pytest.approx(organic[b.STOCK].sum(), rel=1e-9)
    assert kept[b.IBULK].iloc[0] == pytest.approx(organic[b.IBULK].sum(), rel=1e-9)
    assert excluded[b.STOCK].iloc[0] != pytest.approx(kept[b.STOCK].iloc[0])
    assert "3 layer(s) above the mineral surface" in notes[-1]


def test_harmonised_layers_keep_profile_attributes_and_the_layer_age(ages):
    out, _ = b.bulk_inputs_table(ages, bd_col="lyr_bd_samp_filled", oc_col="lyr_c_org_filled", layers="0,5,10,20")
    for column in ("pro_land_cover", "pro_treatment", "pro_lat", "pro_long", "entry_name", "doi"):
        expected = ages.groupby("profile_id")[column].first()
        assert (out[column].fillna("-").to_numpy() == expected.reindex(out["profile_id"]).fillna("-").to_numpy()).all()
    np.testing.assert_allclose(out["age_slow_yr"], out[b.STOCK] / out[b.IBULK])
    # a target layer inside one source layer has that layer's age
    mineral = ages[(ages["lyr_top"] >= 0) & ages["age_slow_yr"].notna()]
    checked = 0
    for _, layer in out[out["age_slow_yr"].notna()].iterrows():
        holder = mineral[(mineral["profile_id"] == layer["profile_id"]) & (mineral["lyr_top"] <= layer["lyr_top"])
                         & (mineral["lyr_bot"] >= layer["lyr_bot"])]
        if len(holder) == 1:
            assert layer["age_slow_yr"] == pytest.approx(holder["age_slow_yr"].iloc[0], rel=1e-9)
            checked += 1
    assert checked > 20


def test_profile_sums_say_what_they_cover(ages, real_data, tmp_path):
    ibulk, _ = b.bulk_inputs_table(ages, bd_col="lyr_bd_samp_filled", oc_col="lyr_c_org_filled")
    beta = pd.read_csv(real_data / "roots" / "jackson1996_beta_by_biome.csv").set_index("biome")["beta"]
    top, bottom = ibulk["lyr_top"].clip(lower=0), ibulk["lyr_bot"].clip(lower=0)
    ibulk["frac"] = beta["temperate deciduous forest"] ** top - beta["temperate deciduous forest"] ** bottom
    source, output = tmp_path / "layers.csv", tmp_path / "balance.csv"
    ibulk.to_csv(source, index=False)
    assert main(["carbon-balance", "--input", str(source), "--output", str(output), "--bnpp", "2.5", "--fraction",
                 "frac", "--ibulk", b.IBULK, "--id-col", "profile_id"]) == 0
    out = pd.read_csv(output)
    both = out[b.IROOT].notna() & out[b.IBULK].notna()
    used = ibulk[both.to_numpy()].groupby("profile_id")
    for profile, rows in out.groupby("profile_id"):
        summed = used.get_group(profile) if profile in used.groups else ibulk.iloc[:0]
        first = rows.iloc[0]
        assert first["profile_layers"] == len(summed)
        if len(summed):
            assert first["profile_top_cm"] == summed["lyr_top"].min()
            assert first["profile_bottom_cm"] == summed["lyr_bot"].max()
            assert first["iroot_profile"] == pytest.approx((2.5 * summed["frac"]).sum())
        ordered = summed.sort_values("lyr_top")
        tops, bottoms = ordered["lyr_top"].to_numpy(), ordered["lyr_bot"].to_numpy()
        joined = len(summed) and (tops[1:] == bottoms[:-1]).all()
        assert bool(first["complete"]) == bool(len(summed) == len(rows) and joined and summed["lyr_top"].min() <= 0)
    assert out["complete"].any() and not out["complete"].all()


def test_raster_balance_writes_iroot_and_whole_profile_bands(ages, tmp_path):
    """Real layer values of 6 profiles in 6 pixels: the raster profile bands equal the table's profile sums."""
    ibulk, _ = b.bulk_inputs_table(ages, bd_col="lyr_bd_samp_filled", oc_col="lyr_c_org_filled", layers="0,20,40")
    ibulk["iroot"] = np.where(ibulk["lyr_top"] == 0, 0.9, 0.35)
    complete = ibulk.groupby("profile_id")[b.IBULK].transform(lambda v: v.notna().all())
    ibulk = ibulk[complete].iloc[:12]
    balance, _ = b.carbon_balance_table(ibulk, b.IBULK, iroot="iroot", id_col="profile_id")
    layer = [ibulk[ibulk["lyr_top"] == top] for top in (0, 20)]
    iroot = _raster(tmp_path / "iroot.tif", [l["iroot"].to_numpy().reshape(2, 3) for l in layer], "0,20,40")
    ibulk_tif = _raster(tmp_path / "ibulk.tif", [l[b.IBULK].to_numpy().reshape(2, 3) for l in layer])
    out = b.raster_balance("iloss", iroot, ibulk_tif, tmp_path / "iloss.tif")
    assert _band_names(out) == ["iloss_0_20", "iloss_20_40", "iloss_fraction_0_20", "iloss_fraction_20_40",
                                "iroot_0_20", "iroot_20_40", "iroot_profile", "ibulk_profile", "iloss_profile",
                                "iloss_fraction_profile"]
    per_profile = balance[balance["lyr_top"] == 0]
    for band, column in ((5, "iroot"), (7, "iroot_profile"), (8, "ibulk_profile"), (9, "iloss_profile"),
                         (10, "iloss_fraction_profile")):
        np.testing.assert_allclose(read_raster(out, band).reshape(-1), per_profile[column], rtol=1e-6)
    assert main(["carbon-balance", "--iroot", iroot, "--ibulk", ibulk_tif, "--output", str(tmp_path / "c.tif")]) == 0
    assert _band_names(str(tmp_path / "c.tif")) == _band_names(out)
