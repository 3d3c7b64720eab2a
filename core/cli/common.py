"""Helpers shared by the CLI commands: parsing, value resolution, progress and output."""

import argparse
import math
import os
import re
import sys

from ..errors import InputError

RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".asc", ".img", ".nc", ".bil", ".grd")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".gpkg", ".geojson", ".json", ".shp", ".fgb")


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
    return isinstance(text, str) and text.lower().endswith(RASTER_SUFFIXES)


def resolve_value(option, text, table=None):
    """A number, a raster path or a column name, from the text of an option.

    Numbers are constants and must be finite ('nan' and 'inf' are refused); an existing file
    with a raster extension is a raster; any other text is a column of ``table`` (an error when
    there is no table).
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
        if not os.path.exists(text):
            raise InputError(f"{option}: raster {text} does not exist")
        return text
    if table is None:
        raise InputError(f"{option}: {text!r} is not a number or an existing raster file, "
                         "and no --input table was given to take it as a column")
    if text not in table.columns:
        raise InputError(f"{option}: the input table has no column {text!r}")
    return text


def add_engine_options(parser):
    """Options for block-wise raster work."""
    group = parser.add_argument_group("raster processing")
    group.add_argument("--jobs", type=int, default=1, metavar="N",
                       help="parallel workers for raster blocks (default 1; -1 = all cores)")
    group.add_argument("--backend", default="loky", choices=["loky", "threading"],
                       help="joblib backend: processes (loky, default) or threads")
    group.add_argument("--block", type=int, default=512, metavar="PIXELS",
                       help="block size in pixels (default 512)")


def engine_options(args, quiet=False):
    """Keyword arguments for core raster functions from the parsed options."""
    return {"n_jobs": args.jobs, "backend": args.backend, "block": args.block,
            "progress": None if quiet or getattr(args, "quiet", False) else ProgressPrinter()}


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


def check_output_suffix(option, path, suffixes):
    """Raise InputError unless ``path`` ends with one of ``suffixes``."""
    if not str(path).lower().endswith(tuple(suffixes)):
        raise InputError(f"{option}: {path} should end with one of {', '.join(suffixes)}")
    folder = os.path.dirname(os.path.abspath(str(path)))
    if not os.path.isdir(folder):
        raise InputError(f"{option}: folder {folder} does not exist")


def print_table(table, stream=None, float_format="%.6g"):
    """Print a small DataFrame as aligned text."""
    stream = stream or sys.stdout
    stream.write(table.to_string(index=False, float_format=lambda v: float_format % v) + "\n")


def print_notes(notes):
    """Print a core function's notes for the user to stderr, one line each."""
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
