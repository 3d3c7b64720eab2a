"""Progress reporting and cancellation for long-running core functions.

Core functions take two plain callables, both optional:

* ``progress(percent)``: called with a float from 0 to 100;
* ``is_cancelled()``: returns True when the caller wants the work stopped.

:class:`Progress` bundles them, maps sub-steps onto a part of the 0-100 range and
raises :class:`~wholesoil.core.errors.CancelledError` when a cancel is requested.
"""

from .errors import CancelledError


class Progress:
    """Report progress over ``[start, stop]`` percent and check for cancellation."""

    def __init__(self, progress=None, is_cancelled=None, start=0.0, stop=100.0):
        self.callback = progress
        self.is_cancelled = is_cancelled
        self.start = float(start)
        self.stop = float(stop)

    def check(self):
        """Raise CancelledError if the caller asked to cancel."""
        if self.is_cancelled is not None and self.is_cancelled():
            raise CancelledError()

    def update(self, fraction):
        """Report that ``fraction`` (0-1) of this step is done, then check for cancel."""
        if self.callback is not None:
            fraction = min(max(float(fraction), 0.0), 1.0)
            self.callback(self.start + fraction * (self.stop - self.start))
        self.check()

    def sub(self, first, last):
        """A Progress for the part ``first``-``last`` (fractions 0-1) of this step."""
        span = self.stop - self.start
        return Progress(self.callback, self.is_cancelled,
                        self.start + first * span, self.start + last * span)


def as_progress(progress=None, is_cancelled=None):
    """Accept either a Progress or the two plain callables."""
    if isinstance(progress, Progress):
        return progress
    return Progress(progress, is_cancelled)
