"""The ``wholesoil`` command-line program: one subcommand per Processing algorithm.

Each module named in ``COMMAND_MODULES`` defines ``register(subparsers)``, which adds its
subcommands and sets ``run`` (a function of the parsed arguments) on each. Bad input ends
with exit code 2 and a one-line message on stderr; nothing is written.
"""

import gc
import importlib
import sys

from ..errors import CancelledError, InputError
from ..outputs import OutputTransaction, Terminated, clean_up_on_signals
from .common import OneLineParser, check_outputs, end_progress_line, print_notes

COMMAND_MODULES = ["depth", "demo", "profiles", "radiocarbon", "balance", "models", "maps", "products", "aggregate"]


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
    parser.commands = commands
    return parser


def main(argv=None):
    """Entry point of the ``wholesoil`` program; returns the exit code.

    A command's outputs are checked before it starts and moved into place together when
    it ends; on an error, a cancel or SIGTERM/SIGHUP none of them is left behind.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    prefix = f"wholesoil {args.command}"
    try:
        with clean_up_on_signals(), OutputTransaction(tell=_tell) as outputs:
            check_outputs(parser.commands.choices[args.command], args)
            code = _run(args) or 0
    except InputError as error:
        end_progress_line()
        print(f"{prefix}: error: {error}", file=sys.stderr)
        return 2
    except Terminated as signal:
        end_progress_line()
        print(f"{prefix}: stopped by {signal}; nothing was written", file=sys.stderr)
        return 128 + signal.signum
    except (CancelledError, KeyboardInterrupt):
        end_progress_line()
        print(f"{prefix}: cancelled; nothing was written", file=sys.stderr)
        return 130
    print_notes(outputs.notes)
    return code


def _tell(text):
    end_progress_line()
    print(f"{text}...", file=sys.stderr, flush=True)


def _run(args):
    """Run the parsed command. Ctrl-C or SIGTERM arriving while compiled code (numba) runs
    reaches Python as SystemErrors ("returned a result with an exception set") caused by
    the interruption: it ends the command as the interruption itself does."""
    try:
        return args.run(args)
    except SystemError as error:
        cause = error.__cause__
        while isinstance(cause, SystemError):
            cause = cause.__cause__
        if isinstance(cause, KeyboardInterrupt):
            raise cause from None
        raise


def program():
    """The ``wholesoil`` program: run :func:`main` on the command line's arguments and exit."""
    use_standard_distutils()
    finish(main())


def use_standard_distutils():
    """Let ``import distutils`` take the standard library's module, not setuptools' copy.

    joblib (under scikit-learn) imports distutils for a side effect only; setuptools' shim
    (``distutils-precedence.pth``, as ``SETUPTOOLS_USE_DISTUTILS=local``) turns that import
    into importing setuptools and pkg_resources: 0.17 s of every command that fits or
    predicts. Nothing changes where the standard library has no distutils (Python 3.12+).
    """
    from importlib.machinery import PathFinder

    shim = sys.modules.get("_distutils_hack")
    if shim is not None and "distutils" not in sys.modules and PathFinder.find_spec("distutils") is not None:
        shim.remove_shim()


def finish(code):
    """Exit with ``code``, leaving the process's objects to the operating system: Python's
    collections at exit would only walk them (0.3-0.5 s after a map).

    Objects frozen here are never finalised by the collector; that is safe because every
    output is closed and moved into place before :func:`main` returns.
    """
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    program()
