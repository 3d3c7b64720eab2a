"""Physical limits of input values, checked in one place for the radiocarbon and balance tables.

The project's per-row convention (docs/DEVELOPING.md): a table row with an impossible value
(outside its :class:`Limits`, or infinite) gets no result and is named in a note; an empty
cell is missing, not impossible. A number given as a parameter, or an array given to a
core function, must be possible (an InputError otherwise). When every row that has a value
is impossible, the column or its unit is wrong: an InputError.
"""

from dataclasses import dataclass

import numpy as np

from .errors import InputError, describe_rows


@dataclass(frozen=True)
class Limits:
    """Possible values of one quantity: finite, from ``low`` to ``high`` (``open_low``/``open_high``
    exclude the bound). ``what`` names the quantity with its unit, for messages."""

    what: str
    low: float = -np.inf
    high: float = np.inf
    open_low: bool = False
    open_high: bool = False

    @property
    def rule(self):
        """The rule in words, e.g. 'finite and between 0 and 1' or 'finite and above 0'."""
        low = f"{'above' if self.open_low else 'at least'} {self.low:g}"
        high = f"{'below' if self.open_high else 'at most'} {self.high:g}"
        if np.isfinite(self.low) and np.isfinite(self.high):
            bounds = f"between {self.low:g} and {self.high:g}" if not (self.open_low or self.open_high) \
                else f"{low} and {high}"
        else:
            bounds = low if np.isfinite(self.low) else high if np.isfinite(self.high) else None
        return f"finite and {bounds}" if bounds else "finite"

    def impossible(self, values):
        """True where a value is infinite or outside the limits (NaN, missing, is not impossible)."""
        values = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            below = values <= self.low if self.open_low else values < self.low
            above = values >= self.high if self.open_high else values > self.high
        return np.isinf(values) | below | above

    def require(self, values, name=None, labels=None):
        """Raise InputError if any value (a parameter, or an array: its rows are named) is impossible.

        labels: row labels of an array (default 1-based positions).
        """
        values = np.asarray(values, dtype=float)
        bad = self.impossible(values)
        if not np.any(bad):
            return
        text = f"{name or self.what} must be {self.rule} (got {values[bad].reshape(-1)[0]:g})"
        if values.ndim:
            labels = np.arange(1, values.size + 1) if labels is None else np.asarray(labels)
            text += f" in {describe_rows(labels.reshape(-1)[bad.reshape(-1)])}"
        raise InputError(text)

    def screen(self, values, column, labels=None):
        """(values with NaN where impossible, impossible mask, notes) for a table column.

        labels: row labels for the notes (default 1-based positions). InputError when every
        row with a value is impossible.
        """
        values = np.array(values, dtype=float)
        bad = self.impossible(values)
        if not bad.any():
            return values, bad, []
        labels = np.arange(1, values.size + 1) if labels is None else np.asarray(labels)
        text = f"column {column!r}: {self.what} must be {self.rule}"
        if bad.sum() == (~np.isnan(values)).sum():
            raise InputError(f"{text}; no row has a possible value (is it the right column, in the right unit?)")
        values[bad] = np.nan
        return values, bad, [f"{text}; impossible values, rows left without a result: {describe_rows(labels[bad])}"]
