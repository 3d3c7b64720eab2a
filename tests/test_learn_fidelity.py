"""Issue 11 items 11-15 and issue 10 item 10 on real data: the SRDB-V5 Rh records shipped in
resources/sample_data (grouped by site_key). Every expectation is computed independently
here (pandas, numpy, statsmodels' formula interface), not taken from wholesoil."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from learn_data import profile_layers
from wholesoil.core.cli import main
from wholesoil.core.errors import InputError
from wholesoil.core.learn.models import CovariateModel
from wholesoil.core.learn.training import evaluate_model, explain_model, prepare_data, train_model
from wholesoil.core.learn.validation import group_kfold, holdout_split, resolve_groups
from wholesoil.core.tables import read_table

FEATURES = ["MAT", "MAP", "Latitude", "Biome", "Ecosystem_type", "Leaf_habit"]
CATEGORICAL = ["Biome", "Ecosystem_type", "Leaf_habit"]


@pytest.fixture(scope="module")
def records(resources):
    return read_table(resources / "sample_data" / "srdb_rh_records.csv")


@pytest.fixture(scope="module")
def split(records):
    """(training sites, held-out sites): a grouped 80/20 split of the records by site."""
    test = holdout_split(resolve_groups(records, "site_key")[0], 0.2, random_state=1)
    return records[~test].reset_index(drop=True), records[test].reset_index(drop=True)


def train(table, **options):
    settings = dict(group_col="site_key", n_splits=5, n_trees=60, permutation_repeats=1)
    return train_model(table, "Rh_annual", FEATURES, CATEGORICAL, **{**settings, **options})


@pytest.fixture(scope="module")
def quantile_forest(split):
    return train(split[0], kind="quantile_forest")


def test_empty_text_is_missing_however_the_table_was_read(records):
    """Item 11: OGR (so QGIS and GeoPackages) reads an empty CSV cell of a text column as ''
    where pandas reads NaN; the same records gave 480 rows in QGIS and 474 in the CLI."""
    as_ogr_reads = records.copy()
    for column in CATEGORICAL + ["site_key"]:
        as_ogr_reads[column] = as_ogr_reads[column].astype(object).where(records[column].notna(), "")
    as_ogr_reads.loc[3, "Leaf_habit"] = "   "
    _, _, complete = prepare_data(records, "Rh_annual", FEATURES, CATEGORICAL)
    X, _, complete_ogr = prepare_data(as_ogr_reads, "Rh_annual", FEATURES, CATEGORICAL)
    independent = records[FEATURES + ["Rh_annual"]].notna().all(axis=1) & (records.index != 3)
    assert complete_ogr.sum() == complete.sum() - bool(complete[3]) == independent.sum()
    assert "" not in set(X["Biome"].dropna())
    as_ogr_reads.loc[[4, 9], "site_key"] = ""
    with pytest.raises(InputError, match="group column 'site_key' is empty in rows 5, 10"):
        resolve_groups(as_ogr_reads, "site_key")
    strata = np.where(np.arange(len(records)) % 2, "", None)  # '' and missing are one stratum
    np.testing.assert_array_equal(group_kfold(np.arange(len(records)), 4, strata),
                                  group_kfold(np.arange(len(records)), 4, [None] * len(records)))


def test_log_target_back_transform_is_corrected_for_bias(split):
    """Item 12: exp of a log-scale prediction estimates the median: uncorrected, the CV bias
    of the Rh forest was -14.6 % of the mean, against -2.5 % without a transform."""
    training, held_out = split
    mean = training["Rh_annual"].mean()
    plain = train(training)
    uncorrected = train(training, target_transform="log", bias_correction="none")
    corrected = train(training, target_transform="log")
    bias = {name: model.metadata["metrics"]["bias"] for name, model in
            (("plain", plain), ("uncorrected", uncorrected), ("corrected", corrected))}
    assert bias["uncorrected"] < -0.10 * mean
    assert abs(bias["corrected"] - bias["plain"]) < 0.03 * mean
    held = {name: evaluate_model(model, held_out).metrics["bias"] for name, model in
            (("plain", plain), ("uncorrected", uncorrected), ("corrected", corrected))}
    assert held["uncorrected"] < held["plain"] - 0.08 * mean
    assert abs(held["corrected"] - held["plain"]) < 0.03 * mean
    assert corrected.metadata["target"]["bias_correction"] == "ratio"
    assert corrected.model.bias_factor_ == corrected.metadata["target"]["bias_factor"] > 1


@pytest.mark.parametrize("correction", ["ratio", "duan"])
def test_bias_factor_from_grouped_out_of_fold_predictions(correction):
    """The factor, recomputed: the same grouped inner folds, a model of log(y) per fold."""
    table = profile_layers(24, seed=6)
    X, y, groups = table[["clim", "soil", "depth", "biome"]], np.exp(table["soc"] / 4), table["profile"].to_numpy()
    model = CovariateModel(categorical=("biome",), n_trees=20, target_transform="log", bias_correction=correction,
                           tuning_folds=4).fit(X, y, groups=groups)
    folds = group_kfold(groups, 4, random_state=0)
    predicted = np.empty(len(y))
    for k in range(4):
        inner = CovariateModel(categorical=("biome",), n_trees=20).fit(X[folds != k], np.log(y[folds != k]),
                                                                        groups=groups[folds != k])
        predicted[folds == k] = inner.predict(X[folds == k])
    log_y = np.log(y)
    expected = np.sum(y) / np.sum(np.exp(predicted)) if correction == "ratio" else np.mean(np.exp(log_y - predicted))
    assert model.bias_factor_ == pytest.approx(expected, rel=1e-12)
    inner = model.pipeline_[:-1].transform(X)
    np.testing.assert_allclose(model.predict(X), np.exp(model.pipeline_[-1].predict(inner)) * model.bias_factor_)


def test_quantiles_back_transform_without_the_factor():
    """A quantile of log(y) is the log of the quantile of y: no bias correction applies."""
    table = profile_layers(24, seed=6)
    X, y = table[["clim", "soil", "depth"]], np.exp(table["soc"] / 4)
    model = CovariateModel(kind="quantile_forest", n_trees=20, target_transform="log", screen=False)
    model.fit(X, y, groups=table["profile"])
    assert model.bias_factor_ != 1.0
    median = model.pipeline_[-1].predict_quantiles(model.pipeline_[:-1].transform(X), [0.5])
    np.testing.assert_array_equal(model.predict_quantiles(X, [0.5]), np.exp(median))


def test_covariate_ranges_and_row_ids_are_kept(records, tmp_path, capsys):
    """Items 13 and 15: ranges per covariate (levels per categorical one) for applicability
    checks, and the input row of every out-of-fold prediction."""
    predictions = tmp_path / "oof.csv"
    code = main(["train-model", _csv(records, tmp_path), str(tmp_path / "m.wsmodel"),
                 "--target", "Rh_annual", "--features", ",".join(FEATURES), "--categorical", ",".join(CATEGORICAL),
                 "--group", "site_key", "--folds", "4", "--trees", "30", "--permutation-repeats", "1",
                 "--x-col", "Longitude", "--y-col", "Latitude", "--predictions", str(predictions), "--quiet"])
    assert code == 0, capsys.readouterr().err
    from wholesoil.core.learn.modelfile import load_model

    metadata = load_model(tmp_path / "m.wsmodel").metadata
    complete = records[FEATURES + ["Rh_annual"]].notna().all(axis=1)
    used = records[complete]
    ranges = metadata["covariate_ranges"]
    assert ranges["MAT"] == {"min": used["MAT"].min(), "max": used["MAT"].max()}
    assert ranges["Biome"] == {"levels": sorted(used["Biome"].unique())}
    assert metadata["extent"] == [used["Longitude"].min(), used["Latitude"].min(), used["Longitude"].max(),
                                  used["Latitude"].max()]
    out = read_table(predictions)
    assert len(out) == complete.sum()
    back = records.iloc[out["row"] - 1]
    np.testing.assert_array_equal(back["Rh_annual"].to_numpy(), out["Rh_annual"].to_numpy())
    assert (back["site_key"].to_numpy() == out["site_key"].to_numpy()).all()


def _csv(table, folder):
    path = folder / "records.csv"
    table.to_csv(path, index=False)
    return str(path)


def test_intervals_are_scored_and_stay_physical(quantile_forest, split, capsys, tmp_path):
    """Item 14: evaluate-model scores both intervals of a quantile forest, with width,
    interval score and coverage by sd bins next to a no-model baseline; lower bounds of a
    non-negative target are truncated at 0."""
    training, held_out = split
    metadata = quantile_forest.metadata
    assert metadata["target"]["lower_limit"] == 0.0
    level = metadata["interval"]["level"]
    evaluation = evaluate_model(quantile_forest, held_out)
    table = evaluation.table
    observed = held_out["Rh_annual"].to_numpy()
    ok = ~np.isnan(observed) & table["predicted"].notna().to_numpy()
    inside = (observed >= table["q_lower"]) & (observed <= table["q_upper"])
    assert evaluation.quantile_coverage == pytest.approx(inside[ok].mean())
    within = (observed >= table["lower"]) & (observed <= table["upper"])
    assert evaluation.coverage == pytest.approx(within[ok].mean())
    assert (table["lower"].dropna() >= 0).all() and (table["lower"] == 0).any()
    raw_lower = table["predicted"] - metadata["interval"]["tau"] * table["sd"]
    assert (raw_lower < 0).any()  # what the bounds were before truncation
    pooled = evaluation.intervals.set_index(["method", "sd_bin"])
    low, high = np.quantile(quantile_forest.tables["training"]["Rh_annual"], [(1 - level) / 2, (1 + level) / 2])
    alpha = 1 - level
    score = (high - max(low, 0)) + 2 / alpha * (np.maximum(max(low, 0) - observed, 0) + np.maximum(observed - high, 0))
    baseline = pooled.loc[("no model (training quantiles)", "all")]
    assert baseline["interval_score"] == pytest.approx(score[ok].mean())
    assert baseline["coverage"] == pytest.approx(((observed >= low) & (observed <= high))[ok].mean())
    quantile = pooled.loc[("quantile forest", "all")]
    width = (table["q_upper"] - table["q_lower"]).to_numpy()
    assert quantile["mean_width"] == pytest.approx(width[ok].mean())
    bins = evaluation.intervals[evaluation.intervals["method"] == "Coulston"]
    assert len(bins) == 5 and bins["n"].iloc[1:].sum() == ok.sum()
    held = quantile_forest.tables["intervals"]
    assert set(held["method"]) == {"Coulston", "quantile forest", "no model (training quantiles)"}

    unlimited = train(training, kind="quantile_forest", lower_limit=None, n_trees=20)
    assert unlimited.metadata["target"]["lower_limit"] is None and (unlimited.tables["training"]["lower"] < 0).any()
    with pytest.raises(InputError, match="the lower limit 100 is above the target in rows"):
        train(training, lower_limit=100)


def test_evaluate_report_does_not_repeat_the_training_rows(quantile_forest, split, tmp_path):
    """Item 15: the evaluation report named rows of the training file as if they were the data's."""
    from wholesoil.core.learn.report import evaluation_report, training_report

    numbers = quantile_forest.metadata["dropped_row_numbers"]
    assert numbers
    evaluation_report(tmp_path / "eval.html", quantile_forest, evaluate_model(quantile_forest, split[1]))
    page = (tmp_path / "eval.html").read_text()
    assert numbers not in page and "left out of the training table" in page
    assert "no model (training quantiles)" in page and "interval score" in page
    training_report(tmp_path / "train.html", quantile_forest)
    assert numbers in (tmp_path / "train.html").read_text()


def test_random_effect_may_be_the_group_column(quantile_forest, capsys, tmp_path):
    """Item 15: explain-model --random-effect site_key failed: the group column was renamed."""
    from wholesoil.core.learn.modelfile import save_model

    path = save_model(tmp_path / "m.wsmodel", quantile_forest)
    code = main(["explain-model", str(path), "--random-effect", "site_key", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "each site_key class is one site_key" in out


def test_repeated_records_of_a_site_are_not_independent(quantile_forest):
    """Item 15: the mixed model gets a random intercept per site, nested in the biome, and
    the partial correlations cluster-robust p values by site."""
    import statsmodels.formula.api as smf

    result = explain_model(quantile_forest, random_effect="Biome", control="Latitude")
    summary = result.mixed_summary
    assert summary["repeated_records"].startswith("random intercept per site_key")
    assert summary["site_variance"] > 0
    training = quantile_forest.tables["training"]
    data = training[["MAT", "MAP", "Latitude", "Rh_annual", "Biome", "site_key"]].copy()
    for column in ["MAT", "MAP", "Latitude", "Rh_annual"]:
        data[column] = (data[column] - data[column].mean()) / data[column].std(ddof=0)
    formula = smf.mixedlm("Rh_annual ~ MAT + MAP + Latitude", data, groups="Biome", re_formula="1",
                          vc_formula={"site": "0 + C(site_key)"}).fit(reml=True)
    np.testing.assert_allclose(result.mixed["coefficient"], formula.fe_params, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result.mixed["se"], formula.bse_fe, rtol=1e-3)
    assert summary["site_variance"] == pytest.approx(float(formula.vcomp[0]), rel=1e-3)

    partial = result.partial.set_index("covariate")
    assert partial["p_method"].str.startswith("cluster-robust (CR1) by site_key").all()
    x = training["MAT"] - np.polyval(np.polyfit(training["Latitude"], training["MAT"], 1), training["Latitude"])
    y = training["Rh_annual"] - np.polyval(np.polyfit(training["Latitude"], training["Rh_annual"], 1),
                                           training["Latitude"])
    design = np.column_stack([np.ones(len(x)), x])
    slope = np.linalg.lstsq(design, y, rcond=None)[0]
    residual = y - design @ slope
    sites = training["site_key"].to_numpy()
    meat = sum(np.outer(design[sites == s].T @ residual[sites == s], design[sites == s].T @ residual[sites == s])
               for s in np.unique(sites))
    bread = np.linalg.inv(design.T @ design)
    n, g = len(x), len(np.unique(sites))
    se = np.sqrt((bread @ meat @ bread)[1, 1] * g / (g - 1) * (n - 1) / (n - 2))
    assert partial.loc["MAT", "p"] == pytest.approx(2 * stats.t.sf(abs(slope[1] / se), g - 1), rel=1e-6)
    assert partial.loc["MAT", "partial_r"] == pytest.approx(np.corrcoef(x, y)[0, 1])


def test_group_importance_reports_its_fit_and_unequal_components(quantile_forest):
    """Item 15: the component forest's grouped CV R2, and a note when groups have different
    numbers of components (impurity importance grows with them)."""
    result = explain_model(quantile_forest, feature_groups={"climate": ["MAT", "MAP"], "place": ["Latitude"]},
                           n_trees=40)
    groups = result.groups.set_index("group")
    assert groups["n_components"].to_dict() == {"climate": 2, "place": 1}
    assert groups.loc["climate", "importance_per_component"] == pytest.approx(groups.loc["climate", "importance"] / 2)
    assert any("different numbers of components (climate 2, place 1)" in note for note in result.notes)
    fit = result.groups_fit
    assert fit["grouped"] == "by site" and fit["n"] == len(quantile_forest.tables["training"])
    assert 0 <= fit["r2"] <= 1 and np.isfinite(fit["rmse"])


def test_a_constant_target_gets_a_note(records, tmp_path, capsys):
    """Issue 10 item 10: a constant training target trained silently."""
    table = records.copy()
    table["flux"] = 5.0
    code = main(["train-model", _csv(table, tmp_path), str(tmp_path / "m.wsmodel"), "--target", "flux",
                 "--features", "MAT,MAP", "--group", "site_key", "--folds", "3", "--trees", "10",
                 "--permutation-repeats", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 0
    assert "note: the target 'flux' is constant (5) on all" in err and "R2 and NSE are undefined" in err


@pytest.mark.parametrize("kind", ["random_forest", "quantile_forest"])
def test_maps_back_transform_and_truncate_as_the_model_does(kind, records, tmp_path):
    """Items 12 and 14 in maps: a log model's mapped mean carries the bias correction (as
    predict does), its quantiles do not, and mapped lower bounds stop at the lower limit."""
    from rasters_util import read_bands, write_raster
    from wholesoil.core.learn.modelfile import save_model
    from wholesoil.core.learn.training import predict_table
    from wholesoil.core.maps.predict import predict_raster

    rng = np.random.default_rng(3)
    grids = {"MAT": rng.uniform(-5, 28, (30, 40)), "MAP": rng.uniform(100, 3000, (30, 40))}
    rasters = [write_raster(tmp_path / f"{name}.tif", values) for name, values in grids.items()]
    trained = train_model(records, "Rh_annual", ["MAT", "MAP"], group_col="site_key", kind=kind, n_splits=3,
                          n_trees=20, target_transform="log", permutation_repeats=1)
    assert trained.model.bias_factor_ > 1
    path = save_model(tmp_path / "m.wsmodel", trained)
    bands, names = read_bands(predict_raster([path], [f"{n}={r}" for n, r in zip(grids, rasters)], tmp_path / "m.tif"))
    expected = predict_table(trained, pd.DataFrame({n: v.ravel() for n, v in grids.items()}))
    columns = {"mean": "predicted", "sd": "sd", "lower": "q_lower" if kind == "quantile_forest" else "lower",
               "upper": "q_upper" if kind == "quantile_forest" else "upper"}
    for band, name in zip(bands, names):
        output = name.rsplit("_", 1)[1]
        if output in columns:
            np.testing.assert_allclose(band.ravel(), expected[columns[output]].to_numpy(), rtol=2e-6, atol=1e-6,
                                       err_msg=name)
    lower = bands[names.index("Rh_annual_lower")]
    assert lower.min() >= 0
