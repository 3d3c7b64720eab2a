"""CLI command aggregate: totals, area-weighted means, zones and latitude profiles of a map."""

import os
import sys

from ..errors import InputError
from .common import (PNG, TABLE_SUFFIXES, ProgressPrinter, add_command, add_output, positive_int, print_notes,
                     print_table)

AGGREGATE_HELP = """\
Totals and area-weighted statistics of a map, over the whole raster, per zone (polygons or
a class raster on the same grid) and per latitude band: one row per zone and raster band
with zoning (all, zones, latitude), zone, band, unit, count (valid cells), area_ha,
mean (area-weighted), sd (area-weighted spread across cells), total (value x area in ha,
so Mg for Mg ha-1), total_unit, and where the unit is a mass per area total_pg and
total_pg_unit (Pg C yr-1 for Mg C ha-1 yr-1 or g C m-2 yr-1).

  wholesoil aggregate bnpp_map.tif --output bnpp_totals.csv --latitude-bands 1 --plot bnpp.png
  wholesoil aggregate rh_map.tif --output rh_biomes.csv --zones biomes.gpkg --zone-field BIOME
  wholesoil aggregate beta.tif --output beta_biomes.csv --zone-raster biomes.tif --units 1

Cell areas: exact ellipsoidal areas on the raster CRS's own ellipsoid for geographic grids,
planar areas for projected grids (a note says how far they are off when the projection is
not equal-area). Nodata cells are left out band by band. A polygon zone holds the cells
whose centre it contains; latitude bands go by cell-centre latitude.

Uncertainty of a total: a band <name>_sd next to <name>_mean (what predict-raster writes),
or a pair given with --sd-band, adds total_sd_independent = sqrt(sum (sd x area)^2) (cell
errors independent) and total_sd_correlated = sum sd x area (fully correlated): the truth
lies between the two for spatially correlated errors.

Units come from each band's 'units' metadata (predict-raster writes it), else --units.
The raster is read window by window: memory does not grow with its size.
"""


def _pairs(items, option):
    """{left: right} from LEFT=RIGHT items."""
    pairs = {}
    for item in items or []:
        left, sep, right = item.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise InputError(f"{option}: {item!r} should be NAME=VALUE")
        pairs[left.strip()] = right.strip()
    return pairs


def run_aggregate(args):
    from ..maps.aggregate import aggregate_raster, aggregation_figure
    from ..plots import save_png
    from ..tables import read_table, write_table

    if args.zone_field and not args.zones:
        raise InputError("--zone-field goes with --zones (polygons)")
    zones = read_table(args.zones, args.zones_layer) if args.zones else None
    units = [u for u in args.units or [] if "=" not in u]
    if len(units) > 1:
        raise InputError(f"--units: give one unit for every band, or BAND=UNIT pairs (got {', '.join(units)})")
    bands = [b.strip() for b in args.bands.split(",") if b.strip()] if args.bands else None
    table, notes = aggregate_raster(
        args.raster, bands=bands, zones=zones, zone_field=args.zone_field, zone_raster=args.zone_raster,
        latitude_bands=args.latitude_bands, units=units[0] if units else None,
        band_units=_pairs([u for u in args.units or [] if "=" in u], "--units"),
        sd_bands=_pairs(args.sd_band, "--sd-band"), block=args.block,
        progress=None if args.quiet else ProgressPrinter())
    write_table(table, args.output)
    if args.plot:
        save_png(aggregation_figure(table, f"Aggregation of {os.path.basename(args.raster)}"), args.plot)
    print_notes(notes)
    shown = [c for c in ("band", "count", "area_ha", "mean", "sd", "total", "total_unit", "total_pg",
                         "total_pg_sd_independent", "total_pg_sd_correlated") if c in table]
    print_table(table.loc[table["zoning"] == "all", shown])
    print(f"wrote {args.output} ({len(table)} rows)" + (f" and {args.plot}" if args.plot else ""), file=sys.stderr)
    return 0


def register(commands):
    parser = add_command(commands, "aggregate", run_aggregate,
                         "totals and area-weighted means of a map, per zone and latitude band", AGGREGATE_HELP)
    parser.add_argument("raster", metavar="RASTER", help="the map (GeoTIFF...; one or more bands)")
    add_output(parser, "--output", suffixes=TABLE_SUFFIXES, required=True, metavar="TABLE",
               help="output table (.csv, .gpkg...)")
    zoning = parser.add_mutually_exclusive_group()
    zoning.add_argument("--zones", metavar="POLYGONS", help="zone polygons (GeoPackage, Shapefile, GeoJSON...)")
    zoning.add_argument("--zone-raster", metavar="CLASSES", help="class raster on the map's grid (e.g. biomes)")
    parser.add_argument("--zone-field", metavar="FIELD", help="the field of --zones naming each zone")
    parser.add_argument("--zones-layer", metavar="NAME", help="layer name inside a multi-layer --zones file")
    parser.add_argument("--latitude-bands", type=float, metavar="DEG",
                        help="also summarise per band of DEG degrees of cell-centre latitude (e.g. 1)")
    add_output(parser, "--plot", suffixes=PNG, metavar="FILE.png",
               help="picture of the latitude profile and the zone table")
    parser.add_argument("--bands", metavar="LIST", help="bands to summarise, by name or number (default all)")
    parser.add_argument("--units", nargs="+", metavar="UNIT",
                        help="unit of bands without 'units' metadata (e.g. \"Mg C ha-1 yr-1\"), or BAND=UNIT pairs "
                             "that override it")
    parser.add_argument("--sd-band", nargs="+", metavar="BAND=SD_BAND",
                        help="the sd band of a band, beyond the <name>_mean / <name>_sd convention")
    parser.add_argument("--block", type=positive_int, metavar="PIXELS",
                        help="window size in pixels (default: from a 512 MB memory budget)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
