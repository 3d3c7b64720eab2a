"""Radiocarbon age of bulk soil carbon with the one-pool model (METHODS section 5, Iloss study).

* Conversions (Stuiver & Polach 1977): ``Δ14C = (Fm exp(λ (1950 - y)) - 1) 1000`` with
  λ = 1/8267 yr-1, and ``A = Δ14C / 1000 + 1`` (the ratio to the absolute standard).
* One-pool model: ``dA_soil/dt = k A_atm(t) - (k + λ) A_soil``.

**Decision (numerics, METHODS §5):** steady state with the pre-bomb atmosphere (default
0 ‰) through the end of 1949; from 1 January 1950 the forcing is the record's annual mean
of each calendar year, held constant within that year, and the linear equation is solved
exactly within each year; the modelled value is read at mid-year of the sampling year
(floor(y_obs) + 0.5). A sample whose read time is not after the start of the bomb period
uses the steady-state formula. An optional input lag L (years) delays the forcing: the
value of record year Y acts from Y + L to Y + 1 + L.

Option (``pre_d14c="history"``, issue 11): the pre-bomb history instead of a constant. The
annual forcing then starts in 1750 (IntCal20 / SHCal20 to 1849, Graven et al. 2017 from
1850, the chosen record wherever it has values); before 1750 the model is spun up from
steady state 55,000 years ago through IntCal20 / SHCal20, each value held until the next
(see :func:`spin_up_atmosphere`).

The inverse returns every k that reproduces a measurement: the forward model is evaluated
on a dense log-k grid for each (zone, sampling year), its local extrema are refined, every
monotone piece that spans the measured value gives a bracket, and each bracket is solved by
safeguarded Newton iterations in log k, vectorised over all samples.
"""

import datetime
import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .checks import Limits
from .errors import InputError, describe_rows
from .progress import as_progress

#: Radioactive decay constant of 14C, yr-1 (the Iloss study's γ; mean life 8267 yr).
DECAY = 1.0 / 8267.0
#: First calendar year of the annual bomb-period forcing (AD).
BOMB_START = 1950
#: Default pre-bomb atmospheric Δ14C (‰), METHODS §5 Decision.
PRE_BOMB_D14C = 0.0
#: ``pre_d14c`` value that selects the pre-bomb history instead of a constant.
HISTORY = "history"
#: First calendar year of the annual forcing with the pre-bomb history (AD): sampling years
#: start in 1800, so input lags below 50 years stay inside it.
HISTORY_START = 1750
#: First year of Graven et al. (2017), used from this year on with the pre-bomb history.
GRAVEN_START = 1850
#: Per-sample statuses of the inverse, in order of precedence.
STATUSES = ("impossible_input", "missing_input", "out_of_range", "extrapolated_curve", "two_roots", "ok")
#: Possible sampling years (AD): archived soils from 1800 to the current year.
YEAR_LIMITS = Limits("sampling year (AD)", 1800, datetime.date.today().year)
#: Possible Δ14C (‰): -1000 ‰ is carbon without 14C.
D14C_LIMITS = Limits("Δ14C (‰)", -1000.0)
#: Possible fraction modern.
FM_LIMITS = Limits("fraction modern", 0.0)
#: Δ14C and Δ14C converted from Fm that differ by more than this (‰) are noted.
FM_TOLERANCE = 1.0
#: Years at the end of a record used to fit the extrapolation (METHODS §5 Decision).
EXTRAPOLATION_YEARS = 10
#: Range of decay rates searched by the inverse (yr-1): ages from 1e-4 to 1e9 years.
K_MIN, K_MAX = 1e-9, 1e4
#: Grid points per decade of k for bracketing roots.
GRID_PER_DECADE = 40

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "atm14c"


# ---------------------------------------------------------------------------------------------
# Conversions


def fm_to_d14c(fm, year):
    """Δ14C (‰) from fraction modern Fm measured on a sample collected in ``year`` (AD)."""
    return (np.asarray(fm, dtype=float) * np.exp(DECAY * (BOMB_START - np.asarray(year, dtype=float))) - 1.0) \
        * 1000.0


def d14c_to_fm(d14c, year):
    """Fraction modern Fm from Δ14C (‰) of a sample collected in ``year`` (AD)."""
    return (np.asarray(d14c, dtype=float) / 1000.0 + 1.0) * np.exp(DECAY * (np.asarray(year, dtype=float)
                                                                            - BOMB_START))


def d14c_to_ratio(d14c):
    """A = Δ14C / 1000 + 1: the 14C/12C ratio relative to the absolute standard."""
    return np.asarray(d14c, dtype=float) / 1000.0 + 1.0


def ratio_to_d14c(ratio):
    """Δ14C (‰) from the ratio A to the absolute standard."""
    return (np.asarray(ratio, dtype=float) - 1.0) * 1000.0


def steady_state_ratio(k, atm_ratio):
    """Steady-state soil ratio A_soil = k / (k + λ) A_atm for decay rate k (yr-1)."""
    k = np.asarray(k, dtype=float)
    return k / (k + DECAY) * np.asarray(atm_ratio, dtype=float)


def steady_state_k(soil_ratio, atm_ratio):
    """Decay rate k (yr-1) at steady state: λ A_soil / (A_atm - A_soil); NaN where none exists."""
    soil, atm = np.asarray(soil_ratio, dtype=float), np.asarray(atm_ratio, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = DECAY * soil / (atm - soil)
    return np.where((soil > 0) & (soil < atm), k, np.nan)


# ---------------------------------------------------------------------------------------------
# Atmospheric records


@dataclass(frozen=True)
class AtmosphericCurve:
    """Annual atmospheric Δ14C (‰) by calendar year (AD) and zone.

    latitude_bands: ((lowest latitude, zone), ...) from north to south: a latitude belongs to
    the first band whose lowest latitude it reaches; None when zones cannot be chosen from
    latitude. aliases: other names accepted for zones (lower case -> zone).
    """

    name: str
    source: str
    years: np.ndarray
    values: np.ndarray  # (years, zones), NaN where a zone has no value
    zones: tuple
    latitude_bands: tuple = None
    aliases: dict = field(default_factory=dict)

    def __post_init__(self):
        years = np.asarray(self.years, dtype=float)
        if years.size == 0 or np.any(np.diff(years) != 1) or np.any(years != np.round(years)):
            raise InputError(f"atmospheric curve {self.name}: years must be consecutive whole years")
        values = np.asarray(self.values, dtype=float).reshape(len(years), len(self.zones))
        object.__setattr__(self, "years", years.astype(int))
        object.__setattr__(self, "values", values)

    @property
    def first_year(self):
        return int(self.years[0])

    def last_year(self, zone):
        """Last calendar year with a value for ``zone``."""
        column = self.values[:, self.zones.index(zone)]
        return int(self.years[np.flatnonzero(np.isfinite(column))[-1]])

    def first_year_of(self, zone):
        """First calendar year with a value for ``zone``."""
        column = self.values[:, self.zones.index(zone)]
        return int(self.years[np.flatnonzero(np.isfinite(column))[0]])

    def zone_indices(self, names, rows=None):
        """Indices into ``zones`` of zone names (case-insensitive, aliases accepted); -1 for blank.

        rows: 1-based row labels for the error message naming unknown zones.
        """
        lookup = {z.lower(): i for i, z in enumerate(self.zones)}
        lookup.update({alias.lower(): self.zones.index(zone) for alias, zone in self.aliases.items()})
        names = np.asarray(names, dtype=object).reshape(-1)
        out = np.full(names.shape, -1, dtype=int)
        unknown = []
        for i, name in enumerate(names):
            if name is None or (isinstance(name, float) and np.isnan(name)) or str(name).strip() == "":
                continue
            index = lookup.get(str(name).strip().lower())
            if index is None:
                unknown.append(i)
            else:
                out[i] = index
        if unknown:
            labels = np.arange(1, names.size + 1) if rows is None else np.asarray(rows)
            raise InputError(f"unknown atmospheric zone {names[unknown[0]]!r} in "
                             f"{describe_rows(labels[unknown])}; the {self.name} curve has zones "
                             f"{', '.join(self.zones)}")
        return out

    def zone_for_latitude(self, latitude):
        """Zone index for each latitude (decimal degrees); -1 where latitude is NaN."""
        latitude = np.asarray(latitude, dtype=float)
        if len(self.zones) == 1:
            return np.where(np.isnan(latitude), -1, 0)
        if self.latitude_bands is None:
            raise InputError(f"the {self.name} curve has several zones ({', '.join(self.zones)}) and no "
                             "rule to choose them from latitude; give a zone column")
        with np.errstate(invalid="ignore"):
            bad = np.isfinite(latitude) & (np.abs(latitude) > 90)
            if bad.any():
                raise InputError(f"latitude outside -90..90 degrees in "
                                 f"{describe_rows(np.flatnonzero(bad.reshape(-1)) + 1)}")
            out = np.full(latitude.shape, -1, dtype=int)
            assigned = ~np.isfinite(latitude)
            for lowest, zone in self.latitude_bands:
                here = ~assigned & (latitude >= lowest)
                out[here] = self.zones.index(zone)
                assigned |= here
        return out

    def d14c(self, year, zone):
        """Δ14C (‰) of ``zone`` in calendar ``year`` as recorded (NaN outside the record)."""
        index = np.asarray(year, dtype=int) - self.first_year
        inside = (index >= 0) & (index < len(self.years))
        return np.where(inside, self.values[np.clip(index, 0, len(self.years) - 1), self.zones.index(zone)], np.nan)


#: The shipped records: file, citation, zones chosen from latitude.
_SHIPPED = {
    "hua2021": ("hua2021_annual.csv",
                "Hua et al. (2022) Radiocarbon 64(4):723-745, doi:10.1017/RDC.2021.95; annual means of the "
                "monthly zonal record",
                # Decision (zones, METHODS §5): approximates Hua et al.'s ITCZ-based boundaries.
                ((40.0, "NH1"), (20.0, "NH2"), (0.0, "NH3"), (-40.0, "SH12"), (-90.0, "SH3")), {}),
    "graven2017": ("graven2017_annual.csv",
                   "Graven et al. (2017) Geosci. Model Dev. 10:4405-4417, doi:10.5194/gmd-10-4405-2017",
                   ((30.0, "NH"), (-30.0, "Tropics"), (-90.0, "SH")),
                   {"nhc14": "NH", "tropicsc14": "Tropics", "shc14": "SH"}),  # ISRaD's pro_graven_zone
}
#: Names of the shipped curves.
CURVES = tuple(_SHIPPED)


def read_curve_csv(path, name=None, source=None, latitude_bands=None, aliases=None):
    """A curve from a CSV: a ``year`` column (calendar years AD) and one Δ14C (‰) column per zone.

    Decimal mid-year values such as 1990.5 are taken as their calendar year.
    """
    import pandas as pd

    from .tables import numeric_columns, read_table

    table = read_table(path)
    columns = {str(c).strip().lower(): c for c in table.columns}
    if "year" not in columns:
        raise InputError(f"atmospheric curve {path}: no 'year' column (it has: {', '.join(map(str, table.columns))})")
    zones = [c for c in table.columns if c != columns["year"]]
    if not zones:
        raise InputError(f"atmospheric curve {path}: no Δ14C column besides 'year'")
    data = numeric_columns(table, [columns["year"]] + zones)
    if data[columns["year"]].isna().any():
        raise InputError(f"atmospheric curve {path}: empty years in "
                         f"{describe_rows(np.flatnonzero(data[columns['year']].isna()) + 1)}")
    data["calendar"] = np.floor(data[columns["year"]]).astype(int)
    if data["calendar"].duplicated().any():
        raise InputError(f"atmospheric curve {path}: calendar year "
                         f"{int(data['calendar'][data['calendar'].duplicated()].iloc[0])} appears twice")
    data = data.sort_values("calendar").set_index("calendar")
    data = data.reindex(pd.RangeIndex(data.index.min(), data.index.max() + 1))
    return AtmosphericCurve(name or Path(path).stem, source or str(path), data.index.to_numpy(),
                            data[zones].to_numpy(dtype=float), tuple(str(z) for z in zones),
                            latitude_bands, aliases or {})


def load_curve(curve="hua2021"):
    """An AtmosphericCurve: a shipped name (:data:`CURVES`), a CSV path, or a curve itself."""
    if isinstance(curve, AtmosphericCurve):
        return curve
    key = str(curve).strip().lower()
    if key in _SHIPPED:
        filename, source, bands, aliases = _SHIPPED[key]
        return read_curve_csv(RESOURCES / filename, key, source, bands, aliases)
    if not Path(str(curve)).exists():
        raise InputError(f"atmospheric curve {curve!r}: give {' or '.join(CURVES)} or a CSV file "
                         "with a year column and one Δ14C column per zone")
    return read_curve_csv(curve)


# ---------------------------------------------------------------------------------------------
# The pre-bomb history (option)

#: Calibration records of the pre-bomb history (resources/atm14c): name -> (file, citation).
CALIBRATION_CURVES = {
    "intcal20": ("intcal20.csv", "Reimer et al. (2020) Radiocarbon 62(4):725-757, doi:10.1017/RDC.2020.41"),
    "shcal20": ("shcal20.csv", "Hogg et al. (2020) Radiocarbon 62(4):759-778, doi:10.1017/RDC.2020.59"),
}
#: Pre-bomb history of each zone of the shipped curves: (share of IntCal20, the rest SHCal20; Graven 2017 zone).
#: Decision (zones): northern zones follow IntCal20, southern zones SHCal20, and Graven's Tropics
#: (30° S-30° N) their mean; Hua's NH3 and SH12 lie mainly within 30° of the equator (Graven's Tropics).
HISTORY_ZONES = {
    "hua2021": {"NH1": (1.0, "NH"), "NH2": (1.0, "NH"), "NH3": (1.0, "Tropics"), "SH12": (0.0, "Tropics"),
                "SH3": (0.0, "SH")},
    "graven2017": {"NH": (1.0, "NH"), "Tropics": (0.5, "Tropics"), "SH": (0.0, "SH")},
}
#: ln k (k in yr-1) of the spin-up grid: 1e-12 to 1e6 yr-1, 100 points per decade. Between the
#: points the effective atmosphere is a cubic spline in ln k; beyond them it is flat.
SPIN_UP_LOG_K = np.linspace(np.log(1e-12), np.log(1e6), 18 * 100 + 1)


@functools.lru_cache(maxsize=None)
def _calibration_record(name):
    """(calendar years AD, Δ14C ‰) of a shipped calibration record, oldest first (read-only arrays)."""
    import pandas as pd

    table = pd.read_csv(RESOURCES / CALIBRATION_CURVES[name][0]).sort_values("cal_bp", ascending=False)
    years, d14c = BOMB_START - table["cal_bp"].to_numpy(dtype=float), table["d14c"].to_numpy(dtype=float)
    years.flags.writeable = d14c.flags.writeable = False
    return years, d14c


@functools.lru_cache(maxsize=None)
def spin_up_atmosphere(name):
    """Effective atmosphere P (ratio A) before :data:`HISTORY_START` of a calibration record, on
    :data:`SPIN_UP_LOG_K`: the soil ratio at the start of 1750 is k / (k + λ) P(k).

    The model starts at steady state with the record's oldest value (55,000 years earlier:
    that start weighs less than exp(-55,000 λ) = 0.13 % at any k) and is solved exactly
    through each value, held from its calendar year (1950 - cal BP) until the next one.
    """
    years, d14c = _calibration_record(name)
    before = years < HISTORY_START
    years, ratio = years[before], d14c_to_ratio(d14c[before])
    spans = np.diff(np.append(years, HISTORY_START))
    s = np.exp(SPIN_UP_LOG_K) + DECAY
    decay = {span: np.exp(-s * span) for span in np.unique(spans)}
    effective = np.full(s.shape, ratio[0])  # A / (k / (k + λ)): the factor is constant in time
    for value, span in zip(ratio, spans):
        effective = value + (effective - value) * decay[span]
    effective.flags.writeable = False
    return effective


def _history_zone(curve, zone):
    """(share of IntCal20, Graven 2017 zone) of a zone of a shipped curve."""
    if curve.name not in HISTORY_ZONES:
        raise InputError(f"the pre-bomb history is available with the shipped curves ({', '.join(HISTORY_ZONES)}), "
                         f"not with {curve.name}: give a constant pre-bomb Δ14C")
    return HISTORY_ZONES[curve.name][zone]


def _history_d14c(curve, zone, years):
    """Δ14C (‰) of ``zone`` in calendar ``years`` before the first value of the record: Graven 2017
    from 1850, before that IntCal20 and SHCal20 (annual from 1750) mixed by the zone's share."""
    share, graven_zone = _history_zone(curve, zone)
    graven = load_curve("graven2017").d14c(years, graven_zone)
    (north_years, north), (south_years, south) = (_calibration_record(name) for name in CALIBRATION_CURVES)
    calibration = share * np.interp(years, north_years, north) + (1.0 - share) * np.interp(years, south_years, south)
    return np.where(np.asarray(years) >= GRAVEN_START, graven, calibration)


def _history_spline(curve):
    """Cubic spline in ln k of each zone's effective pre-1750 atmosphere: values shaped (points, zones)."""
    from scipy.interpolate import CubicSpline

    north, south = (spin_up_atmosphere(name) for name in CALIBRATION_CURVES)
    shares = np.array([_history_zone(curve, zone)[0] for zone in curve.zones])
    return CubicSpline(SPIN_UP_LOG_K, north[:, None] * shares + south[:, None] * (1.0 - shares))


def is_history(pre_d14c):
    """True when ``pre_d14c`` selects the pre-bomb history rather than a constant Δ14C (‰)."""
    return isinstance(pre_d14c, str) and pre_d14c.strip().lower() == HISTORY


def forcing_start(pre_d14c):
    """First calendar year of the annual forcing: 1950, or 1750 with the pre-bomb history."""
    return HISTORY_START if is_history(pre_d14c) else BOMB_START


# ---------------------------------------------------------------------------------------------
# Forcing and the forward model


@dataclass
class Forcing:
    """Annual forcing ratios A_atm: ``ratios[zone, j]`` is calendar year ``start`` + j (extrapolated
    beyond the record, see :func:`model_extrapolated`). Before ``start`` the atmosphere is the
    constant ``pre_ratio``, or with the pre-bomb history the ``history`` spline of each zone's
    effective atmosphere in ln k (:func:`spin_up_atmosphere`; ``pre_ratio`` is then NaN)."""

    start: int
    pre_ratio: float
    ratios: np.ndarray
    history: object = None


def _extrapolation(curve, zone, pre_d14c, years):
    """Δ14C for ``years`` after the record: pre + exp(a + b t) fitted to the last 10 years."""
    last = curve.last_year(zone)
    tail_years = np.arange(last - EXTRAPOLATION_YEARS + 1, last + 1)
    excess = curve.d14c(tail_years, zone) - pre_d14c
    if not np.all(excess > 0):
        raise InputError(f"cannot extrapolate the {curve.name} curve (zone {zone}) beyond {last}: the "
                         f"exponential decline needs Δ14C above the pre-bomb value ({pre_d14c:g} ‰) in "
                         f"each of its last {EXTRAPOLATION_YEARS} years")
    slope, intercept = np.polyfit(tail_years - last, np.log(excess), 1)
    return pre_d14c + np.exp(intercept + slope * (np.asarray(years, dtype=float) - last))


def build_forcing(curve, last_year, pre_d14c=PRE_BOMB_D14C, lag=0.0):
    """Forcing ratios for every zone of ``curve`` from :func:`forcing_start` to ``last_year``.

    pre_d14c: the constant pre-bomb Δ14C (‰), or :data:`HISTORY`. Years after the record are
    extrapolated towards the pre-bomb level (with the history: the zone's 1949 value).
    """
    curve = load_curve(curve)
    history = is_history(pre_d14c)
    if not history and (isinstance(pre_d14c, str) or not np.isfinite(pre_d14c) or pre_d14c <= -1000):
        raise InputError(f"pre-bomb Δ14C must be a number above -1000 ‰ or {HISTORY!r} (got {pre_d14c})")
    if not np.isfinite(lag) or lag < 0:
        raise InputError(f"lag must be zero or a positive number of years (got {lag})")
    if history and lag >= YEAR_LIMITS.low - HISTORY_START:
        raise InputError(f"with the pre-bomb history the lag must be below {YEAR_LIMITS.low - HISTORY_START:g} years "
                         f"(got {lag})")
    if curve.first_year > BOMB_START:
        raise InputError(f"atmospheric curve {curve.name} starts in {curve.first_year}; the model needs "
                         f"annual values from {BOMB_START}")
    start = forcing_start(pre_d14c)
    years = np.arange(start, max(int(last_year), start) + 1)
    ratios = np.empty((len(curve.zones), len(years)))
    for z, zone in enumerate(curve.zones):
        if not np.isfinite(curve.values[:, z]).any():
            raise InputError(f"atmospheric curve {curve.name}: zone {zone} has no values")
        last = curve.last_year(zone)
        recorded = curve.d14c(years, zone)
        if history:
            first = curve.first_year_of(zone)
            recorded[years < first] = _history_d14c(curve, zone, years[years < first])
        gaps = (years <= last) & np.isnan(recorded)
        if gaps.any():
            raise InputError(f"atmospheric curve {curve.name}: zone {zone} has no value for "
                             f"{', '.join(str(y) for y in years[gaps][:5])}")
        after = years > last
        if after.any():
            baseline = recorded[years == BOMB_START - 1][0] if history else pre_d14c
            recorded[after] = _extrapolation(curve, zone, baseline, years[after])
        ratios[z] = d14c_to_ratio(recorded)
    if history:
        return Forcing(start, np.nan, ratios, _history_spline(curve))
    return Forcing(start, float(d14c_to_ratio(pre_d14c)), ratios)


def _pre_start(forcing, k, zone):
    """(P, dP/dln k): the atmosphere before the annual forcing, constant or the history spline at k."""
    if forcing.history is None:
        return forcing.pre_ratio, 0.0
    x = np.log(k)
    inside = (x > SPIN_UP_LOG_K[0]) & (x < SPIN_UP_LOG_K[-1])
    x = np.clip(x, SPIN_UP_LOG_K[0], SPIN_UP_LOG_K[-1])
    rows = np.arange(x.size)
    return forcing.history(x)[rows, zone], np.where(inside, forcing.history(x, 1)[rows, zone], 0.0)


def _read_times(year, lag, start=BOMB_START):
    """(post, n_full, frac): read time floor(y) + 0.5 as whole forcing years elapsed since ``start`` and a fraction."""
    elapsed = np.floor(year) + 0.5 - (start + lag)
    post = elapsed > 0
    n_full = np.where(post, np.floor(elapsed), 0).astype(int)
    frac = np.where(post, elapsed - np.floor(elapsed), 0.0)
    return post, n_full, frac


def _step(a, slope, k, eq, d_eq, decay, dt):
    """Exact solution after ``dt`` years of constant forcing (equilibrium ``eq``); d/dln k too if slope given."""
    new = eq + (a - eq) * decay
    if slope is None:
        return new, None
    return new, d_eq + (slope - d_eq) * decay - (a - eq) * (dt * k * decay)


def _evaluate(k, zone, n_full, frac, forcing, with_slope=False):
    """Modelled A_soil at the read time of elements read after the start of the forcing (and dA/dln k
    if ``with_slope``).

    k, zone, n_full: 1-D arrays of equal length; frac: the part of a year read after the
    n_full whole forcing years (one value, set by the lag). Elements are processed sorted by
    n_full, so that each forcing year only updates the elements still running.
    """
    order = np.argsort(n_full, kind="stable")
    k, zone, n_full = k[order], zone[order], n_full[order]
    s = k + DECAY
    r = k / s
    dr = k * DECAY / s ** 2  # d r / d ln k
    pre, d_pre = _pre_start(forcing, k, zone)
    a = r * pre
    slope = dr * pre + r * d_pre if with_slope else None
    year_decay, part_decay = np.exp(-s), np.exp(-s * frac)
    out = np.empty_like(k)
    out_slope = np.empty_like(k)
    bounds = np.searchsorted(n_full, np.arange(n_full[-1] + 2)) if len(k) else np.zeros(1, dtype=int)
    for j in range(len(bounds) - 1):
        lo, hi = bounds[j], bounds[j + 1]  # a and slope hold elements lo..end; lo..hi are read in year j
        m = hi - lo
        atm = forcing.ratios[zone[lo:], j]
        eq = r[lo:] * atm
        d_eq = dr[lo:] * atm if with_slope else None
        out[lo:hi], read_slope = _step(a[:m], None if slope is None else slope[:m], k[lo:hi], eq[:m],
                                       None if d_eq is None else d_eq[:m], part_decay[lo:hi], frac)
        if with_slope:
            out_slope[lo:hi] = read_slope
        a, slope = _step(a[m:], None if slope is None else slope[m:], k[hi:], eq[m:],
                         None if d_eq is None else d_eq[m:], year_decay[hi:], 1.0)
    result, result_slope = np.empty_like(out), np.empty_like(out_slope)
    result[order], result_slope[order] = out, out_slope
    return (result, result_slope) if with_slope else result


def _grid_values(grid_k, n_read, frac, forcing):
    """Model A on ``grid_k`` for every zone and every read index 0..n_read: (zones, n_read + 1, grid)."""
    zones = forcing.ratios.shape[0]
    k = np.broadcast_to(grid_k, (zones, len(grid_k)))
    s = k + DECAY
    r = k / s
    pre = _pre_start(forcing, k.reshape(-1), np.repeat(np.arange(zones), len(grid_k)))[0]
    a = r * np.reshape(pre, (zones, -1)) if np.ndim(pre) else r * pre
    year_decay, part_decay = np.exp(-s), np.exp(-s * frac)
    out = np.empty((zones, n_read + 1, len(grid_k)))
    for j in range(n_read + 1):
        eq = r * forcing.ratios[:, j][:, None]
        out[:, j] = eq + (a - eq) * part_decay
        a = eq + (a - eq) * year_decay
    return out


def _zone_array(curve, zone, shape):
    """Zone indices broadcast to ``shape`` from names or integer indices (-1 or a blank name: unknown)."""
    zone = np.asarray(zone)
    if zone.dtype.kind in "iu":
        if np.any((zone < -1) | (zone >= len(curve.zones))):
            raise InputError(f"zone index out of range for the {curve.name} curve ({len(curve.zones)} zones; "
                             "-1 = unknown)")
        return np.broadcast_to(zone, shape).astype(int)
    return np.broadcast_to(curve.zone_indices(zone.reshape(-1)).reshape(zone.shape), shape)


def _model_setup(curve, year, valid, pre_d14c, lag):
    """(post, n_full, frac, forcing) for samples of ``year`` (``valid``: year and zone known).

    With the pre-bomb history every valid sample must be read after 1750 (an InputError otherwise).
    """
    start = forcing_start(pre_d14c)
    post, n_full, _ = _read_times(np.where(valid, year, 0.0), lag, start)
    if is_history(pre_d14c) and np.any(valid & ~post):
        raise InputError(f"with the pre-bomb history the model starts in {start}: sampling years before "
                         f"{start + lag:g} cannot be modelled")
    forcing = build_forcing(curve, start + (n_full[valid].max() if valid.any() else 0), pre_d14c, lag)
    return post, n_full, _lag_fraction(lag), forcing


def forward_d14c(k, year, zone=0, curve="hua2021", pre_d14c=PRE_BOMB_D14C, lag=0.0):
    """Modelled bulk-soil Δ14C (‰) for decay rate k (yr-1) sampled in ``year`` (AD) in ``zone``.

    zone: zone names or indices of ``curve`` (-1: unknown); arguments broadcast, and the result
    has their shape. pre_d14c: constant pre-bomb Δ14C (‰) or :data:`HISTORY`. Years after
    the record use the extrapolated atmosphere (see :func:`model_extrapolated`). NaN in (or
    an unknown zone) gives NaN out.
    """
    curve = load_curve(curve)
    k, year = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(year, dtype=float))
    zone = np.asarray(zone)
    shape = np.broadcast_shapes(k.shape, zone.shape)
    k, year = np.broadcast_to(k, shape), np.broadcast_to(year, shape)
    zone = _zone_array(curve, zone, shape)
    k, year, zone = k.reshape(-1), year.reshape(-1), zone.reshape(-1)
    with np.errstate(invalid="ignore"):
        if np.any(k <= 0):
            raise InputError("decay rate k must be positive (yr-1)")
    valid = np.isfinite(k) & np.isfinite(year) & (zone >= 0)
    out = np.full(k.shape, np.nan)
    post, n_full, frac, forcing = _model_setup(curve, year, valid, pre_d14c, lag)
    steady = valid & ~post
    out[steady] = steady_state_ratio(k[steady], forcing.pre_ratio)
    run = valid & post
    if run.any():
        out[run] = _evaluate(k[run], zone[run], n_full[run], frac, forcing)
    return ratio_to_d14c(out).reshape(shape)


def atmosphere_d14c(year, zone, curve="hua2021", pre_d14c=PRE_BOMB_D14C, lag=0.0):
    """Atmospheric Δ14C (‰) forcing the model at the read time of each sample (mid-year of the
    sampling year): that forcing year's value of the zone (extrapolated after the record), or
    the constant pre-bomb value for samples read before 1950. NaN where year or zone is unknown.
    """
    curve = load_curve(curve)
    year = np.asarray(year, dtype=float)
    shape = year.shape
    zone = _zone_array(curve, zone, shape).reshape(-1)
    year = year.reshape(-1)
    valid = np.isfinite(year) & (zone >= 0)
    post, n_full, _, forcing = _model_setup(curve, year, valid, pre_d14c, lag)
    ratio = np.where(post, forcing.ratios[np.maximum(zone, 0), n_full], forcing.pre_ratio)
    return np.where(valid, ratio_to_d14c(ratio), np.nan).reshape(shape)


def _lag_fraction(lag):
    """Part of a year read after the whole forcing years: frac(0.5 - lag)."""
    return float((0.5 - lag) - np.floor(0.5 - lag))


def model_extrapolated(year, zone, curve="hua2021", lag=0.0):
    """True where the model value for a sample of ``year`` uses forcing beyond the record of its zone."""
    curve = load_curve(curve)
    year = np.asarray(year, dtype=float)
    zone = _zone_array(curve, zone, year.shape)
    post, n_full, frac = _read_times(np.nan_to_num(year), lag)
    last_used = BOMB_START + n_full - (1 if _lag_fraction(lag) == 0 else 0)
    last = np.array([curve.last_year(z) for z in curve.zones])
    return post & np.isfinite(year) & (zone >= 0) & (last_used > last[np.maximum(zone, 0)])


# ---------------------------------------------------------------------------------------------
# The inverse


@dataclass
class Ages:
    """Result of :func:`radiocarbon_ages`, one entry per sample.

    roots: every decay rate k (yr-1) reproducing the sample, ascending, NaN-padded (n, m);
    n_roots; status (see :data:`STATUSES`); notes: messages for the user (extrapolation,
    rows out of range or with missing input).
    """

    roots: np.ndarray
    n_roots: np.ndarray
    status: np.ndarray
    notes: list

    @property
    def k_slow(self):
        """Smallest root (yr-1): the default, bulk-soil convention."""
        return self.roots[:, 0]

    @property
    def k_fast(self):
        """Largest root (yr-1) where there are two or more roots, else NaN."""
        last = np.maximum(self.n_roots - 1, 0)
        return np.where(self.n_roots >= 2, self.roots[np.arange(len(self.roots)), last], np.nan)

    @property
    def age_slow(self):
        """Turnover time 1/k of the slow root (yr)."""
        return 1.0 / self.k_slow

    @property
    def age_fast(self):
        """Turnover time 1/k of the fast root (yr)."""
        return 1.0 / self.k_fast


def _log_grid():
    decades = np.log10(K_MAX) - np.log10(K_MIN)
    return np.linspace(np.log(K_MIN), np.log(K_MAX), int(decades * GRID_PER_DECADE) + 1)


def _refine_extrema(groups, x, values, forcing, frac, iterations=32):
    """Refined interior extrema of each group's grid curve: {group: [(x*, A*), ...]} (ln k, ratio).

    An extremum at grid index i lies in (x[i-1], x[i+1]); bisection on the sign of dA/dln k.
    """
    found = []
    for g, (z, j) in enumerate(groups):
        step = np.diff(values[z, j])
        direction = np.sign(step)
        for i in range(1, len(direction)):  # a flat step continues the previous direction
            if direction[i] == 0:
                direction[i] = direction[i - 1]
        for i in np.flatnonzero(direction[1:] * direction[:-1] < 0) + 1:
            found.append((g, z, j, x[i - 1], x[i + 1], direction[i - 1] > 0))
    extrema = {g: [] for g in range(len(groups))}
    if not found:
        return extrema
    g, z, j, left, right, rising = (np.array(column) for column in zip(*found))
    for _ in range(iterations):
        mid = (left + right) / 2.0
        _, slope = _evaluate(np.exp(mid), z, j, frac, forcing, with_slope=True)
        before = (slope > 0) == rising  # still on the first side of the extremum
        left, right = np.where(before, mid, left), np.where(before, right, mid)
    mid = (left + right) / 2.0
    value = _evaluate(np.exp(mid), z, j, frac, forcing)
    for group, position, level in zip(g, mid, value):
        extrema[group].append((position, level))
    return extrema


def _monotone_pieces(x, v, extrema):
    """Monotone pieces (x ascending, values) of one curve split at its refined extrema."""
    bounds = [(x[0], v[0])] + sorted(extrema) + [(x[-1], v[-1])]
    pieces = []
    for (xl, vl), (xr, vr) in zip(bounds[:-1], bounds[1:]):
        inside = (x > xl) & (x < xr)
        pieces.append((np.concatenate(([xl], x[inside], [xr])), np.concatenate(([vl], v[inside], [vr]))))
    return pieces


def _brackets(pieces, target):
    """(sample positions, x_a, x_b, v_a, v_b) of the grid cells where pieces cross ``target``."""
    out = []
    for xs, vs in pieces:
        if vs[-1] < vs[0]:
            xs, vs = xs[::-1], vs[::-1]
        inside = np.flatnonzero((target >= vs[0]) & (target <= vs[-1]))
        if not inside.size:
            continue
        idx = np.clip(np.searchsorted(vs, target[inside], side="left"), 1, len(vs) - 1)
        out.append((inside, xs[idx - 1], xs[idx], vs[idx - 1], vs[idx]))
    return out


def _solve_brackets(target, xa, xb, va, vb, zone, n_full, frac, forcing, steps, tolerance=1e-11,
                    max_iterations=100):
    """Roots in ln k of A(x) = target inside [xa, xb] by Newton steps kept inside the bracket."""
    lo, hi = np.minimum(xa, xb), np.maximum(xa, xb)
    sign_lo = np.sign(np.where(xa <= xb, va, vb) - target)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(vb != va, xa + (target - va) * (xb - xa) / (vb - va), (xa + xb) / 2.0)
    x = np.clip(x, lo, hi)
    result = np.full(x.shape, np.nan)
    active = np.arange(x.size)
    for iteration in range(max_iterations):
        steps.update(iteration / 8.0)
        a, slope = _evaluate(np.exp(x), zone[active], n_full[active], frac, forcing, with_slope=True)
        f = a - target[active]
        same = np.sign(f) == sign_lo[active]
        lo[active] = np.where(same, x, lo[active])
        hi[active] = np.where(same, hi[active], x)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = x - f / slope
        outside = ~((newton > lo[active]) & (newton < hi[active]))
        new = np.where(outside, (lo[active] + hi[active]) / 2.0, newton)
        done = (np.abs(new - x) < tolerance) | (f == 0) | (hi[active] - lo[active] < tolerance)
        result[active[done]] = np.where(f[done] == 0, x[done], new[done])
        active, x = active[~done], new[~done]
        if not active.size:
            break
    result[active] = x
    return result


def radiocarbon_ages(d14c, year, zone, curve="hua2021", pre_d14c=PRE_BOMB_D14C, lag=0.0, rows=None,
                     impossible=None, progress=None, is_cancelled=None):
    """Every decay rate k (yr-1) for which the one-pool model reproduces each measured Δ14C (‰).

    year: sampling year (AD); zone: zone indices of ``curve`` (-1 = unknown, as from
    :meth:`AtmosphericCurve.zone_for_latitude`) or names; pre_d14c: constant pre-bomb Δ14C
    (‰) or :data:`HISTORY`; rows: labels for messages (default 1-based positions);
    impossible: samples a table found impossible (no age, status impossible_input). Returns
    :class:`Ages`. Any other Δ14C below -1000 ‰ or year outside :data:`YEAR_LIMITS` is an InputError.
    """
    curve = load_curve(curve)
    steps = as_progress(progress, is_cancelled)
    d14c = np.asarray(d14c, dtype=float).reshape(-1)
    year = np.broadcast_to(np.asarray(year, dtype=float), d14c.shape).reshape(-1)
    zone = _zone_array(curve, zone, d14c.shape).reshape(-1)
    labels = np.arange(1, d14c.size + 1) if rows is None else np.asarray(rows)
    impossible = np.zeros(d14c.size, dtype=bool) if impossible is None else np.asarray(impossible, dtype=bool)
    D14C_LIMITS.require(np.where(impossible, np.nan, d14c), labels=labels)
    YEAR_LIMITS.require(np.where(impossible, np.nan, year), labels=labels)
    missing = impossible | ~np.isfinite(d14c) | ~np.isfinite(year) | (zone < 0)
    target = d14c_to_ratio(d14c)
    post, n_full, frac, forcing = _model_setup(curve, year, ~missing, pre_d14c, lag)
    run = ~missing & post

    found_sample, found_x = [], []
    steady = np.flatnonzero(~missing & ~post)
    k_steady = steady_state_k(target[steady], forcing.pre_ratio)
    found_sample.append(steady[np.isfinite(k_steady)])
    found_x.append(np.log(k_steady[np.isfinite(k_steady)]))
    steps.update(0.05)
    if run.any():
        x = _log_grid()
        values = _grid_values(np.exp(x), int(n_full[run].max()), frac, forcing)
        keys = zone[run] * (values.shape[1] + 1) + n_full[run]
        groups = [(int(key // (values.shape[1] + 1)), int(key % (values.shape[1] + 1))) for key in np.unique(keys)]
        extrema = _refine_extrema(groups, x, values, forcing, frac)
        steps.update(0.2)
        members = np.flatnonzero(run)
        order = np.argsort(keys, kind="stable")
        bounds = np.searchsorted(keys[order], np.unique(keys))
        cells = []
        for g, (z, j) in enumerate(groups):
            samples = members[order[bounds[g]:bounds[g + 1] if g + 1 < len(bounds) else None]]
            for inside, xa, xb, va, vb in _brackets(_monotone_pieces(x, values[z, j], extrema[g]),
                                                     target[samples]):
                cells.append((samples[inside], xa, xb, va, vb))
        steps.update(0.3)
        if cells:
            sample, xa, xb, va, vb = (np.concatenate(column) for column in zip(*cells))
            roots = _solve_brackets(target[sample], xa, xb, va, vb, zone[sample], n_full[sample], frac, forcing,
                                    steps.sub(0.3, 0.95))
            found_sample.append(sample)
            found_x.append(roots)
    ages = _collect(d14c.size, np.concatenate(found_sample), np.concatenate(found_x))
    extrapolated = run & model_extrapolated(np.where(missing, 0.0, year), np.maximum(zone, 0), curve, lag)
    ages.status = _statuses(missing, ages.n_roots, extrapolated, impossible)
    ages.notes = _notes(curve, ages.status, extrapolated, zone, labels)
    before = ~missing & ~post
    if before.any():
        ages.notes.append(f"{int(before.sum())} sample(s) were taken before {BOMB_START}, before the bomb-period "
                          f"record: steady state with the constant pre-bomb atmosphere ({pre_d14c:g} ‰), "
                          f"in {describe_rows(labels[before])}")
    steps.update(1.0)
    return ages


def _collect(n, sample, x, same=1e-9):
    """Ages from (sample, ln k) pairs: roots sorted per sample, duplicates (|Δ ln k| < same) dropped."""
    order = np.lexsort((x, sample))
    sample, x = sample[order], x[order]
    keep = np.ones(sample.size, dtype=bool)
    keep[1:] = ~((sample[1:] == sample[:-1]) & (np.abs(x[1:] - x[:-1]) < same))
    sample, x = sample[keep], x[keep]
    counts = np.bincount(sample, minlength=n)
    position = np.arange(sample.size) - np.repeat(np.cumsum(counts) - counts, counts)
    roots = np.full((n, max(int(counts.max()) if n else 0, 2)), np.nan)
    roots[sample, position] = np.exp(x)
    return Ages(roots, counts, None, [])


def _statuses(missing, n_roots, extrapolated, impossible):
    """Per-sample status by precedence (see :data:`STATUSES`)."""
    return np.select([impossible, missing, n_roots == 0, extrapolated, n_roots >= 2],
                     list(STATUSES[:-1]), "ok").astype(object)


def _notes(curve, status, extrapolated, zone, labels):
    notes = []
    if extrapolated.any():
        zones = sorted({curve.zones[z] for z in zone[extrapolated]})
        ends = ", ".join(f"{z} ends {curve.last_year(z)}" for z in zones)
        notes.append(f"{int(extrapolated.sum())} sample(s) were taken after the end of the {curve.name} record "
                     f"({ends}): the atmosphere was extrapolated with an exponential decline fitted to its last "
                     f"{EXTRAPOLATION_YEARS} years (status extrapolated_curve) in "
                     f"{describe_rows(labels[extrapolated])}")
    for name, text in (("out_of_range", "Δ14C outside the range the model reaches for any k (no age)"),
                       ("missing_input", "missing Δ14C, year or zone/latitude (no age)")):
        mask = status == name
        if mask.any():
            notes.append(f"{text}: {describe_rows(labels[mask])}")
    return notes


# ---------------------------------------------------------------------------------------------
# Tables

#: ISRaD column names used as defaults (lyr_14c: Δ14C ‰; lyr_fraction_modern: Fm).
ISRAD_COLUMNS = {"d14c": "lyr_14c", "fm": "lyr_fraction_modern", "year": "lyr_obs_date_y", "lat": "pro_lat"}
#: Columns :func:`radiocarbon_age_table` adds.
AGE_COLUMNS = ("k_slow", "age_slow_yr", "k_fast", "age_fast_yr", "n_roots", "status", "zone", "atm_d14c",
               "d14c_fm_diff")
#: What the ages use where a row has both Δ14C and fraction modern.
PREFER = ("d14c", "fm")
#: Possible latitudes (decimal degrees).
LAT_LIMITS = Limits("latitude (decimal degrees)", -90.0, 90.0)


def table_zones(table, curve, lat_col=ISRAD_COLUMNS["lat"], zone_col=None):
    """(zone index per row, impossible latitude per row, notes): the zone from ``zone_col`` where
    given, else from latitude; -1 where unknown."""
    from .tables import numeric_columns, require_columns

    curve = load_curve(curve)
    none = np.zeros(len(table), dtype=bool)
    if zone_col:
        require_columns(table, [zone_col])
        zone = curve.zone_indices(table[zone_col].to_numpy(dtype=object))
        if (zone >= 0).all() or not lat_col or lat_col not in table.columns:
            return zone, none, []
    elif len(curve.zones) == 1:
        return np.zeros(len(table), dtype=int), none, []
    else:
        require_columns(table, [lat_col])
        zone = np.full(len(table), -1)
    latitude = np.where(zone >= 0, np.nan, numeric_columns(table, [lat_col])[lat_col].to_numpy())
    latitude, impossible, notes = LAT_LIMITS.screen(latitude, lat_col)
    return np.where(zone >= 0, zone, curve.zone_for_latitude(latitude)), impossible, notes


def zone_names(curve, zone):
    """Zone names of zone indices (None where -1, unknown)."""
    names = np.array(load_curve(curve).zones + (None,), dtype=object)
    return names[np.where(np.asarray(zone) >= 0, zone, -1)]


@dataclass
class Samples:
    """Δ14C (‰) and sampling year (AD) per row of a table, as :func:`table_d14c` reads them.

    d14c: the value the model uses; impossible: rows with an impossible Δ14C, fraction
    modern or year (NaN there); d14c_fm_diff: Δ14C minus Δ14C from Fm (‰) where both are given.
    """

    d14c: np.ndarray
    year: np.ndarray
    impossible: np.ndarray
    d14c_fm_diff: np.ndarray
    notes: list


def table_d14c(table, d14c_col=ISRAD_COLUMNS["d14c"], fm_col=ISRAD_COLUMNS["fm"], year_col=ISRAD_COLUMNS["year"],
               prefer="d14c"):
    """:class:`Samples` of a table: Δ14C where given, else Fm converted with the sampling year
    (``prefer="fm"``: Fm where given, else Δ14C).

    Impossible values (:data:`D14C_LIMITS`, :data:`FM_LIMITS`, :data:`YEAR_LIMITS`) leave their
    row without a value and are noted, as are rows whose Δ14C and Fm differ by more than
    :data:`FM_TOLERANCE` and a Δ14C column whose every value lies between 0 and 2 (like Fm).
    """
    from .tables import numeric_columns, require_columns, row_numbers

    if prefer not in PREFER:
        raise InputError(f"prefer must be {' or '.join(PREFER)}, not {prefer!r}")
    present = [c for c in (d14c_col, fm_col) if c and c in table.columns]
    if not present:
        names = " nor ".join(repr(c) for c in (d14c_col, fm_col) if c)
        raise InputError(f"the input table has neither column {names} (Δ14C ‰ or fraction modern); "
                         f"it has: {', '.join(map(str, table.columns[:30]))}")
    require_columns(table, [year_col])
    data = numeric_columns(table, present + [year_col])
    year, impossible, notes = YEAR_LIMITS.screen(data[year_col].to_numpy(), year_col)
    values = {}
    for column, limits in ((d14c_col, D14C_LIMITS), (fm_col, FM_LIMITS)):
        values[column] = np.full(len(table), np.nan)
        if column in present:
            values[column], bad, more = limits.screen(data[column].to_numpy(), column)
            impossible, notes = impossible | bad, notes + more
    d14c, fm = values[d14c_col], values[fm_col]
    from_fm = fm_to_d14c(fm, year)
    difference = d14c - from_fm
    used = np.where(np.isnan(d14c), from_fm, d14c) if prefer == "d14c" else np.where(np.isnan(from_fm), d14c, from_fm)
    with np.errstate(invalid="ignore"):
        far = np.abs(difference) > FM_TOLERANCE
        uncorrected = far & (np.abs(d14c - (fm - 1.0) * 1000.0) <= FM_TOLERANCE)
    if far.any():
        notes.append(f"Δ14C and fraction modern differ by more than {FM_TOLERANCE:g} ‰ in {int(far.sum())} row(s) "
                     f"(up to {np.abs(difference[far]).max():.0f} ‰; {int(uncorrected.sum())} of them have Δ14C = "
                     "(Fm - 1) x 1000, without the decay correction to the sampling year); the ages use "
                     f"{'Δ14C' if prefer == 'd14c' else 'fraction modern'} (prefer d14c or fm; column "
                     f"d14c_fm_diff has each difference): {describe_rows(row_numbers(far))}")
    given = d14c[np.isfinite(d14c)]
    if given.size and np.all((given >= 0) & (given <= 2)):
        notes.append(f"column {d14c_col!r}: every Δ14C value lies between 0 and 2 ‰, as fraction modern values do; "
                     "if it holds fraction modern, give it as the fraction modern column")
    return Samples(np.where(impossible, np.nan, used), year, impossible, difference, notes)


def radiocarbon_age_table(table, d14c_col=ISRAD_COLUMNS["d14c"], fm_col=ISRAD_COLUMNS["fm"],
                          year_col=ISRAD_COLUMNS["year"], lat_col=ISRAD_COLUMNS["lat"], zone_col=None,
                          curve="hua2021", pre_d14c=PRE_BOMB_D14C, lag=0.0, prefer="d14c", progress=None,
                          is_cancelled=None):
    """Radiocarbon ages of every row of an (ISRaD-style) table; returns (table, notes).

    Defaults are ISRaD's column names; prefer: what the ages use where a row has both Δ14C
    and Fm (d14c or fm). The output keeps every input column and adds :data:`AGE_COLUMNS`:
    k_slow / k_fast (yr-1, smallest / largest root), age_slow_yr / age_fast_yr (1/k),
    n_roots, status, zone and atm_d14c (the zone and the atmospheric Δ14C (‰) forcing the
    model in the sampling year, see :func:`atmosphere_d14c`) and d14c_fm_diff (‰).
    Rows with an impossible value get status impossible_input. notes: messages for the user.
    """
    curve = load_curve(curve)
    samples = table_d14c(table, d14c_col, fm_col, year_col, prefer)
    zone, bad_latitude, zone_notes = table_zones(table, curve, lat_col, zone_col)
    impossible = samples.impossible | bad_latitude
    ages = radiocarbon_ages(samples.d14c, samples.year, zone, curve, pre_d14c, lag, impossible=impossible,
                            progress=progress, is_cancelled=is_cancelled)
    out = table.copy()
    out["k_slow"], out["age_slow_yr"] = ages.k_slow, ages.age_slow
    out["k_fast"], out["age_fast_yr"] = ages.k_fast, ages.age_fast
    out["n_roots"], out["status"] = ages.n_roots.astype(int), ages.status.astype(str)
    _add_atmosphere(out, curve, zone, np.where(impossible, np.nan, samples.year), pre_d14c, lag)
    out["d14c_fm_diff"] = samples.d14c_fm_diff
    notes = samples.notes + zone_notes + list(ages.notes)
    if (ages.n_roots > 2).any():
        notes.append(f"{int((ages.n_roots > 2).sum())} sample(s) have more than two roots (see n_roots); "
                     "k_slow and k_fast are the smallest and largest")
    return out, notes


def _add_atmosphere(out, curve, zone, year, pre_d14c, lag):
    """Columns zone and atm_d14c (‰): the zone used and its atmospheric Δ14C in the sampling year."""
    out["zone"] = zone_names(curve, zone)
    out["atm_d14c"] = atmosphere_d14c(year, zone, curve, pre_d14c, lag)


#: Possible decay rates (yr-1) and turnover times (yr) of the forward model.
RATE_LIMITS = {"k": Limits("decay rate k (yr-1)", 0.0, open_low=True),
               "age": Limits("turnover time (yr)", 0.0, open_low=True)}


def radiocarbon_forward_table(table, k_col=None, age_col=None, year_col=ISRAD_COLUMNS["year"],
                              lat_col=ISRAD_COLUMNS["lat"], zone_col=None, curve="hua2021",
                              pre_d14c=PRE_BOMB_D14C, lag=0.0):
    """Modelled Δ14C (‰) for a decay rate (``k_col``, yr-1) or turnover time (``age_col``, yr) per row.

    Adds ``d14c_model``, ``status`` (ok, extrapolated_curve, missing_input, impossible_input),
    ``zone`` and ``atm_d14c`` (as :func:`radiocarbon_age_table`); returns (table, notes).
    """
    from .tables import numeric_columns, require_columns

    if bool(k_col) == bool(age_col):
        raise InputError("give either a decay-rate column (k, yr-1) or a turnover-time column (age, yr)")
    column = k_col or age_col
    require_columns(table, [column, year_col])
    data = numeric_columns(table, [column, year_col])
    rate, bad_rate, notes = RATE_LIMITS["k" if k_col else "age"].screen(data[column].to_numpy(), column)
    k = rate if k_col else 1.0 / rate
    year, bad_year, more = YEAR_LIMITS.screen(data[year_col].to_numpy(), year_col)
    curve = load_curve(curve)
    zone, bad_latitude, zone_notes = table_zones(table, curve, lat_col, zone_col)
    impossible = bad_rate | bad_year | bad_latitude
    missing = impossible | ~np.isfinite(k) | ~np.isfinite(year) | (zone < 0)
    d14c = forward_d14c(np.where(missing, np.nan, k), year, np.maximum(zone, 0), curve, pre_d14c, lag)
    extrapolated = ~missing & model_extrapolated(np.nan_to_num(year), np.maximum(zone, 0), curve, lag)
    out = table.copy()
    out["d14c_model"] = d14c
    status = _statuses(missing, np.ones(len(table), dtype=int), extrapolated, impossible)
    out["status"] = status.astype(str)
    _add_atmosphere(out, curve, zone, np.where(impossible, np.nan, year), pre_d14c, lag)
    notes += more + zone_notes + _notes(curve, status, extrapolated, np.maximum(zone, 0), np.arange(1, len(table) + 1))
    return out, notes


# ---------------------------------------------------------------------------------------------
# Figure


def select_profile(out, id_col, profile=None):
    """Row positions of one profile of an age table: ``profile`` or the first one with an age."""
    from .tables import require_columns

    require_columns(out, [id_col])
    ids = out[id_col].astype(str).to_numpy()
    if profile is None:
        aged = out["age_slow_yr"].notna().to_numpy()
        if not aged.any():
            raise InputError("no row has an age to plot")
        profile = ids[aged][0]
    chosen = np.flatnonzero(ids == str(profile))
    if not chosen.size:
        raise InputError(f"no profile {profile!r} in column {id_col!r}")
    return chosen, str(profile)


def profile_figure(out, rows, top, bottom, d14c, year, zone, curve="hua2021", pre_d14c=PRE_BOMB_D14C, lag=0.0,
                   ibulk=None, title="Radiocarbon profile"):
    """Δ14C, slow-root age and Ibulk against layer depth (cm), and the forward model Δ14C(k) of
    each sampling year and zone with the measured values and their roots marked.

    out: the table from :func:`radiocarbon_age_table`; rows: positions of the profile's
    layers; top, bottom, d14c, year, zone, ibulk: arrays over all rows of ``out``.
    """
    from .plots import COLOURS, new_figure

    curve = load_curve(curve)
    figure, axes = new_figure(13.0, 4.8, ncols=4)
    mid = (np.asarray(top, dtype=float)[rows] + np.asarray(bottom, dtype=float)[rows]) / 2.0
    panels = ((d14c[rows], "Δ14C (‰)", "linear"),
              (out["age_slow_yr"].to_numpy()[rows], "age, slow root (yr)", "log"),
              (None if ibulk is None else np.asarray(ibulk)[rows], "Ibulk (Mg C ha-1 yr-1)", "log"))
    for ax, (values, label, scale) in zip(axes[:3], panels):
        if values is None or not np.isfinite(values).any():
            ax.text(0.5, 0.5, "not available", ha="center", transform=ax.transAxes)
        else:
            keep = np.isfinite(values) & np.isfinite(mid) & ((values > 0) | (scale == "linear"))
            ax.plot(values[keep], mid[keep], "o-", color=COLOURS[0])
            ax.set_xscale(scale)
        ax.set_xlabel(label)
        ax.set_ylabel("layer mid-depth (cm)")
        ax.invert_yaxis()
        ax.grid(alpha=0.3)
    ax = axes[3]
    k = np.exp(np.linspace(np.log(1e-5), np.log(10.0), 400))
    pairs = sorted({(int(y), int(z)) for y, z in zip(np.floor(year[rows]), zone[rows]) if np.isfinite(y) and z >= 0})
    for i, (y, z) in enumerate(pairs[:6]):
        colour = COLOURS[i % len(COLOURS)]
        ax.plot(k, forward_d14c(k, y, z, curve, pre_d14c, lag), color=colour, label=f"{y}, {curve.zones[z]}")
        here = [r for r in rows if np.floor(year[r]) == y and zone[r] == z]
        ax.scatter(np.full(len(here), k[0]), d14c[here], marker=">", color=colour)
        for r in here:
            for root in (out["k_slow"].iat[r], out["k_fast"].iat[r]):
                if np.isfinite(root):
                    ax.plot(root, d14c[r], "o", mfc="none", color=colour)
    ax.set_xscale("log")
    ax.set_xlabel("decay rate k (yr-1)")
    ax.set_ylabel("modelled Δ14C (‰)")
    ax.grid(alpha=0.3)
    if pairs:
        ax.legend(fontsize="small", title="sampled, zone")
    figure.suptitle(title)
    return figure


def profile_plot(table, out, profile=None, id_col="profile_id", top_col="lyr_top", bottom_col="lyr_bot",
                 d14c_col=ISRAD_COLUMNS["d14c"], fm_col=ISRAD_COLUMNS["fm"], year_col=ISRAD_COLUMNS["year"],
                 lat_col=ISRAD_COLUMNS["lat"], zone_col=None, curve="hua2021", pre_d14c=PRE_BOMB_D14C, lag=0.0,
                 prefer="d14c"):
    """(figure, row positions, profile id) of :func:`profile_figure` for one profile of ``out``
    (the result of :func:`radiocarbon_age_table` on ``table``); Ibulk is shown when the ISRaD
    stock columns allow it."""
    from .balance import IBULK, bulk_inputs_table

    rows, profile = select_profile(out, id_col, profile)
    samples = table_d14c(table, d14c_col, fm_col, year_col, prefer)
    d14c, year = samples.d14c, samples.year
    curve = load_curve(curve)
    zone = table_zones(table, curve, lat_col, zone_col)[0]
    try:
        ibulk = bulk_inputs_table(out.iloc[rows], top_col=top_col, bottom_col=bottom_col)[0]
        ibulk = ibulk.reindex(out.index)[IBULK].to_numpy()
    except InputError:
        ibulk = None
    figure = profile_figure(out, rows, out[top_col], out[bottom_col], d14c, year, zone, curve, pre_d14c, lag, ibulk,
                            f"Radiocarbon profile {profile}")
    return figure, rows, profile
