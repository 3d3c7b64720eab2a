"""Helpers shared by the CLI commands: parsing, value resolution, progress and output."""

import argparse
import math
import os
import re
import sys

from ..errors import InputError
from ..outputs import check_distinct_outputs, check_output_suffix, register_input, set_output_layer, subdataset


RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".asc", ".img", ".nc", ".bil", ".grd")
TABLE_SUFFIXES = (".csv", ".txt", ".gpkg", ".geojson", ".json", ".shp", ".fgb")
PNG = (".png",)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr and exit code 2.

    A value starting with '-' and a digit or 'inf' (``--layers -10,0,20``, ``--vlow -inf``) is a
    value, not an option: no option of wholesoil looks like a negative number.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-(\.?\d|inf)", re.IGNORECASE)  # "looks like a number"

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def add_command(commands, name, run, help_text, description=None):
    """Add a subcommand whose ``--help`` shows ``description`` (plain text) verbatim."""
    parser = commands.add_parser(name, help=help_text, description=description or help_text,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(run=run)
    return parser


def is_raster_path(text):
    """Whether option text names a raster: a file with a raster extension, or a GDAL source (GPKG:x.gpkg:table,
    NETCDF:"x.nc":variable, /vsizip/...)."""
    from ..rasters import gdal_source

    return isinstance(text, str) and (text.lower().endswith(RASTER_SUFFIXES) or gdal_source(text))


def resolve_value(option, text, table=None):
    """A number, a raster path or a column name, from the text of an option.

    Numbers are constants and must be finite ('nan' and 'inf' are refused); a file with a raster
    extension, or a GDAL source (:func:`is_raster_path`), is a raster (an error when GDAL cannot
    read it); any other text is a column of ``table`` (an error when there is no table).
    """
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number):
            raise InputError(f"{option}: {text} is not a finite number")
        return number
    if is_raster_path(text):
        from ..rasters import raster_info

        try:
            raster_info(text)
        except InputError as error:
            raise InputError(f"{option}: {error}") from None
        return text
    if os.path.isdir(text):
        raise InputError(f"{option}: {text} is a folder, not a raster file or a number")
    if table is None:
        raise InputError(f"{option}: {text!r} is not a number or an existing raster file, "
                         "and no --input table was given to take it as a column")
    if text not in table.columns:
        raise InputError(f"{option}: the input table has no column {text!r}")
    return text


def _whole_number(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def worker_count(text):
    """argparse type of --jobs: a whole number other than 0 (-1 = all cores)."""
    value = _whole_number(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 workers: give 1 or more, or -1 for all cores")
    return value


def positive_int(text):
    """argparse type of counts and sizes that must be at least 1."""
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small: give 1 or more")
    return value


def open_fraction(text):
    """argparse type of a share such as a hold-out fraction: a number above 0 and below 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction: give a number above 0 and below 1 (e.g. 0.2)")
    return value


def add_engine_options(parser):
    """Options for block-wise raster work (see :func:`wholesoil.core.maps.engine.map_blocks`)."""
    group = parser.add_argument_group("raster processing")
    group.add_argument("--jobs", type=worker_count, default=1, metavar="N",
                       help="parallel workers for raster blocks on this machine (default 1; -1 = all cores, -2 = all "
                            "but one; with --backend dask the cluster's workers are used)")
    group.add_argument("--backend", default="threading", choices=["threading", "loky", "dask"],
                       help="workers: threads (default), processes (loky), or a Dask cluster (with --scheduler)")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler for --backend dask, e.g. tcp://10.0.0.5:8786 (its workers must run this "
                            "wholesoil: python -m distributed.cli.dask_worker ADDRESS, and see the input files at the "
                            "same paths; the output is written here)")
    group.add_argument("--block", type=positive_int, metavar="PIXELS",
                       help="window size in pixels (default: from a 512 MB memory budget and the inputs' tiling)")
    group.add_argument("--quiet", action="store_true", help="no progress on stderr")


def engine_options(args):
    """Keyword arguments for core raster functions from the parsed options."""
    if args.scheduler and args.backend != "dask":
        raise InputError("--scheduler goes with --backend dask")
    return {"n_jobs": args.jobs, "backend": args.backend, "block": args.block, "scheduler": args.scheduler,
            "progress": None if args.quiet else ProgressPrinter()}


class ProgressPrinter:
    """Print progress to stderr as qgis_process does: 0...10...20...100."""

    #: True while a progress line is unfinished (a message must then start on a new line).
    line_open = False

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.last = -10

    def __call__(self, percent):
        while percent >= self.last + 10 and self.last < 100:
            self.last += 10
            self.stream.write(f"{self.last}" + ("\n" if self.last >= 100 else "..."))
            self.stream.flush()
            ProgressPrinter.line_open = self.last < 100


def end_progress_line(stream=None):
    """End an unfinished progress line so that the next message starts on its own line."""
    if ProgressPrinter.line_open:
        (stream or sys.stderr).write("\n")
        ProgressPrinter.line_open = False


def add_where_option(parser):
    """``--where COLUMN=VALUE`` (repeatable): the rows to keep (``core.horizons.select_rows``)."""
    parser.add_argument("--where", action="append", metavar="COLUMN=VALUE",
                        help="keep only rows where COLUMN equals VALUE (repeatable; also !=, and <, <=, >, >= "
                             "with numbers; no VALUE: empty cells), e.g. rootStatus=live, observed_depth_cm>=100, "
                             "Manipulation=")


def selected_rows(table, args):
    """``table`` filtered by the command's ``--where`` conditions (all of them)."""
    from ..horizons import select_rows

    return select_rows(table, args.where) if getattr(args, "where", None) else table


def add_output(parser, *names, suffixes, layer_option=False, **kwargs):
    """Add an argument naming an output file with the suffixes it takes.

    The CLI checks every declared output before the command starts (suffix, folder,
    permissions, not an input, not named twice), so a bad one stops it before any work.
    ``layer_option`` adds ``--output-layer NAME``: the layer written (or replaced) in a
    GeoPackage, whose other layers are kept (default: the file name's stem).
    """
    action = parser.add_argument(*names, **kwargs)
    action.output_suffixes = tuple(suffixes)
    if layer_option:
        action.layer_dest = "output_layer"
        parser.add_argument("--output-layer", metavar="NAME",
                            help="GeoPackage output: the layer to write or replace; other layers of an "
                                 "existing file are kept (default: the file name without .gpkg)")
    return action


def _label(action):
    return action.option_strings[-1] if action.option_strings else (action.metavar or action.dest.upper())


def _file_values(value):
    """Existing files named by an argument value ('x.csv', ['a=b.tif', ...], 'GPKG:x.gpkg:table' names x.gpkg,
    'a=b.tif:2' (a band) b.tif)."""
    from ..maps.bands import split_reference

    values = value if isinstance(value, (list, tuple)) else [value]
    files = []
    for text in values:
        if isinstance(text, str):
            for candidate in {text, text.split("=", 1)[-1]}:
                found = subdataset(candidate) or (split_reference(candidate)[0],)
                files += [found[0]] if os.path.isfile(found[0]) else [candidate] if os.path.isfile(candidate) else []
    return files


def check_outputs(command, args):
    """Check every output declared with :func:`add_output` against the command's other arguments.

    Every other argument naming an existing file is taken as an input and registered with
    the current output transaction; an output that resolves to an input is refused.
    """
    outputs = [(action, getattr(args, action.dest)) for action in command._actions
               if hasattr(action, "output_suffixes") and getattr(args, action.dest, None)]
    declared = {action.dest for action, _ in outputs}
    inputs = [path for action in command._actions if action.dest not in declared
              for path in _file_values(getattr(args, action.dest, None))]
    for path in inputs:
        register_input(path)
    check_distinct_outputs([(_label(action), path) for action, path in outputs])
    for action, path in outputs:
        check_output_suffix(_label(action), path, action.output_suffixes)
        layer = getattr(args, getattr(action, "layer_dest", ""), None)
        if layer and not str(path).lower().endswith(".gpkg"):
            raise InputError(f"--output-layer names a layer inside a GeoPackage; {path} is not one (.gpkg)")
        if layer:
            set_output_layer(path, layer)


def print_table(table, stream=None, float_format="%.6g"):
    """Print a small DataFrame as aligned text."""
    stream = stream or sys.stdout
    stream.write(table.to_string(index=False, float_format=lambda v: float_format % v) + "\n")


def print_notes(notes):
    """Print a core function's notes for the user to stderr, one line each."""
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
