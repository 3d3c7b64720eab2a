"""CLI commands for soil profiles: spline, harmonise, soc-stocks, fit-beta, root-bimodality."""

import sys

from ..errors import InputError
from .common import (PNG, TABLE_SUFFIXES, add_command, add_output, add_where_option, check_output_suffix, print_notes,
                     print_table, selected_rows)
from .depth import add_profile_depth_option, add_surface_options

#: Profiles whose total SOC stock soc-stocks prints (all are in --summary).
SHOWN_PROFILES = 20

SPLINE_HELP = """\
Harmonise horizon data onto depth layers with the mass-preserving (equal-area quadratic)
spline of Bishop et al. (1999), as mpspline2 does, but with layer means from the exact
integral of the fitted curve.

  wholesoil spline horizons.csv layers.csv --id-col site --top-col top \\
      --bottom-col bottom --value-cols soc,bd --layers 0,20,40,60,80,100 --lam 0.1

The output has one row per profile and layer: the id, top, bottom, one column per
property, then the input columns that are constant within each profile (and the point
geometry of a GeoPackage input). Layers the horizons do not reach stay empty unless
--extrapolate. Values are clamped to [--vlow, --vhigh] (default 0 and no upper bound).
--summary writes one row per profile with its status, fit error (rmse_<property>),
repairs made (sorting, dropped zero-thickness or duplicated horizons, overlapping rows
without a value dropped, organic horizons left out or kept, gaps bridged) and messages;
profiles with bad input (overlaps, inverted depths, non-numeric values) are listed there
and on stderr, and the others are still processed; so are the first 10 repaired profiles.

Depths are cm below the mineral soil surface; negative depths are organic horizons above it
(the ISRaD convention). --organic exclude (default) leaves them out, so every profile starts
at the mineral surface; --organic keep measures that profile's depths from the top of its
organic layer instead (as aqp's accumulateDepths), so they become its first horizons.
"""

HARMONISE_HELP = """\
Depth-weighted harmonisation (Lu et al. 2025, aqp's slab): each layer takes the thickness-
weighted mean of the horizons it overlaps, and <property>_contrib says which fraction
of the layer they cover (0-1).

  wholesoil harmonise horizons.csv layers.csv --id-col site --top-col top \\
      --bottom-col bottom --value-cols soc,bd,n --layers globalsoilmap

--min-coverage F leaves a layer empty when less than F of it is covered (default 0: any
overlap gives a value). Output, --summary and bad input are handled as in 'spline'.
"""

STOCKS_HELP = """\
SOC density (Mg C ha-1) of each horizon or of target layers:
SOC [g kg-1] x BD [g cm-3] x thickness [cm] / 10 x (1 - coarse fraction).

  wholesoil soc-stocks horizons.csv stocks.csv --id-col site --top-col top \\
      --bottom-col bottom --soc-col oc --bd-col bd --layers standard7
  wholesoil soc-stocks israd.csv stocks.csv --id-col profile_id --top-col lyr_top \\
      --bottom-col lyr_bot --soc-col lyr_c_org --oc-unit percent --bd-col lyr_bd_samp

--oc-unit: g_kg (default) or percent (weight %, x 10; ISRaD's lyr_c_org). Organic carbon
that looks like the other unit gets a note: in g kg-1, when the median of the profiles'
highest values is below 10 g kg-1 (1 %; topsoils hold about 10-100 g kg-1); in %, values
above 58 % (more carbon than organic matter holds). Organic horizons (negative depths):
--organic exclude|keep, as for 'spline'.

Without --layers: the input table plus soc_mg_ha and soc_cum_mg_ha per horizon. With
--layers: one row per profile and layer with soc_mg_ha, soc_contrib (covered fraction)
and soc_cum_mg_ha; the carbon per cm is harmonised depth-weighted (default) or with the
spline (--method spline), so the layer stocks keep the carbon mass. A layer needs full
cover by SOC and BD (--min-coverage 1) unless told otherwise. --area (ha, a number or a
column) adds soc_stock_mg. Units are checked (BD in kg m-3 or coarse fragments in %
are named).
"""

BETA_HELP = """\
Fit the beta model Y(d) = 1 - beta^d to every profile and derive layer fractions and the
stock extrapolated to --target-depth (X100 = (1 - beta^100) / (1 - beta^d0) x X_d0).

  wholesoil fit-beta stocks.csv beta.csv --id-col site --top-col top \\
      --bottom-col bottom --value-col soc_mg_ha --groups shares.csv --group-col biome

Values are amounts per increment (e.g. soc_mg_ha from soc-stocks) or, with --value-kind
density, per cm or per volume (multiplied by the thickness). The output has beta,
d50_cm, d95_cm, rmse, r2, status, message, frac_<top>_<bottom> (shares of the profile to
--profile-depth, default 200 cm), observed_total, observed_depth_cm and x<target>. --groups
writes the exponential share model share = a exp(-b mid-depth) fitted per --group-col (or
over all profiles).

A profile whose first increment with a value starts below --surface-tolerance (default
0 cm) misses its surface: it is refused, or with --missing-surface conditional fitted to the
covered depths (status 'conditional', X100 = (1 - beta^100) / (beta^top - beta^d0) x X).
"""

BIMODALITY_HELP = """\
Classify site root profiles as unimodal or bimodal (Lu et al. 2025): site mean of the
profiles' root density per increment, Gaussian kernel density over depth (--bandwidth,
default 15 cm), modes with the 10 % secondary-peak rule (--min-ratio), D0/D1/D2 and
phi = Y(D2) / Y(D1) (unimodal sites: D1 = 70, D2 = 100 cm).

  wholesoil root-bimodality neon_deju_megapit_root_samples.csv sites.csv \\
      --site-col siteID --profile-col pitProfileID --top-col topDepth_cm_from_id \\
      --thickness 10 --value-col incrementRootDensity \\
      --where rootStatus=live --where sizeCategory='<=4mm' --plot deju.png

--properties TABLE with --property-cols (e.g. nitrogenTot) adds phi_<property> and the
depth exponent of the relative concentration (property / root density, 1 at the top:
rel_<property>_exponent per cm of log10, with rel_<property>_r2).

With --thickness (no bottom column) a site whose increment tops lie further apart than the
thickness in every profile gets a note: the gaps count as holding no roots (NEON's root
increments are 10 cm to 1 m and 20 cm below; give a bottom column then).
"""


def _columns(text, option):
    names = [c.strip() for c in str(text).split(",") if c.strip()]
    if not names:
        raise InputError(f"{option}: give one or more column names separated by commas")
    return names


#: Optional output files of the profile commands and the suffixes they take.
EXTRA_OUTPUTS = {"summary": TABLE_SUFFIXES, "groups": TABLE_SUFFIXES, "increments": TABLE_SUFFIXES,
                 "plot": (".png",)}


def _read(args):
    """The input table (filtered by --where), after checking every output path: a bad one
    must stop the command before anything is written."""
    from ..tables import read_table

    check_output_suffix("OUTPUT", args.output, TABLE_SUFFIXES)
    for name, suffixes in EXTRA_OUTPUTS.items():
        if getattr(args, name, None):
            check_output_suffix(f"--{name}", getattr(args, name), suffixes)
    return selected_rows(read_table(args.input, args.layer), args)


def _report(result, id_col, summary_path, what):
    """Write the summary table; list on stderr the profiles that are not ok and the first
    repaired ones; exit code."""
    from ..horizons import repair_lines
    from ..tables import write_table

    profiles = result.profiles
    if summary_path:
        write_table(profiles, summary_path)
    bad = profiles[profiles["status"].ne("ok")]
    done = int(profiles["status"].ne("error").sum())
    print(f"{what} {done} of {len(profiles)} profiles", file=sys.stderr)
    for _, row in bad.iterrows():
        print(f"  profile {row[id_col]}: {row['status']}: {row['message']}", file=sys.stderr)
    lines, more = repair_lines(profiles, id_col)
    for line in lines:
        print(f"  {line}", file=sys.stderr)
    if more:
        hint = "" if summary_path else " (--summary FILE lists every repair)"
        print(f"  ... and {more} more repaired profiles{hint}", file=sys.stderr)
    return 0 if done else 1


def _find_id(ids, text, option, what):
    """The profile/site id whose text equals ``text`` (ids may be numbers)."""
    for profile in ids:
        if str(profile) == str(text):
            return profile
    raise InputError(f"{option}: no {what} {text!r}")


def _save_plot(path, figure, what):
    from ..plots import save_png

    if figure is not None:
        save_png(figure, path)
        print(f"wrote {path} ({what})", file=sys.stderr)


def _write_harmonised(args, result, what):
    """Write the layers, --summary and --plot of a harmonisation; exit code. The plot is drawn
    first, so an unknown --plot-profile leaves nothing written."""
    from ..profile_plots import profile_figure
    from ..tables import write_table

    figure = profile = None
    if args.plot:
        ids = list(result.horizons.ids)
        profile = ids[0] if args.plot_profile is None else \
            _find_id(ids, args.plot_profile, "--plot-profile", "harmonised profile")
        figure = profile_figure(result, profile)
    write_table(result.layers, args.output)
    print(f"wrote {args.output} ({len(result.layers)} rows, layers {result.scheme} cm)", file=sys.stderr)
    _save_plot(args.plot, figure, f"profile {profile}")
    return _report(result, args.id_col, args.summary, what)


def run_spline(args):
    from ..spline import spline_profiles

    table = _read(args)
    result = spline_profiles(table, args.id_col, args.top_col, args.bottom_col,
                             _columns(args.value_cols, "--value-cols"), args.layers, args.lam, args.vlow,
                             args.vhigh, args.extrapolate, args.organic)
    return _write_harmonised(args, result, "splined")


def run_harmonise(args):
    from ..harmonise import depth_weighted

    table = _read(args)
    result = depth_weighted(table, args.id_col, args.top_col, args.bottom_col,
                            _columns(args.value_cols, "--value-cols"), args.layers, args.min_coverage, args.organic)
    return _write_harmonised(args, result, "harmonised")


def _area(text):
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def run_soc_stocks(args):
    from ..stocks import soc_stocks
    from ..tables import write_table

    table = _read(args)
    result = soc_stocks(table, args.id_col, args.top_col, args.bottom_col, args.soc_col, args.bd_col,
                        args.coarse_col, args.coarse_unit, args.layers, args.method, args.lam,
                        args.min_coverage, _area(args.area), args.oc_unit, args.organic)
    write_table(result.layers, args.output)
    print(f"wrote {args.output} ({len(result.layers)} rows)", file=sys.stderr)
    print_notes(result.notes)
    ok = result.profiles[result.profiles["status"].ne("error")]
    if len(ok):
        print_table(ok[[args.id_col, "soc_total_mg_ha"]].head(SHOWN_PROFILES))
    if len(ok) > SHOWN_PROFILES:
        where = f"all in {args.summary}" if args.summary else "--summary FILE writes all"
        print(f"(the first {SHOWN_PROFILES} of {len(ok)} profiles; {where})")
    return _report(result, args.id_col, args.summary, "computed stocks of")


def run_fit_beta(args):
    from ..beta_profiles import fit_beta_profiles
    from ..depth import FITTED_STATUSES, check_surface_options, coverage_note, profile_depth_of
    from ..layers import layer_scheme
    from ..tables import write_table

    normalize = not args.no_normalize
    profile_depth_of(layer_scheme(args.layers), normalize, args.profile_depth)
    check_surface_options(args.surface_tolerance, args.missing_surface)
    table = _read(args)
    result = fit_beta_profiles(table, args.id_col, args.top_col, args.bottom_col, args.value_col, args.value_kind,
                               args.layers, normalize, args.target_depth, args.group_col, args.truncated,
                               args.surface_tolerance, args.missing_surface, args.profile_depth, args.organic)
    figure = None
    if args.plot:
        from ..plots import fitted_profiles_figure

        figure = fitted_profiles_figure(result.curves(), "Fitted β profiles")
    write_table(result.profiles, args.output)
    if args.groups:
        write_table(result.groups, args.groups)
    profiles = result.profiles
    ok = profiles["status"].isin(FITTED_STATUSES)
    print(f"fitted beta to {int(ok.sum())} of {len(profiles)} profiles; wrote {args.output}", file=sys.stderr)
    print_notes(filter(None, [coverage_note(args.layers, normalize, args.profile_depth)]))
    for _, row in profiles[profiles["status"].ne("ok")].iterrows():
        print(f"  profile {row[args.id_col]}: {row['status']}: {row['message']}", file=sys.stderr)
    if ok.any():
        print_table(profiles.loc[ok, ["beta", "d50_cm", "d95_cm", "r2"]].median().to_frame("median").T)
    _save_plot(args.plot, figure, "fitted profiles")
    return 0 if ok.any() else 1


def run_root_bimodality(args):
    from ..bimodality import detect_bimodality
    from ..tables import read_table, write_table

    table = _read(args)
    properties = read_table(args.properties) if args.properties else None
    result = detect_bimodality(
        table, args.site_col, args.top_col, args.bottom_col, args.value_col, args.profile_col, args.value_kind,
        args.bandwidth, args.min_ratio, properties, args.property_site_col, args.property_top_col,
        args.property_bottom_col, _columns(args.property_cols, "--property-cols") if args.property_cols else (),
        args.thickness)
    figure = site = None
    if args.plot:
        from ..profile_plots import root_density_figure

        if not result.curves:
            raise InputError("--plot: no site could be classified")
        sites = list(result.curves)
        site = sites[0] if args.plot_site is None else _find_id(sites, args.plot_site, "--plot-site", "classified site")
        figure = root_density_figure(site, result.curves[site])
    write_table(result.sites, args.output)
    if args.increments:
        write_table(result.increments, args.increments)
    shown = [c for c in (args.site_col, "modality", "d0_cm", "d1_cm", "d2_cm", "secondary_ratio", "phi_roots")
             if c in result.sites.columns]
    print_table(result.sites[shown])
    for _, row in result.sites.iterrows():
        if row.get("message"):
            print(f"  site {row[args.site_col]}: {row['message']}", file=sys.stderr)
    _save_plot(args.plot, figure, f"site {site}")
    return 0 if result.curves else 1


def _file_options(parser, input_help="horizon table (CSV, GeoPackage...): one row per profile and horizon",
                  output_help="output table (.csv or .gpkg)"):
    parser.add_argument("input", help=input_help)
    add_output(parser, "output", suffixes=TABLE_SUFFIXES, layer_option=True, help=output_help)
    parser.add_argument("--layer", help="layer name inside a multi-layer input file")
    add_where_option(parser)


def _io_options(parser):
    _file_options(parser)
    parser.add_argument("--id-col", required=True, help="profile identifier column")
    parser.add_argument("--top-col", required=True, help="horizon top depth column (cm below the mineral surface)")
    parser.add_argument("--bottom-col", required=True, help="horizon bottom depth column (cm)")
    parser.add_argument("--organic", default="exclude", choices=["exclude", "keep"],
                        help="horizons above the mineral surface (negative depths): leave them out (default) or "
                             "keep them, measuring depths from the top of the organic layer")


def _layers_option(parser, default="standard7"):
    parser.add_argument("--layers", default=default,
                        help="target layers: depth breaks in cm ('0,20,40'), intervals ('0-20,20-40') or "
                             "standard7 (0-20 ... 150-200), standard5, globalsoilmap; default: "
                             + (default or "none, one row per horizon"))


def _plot_options(parser):
    add_output(parser, "--summary", suffixes=TABLE_SUFFIXES,
               help="write one row per profile (status, fit error, repairs, message)")
    add_output(parser, "--plot", suffixes=PNG, help="write a profile plot (PNG)")
    parser.add_argument("--plot-profile", help="profile to plot (default: the first)")


def register(commands):
    parser = add_command(commands, "spline", run_spline,
                         "harmonise profiles onto layers with the mass-preserving spline", SPLINE_HELP)
    _io_options(parser)
    parser.add_argument("--value-cols", required=True, help="properties to spline, comma-separated")
    _layers_option(parser)
    parser.add_argument("--lam", type=float, default=0.1, help="smoothing parameter lambda (default 0.1)")
    parser.add_argument("--vlow", type=float, default=0.0,
                        help="lowest allowed value (default 0; --vlow=-inf for no lower bound)")
    parser.add_argument("--vhigh", type=float, default=float("inf"), help="highest allowed value (default none)")
    parser.add_argument("--extrapolate", action="store_true",
                        help="carry the curve's end values to layers beyond the horizons")
    _plot_options(parser)

    parser = add_command(commands, "harmonise", run_harmonise,
                         "harmonise profiles onto layers by depth-weighted averaging", HARMONISE_HELP)
    _io_options(parser)
    parser.add_argument("--value-cols", required=True, help="properties to harmonise, comma-separated")
    _layers_option(parser)
    parser.add_argument("--min-coverage", type=float, default=0.0,
                        help="least covered fraction (0-1) for a layer to get a value (default 0)")
    _plot_options(parser)

    parser = add_command(commands, "soc-stocks", run_soc_stocks, "SOC density and stocks by layer", STOCKS_HELP)
    _io_options(parser)
    parser.add_argument("--soc-col", required=True, help="organic carbon column (g kg-1, or %% with --oc-unit)")
    parser.add_argument("--oc-unit", default="g_kg", choices=["percent", "g_kg"],
                        help="unit of --soc-col: g_kg (default, g kg-1) or percent (weight %%)")
    parser.add_argument("--bd-col", required=True, help="fine-earth bulk density column (g cm-3)")
    parser.add_argument("--coarse-col", help="coarse fragment volume column (optional)")
    parser.add_argument("--coarse-unit", default="fraction", choices=["fraction", "percent"],
                        help="unit of --coarse-col (default fraction, 0-1)")
    _layers_option(parser, default=None)
    parser.add_argument("--method", default="depth-weighted", choices=["depth-weighted", "spline"],
                        help="how the carbon per cm is put on the layers (default depth-weighted)")
    parser.add_argument("--lam", type=float, default=0.1, help="spline smoothing (with --method spline)")
    parser.add_argument("--min-coverage", type=float, default=1.0,
                        help="least covered fraction of a layer for a stock (default 1)")
    parser.add_argument("--area", help="area in ha (a number or a column) for soc_stock_mg")
    add_output(parser, "--summary", suffixes=TABLE_SUFFIXES,
               help="write one row per profile (total, status, repairs, message)")

    parser = add_command(commands, "fit-beta", run_fit_beta, "fit beta per profile, fractions and X100", BETA_HELP)
    _io_options(parser)
    parser.add_argument("--value-col", required=True, help="amount (or density) per increment")
    parser.add_argument("--value-kind", default="amount", choices=["amount", "density"])
    _layers_option(parser)
    add_profile_depth_option(parser)
    parser.add_argument("--no-normalize", action="store_true",
                        help="fractions as shares of the infinite-depth total")
    parser.add_argument("--target-depth", type=float, default=100.0, help="depth of the extrapolated stock (cm)")
    parser.add_argument("--truncated", action="store_true",
                        help="profiles stop before all of the amount: fit Y(d)/Y(deepest depth) (no bias "
                             "towards small beta)")
    add_surface_options(parser)
    parser.add_argument("--group-col", help="profile-level column grouping the exponential share model")
    add_output(parser, "--groups", suffixes=TABLE_SUFFIXES, help="write the exponential share model per group (table)")
    add_output(parser, "--plot", suffixes=PNG, help="observed and fitted cumulative fractions (PNG)")

    parser = add_command(commands, "root-bimodality", run_root_bimodality,
                         "detect root bimodality per site (modes, D0/D1/D2, phi)", BIMODALITY_HELP)
    _file_options(parser, "root increments (CSV, GeoPackage...)", "output table, one row per site (.csv or .gpkg)")
    parser.add_argument("--site-col", required=True, help="site column")
    parser.add_argument("--profile-col", help="profile column (profiles of a site are averaged)")
    parser.add_argument("--top-col", required=True, help="increment top depth column (cm)")
    parser.add_argument("--bottom-col", help="increment bottom depth column (cm)")
    parser.add_argument("--thickness", type=float, help="increment thickness (cm) when there is no bottom column")
    parser.add_argument("--value-col", required=True, help="root biomass column")
    parser.add_argument("--value-kind", default="density", choices=["density", "amount"],
                        help="biomass per volume (default) or per area (divided by the thickness)")
    parser.add_argument("--bandwidth", type=float, default=15.0, help="kernel bandwidth (cm, default 15)")
    parser.add_argument("--min-ratio", type=float, default=0.1,
                        help="least height of a secondary mode relative to the primary (default 0.1)")
    parser.add_argument("--properties", help="horizon table of other properties (for phi and relative concentration)")
    parser.add_argument("--property-cols", help="property columns, comma-separated")
    parser.add_argument("--property-site-col", help="site column of --properties (default --site-col)")
    parser.add_argument("--property-top-col", help="top depth column of --properties (default --top-col)")
    parser.add_argument("--property-bottom-col", help="bottom depth column of --properties (default --bottom-col)")
    add_output(parser, "--increments", suffixes=TABLE_SUFFIXES, help="write the site-mean root increments (table)")
    add_output(parser, "--plot", suffixes=PNG, help="root density with its modes (PNG)")
    parser.add_argument("--plot-site", help="site to plot (default: the first)")
