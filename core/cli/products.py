"""CLI commands for the map products: bnpp-by-depth, loss-maps, subsoil-soc, turnover-map."""

import sys

from ..rasters import RASTER_OUTPUT
from .common import PNG, add_command, add_engine_options, add_output, engine_options

BANDS = """\
Inputs are raster bands, RASTER or RASTER:BAND (a band number or name, e.g.
bnpp_map.tif:bnpp_mean; default its only band, or its only _mean band), or a number for a
single quantity that is the same everywhere (e.g. --beta 0.96, --fbnpp 0.35; not the
one-band-per-layer inputs). The sd of
a <name>_mean band is the <name>_sd band beside it (as predict-raster writes them) unless
an --…-sd option gives it; an input without an sd is taken as exact.
Rasters must share one grid; nodata in any input, or an impossible value (a negative flux,
beta outside 0-1, a negative sd...), gives nodata, counted in a note. Fluxes are in
Mg C ha-1 yr-1 and stocks in Mg C ha-1 unless a --…-unit option or the band's units
metadata says otherwise (then converted). --quicklook writes a PNG of the layers' means
with a colour bar and units. Details: docs/maps.md, "Map products".
"""

SHARES = """\
Depth shares, one way: --beta (Y = 1 - beta^d), or --d50 and --d95 (cm, the logistic
model), as layer fractions normalised over 0 to --profile-depth (200 cm) for --layers
(default the 7 layers to 2 m); an sd of the parameters gives the shares an sd (first
order). Or --shares, one band per layer (RASTER:BAND items in depth order, or a file whose
_mean bands are the layers, e.g. predict-raster with one share model per layer), which are
renormalised per pixel to sum to 1; the layers come from the band names (..._0_20_mean) or
--layers, must agree with the band names and must cover 0 cm to --profile-depth.
"""

BNPP_HELP = f"""\
Depth-resolved BNPP (the Luo et al. BNPP study): BNPP (or NPP x fBNPP) times the share of
each depth layer, with U_total = sqrt(U_BNPP^2 + U_PDD^2) (U = sd / mean) per pixel.

  wholesoil bnpp-by-depth --bnpp bnpp_map.tif:bnpp_mean --beta beta.tif \\
      --output bnpp_layers.tif --quicklook bnpp_layers.png
  wholesoil bnpp-by-depth --npp npp.tif --fbnpp 0.35 --shares pdd_models_map.tif \\
      --output bnpp_layers.tif --jobs -1

Bands per layer: bnpp_<top>_<bottom>_mean (Mg C ha-1 yr-1), _sd and _utotal. The sd of a
product of independent X and Y is first order, sqrt((sd_X Y)^2 + (X sd_Y)^2), as the
study's U_total (the U_X^2 U_Y^2 term is dropped).

{SHARES}
{BANDS}"""

LOSS_HELP = f"""\
Iroot, Ibulk, Iloss = Iroot - Ibulk and Iloss / Iroot per layer and for the profile with
per-pixel Monte Carlo (the Iloss study): Iroot = BNPP x share; Ibulk from one band per layer
(--ibulk, e.g. Ibulk model maps) or C stock / C age (--stock, --age; one band per layer each).

  wholesoil loss-maps --bnpp bnpp_map.tif --beta beta.tif --ibulk ibulk_layers.tif \\
      --output loss.tif --quicklook iloss.png --jobs -1
  wholesoil loss-maps --npp npp.tif --fbnpp fbnpp.tif --shares pdd.tif \\
      --stock stock.tif --age age.tif --draws 1000 --seed 7 --outputs iloss,iloss_fraction --output loss.tif

Each pixel draws BNPP, the depth shares and each layer's Ibulk --draws times (500 by
default), independently, with the pixel's mean and sd: BNPP and Ibulk lognormal (positive,
keeping both); shares from --beta or --d50/--d95 from draws of the parameters (every layer's
share of a draw from the same beta), --shares bands lognormal with each draw rescaled to the
pixel's share total. The layers share the BNPP draw. The random numbers of a pixel depend on
--seed and its row and column in the input grid only, so maps are identical for any --jobs,
--block or backend (a map cut into tiles draws other numbers). Bands
<quantity>_<top>_<bottom>_<stat> and <quantity>_profile_<stat> (sums over the layers) with
stat = mean, sd, lower, upper (2.5 and 97.5 % of the draws), for --outputs (default
iroot,ibulk,iloss,iloss_fraction).

{SHARES}
{BANDS}"""

SUBSOIL_HELP = f"""\
Subsoil SOC from a beta map and a topsoil SOC stock (the Wang et al. subsoil study): layer
[a, b] holds topsoil x (beta^a - beta^b) / (beta^t0 - beta^t1) for the topsoil layer
[t0, t1] (eq. 4 taken layer by layer; with t0 = 0, X100 = (1 - beta^100) / (1 - beta^d0) X_d0).

  wholesoil subsoil-soc --beta beta_map.tif:beta_mean --topsoil soc_0_20.tif \\
      --output subsoil.tif --quicklook subsoil.png

Bands soc_<a>_<b>_mean and _sd (Mg C ha-1) for --layers (default 20,40,60,80,100), then
their sum (soc_20_100_…). The sd combines the topsoil sd and the beta sd (first order).

{BANDS}"""

TURNOVER_HELP = f"""\
Turnover time tau = stock / flux (the He et al. Rh study) with its uncertainty from the
flux sd (and the stock sd, if any).

  wholesoil turnover-map --stock csoil_0_100.tif --flux rh_map.tif:Rh_annual_mean \\
      --flux-unit g_m2_yr --output tau.tif --quicklook tau.png

Bands (yr): tau (stock / flux of the means), tau_sd (first order), tau_lower and tau_upper
(2.5 and 97.5 % of stock / flux for independent lognormal stock and flux: exact, and
skewed around tau).

{BANDS}"""


def _unit(group, name, kind):
    from ..maps.bands import UNITS

    group.add_argument(f"--{name}-unit", choices=list(UNITS[kind]), metavar="UNIT",
                       help=f"unit of the {name} rasters: {', '.join(UNITS[kind])} (default: the band's units "
                            f"metadata, else {next(iter(UNITS[kind]))})")


def _value(group, name, what, several=False, required=False):
    """--NAME and --NAME-sd."""
    nargs = {"nargs": "+"} if several else {}
    group.add_argument(f"--{name}", metavar="RASTER[:BAND]", help=what, required=required, **nargs)
    group.add_argument(f"--{name}-sd", metavar="RASTER[:BAND]", help=f"sd of --{name}", **nargs)


def _add_root_options(parser):
    group = parser.add_argument_group("BNPP (or NPP x fBNPP)")
    _value(group, "bnpp", "BNPP (Mg C ha-1 yr-1), a raster band or a number")
    _value(group, "npp", "NPP (Mg C ha-1 yr-1), instead of --bnpp")
    _value(group, "fbnpp", "fBNPP, the belowground share of NPP (0-1), with --npp")
    _unit(group, "flux", "flux")
    group = parser.add_argument_group("depth shares")
    _value(group, "beta", "beta of Y = 1 - beta^d (0-1)")
    _value(group, "d50", "D50 of the logistic model (cm)")
    _value(group, "d95", "D95 of the logistic model (cm)")
    _value(group, "shares", "one share band per layer, or a file whose _mean bands are the layers", several=True)
    group.add_argument("--layers", help="depth breaks in cm or a named scheme (default standard7; --shares, and "
                                        "loss-maps' --ibulk or --stock bands named for their layers: from the band "
                                        "names)")
    group.add_argument("--profile-depth", type=float, default=200.0, metavar="CM",
                       help="beta and D50/D95 shares are fractions of 0 to this depth, and --shares bands must "
                            "reach it (default 200 cm)")


def _roots(args):
    from ..maps.products import RootInputs

    return RootInputs(bnpp=args.bnpp, bnpp_sd=args.bnpp_sd, npp=args.npp, npp_sd=args.npp_sd, fbnpp=args.fbnpp,
                      fbnpp_sd=args.fbnpp_sd, beta=args.beta, beta_sd=args.beta_sd, d50=args.d50, d50_sd=args.d50_sd,
                      d95=args.d95, d95_sd=args.d95_sd, shares=args.shares, shares_sd=args.shares_sd,
                      layers=args.layers, profile_depth=args.profile_depth, unit=args.flux_unit)


def _add_outputs(parser):
    add_output(parser, "--output", suffixes=RASTER_OUTPUT, required=True, help="output GeoTIFF")
    add_output(parser, "--quicklook", suffixes=PNG, metavar="FILE.png", help="quick-look picture of the result")
    add_engine_options(parser)


def _report(args, run):
    """The closing line (the notes are printed after it, by the command's output transaction)."""
    print(f"wrote {args.output}: {len(run.band_names)} bands ({', '.join(run.band_names[:8])}"
          f"{', …' if len(run.band_names) > 8 else ''}); {int(run.valid.max()) if len(run.valid) else 0} valid pixels"
          + (f"; quick-look {args.quicklook}" if args.quicklook else ""), file=sys.stderr)
    return 0


def run_bnpp_by_depth(args):
    from ..maps.products import bnpp_by_depth

    return _report(args, bnpp_by_depth(args.output, _roots(args), quicklook=args.quicklook, **engine_options(args)))


def _quantities(text):
    return [part.strip() for part in text.split(",") if part.strip()]


def run_loss_maps(args):
    from ..maps.products import loss_maps

    run = loss_maps(args.output, _roots(args), ibulk=args.ibulk, ibulk_sd=args.ibulk_sd, stock=args.stock,
                    stock_sd=args.stock_sd, age=args.age, age_sd=args.age_sd, ibulk_unit=args.ibulk_unit,
                    stock_unit=args.stock_unit, quantities=_quantities(args.outputs), draws=args.draws,
                    seed=args.seed, quicklook=args.quicklook, **engine_options(args))
    return _report(args, run)


def run_subsoil_soc(args):
    from ..maps.products import subsoil_soc

    run = subsoil_soc(args.output, args.beta, args.topsoil, beta_sd=args.beta_sd, topsoil_sd=args.topsoil_sd,
                      topsoil_layer=args.topsoil_layer, layers=args.layers, stock_unit=args.stock_unit,
                      quicklook=args.quicklook, **engine_options(args))
    return _report(args, run)


def run_turnover_map(args):
    from ..maps.products import turnover_map

    run = turnover_map(args.output, args.stock, args.flux, stock_sd=args.stock_sd, flux_sd=args.flux_sd,
                       stock_unit=args.stock_unit, flux_unit=args.flux_unit, quicklook=args.quicklook,
                       **engine_options(args))
    return _report(args, run)


def register(commands):
    from ..maps.montecarlo import DEFAULT_DRAWS
    from ..maps.products import LOSS_QUANTITIES

    parser = add_command(commands, "bnpp-by-depth", run_bnpp_by_depth,
                         "map BNPP per depth layer with U_total (BNPP x depth shares)", BNPP_HELP)
    _add_root_options(parser)
    _add_outputs(parser)

    parser = add_command(commands, "loss-maps", run_loss_maps,
                         "map Iroot, Ibulk, Iloss and Iloss/Iroot per layer by per-pixel Monte Carlo", LOSS_HELP)
    _add_root_options(parser)
    group = parser.add_argument_group("Ibulk (or C stock / C age), one band per layer")
    _value(group, "ibulk", "Ibulk (Mg C ha-1 yr-1)", several=True)
    _unit(group, "ibulk", "flux")
    _value(group, "stock", "C stock (Mg C ha-1), instead of --ibulk", several=True)
    _unit(group, "stock", "stock")
    _value(group, "age", "C age (yr), with --stock", several=True)
    group = parser.add_argument_group("Monte Carlo")
    group.add_argument("--draws", type=int, default=DEFAULT_DRAWS, metavar="N",
                       help=f"draws per pixel, 2 or more (default {DEFAULT_DRAWS})")
    group.add_argument("--seed", type=int, default=0, help="seed of the random numbers (default 0)")
    group.add_argument("--outputs", default=",".join(LOSS_QUANTITIES), metavar="LIST",
                       help=f"quantities to map (default {','.join(LOSS_QUANTITIES)})")
    _add_outputs(parser)

    parser = add_command(commands, "subsoil-soc", run_subsoil_soc,
                         "map SOC per subsoil layer from a beta map and a topsoil SOC stock", SUBSOIL_HELP)
    _value(parser, "beta", "beta of Y = 1 - beta^d (0-1), a raster band or a number", required=True)
    _value(parser, "topsoil", "SOC stock of the topsoil layer (Mg C ha-1)", required=True)
    parser.add_argument("--topsoil-layer", default="0-20", metavar="TOP-BOTTOM",
                        help="depths of the topsoil stock in cm (default 0-20)")
    _unit(parser, "stock", "stock")
    parser.add_argument("--layers", default="20,40,60,80,100", help="depth breaks of the output layers (cm)")
    _add_outputs(parser)

    parser = add_command(commands, "turnover-map", run_turnover_map,
                         "map the turnover time stock / flux with its uncertainty", TURNOVER_HELP)
    _value(parser, "stock", "C stock (Mg C ha-1), a raster band or a number", required=True)
    _unit(parser, "stock", "stock")
    _value(parser, "flux", "flux, e.g. heterotrophic respiration (Mg C ha-1 yr-1)", required=True)
    _unit(parser, "flux", "flux")
    _add_outputs(parser)
