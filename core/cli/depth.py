"""CLI commands for depth partitioning: depth-fractions, fit-depth-model, partition-total."""

import sys

from ..depth import PROFILE_DEPTH
from ..errors import InputError
from ..rasters import RASTER_OUTPUT
from .common import (PNG, TABLE_SUFFIXES, add_command, add_engine_options, add_output,
                     check_output_suffix, engine_options, is_raster_path, print_notes, print_table, resolve_value)

FRACTIONS_HELP = """\
Fraction of roots, BNPP or carbon in each depth layer.

Logistic model (Schenk & Jackson 2002): --d50 and --d95, the depths (cm) above which 50 %
and 95 % lie. Beta model (Gale & Grigal 1987): --beta. Each value is a number, a column of
--input (a CSV or GeoPackage table) or a raster file, so the same command works for one
profile, a table of sites and a map:

  wholesoil depth-fractions --d50 20 --d95 80
  wholesoil depth-fractions --beta 0.96 --layers 0,30,100 --no-normalize
  wholesoil depth-fractions --input sites.csv --d50 D50 --d95 D95 --output fractions.csv
  wholesoil depth-fractions --beta beta.tif --output fractions.tif

Fractions are shares of the profile from the surface to --profile-depth (default 200 cm):
layers covering 0-200 cm sum to 1; layers covering part of it (say 30,100) sum to the share
they hold, with a note; layers deeper than the profile depth are refused. --no-normalize
gives shares of the infinite-depth total. For one profile, "cumulative" is the share from the
surface to each layer's bottom. Table outputs keep every input column and add
frac_<top>_<bottom>; raster outputs have one band per layer, named the same way.
"""


def _layers_option(parser):
    parser.add_argument("--layers", default="standard7",
                        help="depth breaks in cm ('0,20,40,60'), intervals ('0-20,20-40') or a "
                             "named scheme: standard7 (7 layers to 2 m, default), standard5, "
                             "globalsoilmap")


def add_profile_depth_option(parser):
    parser.add_argument("--profile-depth", type=float, default=PROFILE_DEPTH, metavar="CM",
                        help="the fractions are shares of the profile from the surface to this depth "
                             "(default 200 cm, the standard profile)")


def add_surface_options(parser):
    """--surface-tolerance and --missing-surface of the depth-model fits (fit-depth-model, fit-beta)."""
    parser.add_argument("--surface-tolerance", type=float, default=0.0, metavar="CM",
                        help="a profile whose first increment with a value starts deeper than this misses its "
                             "surface (default 0 cm)")
    parser.add_argument("--missing-surface", default="refuse", choices=["refuse", "conditional"],
                        help="profiles missing their surface: refuse them (default; status not_fitted with the "
                             "reason) or fit the covered depths conditionally, (F(d) - F(top)) / (F(D) - F(top)) "
                             "(status conditional); never ok")


def _model_options(parser, required=True):
    group = parser.add_argument_group("depth model (a number, a column of --input or a raster)")
    group.add_argument("--d50", help="depth (cm) above which 50 %% lies (logistic model)")
    group.add_argument("--d95", help="depth (cm) above which 95 %% lies (logistic model)")
    group.add_argument("--beta", help="beta of the beta model Y = 1 - beta^d (0 < beta < 1)")


def _model_params(args, table, required=True):
    """(model, {parameter: number|column|raster}) from the options, or (None, None)."""
    logistic = args.d50 is not None or args.d95 is not None
    if logistic and args.beta is not None:
        raise InputError("give either --d50/--d95 (logistic model) or --beta, not both")
    if logistic:
        if args.d50 is None or args.d95 is None:
            raise InputError("the logistic model needs both --d50 and --d95")
        return "logistic", {"d50": resolve_value("--d50", args.d50, table),
                            "d95": resolve_value("--d95", args.d95, table)}
    if args.beta is not None:
        return "beta", {"beta": resolve_value("--beta", args.beta, table)}
    if required:
        raise InputError("give --d50 and --d95 (logistic model) or --beta (beta model)")
    return None, None


def _read_input(args):
    from ..tables import read_table

    return read_table(args.input, args.layer) if args.input else None


def run_depth_fractions(args):
    from ..layers import LayerScheme, layer_scheme
    from ..partitioning import model_fractions, raster_fractions, table_fractions

    from ..depth import coverage_note, profile_depth_of

    scheme = layer_scheme(args.layers)
    normalize = not args.no_normalize
    profile_depth_of(scheme, normalize, args.profile_depth)
    table = _read_input(args)
    model, params = _model_params(args, table)
    rasters = [v for v in params.values() if isinstance(v, str) and is_raster_path(v)]
    if rasters:
        if not args.output:
            raise InputError("raster inputs need --output FILE.tif")
        check_output_suffix("--output", args.output, RASTER_OUTPUT)
        run = raster_fractions(model, params, args.output, scheme, normalize, args.profile_depth,
                               **engine_options(args))
        print_notes(list(filter(None, [coverage_note(scheme, normalize, args.profile_depth)])))
        if args.plot:
            _plot(args.plot, scheme, {"mean over pixels": run.mean}, "raster")
        print(f"wrote {args.output} ({len(scheme)} bands: {', '.join(scheme.labels)} cm)", file=sys.stderr)
        return 0
    if table is not None:
        if not args.output:
            raise InputError("table input needs --output FILE (.csv or .gpkg)")
        check_output_suffix("--output", args.output, TABLE_SUFFIXES)
        from ..tables import write_table

        result = table_fractions(table, model, params, scheme, normalize, profile_depth=args.profile_depth)
        write_table(result, args.output)
        print_notes(filter(None, [coverage_note(scheme, normalize, args.profile_depth)]))
        if args.plot:
            columns = scheme.column_names("frac")
            label = args.id_col if args.id_col in result.columns else None
            profiles = {(row[label] if label else f"row {i + 1}"): row[columns].to_numpy(dtype=float)
                        for i, (_, row) in enumerate(result.head(12).iterrows())}
            _plot(args.plot, scheme, profiles, model)
        print(f"wrote {args.output} ({len(result)} rows, {len(scheme)} fraction columns)", file=sys.stderr)
        return 0
    import numpy as np
    import pandas as pd

    fractions = model_fractions(model, params, scheme, normalize, profile_depth=args.profile_depth)
    print_notes(filter(None, [coverage_note(scheme, normalize, args.profile_depth, fractions)]))
    above = 0.0  # the share above the first layer, so that "cumulative" counts from the surface
    if scheme.breaks[0] > 0:
        above = model_fractions(model, params, LayerScheme((0.0, scheme.breaks[0])), normalize,
                                profile_depth=args.profile_depth)[0]
    result = pd.DataFrame({"layer_cm": scheme.labels, "top_cm": scheme.tops, "bottom_cm": scheme.bottoms,
                           "fraction": fractions, "cumulative": above + np.cumsum(fractions)})
    if args.output:
        from ..tables import write_table

        check_output_suffix("--output", args.output, TABLE_SUFFIXES)
        write_table(result, args.output)
    print_table(result)
    if args.plot:
        label = ", ".join(f"{k.upper()}={v:g}" for k, v in params.items())
        _plot(args.plot, scheme, {label: fractions}, model)
    return 0


def _plot(path, scheme, profiles, model):
    from ..plots import depth_fractions_figure, save_png

    check_output_suffix("--plot", path, (".png",))
    save_png(depth_fractions_figure(scheme, profiles, f"Depth fractions ({model} model)"), path)
    print(f"wrote {path}", file=sys.stderr)


def run_fit_depth_model(args):
    from ..depth import FITTED_STATUSES, check_surface_options, fit_depth_profiles
    from ..tables import read_table, write_table

    check_output_suffix("OUTPUT", args.output, TABLE_SUFFIXES)
    check_surface_options(args.surface_tolerance, args.missing_surface)
    table = read_table(args.input, args.layer)
    result = fit_depth_profiles(table, args.id_col, args.top_col, args.bottom_col, args.value_col,
                                args.model, args.value_kind, args.truncated, args.surface_tolerance,
                                args.missing_surface)
    write_table(result, args.output)
    ok = result["status"].isin(FITTED_STATUSES)
    print(f"fitted {int(ok.sum())} of {len(result)} profiles ({args.model} model); wrote {args.output}",
          file=sys.stderr)
    for _, row in result[result["status"].ne("ok")].iterrows():
        print(f"  profile {row[args.id_col]}: {row['status']}: {row['message']}", file=sys.stderr)
    if args.model != "exponential":
        summary = result.loc[ok, [c for c in ("d50_cm", "d95_cm", "beta", "r2") if c in result]]
        if len(summary):
            print(f"median over the {len(summary)} fitted profiles:")
            print_table(summary.median().to_frame().T)
    if args.plot:
        from ..plots import fitted_profiles_figure, save_png

        check_output_suffix("--plot", args.plot, (".png",))
        from ..depth import fitted_curves

        curves = fitted_curves(table, result, args.id_col, args.top_col, args.bottom_col, args.value_col,
                               args.model, args.value_kind, args.truncated)
        figure = fitted_profiles_figure(curves, f"Fitted {args.model} depth models")
        save_png(figure, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0 if ok.any() or not len(result) else 1


PARTITION_HELP = """\
Split a total (e.g. BNPP in Mg C ha-1 yr-1) over depth layers: total x fraction per layer.

The total is a number, a column of --input or a raster. The fractions come from a
fractions raster (--fractions, e.g. written by depth-fractions; a single-band raster that
records no layers, such as a beta map, is refused), from fraction columns of --input
(--fraction-prefix, default frac), or from a depth model (--d50/--d95 or --beta), whose
fractions are shares of the 0 to --profile-depth cm profile (default 200). When the layers
cover only part of that profile the parts hold only their share of the total: a note says so.

  wholesoil partition-total --total bnpp.tif --fractions fractions.tif --output bnpp_layers.tif
  wholesoil partition-total --input sites.csv --total BNPP --d50 20 --d95 80 --output out.csv
"""


def run_partition_total(args):
    from ..layers import layer_scheme
    from ..partitioning import (fraction_columns, fractions_raster_note, partial_fractions_note, raster_partition_total,
                                table_fractions, table_partition_total)

    from ..depth import coverage_note, profile_depth_of

    table = _read_input(args)
    total = resolve_value("--total", args.total, table)
    model, params = _model_params(args, table, required=False)
    if model is not None:
        profile_depth_of(layer_scheme(args.layers), True, args.profile_depth)
    if model is not None and args.fractions:
        raise InputError("give --fractions or a depth model (--d50/--d95, --beta), not both")
    model_rasters = model is not None and any(is_raster_path(v) for v in params.values() if isinstance(v, str))
    if is_raster_path(total) or args.fractions or model_rasters:
        check_output_suffix("--output", args.output, RASTER_OUTPUT)
        if args.fractions is None and model is None:
            raise InputError("give --fractions RASTER or a depth model (--d50/--d95 or --beta)")
        fractions = resolve_value("--fractions", args.fractions)
        raster_partition_total(total, args.output, fractions, model, params, layer_scheme(args.layers),
                               args.prefix, args.profile_depth, **engine_options(args))
        print(f"wrote {args.output}", file=sys.stderr)
        print_notes(filter(None, [fractions_raster_note(fractions) if fractions else
                                  coverage_note(args.layers, True, args.profile_depth)]))
        return 0
    if table is None and model is None:
        raise InputError("give --input TABLE, rasters for --total/--fractions, or a depth model for a number")
    check_output_suffix("--output", args.output, TABLE_SUFFIXES)
    import pandas as pd

    from ..tables import write_table

    table = pd.DataFrame(index=[0]) if table is None else table  # numbers only: a one-row table

    if model is not None:
        table = table_fractions(table, model, params, layer_scheme(args.layers), True,
                                profile_depth=args.profile_depth)
    columns = fraction_columns(table, args.fraction_prefix)
    if not columns:
        raise InputError(f"--input has no columns named {args.fraction_prefix}_<top>_<bottom>; "
                         "give a depth model or --fraction-prefix")
    result = table_partition_total(table, total, columns, args.prefix)
    write_table(result, args.output)
    print(f"wrote {args.output} ({len(result)} rows, {len(columns)} layers)", file=sys.stderr)
    print_notes(filter(None, [coverage_note(args.layers, True, args.profile_depth) if model is not None
                              else partial_fractions_note(table, columns)]))
    return 0


def register(commands):
    parser = add_command(commands, "depth-fractions", run_depth_fractions,
                         "fraction per depth layer (logistic or beta model)", FRACTIONS_HELP)
    _model_options(parser)
    _layers_option(parser)
    add_profile_depth_option(parser)
    parser.add_argument("--no-normalize", action="store_true",
                        help="shares of the infinite-depth total instead of the profile to --profile-depth")
    parser.add_argument("--input", help="table (CSV, GeoPackage...) whose columns hold the parameters")
    parser.add_argument("--layer", help="layer name inside a multi-layer --input file")
    parser.add_argument("--id-col", help="column naming the rows in --plot (table mode)")
    add_output(parser, "--output", suffixes=TABLE_SUFFIXES + RASTER_OUTPUT, layer_option=True,
               help="output file: .csv/.gpkg (numbers or a table) or .tif (rasters)")
    add_output(parser, "--plot", suffixes=PNG, help="write a depth-profile plot (PNG)")
    add_engine_options(parser)

    parser = add_command(commands, "fit-depth-model", run_fit_depth_model,
                         "fit D50/D95 (logistic), beta or the exponential share model per profile",
                         """\
Fit a depth model to every profile of a table of depth increments (one row per profile
and increment) and write one row per profile with the parameters and fit statistics
(rmse and r2 of the cumulative fraction, status, message).

  wholesoil fit-depth-model roots.csv fits.csv --id-col site --top-col top \\
      --bottom-col bottom --value-col biomass --model beta --plot fits.png

logistic and beta are fitted by non-linear least squares to the cumulative fraction at
the increments' lower depths (the profile total = 100 %; with --truncated the model is
scaled to 100 % at the deepest increment instead, for profiles that stop before all roots
are reached, which otherwise biases D50/D95 and beta towards shallow). exponential fits
share = a exp(-b mid-depth) to the values as given (e.g. layer shares per biome).

A fit needs the profile's surface: a profile whose first increment with a value starts
deeper than --surface-tolerance (default 0 cm) is refused, or with --missing-surface
conditional fitted to the share of the covered amount, (F(d) - F(top)) / (F(D) - F(top)),
with status 'conditional' (never 'ok'). Profiles that cannot be fitted get a status and a
message; the others are still fitted.
""")
    parser.add_argument("input", help="table of increments (CSV, GeoPackage...)")
    add_output(parser, "output", suffixes=TABLE_SUFFIXES, layer_option=True, help="output table (.csv or .gpkg)")
    parser.add_argument("--layer", help="layer name inside a multi-layer input file")
    parser.add_argument("--id-col", required=True, help="profile identifier column")
    parser.add_argument("--top-col", required=True, help="increment top depth column (cm)")
    parser.add_argument("--bottom-col", required=True, help="increment bottom depth column (cm)")
    parser.add_argument("--value-col", required=True, help="root biomass (or other amount) column")
    parser.add_argument("--model", default="logistic", choices=["logistic", "beta", "exponential"])
    parser.add_argument("--value-kind", default="amount", choices=["amount", "density"],
                        help="amount per increment (e.g. g m-2, default) or density per volume "
                             "(e.g. mg cm-3, multiplied by thickness)")
    parser.add_argument("--truncated", action="store_true",
                        help="profiles stop before all roots: fit F(d)/F(deepest depth) instead of taking "
                             "the observed total as 100 %% (logistic and beta)")
    add_surface_options(parser)
    add_output(parser, "--plot", suffixes=PNG, help="write observed vs fitted cumulative fractions (PNG)")

    parser = add_command(commands, "partition-total", run_partition_total,
                         "split a total over depth layers with depth fractions", PARTITION_HELP)
    parser.add_argument("--total", required=True, help="total: a number, a column of --input or a raster")
    parser.add_argument("--fractions", help="fractions raster, one band per layer")
    parser.add_argument("--fraction-prefix", default="frac",
                        help="prefix of the fraction columns of --input (default frac)")
    _model_options(parser, required=False)
    _layers_option(parser)
    add_profile_depth_option(parser)
    parser.add_argument("--input", help="table (CSV, GeoPackage...)")
    parser.add_argument("--layer", help="layer name inside a multi-layer --input file")
    parser.add_argument("--prefix", default="part", help="prefix of the output columns/bands (default part)")
    add_output(parser, "--output", suffixes=TABLE_SUFFIXES + RASTER_OUTPUT, layer_option=True, required=True,
               help="output .csv/.gpkg (tables) or .tif (rasters)")
    add_engine_options(parser)
