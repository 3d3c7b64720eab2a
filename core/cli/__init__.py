"""The ``wholesoil`` command-line program: one subcommand per Processing algorithm.

Each module named in ``COMMAND_MODULES`` defines ``register(subparsers)``, which adds its
subcommands and sets ``run`` (a function of the parsed arguments) on each. Bad input ends
with exit code 2 and a one-line message on stderr; nothing is written.
"""

import importlib
import sys

from ..errors import CancelledError, InputError
from .common import OneLineParser, end_progress_line

COMMAND_MODULES = ["depth", "demo", "profiles", "radiocarbon", "balance", "models"]


def build_parser():
    """The argument parser with every subcommand registered."""
    from ... import __version__

    parser = OneLineParser(
        prog="wholesoil",
        description="Whole-soil-profile carbon analysis from the command line. "
                    "Run 'wholesoil COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"wholesoil {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    commands.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(commands)
    return parser


def main(argv=None):
    """Entry point of the ``wholesoil`` program; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except InputError as error:
        end_progress_line()
        print(f"wholesoil {args.command}: error: {error}", file=sys.stderr)
        return 2
    except (CancelledError, KeyboardInterrupt):
        end_progress_line()
        print(f"wholesoil {args.command}: cancelled; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
