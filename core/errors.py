"""Exceptions shared by the library, the CLI and the Processing algorithms."""


class WholesoilError(Exception):
    """Base class of every error wholesoil raises on purpose."""


class InputError(WholesoilError, ValueError):
    """Bad input: the message names the parameter, column, rows or file at fault."""


class CancelledError(WholesoilError):
    """The caller's cancel check returned True; partial results were discarded."""

    def __init__(self, message="cancelled by the user"):
        super().__init__(message)


def describe_rows(index, limit=5):
    """Short human list of row labels, e.g. ``rows 3, 7, 9 (and 12 more)``."""
    labels = [str(i) for i in list(index)]
    if not labels:
        return "no rows"
    head = ", ".join(labels[:limit])
    more = f" (and {len(labels) - limit} more)" if len(labels) > limit else ""
    word = "row" if len(labels) == 1 else "rows"
    return f"{word} {head}{more}"
