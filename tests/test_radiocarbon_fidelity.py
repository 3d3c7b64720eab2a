"""Issue 11 items 7-9 on the real ISRaD extract: the zone and atmosphere of each sample, Δ14C against
Fm, and the pre-bomb history; issue 10 item 10: samples outside the bomb-period record are noted."""

import re

import numpy as np
import pandas as pd
import pytest

from wholesoil.core import radiocarbon as rc
from wholesoil.core.cli import main


@pytest.fixture(scope="module")
def israd(real_data):
    return pd.read_csv(real_data / "israd" / "israd_layer_14c.csv", low_memory=False)


@pytest.fixture(scope="module")
def hua_annual(real_data):
    """Hua et al. 2021 annual means recomputed from the monthly record (year x zone, ‰)."""
    monthly = pd.read_csv(real_data / "atm_14c" / "hua2021_monthly_long.csv")
    monthly["calendar"] = np.floor(monthly["year"]).astype(int)
    means = monthly.groupby(["zone", "calendar"])["d14c"].agg(["mean", "size"]).reset_index()
    return means[means["size"] == 12].pivot(index="calendar", columns="zone", values="mean")


@pytest.fixture(scope="module")
def ages(israd):
    return rc.radiocarbon_age_table(israd)


def test_zone_and_atmosphere_of_each_sample(israd, ages, hua_annual, tmp_path):
    out, _ = ages
    lat = israd["pro_lat"].to_numpy()
    zone = np.select([lat >= 40, lat >= 20, lat >= 0, lat >= -40], ["NH1", "NH2", "NH3", "SH12"], "SH3")
    assert (out["zone"].to_numpy() == zone).all()
    year = israd["lyr_obs_date_y"].to_numpy().astype(int)
    recorded = (year >= 1950) & (year <= 2018)
    expected = [hua_annual.loc[y, z] for y, z in zip(year[recorded], zone[recorded])]
    np.testing.assert_allclose(out["atm_d14c"].to_numpy()[recorded], expected, atol=1e-4)
    assert (out.loc[year < 1950, "atm_d14c"] == 0.0).all()  # the constant pre-bomb atmosphere
    after = year > 2018  # extrapolated: exponential decline towards 0 ‰ fitted to 2009-2018
    fits = {z: np.polyfit(np.arange(-9, 1), np.log(hua_annual.loc[2009:2018, z]), 1) for z in set(zone[after])}
    expected = [np.exp(fits[z][1] + fits[z][0] * (y - 2018)) for y, z in zip(year[after], zone[after])]
    assert after.any()
    np.testing.assert_allclose(out["atm_d14c"].to_numpy()[after], expected, rtol=1e-4)
    # the CLI writes the same columns
    source, output = tmp_path / "in.csv", tmp_path / "ages.csv"
    israd.iloc[:200].to_csv(source, index=False)
    assert main(["radiocarbon-age", str(source), str(output)]) == 0
    written = pd.read_csv(output)
    assert written["zone"].tolist() == out["zone"].iloc[:200].tolist()
    np.testing.assert_allclose(written["atm_d14c"], out["atm_d14c"].iloc[:200])


def test_d14c_and_fm_are_checked_against_each_other(israd, ages):
    out, notes = ages
    lam = 0.00012097  # ISRaD.extra.fill_14c (ISRaD's λ, 1/8266.6 yr-1)
    from_fm = (israd["lyr_fraction_modern"] * np.exp(lam * (1950 - israd["lyr_obs_date_y"])) - 1) * 1000
    difference = (israd["lyr_14c"] - from_fm).to_numpy()
    np.testing.assert_allclose(out["d14c_fm_diff"], difference, atol=1e-3)
    difference = (israd["lyr_14c"] - (israd["lyr_fraction_modern"] * np.exp((1950 - israd["lyr_obs_date_y"]) / 8267)
                                      - 1) * 1000).to_numpy()  # METHODS §5: λ = 1/8267 yr-1
    disagree = np.abs(difference) > 1.0
    note = next(n for n in notes if n.startswith("Δ14C and fraction modern differ"))
    assert f"in {int(disagree.sum())} row(s)" in note
    naive = disagree & (np.abs(israd["lyr_14c"] - (israd["lyr_fraction_modern"] - 1) * 1000) <= 1.0).to_numpy()
    assert f"{int(naive.sum())} of them have Δ14C = (Fm - 1) x 1000" in note
    kleber = (israd["entry_name"] == "Kleber_2005").to_numpy() & (np.abs(difference) > 100)
    assert kleber.sum() == 1 and abs(out.loc[kleber, "d14c_fm_diff"].iloc[0]) > 150
    # prefer fm: the ages of the fraction modern alone
    by_fm, _ = rc.radiocarbon_age_table(israd, prefer="fm")
    fm_only, _ = rc.radiocarbon_age_table(israd.drop(columns=["lyr_14c"]))
    np.testing.assert_allclose(by_fm["age_slow_yr"], fm_only["age_slow_yr"], rtol=1e-12)
    both = out["age_slow_yr"].notna() & by_fm["age_slow_yr"].notna()
    ratio = (by_fm.loc[both, "age_slow_yr"] / out.loc[both, "age_slow_yr"] - 1).abs()
    print(f"Δ14C vs Fm: {int(disagree.sum())} rows differ > 1 ‰, {int((np.abs(difference) > 5).sum())} > 5 ‰; "
          f"slow ages differ > 10 % in {int((ratio > 0.1).sum())} rows")
    assert (ratio > 0.1).any()


def test_fm_column_given_as_d14c_is_flagged(israd, tmp_path, capsys):
    source = tmp_path / "in.csv"
    israd.iloc[:300].to_csv(source, index=False)
    assert main(["radiocarbon-age", str(source), str(tmp_path / "right.csv")]) == 0
    assert "like fraction modern" not in capsys.readouterr().err
    assert main(["radiocarbon-age", str(source), str(tmp_path / "wrong.csv"), "--d14c-col", "lyr_fraction_modern",
                 "--fm-col", ""]) == 0
    err = capsys.readouterr().err
    assert "'lyr_fraction_modern': every Δ14C value lies between 0 and 2 ‰" in err
    # what it would otherwise silently give: every sample the age of a Δ14C of about 1 ‰
    wrong = pd.read_csv(tmp_path / "wrong.csv")
    assert wrong["lyr_fraction_modern"].between(0, 2).all() and wrong["age_slow_yr"].notna().mean() > 0.5


def test_prefer_option_cli(israd, tmp_path):
    source = tmp_path / "in.csv"
    israd[israd["entry_name"] == "Kleber_2005"].to_csv(source, index=False)
    assert main(["radiocarbon-age", str(source), str(tmp_path / "d.csv")]) == 0
    assert main(["radiocarbon-age", str(source), str(tmp_path / "f.csv"), "--prefer", "fm"]) == 0
    d14c, fm = pd.read_csv(tmp_path / "d.csv"), pd.read_csv(tmp_path / "f.csv")
    zone = np.where(fm["pro_lat"] >= 40, "NH1", "NH3")  # Kleber_2005: 47-52° N, one profile at 10° N
    expected = rc.radiocarbon_ages(rc.fm_to_d14c(fm["lyr_fraction_modern"], fm["lyr_obs_date_y"]),
                                   fm["lyr_obs_date_y"], zone)
    np.testing.assert_allclose(fm["age_slow_yr"], expected.age_slow, rtol=1e-10)
    assert not np.allclose(d14c["age_slow_yr"], fm["age_slow_yr"], equal_nan=True)


def _calendar(path):
    """(calendar years AD, Δ14C ‰) of a calibration curve file (cal_bp, d14c), oldest first."""
    table = pd.read_csv(path).sort_values("cal_bp", ascending=False)
    return 1950.0 - table["cal_bp"].to_numpy(), table["d14c"].to_numpy()


def _history_reference(k, year, zone, share, graven_zone, resources, real_data, hua_annual):
    """Δ14C (‰) read at year + 0.5 with the full history, built here from the records and solved in exact steps."""
    (years, north), (_, south) = (_calendar(resources / "atm14c" / f"{name}.csv") for name in ("intcal20", "shcal20"))
    calibration = share * north + (1 - share) * south
    graven = pd.read_csv(real_data / "atm_14c" / "graven2017_annual_d14c.csv")
    graven_years = np.floor(graven["year"]).astype(int).to_numpy()
    first_hua = int(hua_annual[zone].first_valid_index())
    starts = list(years[years < 1850]) + list(range(1850, year + 1))
    values = list(calibration[years < 1850]) + [
        graven[graven_zone].to_numpy()[graven_years == y][0] if y < first_hua else hua_annual.loc[y, zone]
        for y in range(1850, year + 1)]
    ends = starts[1:] + [year + 0.5]
    s, r = k + rc.DECAY, k / (k + rc.DECAY)
    a = r * (values[0] / 1000 + 1)
    for value, start, end in zip(values, starts, ends):
        eq = r * (value / 1000 + 1)
        a = eq + (a - eq) * np.exp(-s * (end - start))
    return (a - 1) * 1000


@pytest.mark.parametrize("zone, share, graven_zone, year", [("NH1", 1.0, "NH", 1998), ("SH3", 0.0, "SH", 1965),
                                                           ("SH12", 0.0, "Tropics", 2012)])
def test_pre_bomb_history_matches_an_exact_run_from_the_source_records(zone, share, graven_zone, year, resources,
                                                                        real_data, hua_annual):
    k = np.array([1e-5, 1e-4, 5e-4, 2e-3, 0.01, 0.05, 0.3])
    expected = _history_reference(k, year, zone, share, graven_zone, resources, real_data, hua_annual)
    modelled = rc.forward_d14c(k, year, zone, pre_d14c="history")
    np.testing.assert_allclose(modelled, expected, atol=1e-4)  # the shipped annual means have 4 decimals
    # the default (a constant 0 ‰ before 1950) differs most for slow pools
    default = rc.forward_d14c(k, year, zone)
    assert abs(default[0] - modelled[0]) > 5 and abs(default[-1] - modelled[-1]) < 0.5
    ages = rc.radiocarbon_ages(modelled, year, zone, pre_d14c="history")
    assert np.nanmin(np.abs(ages.roots - k[:, None]) / k[:, None], axis=1).max() < 1e-6


def test_spin_up_spline_and_its_ends_against_direct_runs(resources):
    """The effective pre-1750 atmosphere P(k): spline error and the flat extension beyond 1e-12..1e6 yr-1."""
    years, d14c = _calendar(resources / "atm14c" / "intcal20.csv")
    years, ratio = years[years < 1750], d14c[years < 1750] / 1000 + 1

    def direct(k):
        s = k + rc.DECAY
        p = np.full(k.shape, ratio[0])
        for value, span in zip(ratio, np.diff(np.append(years, 1750.0))):
            p = value + (p - value) * np.exp(-s * span)
        return p

    k = np.exp(np.random.default_rng(3).uniform(np.log(1e-12), np.log(1e6), 300))
    np.testing.assert_allclose(rc.build_forcing("hua2021", 1950, "history").history(np.log(k))[:, 0], direct(k),
                               rtol=0, atol=1e-9)
    ends = direct(np.array([1e-14, 1e-12, 1e6, 1e8]))
    assert abs(ends[0] - ends[1]) < 1e-6 and abs(ends[2] - ends[3]) < 1e-6


def test_pre_bomb_history_changes_israd_ages_by_a_few_per_cent(israd, ages, tmp_path):
    out, _ = ages
    history, notes = rc.radiocarbon_age_table(israd, pre_d14c="history")
    assert not any("before 1950" in n for n in notes)
    both = out["age_slow_yr"].notna() & history["age_slow_yr"].notna()
    tau = out.loc[both, "age_slow_yr"]
    shift = history.loc[both, "age_slow_yr"] / tau - 1
    bands = {(lo, hi): shift[(tau >= lo) & (tau < hi)].median() for lo, hi in ((30, 3000), (3000, np.inf))}
    print(f"pre-bomb history vs 0 ‰: median |shift| {shift.abs().median():.4f}, median shift "
          + ", ".join(f"tau {lo}-{hi} yr {v:+.4f}" for (lo, hi), v in bands.items()) + f" (n {both.sum()})")
    assert 0.02 < shift.abs().median() < 0.08
    assert bands[(30, 3000)] < -0.01 and bands[(3000, np.inf)] > 0.03
    source, output = tmp_path / "in.csv", tmp_path / "h.csv"
    israd.iloc[:150].to_csv(source, index=False)
    assert main(["radiocarbon-age", str(source), str(output), "--pre-bomb", "history"]) == 0
    np.testing.assert_allclose(pd.read_csv(output)["age_slow_yr"], history["age_slow_yr"].iloc[:150], rtol=1e-9)


def test_pre_bomb_history_refuses_what_it_cannot_do(tmp_path, capsys):
    with pytest.raises(rc.InputError, match="shipped curves"):
        path = tmp_path / "own.csv"
        pd.DataFrame({"year": np.arange(1950, 2001), "Z": 100.0}).to_csv(path, index=False)
        rc.forward_d14c(0.01, 1990, 0, str(path), pre_d14c="history")
    with pytest.raises(rc.InputError, match="lag must be below 50"):
        rc.forward_d14c(0.01, 1990, 0, pre_d14c="history", lag=60)
    source = tmp_path / "in.csv"
    pd.DataFrame({"lyr_14c": [-50.0], "lyr_obs_date_y": [2000], "pro_lat": [10]}).to_csv(source)
    assert main(["radiocarbon-age", str(source), str(tmp_path / "o.csv"), "--pre-bomb", "histroy"]) == 2
    assert "--pre-bomb: give a Δ14C in ‰ or 'history'" in capsys.readouterr().err


def test_samples_outside_the_bomb_period_record_are_noted(israd, tmp_path, capsys):
    early = israd[israd["lyr_obs_date_y"] < 1950]
    late = israd[israd["lyr_obs_date_y"] > 2018].iloc[:5]
    source = tmp_path / "in.csv"
    pd.concat([early, late]).to_csv(source, index=False)
    assert main(["radiocarbon-age", str(source), str(tmp_path / "o.csv")]) == 0
    err = capsys.readouterr().err
    assert f"{len(early)} sample(s) were taken before 1950" in err
    assert re.search(r"5 sample\(s\) were taken after the end of the hua2021 record", err)
