"""CLI commands for predictive models: sample-rasters, screen-covariates, train-model,
evaluate-model and explain-model."""

import sys

from ..errors import InputError
from .common import (TABLE_SUFFIXES, add_command, add_output, add_where_option, check_output_suffix, open_fraction,
                     print_table, selected_rows, worker_count, ProgressPrinter)

MODEL_SUFFIX = ".wsmodel"
HTML = (".html",)

SAMPLE_HELP = """\
Sample covariate rasters at point locations: one column per raster band.

Points are the geometry of a GeoPackage (or other vector file), or two coordinate columns
of a table (--x-col/--y-col, CRS --crs, default EPSG:4326). Points are reprojected to each
raster's own CRS, so rasters may differ in CRS and grid. A column is named by the band
description, else the file name; NAME=RASTER names it. RASTER:BAND samples one band of a
multi-band raster (by number or description), e.g. bio1=stack.vrt:1 for a stack whose bands
have no description; predict-raster takes the same items. Points outside a raster or on its
nodata get an empty value and are reported (--problems writes the list).

  wholesoil sample-rasters sites.gpkg sites_cov.gpkg bio1=wc_bio1.tif bio12=wc_bio12.tif
  wholesoil sample-rasters srdb.csv srdb_cov.csv bio1.asc --x-col Longitude --y-col Latitude
  wholesoil sample-rasters profiles.gpkg layers_cov.csv dem.tif --join layers.csv --on profile_id

With --join TABLE --on COLUMN the output is TABLE (e.g. the layers of each profile) with
the covariates of its site added.
"""

SCREEN_HELP = """\
Screen covariates: drop exact linear combinations (with an intercept, e.g. clay = 100 -
sand - silt), then one of each pair with |r| above --cutoff (caret's findCorrelation
rule), then iteratively the covariate with the largest VIF above --vif. Categorical
covariates are one-hot encoded, not screened. Rows missing a covariate are not used.

  wholesoil screen-covariates sites.csv screening.csv --features MAT,MAP,PET,clay,sand,silt \\
      --categorical Biome --screened sites_screened.csv

OUTPUT lists every covariate with its action (kept, dropped, one-hot encoded), step,
reason and final VIF. --screened writes the input without the dropped covariates.
"""

TRAIN_HELP = """\
Train a model of TARGET from covariates with grouped cross-validation and save it.

Models: random_forest (default), quantile_forest, gradient_boosting, svm, lasso,
ensemble (the best three of the first four by grouped CV RMSE, stacked). Layers of one
profile or records of one site never fall in different folds: rows are grouped by --group,
else by point location (geometry or --x-col/--y-col); --independent-rows asks for naive
CV. --strata stratifies the folds by a class (e.g. climate zone). Covariates are screened
(VIF, correlation, linear combinations) inside every training fold unless --no-screen.

  wholesoil train-model srdb.csv rh.wsmodel --target Rh_annual --features MAT,MAP,Biome \\
      --categorical Biome --group site_key --strata climate_zone --units "g C m-2 yr-1" \\
      --report rh_report.html
  wholesoil train-model sites.gpkg bimodal.wsmodel --task classification --target bimodal \\
      --features MAT,MAP,sand --group site --folds 5

Prints pooled out-of-fold R2, NSE, RMSE and bias with their spread over folds; for
forests the tau of the Coulston et al. (2016) interval, its held-out coverage, and the
held-out coverage, mean width and interval score of each interval next to a no-model
baseline (the training targets' quantiles). Lower bounds are truncated at --lower-limit
(default auto: 0 when every training value is >= 0). A log or log1p target
(--target-transform) is back-transformed with a bias correction (--bias-correction: ratio,
the default, or duan), estimated on grouped out-of-fold predictions.

The model file (.wsmodel) holds the fitted model, the covariate names and order, their
training ranges and categorical levels, target units and transform, training extent and
CRS, metrics and library versions; it loads without running code from the file, in any
scikit-learn release that can rebuild the model (else the error names both releases).
--predictions writes the out-of-fold predictions with each row's input row number (row)
and group. --where trains on the rows matching every condition (e.g. --where lyr_top=0
--where 'observed_depth_cm>=100'); row numbers then count the kept rows.
"""

EVALUATE_HELP = """\
Metrics of a saved model on new data that hold observed values of its target: R2, NSE,
RMSE and bias (accuracy, balanced accuracy and kappa for classification) and, for
forests, the coverage of the Coulston interval.

  wholesoil evaluate-model rh.wsmodel new_sites.csv --output predictions.csv --report eval.html

--output writes DATA with predicted, sd, cv, lower and upper (quantile forests: also
q_lower and q_upper). Forests also get each interval scored (coverage, mean width,
interval score), pooled and by bins of sd, next to the no-model baseline.
"""

EXPLAIN_HELP = """\
Explain a saved model: impurity importance and permutation importance (from the held-out
CV folds, or on --data), partial dependence of the most important covariates, and
optionally group importance via per-group PCA (--groups, with the component forest's
grouped CV R2), a linear mixed-effects model with a random intercept per class
(--random-effect) and partial correlations controlling for a column (--control). Without
--data the training data stored in the model are used. Records of one site are not
treated as independent: the mixed model adds a random intercept per site and the partial
correlations use cluster-robust p values by site (the sites are the model's groups, or
--group on --data).

  wholesoil explain-model rh.wsmodel --groups "climate: MAT, MAP; site: Latitude" \\
      --random-effect Biome --report explain.html --output importance.csv
  wholesoil explain-model soc.wsmodel --data layers.csv --control depth
"""


def _columns(text):
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


def _value(text):
    """'10' -> 10, '0.5' -> 0.5, 'none' -> None, 'true' -> True, anything else stays text."""
    lowered = text.strip().lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def parse_params(items):
    """['max_depth=10', 'min_samples_leaf=5'] -> {'max_depth': 10, 'min_samples_leaf': 5}."""
    params = {}
    for item in items or []:
        if "=" not in item:
            raise InputError(f"--param {item!r} should read NAME=VALUE")
        name, value = item.split("=", 1)
        params[name.strip()] = _value(value)
    return params


def parse_grid(text):
    """'max_features=0.2,0.5; min_samples_leaf=1,5' -> {name: [values]}; 'default' stays."""
    if text.strip().lower() == "default":
        return "default"
    grid = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        if "=" not in part:
            raise InputError(f"--grid part {part!r} should read NAME=VALUE,VALUE")
        name, values = part.split("=", 1)
        grid[name.strip()] = [_value(v) for v in values.split(",") if v.strip()]
    return grid


def _check_outputs(*outputs):
    """check_output_suffix for every (option, path, suffixes) whose path was given."""
    for option, path, suffixes in outputs:
        if path:
            check_output_suffix(option, path, suffixes)


def _progress(args):
    return None if args.quiet else ProgressPrinter()


def _load(path):
    from ..learn.modelfile import load_model

    return load_model(path)


def run_sample_rasters(args):
    from ..learn.sampling import join_observations, sample_rasters, with_point_geometry
    from ..maps.stack import parse_named_rasters
    from ..tables import GEOMETRY, check_columns_writable, is_csv, keep_csv_text, read_table, write_table

    _check_outputs(("OUTPUT", args.output, TABLE_SUFFIXES), ("--problems", args.problems, TABLE_SUFFIXES))
    if (args.join is None) != (args.on is None):
        raise InputError("--join and --on go together")
    names, paths = zip(*parse_named_rasters(args.rasters))
    points = read_table(args.points, args.layer)
    result = sample_rasters(points, paths, names, args.x_col, args.y_col, args.crs, progress=_progress(args),
                            check_columns=None if args.join else lambda columns: check_columns_writable(
                                columns, args.output))
    sites = keep_csv_text(result.table, args.points, args.output)  # a CSV's own cells as they were (007, 1984)
    if args.join:
        if args.on in result.table.columns:
            sites[args.on] = result.table[args.on]  # keys as read: 7 and 7.0 are one key
        table = keep_csv_text(join_observations(read_table(args.join), sites, args.on), args.join, args.output)
    else:
        table = sites
    if args.x_col and GEOMETRY not in table.columns and not is_csv(args.output):  # points on the map, as in QGIS
        table = with_point_geometry(table, args.x_col, args.y_col, args.crs)
    write_table(table, args.output)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print_table(result.summary[["feature", "valid", "outside", "nodata", "no_location"]])
    if args.problems:
        write_table(result.problems, args.problems)
    count = len(result.summary)
    print(f"wrote {args.output} ({len(table)} rows, {count} covariate{'' if count == 1 else 's'})", file=sys.stderr)
    return 0


def run_screen_covariates(args):
    from ..learn.training import screen_covariates
    from ..tables import read_table, write_table

    check_output_suffix("OUTPUT", args.output, TABLE_SUFFIXES)
    if args.screened:
        check_output_suffix("--screened", args.screened, TABLE_SUFFIXES)
    table = read_table(args.input, args.layer)
    result = screen_covariates(table, _columns(args.features), _columns(args.categorical), args.vif, args.cutoff,
                               not args.no_linear_combinations)
    write_table(result.report, args.output)
    if args.screened:
        write_table(result.table, args.screened)
    print_table(result.report)
    print(f"screened on {result.n_rows} complete rows ({result.dropped_rows} lacked a covariate); "
          f"wrote {args.output}", file=sys.stderr)
    return 0


def _print_metrics(metadata):
    import pandas as pd

    summary = metadata["fold_summary"]
    rows = [{"metric": name, "pooled": value, "fold_mean": summary.get(name, {}).get("mean"),
             "fold_sd": summary.get(name, {}).get("sd")}
            for name, value in metadata["metrics"].items() if name != "n"]
    print_table(pd.DataFrame(rows))


def _train_rows(table, args):
    """The rows of the training table that ``--where`` keeps (all without it); says how many."""
    if not args.where:
        return table
    kept = selected_rows(table, args)
    print(f"--where keeps {len(kept)} of {len(table)} rows; row numbers below count the kept rows",
          file=sys.stderr)
    return kept.reset_index(drop=True)


def run_train_model(args):
    from ..learn.modelfile import save_model
    from ..learn.training import train_model
    from ..tables import read_table, write_table

    _check_outputs(("MODEL", args.model_file, (MODEL_SUFFIX,)), ("--report", args.report, HTML),
                   ("--predictions", args.predictions, TABLE_SUFFIXES))
    table = _train_rows(read_table(args.input, args.layer), args)
    grid = parse_grid(args.grid) if args.grid else ("default" if args.tune else None)
    trained = train_model(
        table, args.target, _columns(args.features), _columns(args.categorical), kind=args.model, task=args.task,
        group_col=args.group, independent_rows=args.independent_rows, strata_col=args.strata, x_col=args.x_col,
        y_col=args.y_col, crs=args.crs, n_splits=args.folds, grid=grid, target_transform=args.target_transform,
        bias_correction=args.bias_correction, lower_limit=None if args.lower_limit == "none" else args.lower_limit,
        units=args.units, params=parse_params(args.param), n_trees=args.trees, screen=not args.no_screen,
        vif_threshold=args.vif, correlation_cutoff=args.cutoff, linear_combinations=not args.no_linear_combinations,
        class_weight=None if args.class_weight == "none" else args.class_weight,
        permutation_repeats=args.permutation_repeats, interval_level=args.level,
        interval_repeats=args.interval_repeats, holdout=args.holdout, random_state=args.seed,
        n_jobs=args.jobs, backend=args.backend, progress=_progress(args))
    save_model(args.model_file, trained)
    metadata = trained.metadata
    for note in trained.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"{metadata['n_rows']} rows, {metadata['n_groups']} groups ({metadata['groups']}), "
          f"{metadata['folds']} folds" + (f" stratified by {metadata['strata']}" if metadata["strata"] else ""),
          file=sys.stderr)
    if metadata["dropped_rows"]:
        print(f"left out {metadata['dropped_rows']} rows lacking the target or a covariate "
              f"({metadata['dropped_row_numbers']})", file=sys.stderr)
    _print_metrics(metadata)
    target = metadata["target"]
    if target["transform"] != "none":
        print(f"{target['transform']} target back-transformed with bias correction {target['bias_correction']} "
              f"(factor {target['bias_factor']:.4g}); the bias above is after it", file=sys.stderr)
    if metadata["holdout"]:
        print("grouped hold-out split: " + ", ".join(f"{k} {v:.4g}" for k, v in metadata["holdout"].items()))
    if metadata["interval"]:
        interval = metadata["interval"]
        print(f"Coulston tau{interval['level'] * 100:g} = {interval['tau']:.4g}; held-out coverage "
              f"{interval['coverage_mean']:.3f} (sd over folds {interval['coverage_sd']:.3f})")
        if "quantile_coverage" in interval:
            print(f"quantile-forest interval: held-out coverage {interval['quantile_coverage']:.3f}")
        _print_intervals(trained.tables["intervals"], "held-out")
    if args.predictions:
        write_table(trained.tables["training"], args.predictions)
    if args.report:
        from ..learn.report import training_report

        training_report(args.report, trained)
    print(f"wrote {args.model_file}", file=sys.stderr)
    return 0


def _print_intervals(intervals, where):
    """The pooled rows of an interval table (every sd bin is in the report)."""
    print(f"intervals on {where} rows (lower bounds truncated at the lower limit, if any):")
    print_table(intervals[intervals["sd_bin"] == "all"].drop(columns="sd_bin"))


def _write_outputs(args, table, report, *report_args):
    """Write --output (a table) and --report (HTML by ``report(path, *report_args)``) if asked for."""
    from ..tables import write_table

    if args.output:
        write_table(table, args.output)
    if args.report:
        report(args.report, *report_args)


def run_evaluate_model(args):
    import pandas as pd

    from ..learn.report import evaluation_report
    from ..learn.training import evaluate_model
    from ..tables import read_table

    _check_outputs(("--output", args.output, TABLE_SUFFIXES), ("--report", args.report, HTML))
    trained = _load(args.model_file)
    table = read_table(args.data, args.layer)
    evaluation = evaluate_model(trained, table, args.target, progress=_progress(args))
    for note in evaluation.notes:
        print(f"note: {note}", file=sys.stderr)
    metrics = dict(evaluation.metrics)
    for name in ("coverage", "quantile_coverage"):
        if getattr(evaluation, name) == getattr(evaluation, name):
            metrics[name] = getattr(evaluation, name)
    print_table(pd.DataFrame([metrics]))
    if evaluation.intervals is not None:
        _print_intervals(evaluation.intervals, "these")
    _write_outputs(args, evaluation.table, evaluation_report, trained, evaluation)
    return 0


def run_explain_model(args):
    from ..learn.explain import parse_feature_groups
    from ..learn.report import explanation_report
    from ..learn.training import explain_model
    from ..tables import read_table

    _check_outputs(("--output", args.output, TABLE_SUFFIXES), ("--report", args.report, HTML))
    trained = _load(args.model_file)
    table = read_table(args.data, args.layer) if args.data else None
    groups = parse_feature_groups(args.groups) if args.groups else None
    explanation = explain_model(trained, table, groups, args.random_effect, _columns(args.control) or None,
                                _columns(args.pd_features) or None, args.repeats, args.trees, args.seed, args.jobs,
                                args.backend, progress=_progress(args), group_col=args.group)
    for note in explanation.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"importance (permutation importance on {explanation.permutation_source}):")
    print_table(explanation.importance)
    for title, part in (("group importance (%)", explanation.groups), ("mixed model", explanation.mixed),
                        ("partial correlations", explanation.partial)):
        if part is not None:
            print(f"\n{title}:")
            print_table(part)
    if explanation.groups_fit:
        fit = explanation.groups_fit
        print("component forest, " + ", ".join(f"{k} {v:.4g}" for k, v in fit.items() if isinstance(v, float))
              + f" ({fit['folds']}-fold CV, {fit['grouped']})")
    if explanation.mixed_summary:
        summary = explanation.mixed_summary
        print(f"marginal R2 {summary['marginal_r2']:.3f}, conditional R2 {summary['conditional_r2']:.3f}, "
              f"{summary['groups']} classes of {summary['random_effect']}, converged: {summary['converged']}; "
              f"repeated records: {summary['repeated_records']}")
    _write_outputs(args, explanation.importance, explanation_report, trained, explanation)
    return 0


def _engine(parser):
    group = parser.add_argument_group("computation")
    group.add_argument("--seed", type=int, default=0, help="random seed (folds, forests; default 0)")
    group.add_argument("--jobs", type=worker_count, default=1, metavar="N",
                       help="parallel workers for CV folds (default 1; -1 = all cores); results do not depend on it")
    group.add_argument("--backend", default="loky", choices=["loky", "threading"],
                       help="joblib backend: processes (loky, default) or threads")
    group.add_argument("--quiet", action="store_true", help="no progress on stderr")


def register(commands):
    parser = add_command(commands, "sample-rasters", run_sample_rasters, "covariate raster values at points",
                         SAMPLE_HELP)
    parser.add_argument("points", help="points: vector file with point geometry, or a table with --x-col/--y-col")
    add_output(parser, "output", suffixes=TABLE_SUFFIXES, layer_option=True, help="output table (.csv, .gpkg...)")
    parser.add_argument("rasters", nargs="+", metavar="[NAME=]RASTER[:BAND]",
                        help="rasters to sample (RASTER:BAND: one band, by number or description)")
    parser.add_argument("--layer", help="layer name inside a multi-layer points file")
    parser.add_argument("--x-col", help="x (longitude) column, instead of the geometry")
    parser.add_argument("--y-col", help="y (latitude) column, instead of the geometry")
    parser.add_argument("--crs", help="CRS of --x-col/--y-col (default EPSG:4326) or to override the file's")
    parser.add_argument("--join", metavar="TABLE", help="observations to add the sampled covariates to")
    parser.add_argument("--on", metavar="COLUMN", help="site key column shared by POINTS and --join")
    add_output(parser, "--problems", suffixes=TABLE_SUFFIXES, metavar="FILE",
               help="write the points outside rasters or on nodata")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")

    parser = add_command(commands, "screen-covariates", run_screen_covariates,
                         "drop collinear covariates (VIF, correlation, linear combinations)", SCREEN_HELP)
    parser.add_argument("input", help="table with the covariates")
    add_output(parser, "output", suffixes=TABLE_SUFFIXES, layer_option=True,
               help="decisions per covariate (.csv, .gpkg...)")
    _covariate_options(parser)
    add_output(parser, "--screened", suffixes=TABLE_SUFFIXES, metavar="FILE",
               help="write the input without the dropped covariates")

    parser = add_command(commands, "train-model", run_train_model, "cross-validate and fit a covariate model",
                         TRAIN_HELP)
    parser.add_argument("input", help="training table (CSV, GeoPackage...)")
    add_output(parser, "model_file", suffixes=(MODEL_SUFFIX,), metavar="MODEL", help="model file to write (.wsmodel)")
    parser.add_argument("--target", required=True, help="column to predict")
    _covariate_options(parser)
    add_where_option(parser)
    parser.add_argument("--task", default="regression", choices=["regression", "classification"])
    parser.add_argument("--model", default="random_forest",
                        choices=["random_forest", "quantile_forest", "gradient_boosting", "svm", "lasso", "ensemble"])
    group = parser.add_argument_group("validation")
    group.add_argument("--group", help="profile or site column: its rows stay in one fold")
    group.add_argument("--independent-rows", action="store_true",
                       help="naive CV: every row its own group (only when rows are truly independent)")
    group.add_argument("--x-col", help="x column (groups by location without --group; training extent)")
    group.add_argument("--y-col", help="y column")
    group.add_argument("--crs", help="CRS of --x-col/--y-col (default EPSG:4326)")
    group.add_argument("--strata", help="class column to stratify the folds by (e.g. climate zone)")
    group.add_argument("--folds", type=int, default=10, help="number of folds (default 10)")
    group.add_argument("--level", type=float, default=0.95, help="level of the Coulston interval (default 0.95)")
    group.add_argument("--interval-repeats", type=int, default=0, metavar="N",
                       help="calibrate the interval over N grouped 80/20 hold-out repeats as the Iloss study did "
                            "(default 0: on the CV folds)")
    group.add_argument("--holdout", type=open_fraction, metavar="FRACTION",
                       help="also score a grouped hold-out split of this fraction (0.2 = the 80/20 split)")
    group.add_argument("--permutation-repeats", type=int, default=5, help="shuffles per fold (default 5)")
    group = parser.add_argument_group("model")
    group.add_argument("--trees", type=int, default=500, help="trees of the forests (default 500)")
    group.add_argument("--param", action="append", metavar="NAME=VALUE", help="learner parameter (repeatable)")
    group.add_argument("--tune", action="store_true", help="tune over the default grid (nested in the CV)")
    group.add_argument("--grid", help="tune over this grid: 'max_features=0.2,0.5; min_samples_leaf=1,5'")
    group.add_argument("--target-transform", default="none", choices=["none", "log", "log1p"],
                       help="fit on log(y) or log(1 + y); predictions are back-transformed")
    group.add_argument("--bias-correction", default="ratio", choices=["ratio", "duan", "none"],
                       help="bias correction of the back-transform of a log target (default ratio: Snowdon's "
                            "ratio estimator; duan: Duan's smearing estimate)")
    group.add_argument("--lower-limit", default="auto", metavar="auto|none|VALUE",
                       help="truncate interval lower bounds here (default auto: 0 when every training value "
                            "is >= 0)")
    group.add_argument("--units", default="", help="units of the target, stored in the model (e.g. 'g C m-2 yr-1')")
    group.add_argument("--class-weight", default="balanced", choices=["balanced", "balanced_subsample", "none"],
                       help="classification: weights against class imbalance (default balanced)")
    group.add_argument("--no-screen", action="store_true", help="no covariate screening")
    add_output(parser, "--predictions", suffixes=TABLE_SUFFIXES, metavar="FILE",
               help="write the out-of-fold predictions")
    add_output(parser, "--report", suffixes=HTML, metavar="FILE.html", help="write an HTML report (and PNGs beside it)")
    _engine(parser)

    parser = add_command(commands, "evaluate-model", run_evaluate_model, "metrics of a saved model on new data",
                         EVALUATE_HELP)
    parser.add_argument("model_file", metavar="MODEL", help="model file (.wsmodel)")
    parser.add_argument("data", metavar="DATA", help="table with the covariates and observed values")
    parser.add_argument("--layer", help="layer name inside a multi-layer DATA file")
    parser.add_argument("--target", help="observed-value column (default: the model's target name)")
    add_output(parser, "--output", suffixes=TABLE_SUFFIXES, layer_option=True, metavar="FILE",
               help="write DATA with the predictions")
    add_output(parser, "--report", suffixes=HTML, metavar="FILE.html", help="write an HTML report (and PNGs beside it)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")

    parser = add_command(commands, "explain-model", run_explain_model, "importance, partial dependence, drivers",
                         EXPLAIN_HELP)
    parser.add_argument("model_file", metavar="MODEL", help="model file (.wsmodel)")
    parser.add_argument("--data", help="table to explain on (default: the training data in the model)")
    parser.add_argument("--layer", help="layer name inside a multi-layer --data file")
    parser.add_argument("--groups", help="covariate groups for group importance: 'climate: MAT, MAP; soil: clay'")
    parser.add_argument("--random-effect", help="class column for the mixed model's random intercept (e.g. Biome)")
    parser.add_argument("--control", help="column(s) to control the partial correlations for (e.g. depth)")
    parser.add_argument("--pd-features", help="covariates for partial dependence (default: the 6 most important)")
    parser.add_argument("--group", help="site or profile column of --data: its rows are repeated records in the "
                                        "drivers analysis (default: the model's group column)")
    parser.add_argument("--repeats", type=int, default=5, help="permutation shuffles with --data (default 5)")
    parser.add_argument("--trees", type=int, default=500, help="trees of the group-importance forest (default 500)")
    add_output(parser, "--output", suffixes=TABLE_SUFFIXES, layer_option=True, metavar="FILE",
               help="write the importance table")
    add_output(parser, "--report", suffixes=HTML, metavar="FILE.html", help="write an HTML report (and PNGs beside it)")
    _engine(parser)


def _covariate_options(parser):
    parser.add_argument("--layer", help="layer name inside a multi-layer input file")
    parser.add_argument("--features", required=True, help="covariate columns, comma-separated")
    parser.add_argument("--categorical", help="categorical covariates among --features (one-hot encoded)")
    parser.add_argument("--vif", type=float, default=10.0, help="VIF threshold (default 10)")
    parser.add_argument("--cutoff", type=float, default=0.9, help="|r| cutoff (default 0.9)")
    parser.add_argument("--no-linear-combinations", action="store_true",
                        help="keep exact linear combinations")
