"""Soil organic carbon density of a layer (METHODS section 3, Wang et al. 2024 eq. 1).

density [Mg C ha-1] = SOC [g kg-1] x BD [g cm-3] x thickness [cm] / 10 x (1 - coarse fragments)
"""

import numpy as np

from .errors import InputError

#: Bulk density above this (g cm-3) is impossible for soil (quartz is 2.65).
MAX_BULK_DENSITY = 2.65


def _count(mask):
    return f"{int(np.sum(mask))} value(s)"


def check_soc_units(soc=None, bulk_density=None, thickness=None, coarse_fraction=None):
    """Raise InputError for values outside their physical range, guessing the unit slip."""
    with np.errstate(invalid="ignore"):
        if soc is not None:
            soc = np.asarray(soc, dtype=float)
            if np.any(soc < 0):
                raise InputError(f"organic carbon must not be negative ({_count(soc < 0)})")
            if np.any(soc > 1000):
                raise InputError(f"organic carbon above 1000 g kg-1 ({_count(soc > 1000)}): "
                                 "give it in g kg-1 (1 % = 10 g kg-1)")
        if bulk_density is not None:
            bd = np.asarray(bulk_density, dtype=float)
            if np.any(bd <= 0):
                raise InputError(f"bulk density must be positive ({_count(bd <= 0)})")
            if np.any(bd > MAX_BULK_DENSITY):
                hint = " (it looks like kg m-3; divide by 1000)" if np.nanmax(bd) > 100 else ""
                raise InputError(f"bulk density above {MAX_BULK_DENSITY} g cm-3 ({_count(bd > MAX_BULK_DENSITY)})"
                                 f"{hint}; give it in g cm-3")
        if thickness is not None:
            th = np.asarray(thickness, dtype=float)
            if np.any(th <= 0):
                raise InputError(f"layer thickness must be positive ({_count(th <= 0)})")
        if coarse_fraction is not None:
            cf = np.asarray(coarse_fraction, dtype=float)
            if np.any((cf < 0) | (cf >= 1)):
                hint = " (it looks like %; divide by 100)" if np.nanmax(cf) > 1 else ""
                raise InputError(f"coarse fragment fraction must be in [0, 1) ({_count((cf < 0) | (cf >= 1))})"
                                 f"{hint}")


def soc_density(soc, bulk_density, thickness, coarse_fraction=None):
    """SOC density of a layer in Mg C ha-1.

    soc: organic carbon, g kg-1; bulk_density: fine-earth bulk density, g cm-3;
    thickness: cm; coarse_fraction: volume fraction (0-1) of coarse fragments, optional.
    Broadcasts over arrays; NaN in gives NaN out.
    """
    check_soc_units(soc, bulk_density, thickness, coarse_fraction)
    density = np.asarray(soc, dtype=float) * np.asarray(bulk_density, dtype=float) \
        * np.asarray(thickness, dtype=float) / 10.0
    if coarse_fraction is not None:
        density = density * (1.0 - np.asarray(coarse_fraction, dtype=float))
    return density
