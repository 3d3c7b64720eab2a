"""The map products of the studies, with their uncertainty, block by block (METHODS sections 2, 3, 6, 7, 9).

* :func:`bnpp_by_depth`: BNPP (mean, sd) x depth shares per layer -> BNPP per layer with
  U_total = sqrt(U_BNPP² + U_PDD²), U = sd / mean (the Luo et al. BNPP study);
* :func:`loss_maps`: Iroot = BNPP x share, Ibulk, Iloss = Iroot - Ibulk and Iloss / Iroot per
  layer and for the profile, by per-pixel Monte Carlo (the Iloss study);
* :func:`subsoil_soc`: SOC per layer below a topsoil stock from β (the Wang et al. subsoil study);
* :func:`turnover_map`: τ = stock / flux with its uncertainty (the He et al. Rh study).

Every input is a raster band (``RASTER[:BAND]``; see :mod:`.bands`) or a number, with an sd
(a band, a number, or the ``<name>_sd`` band beside a ``<name>_mean`` band; none: exact).
Units: fluxes Mg C ha-1 yr-1, stocks Mg C ha-1 (other units are converted, see
:func:`.bands.unit_factor`). A pixel with an impossible value (a negative BNPP, β outside
(0, 1), a negative sd...) is nodata in every band, counted and named in the run's notes;
nodata in any input gives nodata. Choices, each argued in docs/maps.md ("Map products"):

* **first-order products** (the BNPP study): for X·Y of independent X and Y,
  sd = sqrt((sd_X·Y)² + (X·sd_Y)²), i.e. U² = U_X² + U_Y² (the U_X²·U_Y² term is dropped);
  the same for NPP x fBNPP, stock / age and stock / flux;
* **shares from one model per layer** are renormalised per pixel to sum to 1 (mean and sd
  divided by the sum of the means, so each layer's U_PDD is unchanged); shares from β or
  D50/D95 are the models' layer fractions normalised over 0 to the profile depth (the
  METHODS Decision), with an sd from the parameters' sd by first-order (delta-method)
  propagation;
* **Monte Carlo** (:func:`loss_maps`): BNPP and each layer's Ibulk are independent lognormal
  variables with the pixel's mean and sd, and the layers of a pixel share its BNPP draw; β or
  D50/D95 are drawn (β normal, D50 and D95 lognormal) and give every layer's share of a draw;
  share bands are lognormal per layer, each draw rescaled to the pixel's share total.
"""

import copy

import numpy as np

from .. import depth
from ..balance import LIMITS, bulk_inputs, root_losses, turnover_time
from ..checks import Limits
from ..depth import PROFILE_DEPTH
from ..errors import InputError
from ..layers import format_depth, layer_scheme
from ..outputs import note, same_file
from ..partitioning import MODEL_PARAMETERS, model_fractions
from .bands import (UNITS, BandRef, band_reference, check_layer_names, layer_references, layers_of, named_layers,
                    recorded_kind, sd_partner, unit_factor)
from .engine import map_blocks
from .montecarlo import (DEFAULT_DRAWS, INTERVAL, STATISTICS, check_seed, lognormal_draws, lognormal_parameters,
                         pixel_normals, summarise)

FLUX, STOCK, YEARS, RATIO = "Mg C ha-1 yr-1", "Mg C ha-1", "yr", "1"
#: Quantities of :func:`loss_maps`, in band order, with their units.
LOSS_QUANTITIES = {"iroot": FLUX, "ibulk": FLUX, "iloss": FLUX, "iloss_fraction": RATIO}
#: Values held in memory at once by the Monte Carlo per array (pixels x draws), which bounds its memory.
CHUNK_VALUES = 2 ** 18
BETA = Limits("β", 0.0, 1.0, open_low=True, open_high=True)
POSITIVE_DEPTH = Limits("depth (cm)", 0.0, open_low=True)
SD = Limits("sd", 0.0)
POSITIVE_FLUX = Limits("flux", 0.0, open_low=True)
#: Quick-look titles of the loss quantities.
LOSS_TITLES = {"iroot": "Iroot", "ibulk": "Ibulk", "iloss": "Iloss", "iloss_fraction": "Iloss / Iroot"}
#: Random-number streams of the Monte Carlo (:func:`.montecarlo.pixel_uniforms`): BNPP, then per layer.
STREAM_BNPP, STREAM_SHARE, STREAM_IBULK = 0, 1000, 2000
#: Limits of a drawn β (a normal draw beyond them takes the limit): within 1e-9 of 0 and 1, where the layer
#: fractions are still exact to about 1e-7.
BETA_DRAWN = (1e-9, 1.0 - 1e-9)


class _Inputs:
    """The inputs of one product run: raster bands and constants by block name, unit factors, notes, metadata."""

    def __init__(self):
        self.rasters, self.constants, self.scale, self.notes, self.metadata = {}, {}, {}, [], {}

    def _put(self, name, ref):
        if isinstance(ref, BandRef):
            self.rasters[name] = (ref.path, ref.band)
        else:
            self.constants[name] = float(ref)

    def quantity(self, name, value, sd=None, option=None, kind=None, unit=None, limits=None, layer=None,
                 layer_option="layers"):
        """Register the mean (block ``name``) and sd (``name_sd``) of a quantity (InputError when not given).

        kind: 'flux' or 'stock' (converted to the project unit from ``unit`` or the band's units);
        limits: checked at once when the value is a number; layer: the one-layer scheme (cm) of the
        value, which band names giving depths (``…_0_20_mean``) must agree with (layer_option: what sets it).
        """
        option = option or name
        ref = band_reference(value, option, constant=True)
        if ref is None:
            raise InputError(f"give {option}: a raster band or a number")
        _require_role([ref], option)
        if limits is not None and not isinstance(ref, BandRef):
            limits.require(ref, option)
        sd_ref = band_reference(sd, f"{option} sd", constant=True, sd=True)
        _require_role([sd_ref], f"{option} sd", sd=True, values=[ref])
        if sd_ref is None:
            sd_ref = sd_partner(ref)
            self.notes.append(f"{option}: sd from band {sd_ref}" if sd_ref is not None
                              else f"{option}: no sd given or found beside it; taken as exact (sd 0)")
        elif not isinstance(sd_ref, BandRef):
            SD.require(sd_ref, f"{option} sd")
        if layer is not None:
            check_layer_names([ref], layer, option, layer_option)
            check_layer_names([sd_ref], layer, f"{option} sd", layer_option)
        self._put(name, ref)
        self._put(f"{name}_sd", 0.0 if sd_ref is None else sd_ref)
        if kind is not None:
            self.scale[name] = (unit_factor(ref, kind, unit, option, self.notes) if isinstance(ref, BandRef)
                                else _chosen_unit(kind, unit, option))
        self.metadata[option] = str(ref)
        self.metadata[f"{option} sd"] = str(0.0 if sd_ref is None else sd_ref)

    def layered(self, name, items, sds, option, layers, kind=None, unit=None):
        """Register one band per layer (blocks ``name0``, ``name0_sd``, ...); returns their layer scheme.

        layers: the layers (None: from the bands); band names giving depths must agree with them
        (:func:`.bands.layers_of`).
        """
        refs = layer_references(items, option)
        _require_role(refs, option)
        for ref in refs if kind is None else ():  # shares and ages: no flux or stock given by mistake
            found, recorded = recorded_kind(ref)
            if found is not None:
                raise InputError(f"{option}: band {ref} records units {recorded!r}, a {found}; give the bands of "
                                 f"{option} themselves")
        scheme = layers_of(refs, layers, option)
        sd_refs = layer_references(sds, f"{option} sd", sd=True) if sds else [sd_partner(ref) for ref in refs]
        if len(sd_refs) != len(refs):
            raise InputError(f"{option}: {len(sd_refs)} sd band(s) for {len(refs)} band(s)")
        _require_role(sd_refs, f"{option} sd", sd=True, values=refs)
        for sd_ref in sd_refs:
            if sd_ref is not None and not isinstance(sd_ref, BandRef):
                SD.require(sd_ref, f"{option} sd")  # a number: finite and not negative, before any work
        check_layer_names(sd_refs, scheme, f"{option} sd")
        if not sds:
            found = sum(s is not None for s in sd_refs)
            self.notes.append(f"{option}: sd of {found} of {len(refs)} band(s) from the _sd bands beside them"
                              + ("; the others taken as exact (sd 0)" if found < len(refs) else ""))
        for i, (ref, sd_ref) in enumerate(zip(refs, sd_refs)):
            self._put(f"{name}{i}", ref)
            self._put(f"{name}{i}_sd", 0.0 if sd_ref is None else sd_ref)
            if kind is not None:
                self.scale[f"{name}{i}"] = unit_factor(ref, kind, unit, option, self.notes)
        self.notes = list(dict.fromkeys(self.notes))  # one unit note per input, not per band
        self.metadata[option] = "; ".join(str(r) for r in refs)
        return scheme

    def run(self, func, output, band_names, units, params, metadata, quicklook=None, quicklook_bands=None,
            title="", **engine):
        """Run ``func`` through the engine, give the notes to the output transaction (as the engine does)
        and write the quick-look when asked.

        The returned RasterRun also carries ``quicklook_bands`` and ``title`` (for reports).
        """
        from ... import __version__

        if not self.rasters:
            raise InputError("give at least one input as a raster")
        params = {"constants": self.constants, "scale": self.scale, **params}
        run = map_blocks(func, self.rasters, output, band_names, params=params,
                         metadata={"wholesoil_version": __version__, **metadata, **self.metadata},
                         band_metadata={name: {"units": unit} for name, unit in zip(band_names, units)},
                         explain=_problems, **engine)
        own = self.notes + [f"{text}: nodata" for text in _problems(run.counts)]
        for text in own:
            note(text)
        run.notes = own + run.notes
        run.quicklook_bands, run.title = quicklook_bands, title
        if quicklook:
            from .quicklook import write_quicklook

            write_quicklook(output, quicklook, bands=quicklook_bands, title=title)
        return run


def _require_role(refs, option, sd=False, values=()):
    """InputError when a band given for values is named as an sd band (``…_sd``), or one given for an sd as a
    mean band (``…_mean``) or is the band of the values it is the sd of (``values``, in the same order)."""
    wrong = [ref for ref in refs if isinstance(ref, BandRef) and ref.name.endswith("_mean" if sd else "_sd")]
    if wrong:
        raise InputError(f"{option}: band {wrong[0]} is {'a mean' if sd else 'an sd'} band; give the "
                         f"{'_sd' if sd else '_mean'} bands (the _sd band beside each _mean band is its sd)")
    own = [ref for ref, value in zip(refs, values) if isinstance(ref, BandRef) and isinstance(value, BandRef)
           and ref.band == value.band and (ref.path == value.path or same_file(ref.path, value.path))]
    if own:
        raise InputError(f"{option}: band {own[0]} is the band of the values themselves; give the band or raster "
                         "of their sd, a number, or no sd (then the _sd band beside a _mean band, else sd 0)")


def _chosen_unit(kind, unit, option):
    if unit is None:
        return 1.0
    if unit not in UNITS[kind]:
        raise InputError(f"{option} unit must be one of {', '.join(UNITS[kind])}, not {unit!r}")
    return UNITS[kind][unit][0]


class _Problems:
    """Pixels with impossible values: a mask and a count per reason (the run's notes).

    Every flagged pixel is masked (and cleared for the model functions); only those with data in
    every input of the window's ``blocks`` are counted (the others are nodata anyway)."""

    def __init__(self, blocks):
        self.data = np.logical_and.reduce([~np.isnan(block) for block in blocks.values()])
        self.mask, self.counts = np.zeros(self.data.shape, dtype=bool), {}

    def flag(self, what, bad):
        bad = np.broadcast_to(bad, self.mask.shape)
        self.mask |= bad
        counted = int((bad & self.data).sum())
        if counted:
            self.counts[what] = self.counts.get(what, 0) + counted

    def clean(self, values):
        """``values`` with NaN at the flagged pixels (so model functions see nodata there)."""
        return np.where(self.mask, np.nan, values)


def _problems(counts):
    """What a run's :class:`_Problems` counts say, one text per reason."""
    return [f"{count} pixels with {what}" for what, count in counts.items()]


def _values(blocks, constants):
    """The window's arrays by block name, numbers broadcast to the window."""
    shape = next(iter(blocks.values())).shape
    return {**{name: np.full(shape, value) for name, value in constants.items()}, **blocks}, shape


def _scaled(values, scale, name):
    """(mean, sd) of a quantity in the project unit."""
    factor = scale.get(name, 1.0)
    return values[name] * factor, values[f"{name}_sd"] * factor


def _product_sd(a, sd_a, b, sd_b):
    """First-order sd of a x b for independent a and b: sqrt((sd_a b)² + (a sd_b)²)."""
    return np.hypot(sd_a * b, a * sd_b)


def _delta_sd(function, params, sds, steps):
    """First-order sd of ``function(params)`` from independent parameter sds (central differences).

    steps: parameter -> step array (small, keeping the shifted parameter possible).
    """
    variance = 0.0
    for name, sd in sds.items():
        if not np.any(sd > 0):
            continue
        step = steps[name]
        up, down = dict(params), dict(params)
        up[name], down[name] = params[name] + step, params[name] - step
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = (function(up) - function(down)) / (2.0 * step[..., None])
        variance = variance + (slope * sd[..., None]) ** 2
    return np.sqrt(variance) if np.ndim(variance) else None


def _parameter_steps(params):
    """Steps of the central differences: 1e-6 of the distance to the nearest impossible value."""
    if "beta" in params:
        return {"beta": 1e-6 * np.minimum(params["beta"], 1.0 - params["beta"])}
    gap = np.minimum(params["d50"], params["d95"] - params["d50"])
    return {"d50": 1e-6 * gap, "d95": 1e-6 * gap}


# ---------------------------------------------------------------------------------------------
# BNPP and its depth shares


class RootInputs:
    """Where BNPP and its depth shares come from (Iroot, or BNPP, per layer = BNPP x share).

    BNPP: ``bnpp`` (Mg C ha-1 yr-1 unless ``unit`` or the band's units say otherwise), or
    ``npp`` x ``fbnpp`` (fBNPP a fraction, 0-1). Shares, one way: ``beta`` (Y = 1 - β^d), or
    ``d50`` and ``d95`` (cm, the logistic model), over ``layers`` normalised over 0 to
    ``profile_depth`` cm; or ``shares``, one band per layer (a list of RASTER[:BAND], or a file
    whose ``_mean`` bands are the layers, from 0 to ``profile_depth`` cm), renormalised per pixel
    to sum to 1, with ``layers`` from the bands when not given. Each value is a raster band or a
    number; each ``*_sd`` an sd band or number (None: the ``_sd`` band beside a ``_mean`` band,
    else exact).
    """

    def __init__(self, bnpp=None, bnpp_sd=None, npp=None, npp_sd=None, fbnpp=None, fbnpp_sd=None, beta=None,
                 beta_sd=None, d50=None, d50_sd=None, d95=None, d95_sd=None, shares=None, shares_sd=None,
                 layers=None, profile_depth=PROFILE_DEPTH, unit=None):
        self.bnpp, self.bnpp_sd, self.npp, self.npp_sd, self.fbnpp, self.fbnpp_sd = \
            bnpp, bnpp_sd, npp, npp_sd, fbnpp, fbnpp_sd
        self.beta, self.beta_sd, self.d50, self.d50_sd, self.d95, self.d95_sd = beta, beta_sd, d50, d50_sd, d95, d95_sd
        self.shares, self.shares_sd, self.layers, self.profile_depth, self.unit = \
            shares, shares_sd, layers, profile_depth, unit

    def register(self, inputs):
        """Register BNPP (or NPP and fBNPP) and the shares with ``inputs``; returns (share model, scheme)."""
        if (self.bnpp is None) == (self.npp is None and self.fbnpp is None):
            raise InputError("give BNPP, or NPP and fBNPP (not both)")
        if self.bnpp is not None:
            inputs.quantity("bnpp", self.bnpp, self.bnpp_sd, "BNPP", "flux", self.unit, LIMITS["bnpp"])
        elif self.npp is None or self.fbnpp is None:
            raise InputError("BNPP from NPP x fBNPP needs both NPP and fBNPP")
        else:
            inputs.quantity("npp", self.npp, self.npp_sd, "NPP", "flux", self.unit, LIMITS["npp"])
            inputs.quantity("fbnpp", self.fbnpp, self.fbnpp_sd, "fBNPP", limits=LIMITS["fbnpp"])
        ways = [way for way, given in (("beta", self.beta is not None),
                                       ("logistic", self.d50 is not None or self.d95 is not None),
                                       ("bands", self.shares is not None)) if given]
        if len(ways) != 1:
            raise InputError("give the depth shares one way: β, D50 and D95, or share rasters (one per layer)")
        model = ways[0]
        if model == "bands":
            scheme = inputs.layered("share", self.shares, self.shares_sd, "shares", self.layers)
            if scheme.breaks[0] != 0 or scheme.breaks[-1] != self.profile_depth:
                covered = f"{format_depth(scheme.breaks[0])}-{format_depth(scheme.breaks[-1])} cm"
                raise InputError(f"shares: the share bands cover {covered}, not the whole profile (0 cm to the "
                                 f"profile depth, {format_depth(self.profile_depth)} cm): renormalised to sum to 1 "
                                 f"they would put all the BNPP in {covered}; give one band per layer from 0 cm to "
                                 "the profile depth, or the profile depth they reach")
            inputs.metadata["shares"] += " (renormalised per pixel to sum to 1)"
            return model, scheme
        scheme = layer_scheme(self.layers)
        depth.profile_depth_of(scheme, True, self.profile_depth)
        if model == "beta":
            inputs.quantity("beta", self.beta, self.beta_sd, "beta", limits=BETA)
        else:
            if self.d50 is None or self.d95 is None:
                raise InputError("the logistic shares need both D50 and D95")
            inputs.quantity("d50", self.d50, self.d50_sd, "D50", limits=POSITIVE_DEPTH)
            inputs.quantity("d95", self.d95, self.d95_sd, "D95", limits=POSITIVE_DEPTH)
            if "d50" in inputs.constants and "d95" in inputs.constants:
                depth.check_logistic_parameters(inputs.constants["d50"], inputs.constants["d95"])
        inputs.notes.append(depth.coverage_note(scheme, True, self.profile_depth))
        inputs.notes = [n for n in inputs.notes if n]
        inputs.metadata["profile_depth_cm"] = format_depth(self.profile_depth)
        return model, scheme


def _bnpp_moments(values, scale, problems):
    """(mean, sd) of BNPP per pixel (Mg C ha-1 yr-1): the BNPP band, or NPP x fBNPP (first order)."""
    if "bnpp" in values:
        mean, sd = _scaled(values, scale, "bnpp")
        problems.flag("BNPP below 0 or a negative sd", LIMITS["bnpp"].impossible(mean) | SD.impossible(sd))
        return mean, sd
    npp, npp_sd = _scaled(values, scale, "npp")
    fbnpp, fbnpp_sd = values["fbnpp"], values["fbnpp_sd"]
    problems.flag("NPP below 0, fBNPP outside 0-1 or a negative sd",
                  LIMITS["npp"].impossible(npp) | LIMITS["fbnpp"].impossible(fbnpp) | SD.impossible(npp_sd)
                  | SD.impossible(fbnpp_sd))
    return npp * fbnpp, _product_sd(npp, npp_sd, fbnpp, fbnpp_sd)


def _share_moments(values, model, layers, profile_depth, problems):
    """(mean, sd) of each layer's share, arrays (layers, rows, cols)."""
    if model == "bands":
        return _band_shares(values, layers, problems)
    params, sds = _share_parameters(values, model, problems)

    def fractions(given):
        return model_fractions(model, given, layers, True, profile_depth=profile_depth)

    mean = np.moveaxis(fractions(params), -1, 0)
    sd = _delta_sd(fractions, params, sds, _parameter_steps(params))
    return mean, (np.zeros_like(mean) if sd is None else np.moveaxis(sd, -1, 0))


def _band_shares(values, layers, problems):
    """(mean, sd) of each layer's share band, renormalised to sum to 1 per pixel: arrays (layers, rows, cols)."""
    mean = np.stack([values[f"share{i}"] for i in range(len(layers))])
    sd = np.stack([values[f"share{i}_sd"] for i in range(len(layers))])
    total = mean.sum(axis=0)
    problems.flag("a depth share outside 0-1 or a negative sd",
                  (LIMITS["fraction"].impossible(mean) | SD.impossible(sd)).any(axis=0))
    problems.flag("depth shares summing to 0", total == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return mean / total, sd / total


def _share_parameters(values, model, problems):
    """({name: mean}, {name: sd}) of the share model's parameters (β, or D50 and D95 in cm), impossible
    values flagged and cleared."""
    names = MODEL_PARAMETERS[model]
    if model == "beta":
        problems.flag("β outside (0, 1)", BETA.impossible(values["beta"]))
    else:
        with np.errstate(invalid="ignore"):
            problems.flag("D50 not above 0 or D95 not above D50", ~(values["d50"] > 0) & np.isfinite(values["d50"])
                          | ~(values["d95"] > values["d50"]) & np.isfinite(values["d95"] - values["d50"]))
    problems.flag(f"a negative sd of {' or '.join(names)}", np.any([SD.impossible(values[f"{n}_sd"]) for n in names],
                                                                   axis=0))
    return {n: problems.clean(values[n]) for n in names}, {n: problems.clean(values[f"{n}_sd"]) for n in names}


def _bnpp_block(blocks, constants, scale, model, layers, profile_depth):
    """Block function of :func:`bnpp_by_depth`: per layer mean, sd and U_total."""
    values, shape = _values(blocks, constants)
    problems = _Problems(blocks)
    bnpp, bnpp_sd = _bnpp_moments(values, scale, problems)
    share, share_sd = _share_moments(values, model, layers, profile_depth, problems)
    mean = bnpp * share
    sd = _product_sd(bnpp, bnpp_sd, share, share_sd)
    with np.errstate(invalid="ignore", divide="ignore"):
        u_total = np.where(mean > 0, sd / mean, np.nan)
    out = np.stack([mean, sd, u_total], axis=1).reshape(3 * len(layers), *shape)
    out[:, problems.mask] = np.nan
    return out, problems.counts


def bnpp_by_depth(output, roots, quicklook=None, **engine):
    """BNPP per depth layer with its uncertainty (the Luo et al. BNPP study, METHODS sections 2, 7, 9).

    roots: a :class:`RootInputs` (BNPP or NPP x fBNPP, and the shares). Bands per layer:
    ``bnpp_<top>_<bottom>_mean`` = BNPP x share (Mg C ha-1 yr-1), ``…_sd`` (first order, see
    the module) and ``…_utotal`` = sd / mean = sqrt(U_BNPP² + U_PDD²) (NaN where the mean is
    0). quicklook: a PNG of the layers' means. engine: see :func:`.engine.map_blocks`.
    Returns the :class:`.engine.RasterRun` (its ``notes`` for the user).
    """
    inputs = _Inputs()
    model, scheme = roots.register(inputs)
    names = [f"{prefix}_{stat}" for prefix in scheme.column_names("bnpp") for stat in ("mean", "sd", "utotal")]
    units = [FLUX, FLUX, RATIO] * len(scheme)
    metadata = {"product": "bnpp-by-depth", "layers": str(scheme),
                "uncertainty": "U_total = sqrt(U_BNPP^2 + U_PDD^2), first order (Luo et al. BNPP study)"}
    return inputs.run(_bnpp_block, output, names, units,
                      {"model": model, "layers": scheme, "profile_depth": roots.profile_depth}, metadata,
                      quicklook, names[::3], "BNPP by depth layer (mean)", **engine)


# ---------------------------------------------------------------------------------------------
# Iroot, Ibulk, Iloss by Monte Carlo


def _ibulk_moments(values, scale, n_layers, source, problems):
    """(mean, sd) of Ibulk per layer (layers, rows, cols): Ibulk bands, or stock / age (first order)."""
    if source == "ibulk":
        pairs = [_scaled(values, scale, f"ibulk{i}") for i in range(n_layers)]
        mean, sd = np.stack([m for m, _ in pairs]), np.stack([s for _, s in pairs])
        problems.flag("Ibulk below 0 or a negative sd", (LIMITS["ibulk"].impossible(mean) | SD.impossible(sd)).any(0))
        return mean, sd
    pairs = [_scaled(values, scale, f"stock{i}") for i in range(n_layers)]
    stock, stock_sd = np.stack([m for m, _ in pairs]), np.stack([s for _, s in pairs])
    age = np.stack([values[f"age{i}"] for i in range(n_layers)])
    age_sd = np.stack([values[f"age{i}_sd"] for i in range(n_layers)])
    problems.flag("a C stock below 0, a C age not above 0 or a negative sd",
                  (LIMITS["stock"].impossible(stock) | LIMITS["age"].impossible(age) | SD.impossible(stock_sd)
                   | SD.impossible(age_sd)).any(0))
    mean = bulk_inputs(stock, age)
    with np.errstate(invalid="ignore", divide="ignore"):
        return mean, np.hypot(stock_sd / age, mean * age_sd / age)


def _band_share_draws(share, normals):
    """Draws (layers, n, draws) of share bands: each layer lognormal with its (mean, sd) (arrays (layers, n)),
    then each draw rescaled to the pixel's share total."""
    shares = np.stack([lognormal_draws(mean, sd, normals(STREAM_SHARE + i))
                       for i, (mean, sd) in enumerate(zip(*share))])
    with np.errstate(invalid="ignore", divide="ignore"):
        shares *= share[0].sum(axis=0)[:, None] / shares.sum(axis=0)  # each draw keeps the pixel's share total
    return shares


def _model_share_draws(model, params, sds, layers, profile_depth, normals):
    """Draws (layers, n, draws) of the shares a β or D50/D95 model gives, from draws of its parameters
    (arrays (n,)): β normal, kept within :data:`BETA_DRAWN` (its limits are all roots at the surface and
    roots spread evenly over the profile); D50 and D95 (cm) lognormal, a draw's D95 at least just above its
    D50. Every layer's share of a draw comes from the same parameters, as in the model."""
    if model == "beta":
        drawn = {"beta": np.clip(params["beta"][:, None] + sds["beta"][:, None] * normals(STREAM_SHARE), *BETA_DRAWN)}
    else:
        d50 = lognormal_draws(params["d50"], sds["d50"], normals(STREAM_SHARE))
        d95 = lognormal_draws(params["d95"], sds["d95"], normals(STREAM_SHARE + 1))
        drawn = {"d50": d50, "d95": np.maximum(d95, np.nextafter(d50, np.inf))}
    return np.moveaxis(model_fractions(model, drawn, layers, True, profile_depth=profile_depth), -1, 0)


def _loss_draws(bnpp, shares, ibulk, normals):
    """Iroot, Ibulk, Iloss and Iloss / Iroot draws per layer and for the profile (dict of (layers + 1, n, draws)).

    bnpp: (mean, sd) arrays (n,); shares: draws (layers, n, draws); ibulk: (mean, sd) arrays (layers, n);
    normals: callable stream -> standard normals (n, draws).
    """
    n_layers = len(shares)
    root = lognormal_draws(*bnpp, normals(STREAM_BNPP))
    iroot = root[None] * shares
    ibulk = np.stack([lognormal_draws(ibulk[0][i], ibulk[1][i], normals(STREAM_IBULK + i)) for i in range(n_layers)])
    iroot = np.concatenate([iroot, iroot.sum(axis=0)[None]])
    ibulk = np.concatenate([ibulk, ibulk.sum(axis=0)[None]])
    with np.errstate(invalid="ignore", divide="ignore"):
        iloss, fraction = root_losses(iroot, ibulk)
    return {"iroot": iroot, "ibulk": ibulk, "iloss": iloss, "iloss_fraction": fraction}


def _loss_block(blocks, window, constants, scale, model, layers, profile_depth, source, quantities, draws, seed,
                check):
    """Block function of :func:`loss_maps`: Monte Carlo statistics per quantity, layer (and profile); ``check``
    (the engine's cancel check) is called before each group of rows."""
    values, shape = _values(blocks, constants)
    problems = _Problems(blocks)
    bnpp = _bnpp_moments(values, scale, problems)
    if model == "bands":
        share = _band_shares(values, layers, problems)
    else:
        params, sds = _share_parameters(values, model, problems)
        share = (np.stack(list(params.values())), np.stack(list(sds.values())))
    ibulk = _ibulk_moments(values, scale, len(layers), source, problems)
    means = [bnpp[0], *share[0], *ibulk[0]]
    sds = [bnpp[1], *share[1], *ibulk[1]]
    problems.flag("a mean of 0 with a positive sd (no distribution of positive values has it)",
                  np.any([(m == 0) & (s > 0) for m, s in zip(means, sds)], axis=0))
    usable = ~problems.mask & np.all([np.isfinite(v) for v in means + sds], axis=0)
    out = np.full((len(quantities) * (len(layers) + 1) * len(STATISTICS), *shape), np.nan)
    x, y, cols, rows = window
    step = max(1, CHUNK_VALUES // (cols * draws))
    for top in range(0, rows, step):
        check()
        part = slice(top, min(rows, top + step))
        ok = usable[part]
        if not ok.any():
            continue
        sub_window = (x, y + top, cols, part.stop - top)

        def normals(stream):
            return pixel_normals(seed, stream, sub_window, draws, ok)

        def pick(pair):
            return tuple(p[..., part, :][..., ok] for p in pair)

        if model == "bands":
            shares = _band_share_draws(pick(share), normals)
        else:
            mean, sd = pick(share)
            names = MODEL_PARAMETERS[model]
            shares = _model_share_draws(model, dict(zip(names, mean)), dict(zip(names, sd)), layers, profile_depth,
                                        normals)
        result = _loss_draws(pick(bnpp), shares, pick(ibulk), normals)
        bands = [stat for name in quantities for layer in result[name] for stat in summarise(layer)]
        for band, stat in zip(out, bands):
            band[part][ok] = stat
    return out, problems.counts


_loss_block.takes_window = _loss_block.takes_check = True


def loss_maps(output, roots, ibulk=None, ibulk_sd=None, stock=None, stock_sd=None, age=None, age_sd=None,
              ibulk_unit=None, stock_unit=None, quantities=tuple(LOSS_QUANTITIES), draws=DEFAULT_DRAWS, seed=0,
              quicklook=None, **engine):
    """Iroot, Ibulk, Iloss and Iloss / Iroot maps per layer and profile by per-pixel Monte Carlo (the Iloss study).

    roots: a :class:`RootInputs` (Iroot = BNPP x share). Ibulk per layer: ``ibulk`` (one band
    per layer, e.g. predicted maps with their ``_sd`` bands; Mg C ha-1 yr-1 unless
    ``ibulk_unit`` or the bands' units say otherwise), or ``stock`` (Mg C ha-1) / ``age`` (yr),
    one band per layer each; ``*_sd``: their sd bands (None: the ``_sd`` bands beside
    ``_mean`` bands, else exact). quantities: of :data:`LOSS_QUANTITIES`. draws, seed: the
    Monte Carlo (the numbers of a pixel depend on the seed and the pixel only).
    Bands ``<quantity>_<top>_<bottom>_<stat>`` and ``<quantity>_profile_<stat>`` (the sums
    over the layers) for the stats mean, sd, lower and upper (2.5 and 97.5 % of the draws).
    """
    unknown = [q for q in quantities if q not in LOSS_QUANTITIES]
    if unknown or not quantities:
        raise InputError(f"unknown quantity {', '.join(unknown) or '(none)'}; choose from {', '.join(LOSS_QUANTITIES)}")
    if isinstance(draws, bool) or int(draws) != draws or draws < 2:
        raise InputError(f"draws must be a whole number of at least 2 (got {draws})")
    seed = check_seed(seed)
    if (ibulk is None) == (stock is None and age is None):
        raise InputError("give Ibulk, or C stock and C age (not both)")
    inputs = _Inputs()
    if roots.layers is None and roots.shares is None:  # the layers the Ibulk (or C stock) bands are named for
        layered, option = (ibulk, "Ibulk") if ibulk is not None else (stock, "C stock")
        named = None if layered is None else named_layers(layer_references(layered, option), option)
        if named is not None:
            roots = copy.copy(roots)
            roots.layers = named
            inputs.notes.append(f"layers {', '.join(named.labels)} cm, from the {option} band names")
    model, scheme = roots.register(inputs)
    if ibulk is not None:
        source = "ibulk"
        inputs.layered("ibulk", ibulk, ibulk_sd, "Ibulk", scheme, "flux", ibulk_unit)
    elif stock is None or age is None:
        raise InputError("Ibulk from stock / age needs both the C stock and the C age rasters")
    else:
        source = "stock_age"
        inputs.layered("stock", stock, stock_sd, "C stock", scheme, "stock", stock_unit)
        inputs.layered("age", age, age_sd, "C age", scheme)
    layers = [c[len("x_"):] for c in scheme.column_names("x")] + ["profile"]
    names = [f"{q}_{layer}_{stat}" for q in quantities for layer in layers for stat in STATISTICS]
    units = [LOSS_QUANTITIES[q] for q in quantities for _ in layers for _ in STATISTICS]
    metadata = {"product": "loss-maps", "layers": str(scheme), "draws": str(int(draws)), "seed": str(seed),
                "interval": f"{INTERVAL[0]:g}-{INTERVAL[1]:g} percentiles of the draws",
                "distributions": "independent BNPP (lognormal), shares (from normal beta, lognormal D50 and D95, "
                                 "or lognormal share bands rescaled to their total) and Ibulk (lognormal), with "
                                 "each pixel's mean and sd"}
    shown = "iloss" if "iloss" in quantities else quantities[0]
    quick = [f"{shown}_{layer}_mean" for layer in layers]
    per_pixel = 8 * (len(inputs.rasters) + 2 * len(names)) + 64
    return inputs.run(_loss_block, output, names, units,
                      {"model": model, "layers": scheme, "profile_depth": roots.profile_depth, "source": source,
                       "quantities": list(quantities), "draws": int(draws), "seed": seed}, metadata,
                      quicklook, quick, f"{LOSS_TITLES[shown]} by depth layer (Monte Carlo mean)",
                      bytes_per_pixel=per_pixel, **engine)


# ---------------------------------------------------------------------------------------------
# Subsoil SOC from β and a topsoil stock


def _subsoil_block(blocks, constants, scale, layers, topsoil):
    """Block function of :func:`subsoil_soc`: per layer (and their sum) SOC mean and sd."""
    values, shape = _values(blocks, constants)
    problems = _Problems(blocks)
    top, top_sd = _scaled(values, scale, "topsoil")
    problems.flag("β outside (0, 1)", BETA.impossible(values["beta"]))
    problems.flag("a topsoil stock below 0 or a negative sd", LIMITS["stock"].impossible(top) | SD.impossible(top_sd)
                  | SD.impossible(values["beta_sd"]))
    beta = problems.clean(values["beta"])

    def ratios(given):
        layer_shares = depth.beta_layer_fractions(given["beta"], layers, normalize=False)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_layer = layer_shares / depth.beta_layer_fractions(given["beta"], topsoil, normalize=False)
        return np.concatenate([per_layer, per_layer.sum(axis=-1, keepdims=True)], axis=-1)

    ratio = ratios({"beta": beta})
    ratio_sd = _delta_sd(ratios, {"beta": beta}, {"beta": problems.clean(values["beta_sd"])},
                         _parameter_steps({"beta": beta}))
    ratio_sd = np.zeros_like(ratio) if ratio_sd is None else ratio_sd
    mean = top[..., None] * ratio
    sd = _product_sd(top[..., None], top_sd[..., None], ratio, ratio_sd)
    count = len(layers) + (len(layers) > 1)
    out = np.moveaxis(np.stack([mean, sd], axis=-1)[..., :count, :], (-2, -1), (0, 1)).reshape(2 * count, *shape)
    out[:, problems.mask] = np.nan
    return out, problems.counts


def subsoil_soc(output, beta, topsoil, beta_sd=None, topsoil_sd=None, topsoil_layer="0-20",
                layers="20,40,60,80,100", stock_unit=None, quicklook=None, **engine):
    """SOC per layer below a topsoil stock from a β map (the Wang et al. subsoil study, eqs. 3-4).

    beta: β of Y = 1 - β^d (a band or a number); topsoil: the SOC stock of ``topsoil_layer``
    (Mg C ha-1 unless ``stock_unit`` or the band's units say otherwise). Layer [a, b] holds
    topsoil x (β^a - β^b) / (β^t0 - β^t1) for the topsoil layer [t0, t1] (with t0 = 0: eq. 4,
    X100 = (1 - β^100) / (1 - β^d0) X_d0, taken layer by layer). Bands ``soc_<a>_<b>_mean`` and
    ``…_sd`` per layer, then the sum over the layers (``soc_20_100_…`` by default). The sd
    combines the topsoil sd and the β sd (first order).
    """
    given = topsoil_layer
    try:
        topsoil_layer = layer_scheme(topsoil_layer)
    except InputError:
        topsoil_layer = None
    if topsoil_layer is None or len(topsoil_layer) != 1:
        raise InputError(f"topsoil layer {given}: give one layer as top-bottom in cm, e.g. 0-20")
    scheme = layer_scheme(layers)
    inputs = _Inputs()
    top, bottom = scheme.breaks[0], topsoil_layer.bottoms[0]
    if top < bottom:
        inputs.notes.append(f"the layers start at {format_depth(top)} cm, above the bottom of the topsoil layer "
                            f"({format_depth(bottom)} cm): they overlap it, and their sum counts "
                            f"{format_depth(top)}-{format_depth(bottom)} cm, which the topsoil stock holds too")
    if scheme.breaks[-1] > PROFILE_DEPTH:
        inputs.notes.append(f"the layers reach {format_depth(scheme.breaks[-1])} cm, below the "
                            f"{format_depth(PROFILE_DEPTH)} cm profile of the β models: β is extrapolated there")
    inputs.quantity("beta", beta, beta_sd, "beta", limits=BETA)
    inputs.quantity("topsoil", topsoil, topsoil_sd, "topsoil SOC", "stock", stock_unit, LIMITS["stock"], topsoil_layer,
                    "topsoil depths (--topsoil-layer; in QGIS, Depths of the topsoil stock)")
    prefixes = scheme.column_names("soc")
    if len(scheme) > 1:
        prefixes.append(f"soc_{format_depth(scheme.breaks[0])}_{format_depth(scheme.breaks[-1])}".replace(".", "p"))
    names = [f"{prefix}_{stat}" for prefix in prefixes for stat in ("mean", "sd")]
    metadata = {"product": "subsoil-soc", "layers": str(scheme), "topsoil_layer_cm": topsoil_layer.labels[0]}
    return inputs.run(_subsoil_block, output, names, [STOCK] * len(names),
                      {"layers": scheme, "topsoil": topsoil_layer}, metadata,
                      quicklook, names[::2], "SOC stock by depth layer (mean)", **engine)


# ---------------------------------------------------------------------------------------------
# Turnover time


def _turnover_block(blocks, constants, scale):
    """Block function of :func:`turnover_map`: τ, its first-order sd and the lognormal 95 % interval."""
    from scipy.special import ndtri

    values, shape = _values(blocks, constants)
    problems = _Problems(blocks)
    stock, stock_sd = _scaled(values, scale, "stock")
    flux, flux_sd = _scaled(values, scale, "flux")
    problems.flag("a stock below 0 or a negative sd", LIMITS["stock"].impossible(stock) | SD.impossible(stock_sd)
                  | SD.impossible(flux_sd))
    with np.errstate(invalid="ignore"):
        problems.flag("a flux of 0 or below (no turnover time)", flux <= 0)
        problems.flag("a stock of 0 with a positive sd", (stock == 0) & (stock_sd > 0))
    tau = turnover_time(stock, flux)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.hypot(stock_sd / flux, stock * flux_sd / flux ** 2)
        (mu_stock, s_stock), (mu_flux, s_flux) = lognormal_parameters(stock, stock_sd), \
            lognormal_parameters(flux, flux_sd)
        s_stock = np.where(stock_sd == 0, 0.0, s_stock)  # a stock of 0 known exactly: τ = 0
        spread = ndtri(INTERVAL[1] / 100.0) * np.hypot(s_stock, s_flux)
        bounds = [np.where(stock == 0, 0.0, np.exp(mu_stock - mu_flux + sign * spread)) for sign in (-1, 1)]
    out = np.stack([tau, sd, *bounds])
    out[:, problems.mask] = np.nan
    return out, problems.counts


def turnover_map(output, stock, flux, stock_sd=None, flux_sd=None, stock_unit=None, flux_unit=None, quicklook=None,
                 **engine):
    """Turnover time τ = stock / flux (yr) with its uncertainty (the He et al. Rh study, METHODS section 6).

    stock: Mg C ha-1, flux (e.g. Rh): Mg C ha-1 yr-1, unless the units (options or band
    metadata) say otherwise; each a band or a number, with an optional sd. Bands: ``tau``
    (stock / flux of the means, as the study), ``tau_sd`` (first order:
    sqrt((sd_S / F)² + (S sd_F / F²)²)), ``tau_lower`` and ``tau_upper`` (2.5 and 97.5 % of
    stock / flux for independent lognormal stock and flux, exact: ln τ is then normal).
    """
    inputs = _Inputs()
    inputs.quantity("stock", stock, stock_sd, "stock", "stock", stock_unit, LIMITS["stock"])
    inputs.quantity("flux", flux, flux_sd, "flux", "flux", flux_unit, POSITIVE_FLUX)
    names = ["tau", "tau_sd", "tau_lower", "tau_upper"]
    metadata = {"product": "turnover-map",
                "interval": f"{INTERVAL[0]:g}-{INTERVAL[1]:g} % of stock / flux, independent lognormal stock and flux"}
    return inputs.run(_turnover_block, output, names, [YEARS] * 4, {}, metadata, quicklook, ["tau"],
                      "Turnover time", **engine)
