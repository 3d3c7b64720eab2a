"""CLI commands for the carbon balance: bulk-inputs, carbon-balance, loss-estimates, turnover, two-box-model."""

import sys

from ..errors import InputError
from ..rasters import RASTER_OUTPUT
from .common import (PNG, TABLE_SUFFIXES, add_command, add_engine_options, add_output,
                     check_output_suffix, engine_options, is_raster_path, print_notes, print_table,
                     resolve_value)

BULK_HELP = """\
Carbon stock and carbon input to bulk soil of each layer: Ibulk = C stock / C age
(Mg C ha-1 yr-1, steady state, Iloss study eq. 6).

Tables (defaults are ISRaD's columns and units; the age comes from radiocarbon-age):

  wholesoil radiocarbon-age israd.csv ages.csv
  wholesoil bulk-inputs --input ages.csv --output ibulk.csv
  wholesoil bulk-inputs --input ages.csv --output ibulk_layers.csv --layers standard7

The stock is the --stock-col value where given (g C cm-2 by default, as ISRaD's lyr_soc),
else BD (g cm-3) x organic C (weight % by default) x thickness x (1 - coarse fragments,
% by default, where given). A stock value that would need a bulk density above 2.65 g cm-3
for its layer's thickness and organic C is a unit slip (ISRaD's Finstad_2020 entry holds
Mg C ha-1 in lyr_soc): it is not used, and a note names the rows; if every value is like
that, check --stock-unit. Impossible values (an age that is not a positive number, negative
organic C or stock, bulk density outside 0-2.65 g cm-3, coarse fragments outside 0-100 %)
leave their row without a stock or Ibulk and are noted. Adds c_stock_mg_ha and
ibulk_mg_ha_yr. With --layers both are harmonised per profile (--id-col) to the layers
(depth-weighted amounts per cm times the thickness; layers above the mineral surface are
left out); a layer covered less than --min-coverage (default 1) is left empty. Each layer
row carries the profile attributes (the columns constant within every profile, e.g. land
cover, treatment, coordinates) and the layer's age (--age-col: C stock / Ibulk, the
stock-weighted harmonic mean of the ages within the layer).

Rasters (band by band; one band per layer, or single bands):

  wholesoil bulk-inputs --stock stock.tif --age age.tif --output ibulk.tif
"""

BALANCE_HELP = """\
Root-derived inputs and direct losses (METHODS section 6): Iroot = BNPP x depth fraction
(BNPP = NPP x fBNPP when only those are given), Iloss = Iroot - Ibulk (it can be negative)
and Iloss / Iroot, per row (layer) and, with --id-col, per profile (sums of its layers).
Each value is a number or a column of --input, or a raster (raster mode: --iroot and --ibulk).

  wholesoil carbon-balance --input layers.csv --output balance.csv --bnpp BNPP \\
      --fraction frac --ibulk ibulk_mg_ha_yr --id-col profile_id
  wholesoil carbon-balance --iroot iroot.tif --ibulk ibulk.tif --output iloss.tif

Impossible values (negative or infinite fluxes, fractions outside 0-1) leave their row
without a result and are noted; given as a number they are an error.

Table output adds iroot_mg_ha_yr, iloss_mg_ha_yr, iloss_fraction and, with --id-col, the
profile sums over the layers having both Iroot and Ibulk (iroot_profile, ibulk_profile,
iloss_profile, iloss_fraction_profile) and what they cover: profile_top_cm and
profile_bottom_cm (from --top-col, --bottom-col), profile_layers and complete (every layer
summed, joined without gaps from the surface down). Raster output: iloss bands,
iloss_fraction bands, iroot bands, then the whole profile: iroot_profile, ibulk_profile,
iloss_profile, iloss_fraction_profile (sums over the bands; nodata in any band gives nodata).
"""

ESTIMATES_HELP = """\
The six independent Iloss estimates of the Iloss study (Extended Data Table 1) from whichever
inputs you have, each a column of --input or a number (Mg C ha-1 yr-1; PDD and fBNPP as
fractions):
  1 observed BNPP x predicted PDD - predicted Ibulk        (NPP sites)
  2 NPP x observed fBNPP x predicted PDD - predicted Ibulk (NPP sites)
  3 predicted BNPP x observed PDD - observed Ibulk         (radiocarbon sites)
  4 NPP x predicted fBNPP x observed PDD - observed Ibulk  (radiocarbon sites)
  5 predicted BNPP x observed PDD - predicted Ibulk        (root sites)
  6 NPP x predicted fBNPP x observed PDD - predicted Ibulk (root sites)

  wholesoil loss-estimates --input sites.csv --output losses.csv --bnpp-obs BNPP \\
      --npp MODIS_NPP --fbnpp-obs fBNPP --pdd-pred pdd --ibulk-pred ibulk --id-col site

Impossible values (negative or infinite fluxes, fBNPP or PDD outside 0-1) leave their row
without a result and are noted. Adds iroot_e<n>, iloss_e<n>, iloss_fraction_e<n> for each
estimate the inputs allow and prints the cross table (mean Iroot, Ibulk, Iloss and Iloss/Iroot per estimate; over
profile sums with --id-col); --summary writes it to a file.
"""

TURNOVER_HELP = """\
Turnover time τ = stock / flux (yr for Mg C ha-1 and Mg C ha-1 yr-1), e.g. τ_soil = cSoil /
Rh or τ_veg = cVeg / litter (the He et al. Rh study). Stock and flux are numbers, columns of --input
or rasters (band by band); τ is empty where the flux is zero or negative.

  wholesoil turnover --input sites.csv --stock soc --flux rh --output tau.csv
  wholesoil turnover --stock csoil.tif --flux rh.tif --output tau.tif
"""

TWO_BOX_HELP = """\
The 2-box vegetation-soil model of the He et al. Rh study (eq. 3, yearly steps, steady state in the
first year) driven by yearly NPP and simulated turnover times (e.g. a DGVM's global
means), with the bias correction of eqs. 4-5 (the simulated mean over the reference
years is replaced by an observation-based τ) and a draws x draws Monte Carlo over
τ_veg ~ N(10.3, 1.4) and τ_soil ~ N(38.3, 11) yr with a seeded random generator.

  wholesoil two-box-model --input dgvm.csv --output stocks.csv --seed 1 --plot stocks.png

Output per year: npp, cveg_sim, csoil_sim, ctotal_sim (uncorrected) and the ensemble
mean and sd of cveg, csoil and ctotal.
"""


def _read_input(args):
    from ..tables import read_table

    return read_table(args.input, args.layer) if args.input else None


def _write(table, path):
    from ..tables import write_table

    check_output_suffix("--output", path, TABLE_SUFFIXES)
    write_table(table, path)
    print(f"wrote {path} ({len(table)} rows)", file=sys.stderr)


def _raster(args, operation, a, b):
    from ..balance import raster_balance

    check_output_suffix("--output", args.output, RASTER_OUTPUT)
    raster_balance(operation, a, b, args.output, **engine_options(args))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _pair(option, text):
    """Two numbers from 'a,b'."""
    try:
        first, second = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"{option}: give two numbers separated by a comma, not {text!r}") from None
    return first, second


def run_bulk_inputs(args):
    if args.input is None:
        stock, age = resolve_value("--stock", args.stock), resolve_value("--age", args.age)
        if not any(is_raster_path(v) for v in (stock, age) if isinstance(v, str)):
            raise InputError("give --input TABLE, or --stock and --age rasters")
        return _raster(args, "ibulk", stock, age)
    from ..balance import bulk_inputs_table

    out, notes = bulk_inputs_table(_read_input(args), args.age_col, args.top_col, args.bottom_col, args.bd_col,
                                   args.oc_col, args.stock_col, args.coarse_col, args.oc_unit, args.stock_unit,
                                   args.coarse_unit, args.layers, args.id_col, args.min_coverage, args.organic)
    _write(out, args.output)
    print_notes(notes)
    return 0


def run_carbon_balance(args):
    table = _read_input(args)
    values = {name: resolve_value(f"--{name}", getattr(args, name), table)
              for name in ("iroot", "ibulk", "bnpp", "npp", "fbnpp", "fraction")}
    if any(is_raster_path(v) for v in values.values() if isinstance(v, str)):
        if values["iroot"] is None or values["ibulk"] is None:
            raise InputError("raster mode needs --iroot and --ibulk")
        return _raster(args, "iloss", values["iroot"], values["ibulk"])
    if table is None:
        raise InputError("give --input TABLE, or --iroot and --ibulk rasters")
    if values["ibulk"] is None:
        raise InputError("give --ibulk (a column of --input or a number)")
    from ..balance import carbon_balance_table

    out, notes = carbon_balance_table(table, values["ibulk"], values["iroot"], values["bnpp"], values["npp"],
                                      values["fbnpp"], values["fraction"], args.id_col, args.top_col, args.bottom_col)
    _write(out, args.output)
    print_notes(notes)
    return 0


def run_loss_estimates(args):
    from ..balance import ESTIMATE_INPUTS, loss_estimates_table

    if args.summary:
        check_output_suffix("--summary", args.summary, TABLE_SUFFIXES)
    table = _read_input(args)
    columns = {name: resolve_value(f"--{name.replace('_', '-')}", getattr(args, name), table)
               for name in ESTIMATE_INPUTS}
    out, summary, notes = loss_estimates_table(table, columns, args.id_col)
    _write(out, args.output)
    print_table(summary)
    if args.summary:
        _write(summary, args.summary)
    print_notes(notes)
    return 0


def run_turnover(args):
    table = _read_input(args)
    stock, flux = resolve_value("--stock", args.stock, table), resolve_value("--flux", args.flux, table)
    if any(is_raster_path(v) for v in (stock, flux) if isinstance(v, str)):
        return _raster(args, "turnover", stock, flux)
    if table is None:
        raise InputError("give --input TABLE, or --stock and --flux rasters")
    from ..balance import turnover_table

    out, notes = turnover_table(table, stock, flux, args.column)
    _write(out, args.output)
    print_notes(notes)
    return 0


def run_two_box_model(args):
    from ..balance import two_box_table

    if args.plot:
        check_output_suffix("--plot", args.plot, (".png",))
    out, notes = two_box_table(_read_input(args), args.year_col, args.npp_col, args.tau_veg_col, args.tau_soil_col,
                               reference=_pair("--reference", args.reference),
                               tau_veg_obs=_pair("--tau-veg-obs", args.tau_veg_obs),
                               tau_soil_obs=_pair("--tau-soil-obs", args.tau_soil_obs), draws=args.draws,
                               seed=args.seed)
    _write(out, args.output)
    print_notes(notes)
    if args.plot:
        from ..balance import two_box_figure
        from ..plots import save_png

        save_png(two_box_figure(out), args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def _io_options(parser, output_help, input_required=False):
    parser.add_argument("--input", required=input_required, help="input table (CSV, GeoPackage...)")
    parser.add_argument("--layer", help="layer name inside a multi-layer --input file")
    add_output(parser, "--output", suffixes=TABLE_SUFFIXES + RASTER_OUTPUT, layer_option=True, required=True,
               help=output_help)


def register(commands):
    parser = add_command(commands, "bulk-inputs", run_bulk_inputs,
                         "C stock and Ibulk = C stock / C age per layer (tables or rasters)", BULK_HELP)
    _io_options(parser, "output .csv/.gpkg (table) or .tif (rasters)")
    columns = parser.add_argument_group("table mode (defaults: ISRaD names and units)")
    columns.add_argument("--age-col", default="age_slow_yr", help="C age column, yr (default age_slow_yr)")
    for name, default, text in (("top", "lyr_top", "layer top, cm"), ("bottom", "lyr_bot", "layer bottom, cm"),
                                ("bd", "lyr_bd_samp", "bulk density, g cm-3"), ("oc", "lyr_c_org", "organic C"),
                                ("stock", "lyr_soc", "C stock"), ("coarse", "lyr_coarse_tot", "coarse fragments")):
        columns.add_argument(f"--{name}-col", default=default, help=f"{text} column (default {default})")
    columns.add_argument("--oc-unit", default="percent", choices=["percent", "g_kg"],
                         help="organic C: weight %% (ISRaD lyr_c_org; default) or g kg-1")
    columns.add_argument("--stock-unit", default="g_cm2", choices=["g_cm2", "Mg_ha", "kg_m2"],
                         help="C stock: g C cm-2 (ISRaD lyr_soc; default), Mg C ha-1 or kg C m-2")
    columns.add_argument("--coarse-unit", default="percent", choices=["percent", "fraction"],
                         help="coarse fragments: volume %% (ISRaD lyr_coarse_tot; default) or fraction 0-1")
    columns.add_argument("--layers", help="harmonise to these layers per profile (e.g. standard7 or 0,30,100)")
    columns.add_argument("--id-col", default="profile_id", help="profile id column for --layers (default profile_id)")
    columns.add_argument("--min-coverage", type=float, default=1.0,
                         help="share of a target layer the samples must cover (default 1)")
    columns.add_argument("--organic", default="exclude", choices=["exclude", "keep"],
                         help="with --layers, layers above the mineral surface (negative depths): leave them out "
                              "(default) or keep them, measuring depths from the top of the organic layer")
    rasters = parser.add_argument_group("raster mode")
    rasters.add_argument("--stock", help="C stock raster (Mg C ha-1) or number")
    rasters.add_argument("--age", help="C age raster (yr) or number")
    add_engine_options(parser)

    parser = add_command(commands, "carbon-balance", run_carbon_balance,
                         "Iroot, Iloss = Iroot - Ibulk and Iloss/Iroot by layer and profile", BALANCE_HELP)
    _io_options(parser, "output .csv/.gpkg (table) or .tif (rasters)")
    for name, text in (("iroot", "Iroot, Mg C ha-1 yr-1 (instead of BNPP x fraction)"), ("ibulk", "Ibulk"),
                       ("bnpp", "BNPP, Mg C ha-1 yr-1"), ("npp", "NPP (with --fbnpp)"),
                       ("fbnpp", "belowground share of NPP"), ("fraction", "depth fraction of the layer")):
        parser.add_argument(f"--{name}", help=f"{text}: a column, a number or a raster")
    parser.add_argument("--id-col", help="profile id column: adds profile sums")
    parser.add_argument("--top-col", default="lyr_top", help="layer top column, cm, for the profile sums' depths "
                        "(default lyr_top)")
    parser.add_argument("--bottom-col", default="lyr_bot", help="layer bottom column, cm (default lyr_bot)")
    add_engine_options(parser)

    parser = add_command(commands, "loss-estimates", run_loss_estimates,
                         "the six Iloss estimates of the Iloss study from the inputs you have", ESTIMATES_HELP)
    _io_options(parser, "output .csv/.gpkg", input_required=True)
    from ..balance import ESTIMATE_INPUTS

    for name in ESTIMATE_INPUTS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help="column or number")
    parser.add_argument("--id-col", help="profile/site id column: the cross table averages profile sums")
    add_output(parser, "--summary", suffixes=TABLE_SUFFIXES, help="write the cross table to this .csv")

    parser = add_command(commands, "turnover", run_turnover, "turnover time τ = stock / flux (tables or rasters)",
                         TURNOVER_HELP)
    _io_options(parser, "output .csv/.gpkg (table) or .tif (rasters)")
    parser.add_argument("--stock", required=True, help="stock: a column, a number or a raster")
    parser.add_argument("--flux", required=True, help="flux: a column, a number or a raster")
    parser.add_argument("--column", default="tau_yr", help="output column name (default tau_yr)")
    add_engine_options(parser)

    parser = add_command(commands, "two-box-model", run_two_box_model,
                         "2-box vegetation-soil model with bias correction and Monte Carlo", TWO_BOX_HELP)
    _io_options(parser, "output .csv/.gpkg", input_required=True)
    for name, default in (("year", "year"), ("npp", "npp"), ("tau-veg", "tau_veg"), ("tau-soil", "tau_soil")):
        parser.add_argument(f"--{name}-col", default=default, help=f"column (default {default})")
    parser.add_argument("--reference", default="1982,2018", help="reference years FIRST,LAST (default 1982,2018)")
    parser.add_argument("--tau-veg-obs", default="10.3,1.4", help="mean,sd of observed τ_veg, yr (default 10.3,1.4)")
    parser.add_argument("--tau-soil-obs", default="38.3,11", help="mean,sd of observed τ_soil, yr (default 38.3,11)")
    parser.add_argument("--draws", type=int, default=100, help="draws of each τ (default 100: 100 x 100 runs)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_output(parser, "--plot", suffixes=PNG, help="write a PNG of the stocks (ensemble mean ± sd)")
