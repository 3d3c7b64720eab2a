"""CLI commands for radiocarbon: radiocarbon-age and radiocarbon-forward."""

import sys

from ..errors import InputError
from .common import PNG, TABLE_SUFFIXES, add_command, add_output, check_output_suffix, print_notes

AGE_HELP = """\
Radiocarbon age (turnover time) of bulk soil carbon with the one-pool model of METHODS
section 5: steady state with the pre-bomb atmosphere through 1949, then the annual
atmospheric record of the sample's zone (held constant within each year, solved exactly),
read at mid-year of the sampling year. Every decay rate k that reproduces the measurement
is found; the default age is 1/k of the slowest (smallest) root.

The default column names are ISRaD's, so an ISRaD layer export works as it is:

  wholesoil radiocarbon-age israd_layers.csv ages.csv
  wholesoil radiocarbon-age samples.csv ages.csv --d14c-col D14C --year-col year \\
      --lat-col lat --curve graven2017 --pre-bomb -25 --plot profile.png --profile P1

Δ14C (‰) is used where given, else the fraction modern (--fm-col) converted with the
sampling year (--prefer fm: the reverse). Rows whose Δ14C and Fm differ by more than 1 ‰
are noted (column d14c_fm_diff), as is a Δ14C column that looks like fraction modern
(every value between 0 and 2). The zone comes from --zone-col where it has a value, else from latitude
(hua2021: NH1 >= 40 N, NH2 20-40 N, NH3 0-20 N, SH12 0-40 S, SH3 beyond 40 S;
graven2017: NH >= 30 N, Tropics 30 S-30 N, SH beyond 30 S; ISRaD's pro_graven_zone
names work too).
--curve takes hua2021 (default), graven2017 or a CSV with a year column and one Δ14C
column per zone. Samples after the record's last year use an exponential extrapolation
fitted to its last 10 years and are flagged.

Pre-bomb atmosphere: --pre-bomb 0 (default, the published convention) holds a constant
Δ14C before 1950 (steady state); --pre-bomb history runs the model through the pre-bomb
history instead (IntCal20 / SHCal20 to 1849, Graven et al. 2017 from 1850; shipped
curves only). See docs/radiocarbon.md for how much the ages change.

Impossible values (Δ14C below -1000 ‰, negative Fm, sampling years outside 1800 to this
year, latitudes beyond ±90°) leave their row without an age (status impossible_input)
and are noted.

Output: the input columns plus k_slow, age_slow_yr, k_fast, age_fast_yr (yr-1, yr; fast
only when there are two or more roots), n_roots, status (ok, two_roots,
extrapolated_curve, out_of_range: no k reproduces the value, no age; missing_input,
impossible_input), zone and atm_d14c (the zone and the atmospheric Δ14C, ‰, forcing the
model in the sampling year) and d14c_fm_diff (Δ14C minus Δ14C from Fm, ‰).
"""

FORWARD_HELP = """\
Modelled bulk-soil Δ14C (‰) for a given decay rate or turnover time per row (the forward
one-pool model of radiocarbon-age, same options for year, zone and curve).

  wholesoil radiocarbon-forward sites.csv modelled.csv --age-col tau --year-col year --lat-col lat

Output: the input columns plus d14c_model, status (ok, extrapolated_curve, missing_input,
impossible_input), zone and atm_d14c.
"""


def pre_bomb(text):
    """--pre-bomb: a Δ14C in ‰ or 'history'."""
    from ..radiocarbon import HISTORY

    if text.strip().lower() == HISTORY:
        return HISTORY
    try:
        return float(text)
    except ValueError:
        raise InputError(f"--pre-bomb: give a Δ14C in ‰ or {HISTORY!r}, not {text!r}") from None


def _model_options(parser):
    group = parser.add_argument_group("sampling year, zone and atmosphere")
    group.add_argument("--year-col", default="lyr_obs_date_y", help="sampling year column (default lyr_obs_date_y)")
    group.add_argument("--lat-col", default="pro_lat", help="latitude column, decimal degrees (default pro_lat)")
    group.add_argument("--zone-col", help="atmospheric zone column (overrides latitude where given)")
    group.add_argument("--curve", default="hua2021",
                       help="hua2021 (default), graven2017 or a CSV file (year + one Δ14C column per zone)")
    group.add_argument("--pre-bomb", default="0", metavar="D14C|history",
                       help="pre-bomb atmosphere: a constant Δ14C in ‰ (default 0) or 'history'")
    group.add_argument("--lag", type=float, default=0.0, metavar="YEARS",
                       help="years between fixation and input to the soil (default 0)")


def run_radiocarbon_age(args):
    from ..radiocarbon import radiocarbon_age_table
    from ..tables import read_table, write_table

    check_output_suffix("OUTPUT", args.output, TABLE_SUFFIXES)
    if args.plot:
        check_output_suffix("--plot", args.plot, (".png",))
    table = read_table(args.input, args.layer)
    out, notes = radiocarbon_age_table(table, args.d14c_col or None, args.fm_col or None, args.year_col,
                                       args.lat_col, args.zone_col, args.curve, pre_bomb(args.pre_bomb), args.lag,
                                       args.prefer)
    if args.plot:
        figure = _profile_plot(args, table, out)
    write_table(out, args.output)
    if args.plot:
        from ..plots import save_png

        save_png(figure, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    counts = out["status"].value_counts()
    summary = ", ".join(f"{name} {counts.get(name, 0)}" for name in counts.index)
    print(f"{len(out)} samples: {summary}; wrote {args.output}", file=sys.stderr)
    print_notes(notes)
    return 0


def _profile_plot(args, table, out):
    """The profile figure for --profile (or the first profile with an age)."""
    from ..radiocarbon import profile_plot

    return profile_plot(table, out, args.profile, args.id_col, args.top_col, args.bottom_col, args.d14c_col or None,
                        args.fm_col or None, args.year_col, args.lat_col, args.zone_col, args.curve,
                        pre_bomb(args.pre_bomb), args.lag, args.prefer)[0]


def run_radiocarbon_forward(args):
    from ..radiocarbon import radiocarbon_forward_table
    from ..tables import read_table, write_table

    check_output_suffix("OUTPUT", args.output, TABLE_SUFFIXES)
    table = read_table(args.input, args.layer)
    out, notes = radiocarbon_forward_table(table, args.k_col, args.age_col, args.year_col, args.lat_col,
                                           args.zone_col, args.curve, pre_bomb(args.pre_bomb), args.lag)
    write_table(out, args.output)
    print(f"{len(out)} rows; wrote {args.output}", file=sys.stderr)
    print_notes(notes)
    return 0


def register(commands):
    parser = add_command(commands, "radiocarbon-age", run_radiocarbon_age,
                         "radiocarbon age of soil layers: every root of the one-pool model", AGE_HELP)
    parser.add_argument("input", help="table of samples (CSV, GeoPackage...)")
    add_output(parser, "output", suffixes=TABLE_SUFFIXES, layer_option=True, help="output table (.csv or .gpkg)")
    parser.add_argument("--layer", help="layer name inside a multi-layer input file")
    parser.add_argument("--d14c-col", default="lyr_14c", help="Δ14C column, ‰ (default lyr_14c; '' for none)")
    parser.add_argument("--fm-col", default="lyr_fraction_modern",
                        help="fraction modern column, used where Δ14C is empty (default lyr_fraction_modern)")
    parser.add_argument("--prefer", choices=["d14c", "fm"], default="d14c",
                        help="where a row has both Δ14C and Fm, the one the ages use (default d14c)")
    _model_options(parser)
    plot = parser.add_argument_group("profile plot")
    add_output(plot, "--plot", suffixes=PNG,
               help="write a PNG: Δ14C, age and Ibulk against depth and the forward curves")
    plot.add_argument("--profile", help="profile to plot (default: the first with an age)")
    plot.add_argument("--id-col", default="profile_id", help="profile id column (default profile_id)")
    plot.add_argument("--top-col", default="lyr_top", help="layer top column, cm (default lyr_top)")
    plot.add_argument("--bottom-col", default="lyr_bot", help="layer bottom column, cm (default lyr_bot)")

    parser = add_command(commands, "radiocarbon-forward", run_radiocarbon_forward,
                         "modelled Δ14C for a decay rate or turnover time per row", FORWARD_HELP)
    parser.add_argument("input", help="table (CSV, GeoPackage...)")
    add_output(parser, "output", suffixes=TABLE_SUFFIXES, layer_option=True, help="output table (.csv or .gpkg)")
    parser.add_argument("--layer", help="layer name inside a multi-layer input file")
    rate = parser.add_mutually_exclusive_group(required=True)
    rate.add_argument("--k-col", help="decay rate column (yr-1)")
    rate.add_argument("--age-col", help="turnover time column (yr)")
    _model_options(parser)
