"""Depth layer schemes: contiguous, increasing, non-negative depth intervals (cm)."""

import math
import re
from dataclasses import dataclass

import numpy as np

from .errors import InputError

#: Named schemes (depth breaks in cm). ``standard7``: the Luo et al. BNPP and Iloss studies, 7 layers to 2 m;
#: ``standard5``: Wang et al. 2024, five 20 cm layers to 1 m; ``globalsoilmap``: GlobalSoilMap.
NAMED_SCHEMES = {
    "standard7": (0, 20, 40, 60, 80, 100, 150, 200),
    "standard5": (0, 20, 40, 60, 80, 100),
    "globalsoilmap": (0, 5, 15, 30, 60, 100, 200),
}
DEFAULT_SCHEME = "standard7"


def format_depth(value):
    """Depth as short text: 20.0 -> '20', 2.5 -> '2.5'."""
    return f"{float(value):g}"


@dataclass(frozen=True)
class LayerScheme:
    """Contiguous depth layers given by their breaks (cm), e.g. (0, 20, 40)."""

    breaks: tuple
    name: str = "custom"

    def __post_init__(self):
        breaks = tuple(float(b) for b in self.breaks)
        if len(breaks) < 2:
            raise InputError("layers: at least one layer (two depths) is needed")
        for b in breaks:
            if not math.isfinite(b):
                raise InputError(f"layers: depth {b} is not a finite number")
            if b < 0:
                raise InputError(f"layers: negative depth {format_depth(b)} cm (depths are cm below the mineral soil "
                                 "surface, positive down; to use organic horizons above it, keep them with the "
                                 "organic option, which measures depths from the top of the organic layer)")
        for upper, lower in zip(breaks[:-1], breaks[1:]):
            if lower <= upper:
                raise InputError(f"layers: depths must increase, but {format_depth(lower)} cm "
                                 f"follows {format_depth(upper)} cm")
        object.__setattr__(self, "breaks", breaks)

    @classmethod
    def from_intervals(cls, intervals, name="custom"):
        """Build from (top, bottom) pairs; they must be contiguous and not overlap."""
        pairs = [(float(t), float(b)) for t, b in intervals]
        if not pairs:
            raise InputError("layers: at least one layer is needed")
        for top, bottom in pairs:
            if bottom <= top:
                raise InputError(f"layers: layer {format_depth(top)}-{format_depth(bottom)} cm "
                                 "has its bottom above or at its top")
        for (t0, b0), (t1, b1) in zip(pairs[:-1], pairs[1:]):
            if t1 < b0:
                raise InputError(f"layers: {format_depth(t1)}-{format_depth(b1)} cm overlaps "
                                 f"{format_depth(t0)}-{format_depth(b0)} cm")
            if t1 > b0:
                raise InputError(f"layers: gap between {format_depth(b0)} and {format_depth(t1)} cm "
                                 "(layers must be contiguous)")
        return cls(tuple([pairs[0][0]] + [b for _, b in pairs]), name)

    @property
    def tops(self):
        """Top depth of each layer (cm)."""
        return np.asarray(self.breaks[:-1])

    @property
    def bottoms(self):
        """Bottom depth of each layer (cm)."""
        return np.asarray(self.breaks[1:])

    @property
    def thickness(self):
        """Thickness of each layer (cm)."""
        return self.bottoms - self.tops

    @property
    def midpoints(self):
        """Mid-depth of each layer (cm)."""
        return (self.tops + self.bottoms) / 2.0

    def __len__(self):
        return len(self.breaks) - 1

    @property
    def labels(self):
        """Layer labels such as '0-20'."""
        return [f"{format_depth(t)}-{format_depth(b)}" for t, b in zip(self.tops, self.bottoms)]

    def column_names(self, prefix):
        """Column/band names such as 'frac_0_20' (a decimal point becomes 'p')."""
        return [f"{prefix}_{format_depth(t)}_{format_depth(b)}".replace(".", "p")
                for t, b in zip(self.tops, self.bottoms)]

    def __str__(self):
        return ",".join(format_depth(b) for b in self.breaks)


_INTERVAL = re.compile(r"^\s*([-+0-9.eE]+)\s*-\s*([-+0-9.eE]+)\s*$")


def layer_scheme(spec=None):
    """A LayerScheme from a name, '0,20,40' breaks, '0-20,20-40' intervals or a sequence.

    ``None`` gives the default scheme (``standard7``: 7 layers to 2 m).
    """
    if spec is None:
        spec = DEFAULT_SCHEME
    if isinstance(spec, LayerScheme):
        return spec
    if isinstance(spec, str):
        text = spec.strip()
        if text.lower() in NAMED_SCHEMES:
            return LayerScheme(NAMED_SCHEMES[text.lower()], text.lower())
        parts = [p for p in re.split(r"[,;\s]+", text) if p]
        if not parts:
            raise InputError("layers: empty layer specification")
        if all(_INTERVAL.match(p) and not p.lstrip().startswith("-") for p in parts):
            return LayerScheme.from_intervals(_INTERVAL.match(p).groups() for p in parts)
        try:
            breaks = tuple(float(p) for p in parts)
        except ValueError:
            names = ", ".join(NAMED_SCHEMES)
            raise InputError(f"layers: cannot read {spec!r}; give depths like '0,20,40', "
                             f"intervals like '0-20,20-40' or one of: {names}") from None
        return LayerScheme(breaks)
    items = list(spec)
    if items and all(isinstance(i, (tuple, list)) for i in items):
        return LayerScheme.from_intervals(items)
    return LayerScheme(tuple(items))
