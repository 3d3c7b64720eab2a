"""The radiocarbon and balance commands of the wholesoil program."""

import numpy as np
import pandas as pd
import pytest

from wholesoil.core.cli import main
from wholesoil.core.radiocarbon import AGE_COLUMNS


def test_radiocarbon_age_israd_file_as_it_is(real_data, tmp_path, capsys):
    israd = pd.read_csv(real_data / "israd" / "israd_layer_14c.csv", low_memory=False)
    sample = israd[israd["profile_id"].isin(israd["profile_id"].unique()[:40])]
    source, output, plot = tmp_path / "in.csv", tmp_path / "ages.csv", tmp_path / "profile.png"
    sample.to_csv(source, index=False)
    assert main(["radiocarbon-age", str(source), str(output), "--plot", str(plot)]) == 0
    out = pd.read_csv(output)
    assert list(out.columns) == list(sample.columns) + list(AGE_COLUMNS)
    assert plot.stat().st_size > 10000 and "samples:" in capsys.readouterr().err
    assert main(["bulk-inputs", "--input", str(output), "--output", str(tmp_path / "ib.csv"),
                 "--layers", "0,30,100"]) == 0
    assert set(pd.read_csv(tmp_path / "ib.csv")["lyr_top"]) == {0, 30}


def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame({"lyr_14c": [-50.0, -1200.0], "lyr_obs_date_y": [99999, 99999], "pro_lat": [10, 10]}).to_csv(source)
    assert main(["radiocarbon-age", str(source), str(output)]) == 2
    assert "sampling year" in capsys.readouterr().err and not output.exists()
    pd.DataFrame({"lyr_14c": [-50.0, -120.0], "lyr_obs_date_y": [2000, 2000], "pro_lat": [10, 10]}).to_csv(source)
    assert main(["radiocarbon-age", str(source), str(output), "--lat-col", "latitude"]) == 2
    assert "no column 'latitude'" in capsys.readouterr().err and not output.exists()
    assert main(["radiocarbon-age", str(source), str(output), "--pre-bomb", "nan"]) == 2
    assert "pre-bomb" in capsys.readouterr().err and not output.exists()


def test_two_box_model_and_turnover_commands(tmp_path):
    years = np.arange(1960, 2019)
    series = tmp_path / "series.csv"
    pd.DataFrame({"year": years, "npp": 55.0, "tau_veg": 9.0, "tau_soil": np.linspace(30, 26, years.size)}).to_csv(
        series, index=False)
    assert main(["two-box-model", "--input", str(series), "--output", str(tmp_path / "s.csv"), "--draws", "30",
                 "--seed", "5", "--plot", str(tmp_path / "s.png")]) == 0
    assert len(pd.read_csv(tmp_path / "s.csv")) == years.size and (tmp_path / "s.png").exists()
    assert main(["turnover", "--input", str(series), "--stock", "npp", "--flux", "2", "--output",
                 str(tmp_path / "t.csv")]) == 0
    assert pd.read_csv(tmp_path / "t.csv")["tau_yr"].eq(27.5).all()


def test_balance_commands_refuse_bad_options_before_writing(tmp_path, capsys):
    series, sites = tmp_path / "series.csv", tmp_path / "sites.csv"
    pd.DataFrame({"year": np.arange(1960, 2019), "npp": 55.0, "tau_veg": 9.0, "tau_soil": 30.0}).to_csv(series)
    pd.DataFrame({"bnpp": [3.0], "pdd": [0.5], "ibulk": [1.0]}).to_csv(sites)
    stocks, losses = tmp_path / "stocks.csv", tmp_path / "losses.csv"
    assert main(["two-box-model", "--input", str(series), "--output", str(stocks), "--plot", "s.jpg"]) == 2
    assert "--plot" in capsys.readouterr().err and not stocks.exists()
    assert main(["loss-estimates", "--input", str(sites), "--output", str(losses), "--bnpp-obs", "bnpp",
                 "--pdd-pred", "pdd", "--ibulk-pred", "ibulk", "--summary", "summary.png"]) == 2
    assert "--summary" in capsys.readouterr().err and not losses.exists()
    for command in (["two-box-model", "--output", str(stocks)],
                    ["loss-estimates", "--output", str(losses), "--bnpp-obs", "3", "--pdd-pred", "0.5",
                     "--ibulk-pred", "1"]):
        with pytest.raises(SystemExit) as exit_info:  # argparse: a required option is missing
            main(command)
        assert exit_info.value.code == 2 and "--input" in capsys.readouterr().err
    assert not stocks.exists() and not losses.exists()
