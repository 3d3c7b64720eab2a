"""Issue 10 item 8: impossible values in the radiocarbon and balance tables leave their row without a
result and are named in the notes (CLI and qgis_process), on real ISRaD rows."""

import numpy as np
import pandas as pd
import pytest

from wholesoil.core import balance as b
from wholesoil.core.cli import main
from wholesoil.core.radiocarbon import radiocarbon_age_table

from conftest import run_qgis_process


@pytest.fixture(scope="module")
def layers(real_data):
    """Ages and Ibulk of 20 real ISRaD profiles with a stock."""
    israd = pd.read_csv(real_data / "israd" / "israd_layer_14c.csv", low_memory=False)
    with_stock = israd.loc[israd["lyr_soc"].notna(), "profile_id"].drop_duplicates().iloc[:20]
    ages, _ = radiocarbon_age_table(israd[israd["profile_id"].isin(with_stock)].reset_index(drop=True))
    ibulk, _ = b.bulk_inputs_table(ages)
    return ibulk[ibulk[b.IBULK].notna()].reset_index(drop=True)


def _run(command, table, tmp_path, capsys, *options):
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    table.to_csv(source, index=False)
    assert main([command, "--input", str(source), "--output", str(output), *options]) == 0
    return pd.read_csv(output), capsys.readouterr().err


def test_carbon_balance(layers, tmp_path, capsys):
    table = layers.assign(bnpp=2.0, frac=0.2)
    table.loc[2, "bnpp"], table.loc[4, "frac"], table.loc[6, b.IBULK] = -1.0, 1.5, np.inf
    out, err = _run("carbon-balance", table, tmp_path, capsys, "--bnpp", "bnpp", "--fraction", "frac", "--ibulk",
                    b.IBULK, "--id-col", "profile_id")
    assert out[b.ILOSS].isna().tolist() == [i in (2, 4, 6) for i in range(len(out))]
    assert "'bnpp': BNPP (Mg C ha-1 yr-1) must be finite and at least 0; impossible values, rows left without " \
           "a result: row 3" in err
    assert "'frac': depth fraction of the layer must be finite and between 0 and 1" in err and "row 5" in err
    assert f"'{b.IBULK}': Ibulk (Mg C ha-1 yr-1) must be finite and at least 0" in err and "row 7" in err
    np.testing.assert_allclose(out[b.ILOSS].drop([2, 4, 6]), (0.4 - table[b.IBULK]).drop([2, 4, 6]))
    assert not out.loc[out["profile_id"] == table.loc[2, "profile_id"], "complete"].any()


def test_loss_estimates(layers, tmp_path, capsys):
    table = layers.assign(bnpp=2.0, npp=5.0, fbnpp=0.4, pdd=0.3)
    table.loc[1, "fbnpp"], table.loc[3, "pdd"] = 1.4, -0.5
    out, err = _run("loss-estimates", table, tmp_path, capsys, "--npp", "npp", "--fbnpp-obs", "fbnpp", "--pdd-pred",
                    "pdd", "--ibulk-pred", b.IBULK)
    assert out["iloss_e2"].isna().tolist() == [i in (1, 3) for i in range(len(out))]
    assert "'fbnpp': fBNPP (belowground share of NPP) must be finite and between 0 and 1" in err and "row 2" in err
    assert "'pdd': PDD (depth fraction of the layer) must be finite and between 0 and 1" in err and "row 4" in err


def test_bulk_inputs_ages(layers, tmp_path, capsys):
    table = layers.copy()
    table.loc[[0, 1, 2], "age_slow_yr"] = [0.0, -5.0, np.inf]
    out, err = _run("bulk-inputs", table, tmp_path, capsys)
    assert out[b.IBULK].isna().tolist() == [i < 3 for i in range(len(out))]
    assert "'age_slow_yr': C age (yr) must be finite and above 0; impossible values, rows left without a result: " \
           "rows 1, 2, 3" in err
    np.testing.assert_allclose(out[b.IBULK].iloc[3:], layers[b.IBULK].iloc[3:])


def test_radiocarbon_sampling_years(layers, tmp_path, capsys):
    table = layers.copy()
    table.loc[[1, 4], "lyr_obs_date_y"] = [-5, 99999]
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    table.to_csv(source, index=False)
    assert main(["radiocarbon-age", str(source), str(output)]) == 0
    err = capsys.readouterr().err
    out = pd.read_csv(output)
    assert out["status"].iloc[[1, 4]].tolist() == ["impossible_input"] * 2
    assert out["age_slow_yr"].iloc[[1, 4]].isna().all() and out["age_slow_yr"].drop([1, 4]).notna().all()
    assert "'lyr_obs_date_y': sampling year (AD) must be finite and between 1800 and" in err and "rows 2, 5" in err
    np.testing.assert_allclose(out["age_slow_yr"].drop([1, 4]), layers["age_slow_yr"].drop([1, 4]), rtol=1e-12)


@pytest.mark.qgis_process
def test_impossible_rows_through_qgis_process(layers, tmp_path):
    table = layers.assign(bnpp=2.0, frac=0.2)
    table.loc[[1, 4], "lyr_obs_date_y"] = [-5, 99999]
    table.loc[2, "bnpp"] = -1.0
    source = tmp_path / "in.csv"
    table.to_csv(source, index=False)
    done = run_qgis_process("run", "wholesoil:radiocarbonage", "--", f"INPUT={source}",
                            f"OUTPUT={tmp_path / 'ages.csv'}")
    ages = pd.read_csv(tmp_path / "ages.csv")
    assert ages["status"].iloc[[1, 4]].tolist() == ["impossible_input"] * 2 and "rows 2, 5" in done.stdout + done.stderr
    done = run_qgis_process("run", "wholesoil:carbonbalance", "--", f"INPUT={source}", "BNPP_FIELD=bnpp",
                            "FRACTION_FIELD=frac", f"IBULK_FIELD={b.IBULK}", f"OUTPUT={tmp_path / 'cb.csv'}")
    balance = pd.read_csv(tmp_path / "cb.csv")
    assert balance[b.ILOSS].isna().tolist() == [i == 2 for i in range(len(balance))]
    assert "'bnpp': BNPP" in done.stdout + done.stderr
