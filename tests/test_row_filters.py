"""Row filters (--where): equality, comparisons, and train-model on the rows they keep."""

import numpy as np
import pandas as pd
import pytest

from wholesoil.core.cli import main
from wholesoil.core.errors import InputError
from wholesoil.core.horizons import select_rows
from wholesoil.core.learn.modelfile import load_model

ROOTS = "neon_megapit/neon_deju_megapit_root_samples.csv"


def test_comparisons_on_real_roots(real_data):
    roots = pd.read_csv(real_data / ROOTS)
    depth = roots["topDepth_cm_from_id"]
    assert len(select_rows(roots, ["topDepth_cm_from_id>=40"])) == int((depth >= 40).sum())
    assert len(select_rows(roots, ["topDepth_cm_from_id > 40"])) == int((depth > 40).sum())
    assert len(select_rows(roots, ["topDepth_cm_from_id<30"])) == int((depth < 30).sum())
    assert len(select_rows(roots, ["topDepth_cm_from_id<=30", "rootStatus=live"])) == int(
        ((depth <= 30) & roots["rootStatus"].eq("live")).sum())
    assert len(select_rows(roots, ["rootStatus!=live"])) == int(roots["rootStatus"].ne("live").sum())
    # the operator is the first one after the column: the value of this filter is '<=4mm'
    assert len(select_rows(roots, ["sizeCategory=<=4mm"])) == int(roots["sizeCategory"].eq("<=4mm").sum())
    assert set(select_rows(roots, ["sizeCategory!=<=4mm"])["sizeCategory"]) == {">4mm"}


def test_empty_cells_and_bad_filters():
    table = pd.DataFrame({"depth": [10.0, np.nan, 120.0], "name": ["a", None, "b"]})
    assert select_rows(table, ["depth<100"])["depth"].tolist() == [10.0]  # an empty cell is never < 100
    assert len(select_rows(table, ["depth!=10"])) == 2  # != keeps the empty cell
    assert select_rows(table, ["name="]).index.tolist() == [1]  # no value: the empty cells
    assert select_rows(table, ["depth = "]).index.tolist() == [1]
    assert select_rows(table, ["name!="])["name"].tolist() == ["a", "b"]
    with pytest.raises(InputError, match="needs a numeric column and a number"):
        select_rows(table, ["name>3"])
    with pytest.raises(InputError, match="needs a numeric column and a number"):
        select_rows(table, ["depth>=deep"])
    with pytest.raises(InputError, match="write it as column=value"):
        select_rows(table, ["depth"])
    with pytest.raises(InputError, match="no row matches"):
        select_rows(table, ["depth>500"])


def test_train_model_where_trains_on_the_kept_rows(tmp_path, capsys):
    rng = np.random.default_rng(3)
    n = 120
    table = pd.DataFrame({"site": np.repeat(np.arange(40), 3), "x": rng.normal(size=n),
                          "layer": np.tile([0, 20, 40], 40)})
    table["y"] = 2 * table["x"] + table["layer"] / 10 + rng.normal(scale=0.1, size=n)
    table.loc[table["layer"] == 40, "x"] = "no value"  # text in rows the filter leaves out does not matter
    table.to_csv(tmp_path / "t.csv", index=False)
    model = tmp_path / "top.wsmodel"
    code = main(["train-model", str(tmp_path / "t.csv"), str(model), "--target", "y", "--features", "x",
                 "--group", "site", "--folds", "4", "--trees", "20", "--where", "layer=20", "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "--where keeps 40 of 120 rows; row numbers below count the kept rows" in err
    training = load_model(model).tables["training"]
    kept = table[table["layer"] == 20].reset_index(drop=True)
    assert len(training) == 40 and np.allclose(training["y"], kept.loc[training["row"] - 1, "y"])
    assert main(["train-model", str(tmp_path / "t.csv"), str(tmp_path / "none.wsmodel"), "--target", "y",
                 "--features", "x", "--group", "site", "--where", "layer>100"]) == 2
    assert "no row matches the filter layer>100" in capsys.readouterr().err
    assert not (tmp_path / "none.wsmodel").exists()
