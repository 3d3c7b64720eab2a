"""Soil organic carbon density of a layer (METHODS section 3, Wang et al. 2024 eq. 1).

density [Mg C ha-1] = SOC [g kg-1] x BD [g cm-3] x thickness [cm] / 10 x (1 - coarse fragments)
"""

import numpy as np

from .errors import InputError

#: Bulk density above this (g cm-3) is impossible for soil (quartz is 2.65).
MAX_BULK_DENSITY = 2.65
#: Units of organic carbon concentration and their factor to g kg-1 (the names bulk-inputs uses).
OC_UNITS = {"percent": 10.0, "g_kg": 1.0}
#: Organic matter is at most about 58 % carbon: more organic carbon than this (g kg-1) is implausible.
MAX_ORGANIC_CARBON = 580.0
#: Below this median of the profiles' highest organic carbon (g kg-1, i.e. 1 %) a table in g kg-1
#: looks like %: mineral topsoils hold about 10-100 g kg-1.
LOW_TOPSOIL_CARBON = 10.0


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


def oc_unit_notes(soc, profile, oc_unit, rows):
    """Notes on organic carbon that looks like it is in the other unit; a list (empty if plausible).

    soc: organic carbon in g kg-1 (converted from ``oc_unit``), one value per horizon (NaN =
    missing); profile: profile index of each horizon; rows: their 1-based input rows.
    Two checks: with g kg-1, the median over profiles of each profile's highest value below
    10 g kg-1 (1 %; topsoils hold 10-100 g kg-1) looks like %; with %, values above 58 %
    (more carbon than organic matter holds) look like g kg-1.
    """
    from .errors import describe_rows

    soc, profile = np.asarray(soc, dtype=float), np.asarray(profile)
    present = np.isfinite(soc)
    notes = []
    if oc_unit == "g_kg" and present.any():
        highest = np.median([soc[present & (profile == p)].max() for p in np.unique(profile[present])])
        if highest < LOW_TOPSOIL_CARBON:
            notes.append(f"organic carbon looks like %, not g kg-1: the median of the profiles' highest values is "
                         f"{highest:.3g} g kg-1, while topsoils hold about 10-100 g kg-1 (1-10 %); if the column "
                         "is in %, set the organic carbon unit to percent")
    with np.errstate(invalid="ignore"):
        high = present & (soc > MAX_ORGANIC_CARBON)
    if oc_unit == "percent" and high.any():
        notes.append(f"organic carbon above 58 % (more than organic matter holds) in {describe_rows(rows[high])}: "
                     "the values look like g kg-1; if the column is in g kg-1, set the organic carbon unit to g_kg")
    return notes
