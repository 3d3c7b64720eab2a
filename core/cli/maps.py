"""CLI commands for maps: predict-raster (a model over covariate rasters) and predict (at points)."""

import sys

from ..errors import InputError
from ..rasters import RASTER_OUTPUT
from .common import (PNG, TABLE_SUFFIXES, add_command, add_engine_options, add_output,
                     engine_options, print_table, ProgressPrinter)

PREDICT_RASTER_HELP = """\
Predict one or more saved models (train-model) over covariate rasters, block by block:
a multi-band GeoTIFF with, per model, <name>_mean, <name>_sd (spread of the trees),
<name>_cv, <name>_lower and <name>_upper (the interval calibrated in training), or
<name>_class and <name>_p_<class> for a classification model. On request (--outputs
...,di,aoa) the area of applicability of Meyer & Pebesma (2021), as the R package CAST
computes it: <name>_di, the dissimilarity index of a pixel's covariates to the training
data, and <name>_aoa, 1 inside the area of applicability and 0 where the map extrapolates.

  wholesoil predict-raster rh.wsmodel --covariates bio1=wc_bio1.tif bio12=wc_bio12.tif \\
      biome=biomes.tif --output rh_map.tif --jobs -1
  wholesoil predict-raster bnpp_0_20.wsmodel bnpp_20_40.wsmodel --covariates stack.vrt \\
      --output bnpp_layers.tif --outputs mean,sd --grid dem_1km.tif

Covariates are matched to each model's covariates by name, as sample-rasters names them:
NAME=RASTER, else a single band's description or the file name, else the band
descriptions of multi-band files and VRTs; NAME=RASTER:BAND names one band of a file (a
stack from gdalbuildvrt -separate has no band descriptions). They must share CRS, size,
origin and pixel size, or give --grid REF.tif to warp them on the fly to REF's grid
(nearest neighbour for categorical covariates, bilinear for the others). Several models read each window once;
name a model's bands with NAME=MODEL. Nodata in any covariate, or a categorical class the
model never saw (counted and reported), gives nodata.

Parallel: --jobs N workers; --backend threading (default) or loky (processes: faster for
gradient boosting models on large maps, whose own predict holds Python's lock); on a Dask
cluster --backend dask --scheduler tcp://HOST:8786 (the workers read the covariates from
the same paths, so they must be on storage every worker sees; the output is written by
this command on this machine). The forest kernel is compiled with numba when installed.
After the first map of a forest's model file its packed trees are kept in
~/.cache/wholesoil/forests (WHOLESOIL_CACHE_DIR=DIR names another folder, =off none), so
later maps of that model start without reading the file again.
"""

PREDICT_HELP = """\
Predict a saved model (train-model) at new rows that have the covariates but no observed
value (sites, profiles, points): the input rows plus predicted, and for forests sd
(spread of the trees), cv, lower and upper (the interval calibrated in training;
quantile forests also q_lower and q_upper, the quantiles predict-raster maps as <name>_lower
and <name>_upper); classification: predicted and probability_<class>. A row missing a
covariate, or holding a categorical class the model never saw, gets no prediction (as such
pixels are nodata in predict-raster), and a note counts them.

  wholesoil predict bnpp.wsmodel radiocarbon_sites.gpkg sites_bnpp.gpkg

evaluate-model scores a model on rows that do have observations.
"""


def _named(items, what):
    """([name or None], [path]) from NAME=PATH or PATH items."""
    from ..maps.stack import parse_named_rasters

    pairs = parse_named_rasters(items)
    if not pairs:
        raise InputError(f"give at least one {what}")
    return [name for name, _ in pairs], [path for _, path in pairs]


def _outputs(text):
    if text is None:
        return None
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    if not chosen:
        raise InputError("--outputs: give output names separated by commas, e.g. mean,sd")
    return chosen


def run_predict_raster(args):
    from ..maps.predict import predict_raster, valid_summary

    names, models = _named(args.models, "model file")
    run = predict_raster(models, args.covariates, args.output, outputs=_outputs(args.outputs), names=names,
                         grid=args.grid, cog=args.cog, quicklook=args.quicklook, **engine_options(args))
    print(f"wrote {args.output}: {len(run.band_names)} bands ({', '.join(run.band_names)}); {valid_summary(run)}",
          file=sys.stderr)
    return 0


def run_predict(args):
    from ..learn.modelfile import load_model
    from ..learn.training import predict_table
    from ..tables import keep_csv_text, read_table, write_table

    trained = load_model(args.model_file)
    table = read_table(args.input, args.layer)
    result = predict_table(trained, table, progress=None if args.quiet else ProgressPrinter())
    write_table(keep_csv_text(result, args.input, args.output), args.output)
    added = [c for c in result.columns if c not in table.columns]
    print_table(result[added].describe().loc[["count", "mean", "min", "max"]].rename_axis("statistic").reset_index()
                if trained.metadata["task"] == "regression"
                else result["predicted"].value_counts().rename_axis("class").rename("rows").reset_index())
    print(f"wrote {args.output} ({len(result)} rows; added {', '.join(added)})", file=sys.stderr)
    return 0


def register(commands):
    parser = add_command(commands, "predict-raster", run_predict_raster,
                         "map saved models over covariate rasters (mean, sd, interval per pixel)", PREDICT_RASTER_HELP)
    parser.add_argument("models", nargs="+", metavar="[NAME=]MODEL", help="model files (.wsmodel)")
    parser.add_argument("--covariates", nargs="+", required=True, metavar="[NAME=]RASTER[:BAND]",
                        help="covariate rasters (named as sample-rasters names them); RASTER:BAND takes one band "
                             "(number or description) of a multi-band file")
    add_output(parser, "--output", suffixes=RASTER_OUTPUT, required=True, help="output GeoTIFF")
    parser.add_argument("--outputs", metavar="LIST",
                        help="bands per model, e.g. mean,sd (regression: mean, sd, cv, lower, upper; "
                             "classification: class, p; any model: di, aoa, the area of applicability; each model "
                             "gives those of its kind; default: all the model gives except di and aoa)")
    parser.add_argument("--grid", metavar="REF.tif", help="warp the covariates to this raster's grid on the fly")
    parser.add_argument("--cog", action="store_true", help="write a Cloud Optimized GeoTIFF (with overviews: averages; "
                        "the most frequent class in class bands)")
    add_output(parser, "--quicklook", suffixes=PNG, metavar="FILE.png",
               help="quick-look picture of each model's mean (or class) band, with its units")
    add_engine_options(parser)

    parser = add_command(commands, "predict", run_predict, "predict a saved model at rows without observations",
                         PREDICT_HELP)
    parser.add_argument("model_file", metavar="MODEL", help="model file (.wsmodel)")
    parser.add_argument("input", help="table with the covariates (CSV, GeoPackage...)")
    add_output(parser, "output", suffixes=TABLE_SUFFIXES, layer_option=True, help="output table (.csv, .gpkg...)")
    parser.add_argument("--layer", help="layer name inside a multi-layer input file")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
