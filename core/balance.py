"""Carbon balance of soil layers (docs/methods.md section 6; the Iloss and He et al. Rh studies).

* Layer C stock (Mg C ha-1) from a stock column or BD x organic C x thickness (x (1 - coarse));
  Ibulk = Cstock / C age (Mg C ha-1 yr-1, steady state, Iloss study eq. 6).
* Iroot = BNPP (or NPP x fBNPP) x depth fraction; Iloss = Iroot - Ibulk and Iloss / Iroot.
* The six Iloss estimates of the Iloss study (Extended Data Table 1).
* Turnover time τ = stock / flux (yr), for tables and rasters.
* The 2-box vegetation-soil model of the He et al. Rh study with its bias correction and Monte Carlo.
"""

import numpy as np

from .checks import Limits
from .errors import InputError, describe_rows
from .outputs import note
from .progress import as_progress
from .soc import MAX_BULK_DENSITY, soc_density
from .tables import numeric_columns, require_columns, row_numbers

#: Stock units -> factor to Mg C ha-1 (ISRaD's lyr_soc is g C cm-2).
STOCK_UNITS = {"Mg_ha": 1.0, "g_cm2": 100.0, "kg_m2": 10.0}
#: Organic C units -> factor to g kg-1 (ISRaD's lyr_c_org is weight %).
OC_UNITS = {"percent": 10.0, "g_kg": 1.0}
#: Coarse fragment units -> divisor to a volume fraction (ISRaD's lyr_coarse_tot is %).
COARSE_UNITS = {"percent": 100.0, "fraction": 1.0}

STOCK, IBULK, IROOT, ILOSS, ILOSS_FRACTION = "c_stock_mg_ha", "ibulk_mg_ha_yr", "iroot_mg_ha_yr", \
    "iloss_mg_ha_yr", "iloss_fraction"
#: Physical limits of the inputs (core.checks): a table row with an impossible value gets no
#: result and is named in the notes; an impossible number given as a parameter is an error.
#: Organic C and coarse fragments depend on their unit (:func:`_unit_limits`).
LIMITS = {
    "iroot": Limits("Iroot (Mg C ha-1 yr-1)", 0.0),
    "ibulk": Limits("Ibulk (Mg C ha-1 yr-1)", 0.0),
    "bnpp": Limits("BNPP (Mg C ha-1 yr-1)", 0.0),
    "npp": Limits("NPP (Mg C ha-1 yr-1)", 0.0),
    "fbnpp": Limits("fBNPP (belowground share of NPP)", 0.0, 1.0),
    "fraction": Limits("depth fraction of the layer", 0.0, 1.0),
    "pdd": Limits("PDD (depth fraction of the layer)", 0.0, 1.0),
    "age": Limits("C age (yr)", 0.0, open_low=True),
    "stock": Limits("C stock", 0.0),
    "bd": Limits("bulk density (g cm-3)", 0.0, MAX_BULK_DENSITY, open_low=True),
    "flux": Limits("flux"),
}


def _unit(units, unit, what):
    if unit not in units:
        raise InputError(f"{what} unit must be one of {', '.join(units)}, not {unit!r}")
    return units[unit]


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _values(table, value):
    """A number broadcast over the rows, or a numeric column as float."""
    if _is_number(value):
        return np.full(len(table), float(value))
    require_columns(table, [value])
    return numeric_columns(table, [value])[value].to_numpy()


def _checked(table, value, limits):
    """(values, impossible, notes): :func:`_values` within ``limits`` (core.checks): an impossible
    number is an InputError; a column's impossible values become NaN and are named in the notes."""
    if _is_number(value):
        limits.require(value)
        return np.full(len(table), float(value)), np.zeros(len(table), dtype=bool), []
    return limits.screen(_values(table, value), value)


def layer_carbon_stock(table, top_col, bottom_col, bd_col=None, oc_col=None, stock_col=None, coarse_col=None,
                       oc_unit="percent", stock_unit="g_cm2", coarse_unit="percent"):
    """C stock of each row's layer (Mg C ha-1) and notes: the stock column where it has a
    plausible value, else BD (g cm-3) x organic C x thickness (cm) x (1 - coarse fraction) via
    :func:`soc.soc_density`.

    Coarse fragments count only where given. NaN where neither is available, and for the
    computed stock where the layer has no positive thickness. A row with an impossible value
    in any of these columns (negative stock or organic C, bulk density outside (0, 2.65]
    g cm-3, coarse fragments outside [0, 1) as a fraction: :data:`LIMITS`) gets no stock and
    is named in the notes. Stock values that no soil can hold (:func:`impossible_stocks`, a
    unit slip) are not used; if every stock value is like that the unit is wrong: InputError.
    """
    has_stock = bool(stock_col) and stock_col in table.columns
    present = [c for c in (bd_col, oc_col) if c and c in table.columns]
    if len(present) < 2 and not has_stock:
        wanted = ", ".join(repr(c) for c in (stock_col, bd_col, oc_col) if c)
        raise InputError(f"C stocks need a stock column or both bulk density and organic C columns "
                         f"(looked for {wanted})")
    thickness = _values(table, bottom_col) - _values(table, top_col)
    with np.errstate(invalid="ignore"):
        thickness[thickness <= 0] = np.nan  # point samples or inverted depths: no stock from BD and OC
    limits = {stock_col: LIMITS["stock"], bd_col: LIMITS["bd"],
              oc_col: Limits(f"organic C ({oc_unit})", 0.0, 1000.0 / _unit(OC_UNITS, oc_unit, "organic C")),
              coarse_col: Limits(f"coarse fragments ({coarse_unit})", 0.0,
                                 _unit(COARSE_UNITS, coarse_unit, "coarse fragment"), open_high=True)}
    values, impossible, notes = {}, np.zeros(len(table), dtype=bool), []
    for column in (c for c in (stock_col, oc_col, bd_col, coarse_col) if c and c in table.columns):
        values[column], bad, more = _checked(table, column, limits[column])
        impossible, notes = impossible | bad, notes + more
    oc = values[oc_col] * OC_UNITS[oc_unit] if oc_col in present else None
    stock = np.full(len(table), np.nan)
    if has_stock:
        stock = values[stock_col] * _unit(STOCK_UNITS, stock_unit, "stock")
        slip = impossible_stocks(stock, thickness, oc)
        what = (f"column {stock_col!r} ({stock_unit}): C stock impossible for the layer's thickness"
                f"{' and organic C' if oc is not None else ''} (a bulk density above {MAX_BULK_DENSITY} g cm-3 "
                "would be needed)")
        if slip.any() and slip.sum() == np.isfinite(stock).sum():
            raise InputError(f"{what} in every row with a value: check the stock unit")
        if slip.any():
            notes.append(f"{what}, not used (a unit slip in the source?): {describe_rows(row_numbers(slip))}")
            stock[slip] = np.nan
    if len(present) == 2:
        coarse = values.get(coarse_col)
        coarse = None if coarse is None else np.nan_to_num(coarse / COARSE_UNITS[coarse_unit])  # only where given
        stock = np.where(np.isnan(stock), soc_density(oc, values[bd_col], thickness, coarse), stock)
    return np.where(impossible, np.nan, stock), notes


def impossible_stocks(stock, thickness, oc=None):
    """True where a layer C stock (Mg C ha-1) needs a fine-earth bulk density above
    :data:`soc.MAX_BULK_DENSITY` for the layer's thickness (cm) and organic C (g kg-1; where
    unknown, pure carbon): stock / 100 / (thickness x OC / 1000) > 2.65 g cm-3. Such values are
    unit slips (e.g. Mg C ha-1 entered as g C cm-2, a factor 100)."""
    carbon = np.ones(len(stock)) if oc is None else np.where(oc > 0, np.asarray(oc, dtype=float) / 1000.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return stock / 100.0 / (thickness * carbon) > MAX_BULK_DENSITY


def bulk_inputs(stock, age):
    """Ibulk = C stock (Mg C ha-1) / C age (yr), in Mg C ha-1 yr-1; NaN where age is not positive."""
    stock, age = np.asarray(stock, dtype=float), np.asarray(age, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(age > 0, stock / age, np.nan)


def bulk_inputs_table(table, age_col="age_slow_yr", top_col="lyr_top", bottom_col="lyr_bot", bd_col="lyr_bd_samp",
                      oc_col="lyr_c_org", stock_col="lyr_soc", coarse_col="lyr_coarse_tot", oc_unit="percent",
                      stock_unit="g_cm2", coarse_unit="percent", layers=None, id_col="profile_id",
                      min_coverage=1.0, organic="exclude", progress=None, is_cancelled=None):
    """C stock and Ibulk per layer; returns (table, notes).

    Defaults are ISRaD's columns and units, with ``age_slow_yr`` from :func:`radiocarbon_age_table`.
    Rows with an impossible value (:data:`LIMITS`: an age that is not a positive number,
    negative organic C...) get no stock or Ibulk and are named in the notes.
    layers None: the input table plus ``c_stock_mg_ha`` and ``ibulk_mg_ha_yr``. Otherwise
    both are harmonised per profile (``id_col``) to the target layers with
    :func:`harmonise.depth_weighted` applied to the amount per cm, times the layer thickness:
    one row per profile and layer with ``*_contrib`` (covered share), the layer's age
    (``age_col``: C stock / Ibulk, yr, the stock-weighted harmonic mean of the ages within
    it) and the profile attributes (the columns constant within every profile, and the
    geometry). Organic layers above the mineral surface (negative depths) are left out there
    (``organic`` 'exclude') or kept, depths then measured from the top of the organic layer
    ('keep', see :func:`horizons.read_horizons`). Layers covered less than ``min_coverage`` get
    NaN (default 1: the whole layer must be covered).
    """
    steps = as_progress(progress, is_cancelled)
    require_columns(table, [age_col, top_col, bottom_col])
    stock, notes = layer_carbon_stock(table, top_col, bottom_col, bd_col, oc_col, stock_col, coarse_col, oc_unit,
                                      stock_unit, coarse_unit)
    age, _, more = _checked(table, age_col, LIMITS["age"])
    notes += more
    out = table.copy()
    out[STOCK] = stock
    out[IBULK] = bulk_inputs(stock, age)
    no_stock = np.isnan(stock) & np.isfinite(age)
    if no_stock.any():
        notes.append("no C stock (stock column empty or not used, and BD, organic C or a positive thickness missing): "
                     f"{describe_rows(row_numbers(no_stock))}")
    steps.update(0.3)
    if layers is None:
        return out, notes
    from .harmonise import depth_weighted

    require_columns(table, [id_col])
    depths = numeric_columns(table, [top_col, bottom_col])
    mineral = (depths[top_col] >= 0).to_numpy() | (organic == "keep")
    if (~mineral).any():
        notes.append(f"{int((~mineral).sum())} layer(s) above the mineral surface (negative top) left out of "
                     "the harmonised layers")
    thickness = (depths[bottom_col] - depths[top_col]).to_numpy()
    per_cm = out.loc[mineral].drop(columns=[age_col])
    with np.errstate(invalid="ignore", divide="ignore"):
        per_cm[STOCK] = stock[mineral] / thickness[mineral]
        per_cm[IBULK] = out[IBULK].to_numpy()[mineral] / thickness[mineral]
    harmonised = depth_weighted(per_cm, id_col, top_col, bottom_col, [STOCK, IBULK], layers, min_coverage,
                                organic=organic, progress=steps.sub(0.3, 1.0))
    result = harmonised.layers
    layer_thickness = (result[bottom_col] - result[top_col]).to_numpy()
    for column in (STOCK, IBULK):
        result[column] = result[column].to_numpy() * layer_thickness
    with np.errstate(invalid="ignore", divide="ignore"):
        result[age_col] = turnover_time(result[STOCK].to_numpy(), result[IBULK].to_numpy())
    failed = harmonised.profiles[harmonised.profiles["status"] == "error"]
    notes += [f"profile {row[id_col]}: {row['message']}" for _, row in failed.head(20).iterrows()]
    return result, notes


# ---------------------------------------------------------------------------------------------
# Root inputs and losses


def root_inputs(bnpp=None, fraction=1.0, npp=None, fbnpp=None):
    """Iroot (Mg C ha-1 yr-1) = BNPP x depth fraction, with BNPP = NPP x fBNPP when BNPP is not given.

    fBNPP must lie in [0, 1] (InputError naming the positions otherwise).
    """
    if bnpp is None:
        if npp is None or fbnpp is None:
            raise InputError("Iroot needs BNPP, or NPP and fBNPP")
        LIMITS["fbnpp"].require(fbnpp)
        bnpp = np.asarray(npp, dtype=float) * np.asarray(fbnpp, dtype=float)
    return np.asarray(bnpp, dtype=float) * np.asarray(fraction, dtype=float)


def root_losses(iroot, ibulk):
    """(Iloss = Iroot - Ibulk (Mg C ha-1 yr-1), Iloss / Iroot); the share is NaN where Iroot <= 0.

    Iloss can be negative (carbon moved down into a layer).
    """
    iroot, ibulk = np.asarray(iroot, dtype=float), np.asarray(ibulk, dtype=float)
    loss = iroot - ibulk
    with np.errstate(divide="ignore", invalid="ignore"):
        return loss, np.where(iroot > 0, loss / iroot, np.nan)


#: Profile columns of :func:`carbon_balance_table` besides the sums: covered depths (cm), layers summed, completeness.
PROFILE_COVERAGE = ("profile_top_cm", "profile_bottom_cm", "profile_layers", "complete")


def carbon_balance_table(table, ibulk, iroot=None, bnpp=None, npp=None, fbnpp=None, fraction=None, id_col=None,
                         top_col="lyr_top", bottom_col="lyr_bot"):
    """Iroot, Iloss and Iloss/Iroot per row (layer) and, with ``id_col``, per profile; returns (table, notes).

    Each input is a column name or a number: ``ibulk``; and ``iroot``, or ``bnpp`` (or
    ``npp`` and ``fbnpp``) times ``fraction`` (the layer's depth fraction, default 1).
    Impossible values (:data:`LIMITS`: negative or infinite fluxes, fractions outside
    [0, 1]) leave their row without a result and are named in the notes.
    Adds iroot_mg_ha_yr, iloss_mg_ha_yr, iloss_fraction and, per profile, the sums over the
    layers having both Iroot and Ibulk (iroot_profile, ibulk_profile, iloss_profile,
    iloss_fraction_profile) with what they cover (:data:`PROFILE_COVERAGE`): the depths
    from the shallowest top to the deepest bottom of those layers (``top_col``,
    ``bottom_col``, cm, when the table has them), their number, and ``complete``: every
    layer of the profile is summed and, with depths, they join without gaps from the
    surface (top at or above 0) down.
    """
    notes = []

    def checked(name, value):
        if value is None:
            return None
        values, _, more = _checked(table, value, LIMITS[name])
        notes.extend(more)
        return values

    if iroot is not None:
        root = checked("iroot", iroot)
    else:
        root = root_inputs(checked("bnpp", bnpp), 1.0 if fraction is None else checked("fraction", fraction),
                           checked("npp", npp), checked("fbnpp", fbnpp))
    bulk = checked("ibulk", ibulk)
    out = table.copy()
    out[IROOT] = root
    out[ILOSS], out[ILOSS_FRACTION] = root_losses(root, bulk)
    if id_col:
        notes += _profile_sums(out, table, id_col, root, bulk, top_col, bottom_col)
    return out, notes


def _profile_sums(out, table, id_col, root, bulk, top_col, bottom_col):
    """Add the profile sums of :func:`carbon_balance_table` and their coverage to ``out``; returns notes."""
    import pandas as pd

    require_columns(table, [id_col])
    both = np.isfinite(root) & np.isfinite(bulk)
    has_depths = all(c and c in table.columns for c in (top_col, bottom_col))
    top, bottom = (_values(table, c) if has_depths else np.full(len(table), np.nan) for c in (top_col, bottom_col))
    frame = pd.DataFrame({"id": table[id_col].to_numpy(), "root": np.where(both, root, 0.0),
                          "bulk": np.where(both, bulk, 0.0), "n": both, "rows": 1,
                          "top": np.where(both, top, np.nan), "bottom": np.where(both, bottom, np.nan),
                          "thickness": np.where(both, bottom - top, 0.0)})
    grouped = frame.groupby("id", sort=False)
    sums = grouped[["root", "bulk", "n", "rows", "thickness"]].sum()
    sums["top"], sums["bottom"] = grouped["top"].min(), grouped["bottom"].max()
    sums.loc[sums["n"] == 0, ["root", "bulk"]] = np.nan
    complete = (sums["n"] == sums["rows"]) & (sums["n"] > 0)
    if has_depths:
        joined = np.isclose(sums["thickness"], sums["bottom"] - sums["top"], rtol=0.0, atol=1e-9)
        complete &= joined & (sums["top"] <= 0)
    per_row = sums.reindex(table[id_col].to_numpy())
    out["iroot_profile"], out["ibulk_profile"] = per_row["root"].to_numpy(), per_row["bulk"].to_numpy()
    out["iloss_profile"], out["iloss_fraction_profile"] = root_losses(out["iroot_profile"], out["ibulk_profile"])
    out["profile_top_cm"], out["profile_bottom_cm"] = per_row["top"].to_numpy(), per_row["bottom"].to_numpy()
    out["profile_layers"] = per_row["n"].fillna(0).to_numpy().astype(int)  # 0 for rows without a profile id
    out["complete"] = complete.reindex(table[id_col].to_numpy()).fillna(False).to_numpy().astype(bool)
    notes = []
    if not has_depths:
        notes.append(f"no depth columns ({top_col!r}, {bottom_col!r}): the depths the profile sums cover are unknown")
    if not complete.all():
        ids = [str(i) for i in sums.index[~complete.to_numpy()]]
        notes.append(f"{len(ids)} profile(s) incomplete (complete = false: a layer lacks Iroot or Ibulk"
                     f"{', or the summed layers leave a gap or miss the surface' if has_depths else ''}): "
                     f"{', '.join(ids[:5])}{f' (and {len(ids) - 5} more)' if len(ids) > 5 else ''}")
    return notes


#: Seed 001 Extended Data Table 1: estimate -> (label, inputs of Iroot, Ibulk input).
SIX_ESTIMATES = {
    1: ("observed BNPP x predicted PDD - predicted Ibulk (NPP sites)", ("bnpp_obs", "pdd_pred"), "ibulk_pred"),
    2: ("NPP x observed fBNPP x predicted PDD - predicted Ibulk (NPP sites)", ("npp", "fbnpp_obs", "pdd_pred"),
        "ibulk_pred"),
    3: ("predicted BNPP x observed PDD - observed Ibulk (radiocarbon sites)", ("bnpp_pred", "pdd_obs"),
        "ibulk_obs"),
    4: ("NPP x predicted fBNPP x observed PDD - observed Ibulk (radiocarbon sites)",
        ("npp", "fbnpp_pred", "pdd_obs"), "ibulk_obs"),
    5: ("predicted BNPP x observed PDD - predicted Ibulk (root sites)", ("bnpp_pred", "pdd_obs"), "ibulk_pred"),
    6: ("NPP x predicted fBNPP x observed PDD - predicted Ibulk (root sites)", ("npp", "fbnpp_pred", "pdd_obs"),
        "ibulk_pred"),
}
#: Inputs the six estimates draw on.
ESTIMATE_INPUTS = ("bnpp_obs", "bnpp_pred", "npp", "fbnpp_obs", "fbnpp_pred", "pdd_obs", "pdd_pred",
                   "ibulk_obs", "ibulk_pred")


def loss_estimates(inputs):
    """The estimates of :data:`SIX_ESTIMATES` that ``inputs`` (name -> array, Mg C ha-1 yr-1 or
    fractions) allow: {number: {'iroot', 'ibulk', 'iloss', 'iloss_fraction'}}."""
    unknown = sorted(set(inputs) - set(ESTIMATE_INPUTS))
    if unknown:
        raise InputError(f"unknown estimate input(s) {', '.join(unknown)}; use {', '.join(ESTIMATE_INPUTS)}")
    results = {}
    for number, (_, root_inputs_needed, bulk_name) in SIX_ESTIMATES.items():
        if not all(inputs.get(name) is not None for name in root_inputs_needed + (bulk_name,)):
            continue
        if "npp" in root_inputs_needed:
            root = root_inputs(None, inputs[root_inputs_needed[2]], inputs["npp"], inputs[root_inputs_needed[1]])
        else:
            root = root_inputs(inputs[root_inputs_needed[0]], inputs[root_inputs_needed[1]])
        loss, share = root_losses(root, inputs[bulk_name])
        results[number] = {"iroot": root, "ibulk": np.asarray(inputs[bulk_name], dtype=float), "iloss": loss,
                           "iloss_fraction": share}
    return results


def loss_estimates_table(table, columns, id_col=None):
    """Per-row Iroot/Iloss of each available estimate and the cross table; returns (table, summary, notes).

    columns: estimate input (:data:`ESTIMATE_INPUTS`) -> column name or number. Impossible
    values (:data:`LIMITS`: negative or infinite fluxes, fBNPP or PDD outside [0, 1]) leave
    their row without a result and are named in the notes. Adds iroot_e<n>, iloss_e<n>,
    iloss_fraction_e<n>. The summary has one row per estimate: label, rows, mean Iroot,
    Ibulk, Iloss (over profiles' sums when ``id_col`` is given, else over rows with every
    input) and Iloss/Iroot of those means.
    """
    import pandas as pd

    values, notes = {}, []
    for name, value in columns.items():
        if value is not None:
            values[name], _, more = _checked(table, value, LIMITS[name.rsplit("_", 1)[0]])
            notes += more
    estimates = loss_estimates(values)
    if not estimates:
        needs = "; ".join(f"{n}: {', '.join(inputs + (bulk,))}" for n, (_, inputs, bulk) in SIX_ESTIMATES.items())
        raise InputError(f"the inputs given allow none of the six estimates ({needs})")
    out = table.copy()
    rows = []
    for number, result in estimates.items():
        out[f"iroot_e{number}"], out[f"iloss_e{number}"] = result["iroot"], result["iloss"]
        out[f"iloss_fraction_e{number}"] = result["iloss_fraction"]
        frame = pd.DataFrame({"iroot": result["iroot"], "ibulk": result["ibulk"], "iloss": result["iloss"]})
        frame = frame[frame.notna().all(axis=1)]
        if id_col:
            require_columns(table, [id_col])
            frame = frame.groupby(table[id_col].to_numpy()[frame.index], sort=False).sum()
        means = frame.mean()
        rows.append({"estimate": number, "label": SIX_ESTIMATES[number][0], "n": len(frame),
                     "iroot_mean": means["iroot"], "ibulk_mean": means["ibulk"], "iloss_mean": means["iloss"],
                     "iloss_fraction": means["iloss"] / means["iroot"] if means["iroot"] > 0 else np.nan})
    return out, pd.DataFrame(rows), notes


# ---------------------------------------------------------------------------------------------
# Turnover and rasters


def turnover_time(stock, flux):
    """τ = stock / flux (yr for Mg C ha-1 over Mg C ha-1 yr-1); NaN where the flux is not positive."""
    stock, flux = np.asarray(stock, dtype=float), np.asarray(flux, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(flux > 0, stock / flux, np.nan)


def turnover_table(table, stock, flux, column="tau_yr"):
    """The table plus ``column`` = stock / flux (columns or numbers); returns (table, notes).

    A negative or infinite stock and an infinite flux are impossible (:data:`LIMITS`): no τ, noted.
    """
    stock_values, _, notes = _checked(table, stock, LIMITS["stock"])
    flux_values, _, more = _checked(table, flux, LIMITS["flux"])
    out = table.copy()
    out[column] = turnover_time(stock_values, flux_values)
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(flux_values) & (flux_values <= 0)
    notes += more + ([f"flux zero or negative (no turnover time): {describe_rows(row_numbers(bad))}"]
                     if bad.any() else [])
    return out, notes


def _profile_losses(iroot, ibulk):
    """Whole-profile bands from the sums of the layer bands: Iroot, Ibulk, Iloss and Iloss / Iroot."""
    return [iroot, ibulk, *root_losses(iroot, ibulk)]


#: Band-wise raster operations: name -> (function of (a, b) returning bands, output band prefixes,
#: function of the sums of a and b over the layer bands returning whole-profile bands or None, their names).
RASTER_OPERATIONS = {
    "ibulk": (lambda stock, age: [bulk_inputs(stock, age)], ("ibulk",), None, ()),
    "iloss": (lambda iroot, ibulk: [*root_losses(iroot, ibulk), iroot], ("iloss", "iloss_fraction", "iroot"),
              _profile_losses, ("iroot_profile", "ibulk_profile", "iloss_profile", "iloss_fraction_profile")),
    "turnover": (lambda stock, flux: [turnover_time(stock, flux)], ("tau",), None, ()),
}


def _bandwise_block(blocks, operation, n_bands, counts, constants):
    """Block function: the operation on band i of ``a`` and ``b`` for every band, grouped by output kind,
    then the whole-profile bands of the operation (from the sums of ``a`` and ``b`` over the bands)."""
    function, _, profile, _ = RASTER_OPERATIONS[operation]
    shape = next(iter(blocks.values())).shape

    def band(name, i):
        return constants[name] if name in constants else blocks[f"{name}{i if counts[name] > 1 else 1}"]

    results = [function(band("a", i), band("b", i)) for i in range(1, n_bands + 1)]
    bands = [np.broadcast_to(r[kind], shape) for kind in range(len(results[0])) for r in results]
    if profile is not None:
        sums = (sum(np.broadcast_to(band(name, i), shape) for i in range(1, n_bands + 1)) for name in ("a", "b"))
        bands += [np.broadcast_to(value, shape) for value in profile(*sums)]
    return np.stack(bands)


def raster_balance(operation, a, b, output, **engine):
    """Band-wise Ibulk (a = stock, b = age), Iloss, Iloss/Iroot and Iroot (a = Iroot, b = Ibulk)
    or τ (a = stock, b = flux) rasters. a, b: raster paths (same grid; equal numbers of layer
    bands, or one single-band) or numbers. A raster's layers are its ``_mean`` bands when it has
    them (a map with ``_sd`` bands, as predict-raster writes; the sd is not propagated here, see
    ``loss-maps``), else all its bands. Bands are named after the layers recorded in the inputs
    or in their band names. "iloss" adds the whole profile (iroot_profile, ibulk_profile,
    iloss_profile, iloss_fraction_profile) from the sums of Iroot and Ibulk over the layers;
    nodata in any band gives nodata. engine: see :func:`maps.engine.map_blocks`."""
    from .maps.bands import layer_references, layers_of
    from .maps.engine import map_blocks
    from .partitioning import LAYERS_METADATA_KEY

    if operation not in RASTER_OPERATIONS:
        raise InputError(f"unknown raster operation {operation!r}")
    inputs, constants, counts, scheme = {}, {}, {}, None
    for name, value in (("a", a), ("b", b)):
        if _is_number(value):
            constants[name] = float(value)
            continue
        refs = layer_references(value, str(value))
        if any(ref.name.endswith("_mean") for ref in refs):
            note(f"{value}: its {len(refs)} _mean band(s) are the layers (the sd is not propagated; "
                 "loss-maps propagates it)")
        counts[name] = len(refs)
        inputs.update({f"{name}{i}": (ref.path, ref.band) for i, ref in enumerate(refs, start=1)})
        if scheme is None and len(refs) > 1:
            try:
                scheme = layers_of(refs, None, str(value))
            except InputError:
                scheme = None
    if not inputs:
        raise InputError("give at least one raster")
    if len(set(counts.values()) - {1}) > 1:
        raise InputError(f"rasters with different numbers of layers ({', '.join(f'{v}' for v in counts.values())}); "
                         "give equal numbers, or one single-band raster")
    n_bands = max(counts.values())
    if operation == "iloss" and n_bands > 1 and (constants or 1 in counts.values()):
        note(f"one value for all {n_bands} layers: the whole-profile sums count it {n_bands} times")
    scheme = scheme if scheme is not None and len(scheme) == n_bands else None
    _, prefixes, _, profile_names = RASTER_OPERATIONS[operation]
    if scheme is not None:
        names = [name for prefix in prefixes for name in scheme.column_names(prefix)]
    else:
        names = [f"{prefix}_band{i}" if n_bands > 1 else prefix for prefix in prefixes for i in range(1, n_bands + 1)]
    names += list(profile_names)
    metadata = {LAYERS_METADATA_KEY: str(scheme)} if scheme is not None else None
    return map_blocks(_bandwise_block, inputs, output, names,
                      params={"operation": operation, "n_bands": n_bands, "counts": counts, "constants": constants},
                      metadata=metadata, explain=lambda _: [_NO_VALUE[operation]] if operation in _NO_VALUE else [],
                      **engine)


#: Why a band-wise operation gives no value at a pixel with data (the reason when no pixel gets one;
#: Iloss always has one).
_NO_VALUE = {"ibulk": "a C age of 0 or below", "turnover": "a flux of 0 or below"}


# ---------------------------------------------------------------------------------------------
# The 2-box model (the He et al. Rh study)


def two_box_model(npp, tau_veg, tau_soil):
    """Vegetation and soil C stocks per year (eq. 3), yearly steps from a steady state in year 1.

    npp (Mg C ha-1 yr-1 or Pg C yr-1), tau_veg and tau_soil (yr): arrays over years on the
    last axis (other axes broadcast, e.g. an ensemble). Year 1: cVeg = NPP τ_veg, cSoil = NPP τ_soil.
    **Decision** (yearly steps): cVeg(t) = cVeg(t-1) + NPP(t) - cVeg(t-1)/τ_veg(t) and
    cSoil(t) = cSoil(t-1) + cVeg(t-1)/τ_veg(t) - cSoil(t-1)/τ_soil(t); τ must be >= 1 yr.
    Returns (cveg, csoil) with the broadcast shape.
    """
    npp, tau_veg, tau_soil = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (npp, tau_veg, tau_soil)))
    if np.any(~(tau_veg >= 1)) or np.any(~(tau_soil >= 1)):
        raise InputError("turnover times must be at least 1 year in every year (yearly steps)")
    cveg, csoil = np.empty(npp.shape), np.empty(npp.shape)
    cveg[..., 0] = npp[..., 0] * tau_veg[..., 0]
    csoil[..., 0] = npp[..., 0] * tau_soil[..., 0]
    for t in range(1, npp.shape[-1]):
        litter = cveg[..., t - 1] / tau_veg[..., t]
        cveg[..., t] = cveg[..., t - 1] + npp[..., t] - litter
        csoil[..., t] = csoil[..., t - 1] + litter - csoil[..., t - 1] / tau_soil[..., t]
    return cveg, csoil


def bias_corrected(tau_sim, tau_obs, reference):
    """Eqs. 4-5: τ~(t) = (τ_obs - mean τ_sim over the reference years) + τ_sim(t).

    tau_sim: (years,); tau_obs: number or array (draws); reference: boolean mask of years.
    Returns (draws..., years).
    """
    offset = np.asarray(tau_obs, dtype=float)[..., None] - np.mean(np.asarray(tau_sim)[reference])
    return offset + np.asarray(tau_sim, dtype=float)


def _valid_draws(rng, mean, sd, draws, tau_sim, reference):
    """``draws`` normal draws of τ_obs whose corrected τ is >= 1 yr in every year (rejection)."""
    kept, rejected = [], 0
    for _ in range(1000):
        sample = rng.normal(mean, sd, draws)
        ok = bias_corrected(tau_sim, sample, reference).min(axis=-1) >= 1.0
        kept.extend(sample[ok])
        rejected += int((~ok).sum())
        if len(kept) >= draws:
            return np.asarray(kept[:draws]), rejected
    raise InputError(f"τ_obs ~ N({mean:g}, {sd:g}) almost never keeps the corrected turnover time above 1 yr")


def two_box_monte_carlo(years, npp, tau_veg_sim, tau_soil_sim, reference=(1982, 2018), tau_veg_obs=(10.3, 1.4),
                        tau_soil_obs=(38.3, 11.0), draws=100, seed=0, progress=None, is_cancelled=None):
    """Bias-corrected 2-box model with draws x draws Monte Carlo combinations of τ_veg and τ_soil.

    years, npp, tau_veg_sim, tau_soil_sim: yearly series (e.g. a DGVM's global means);
    reference: first and last year of the period whose mean τ_sim is replaced by τ_obs;
    tau_*_obs: (mean, sd) of the observation-based τ (yr), defaults from the He et al. Rh study.
    **Decision**: draws that would make a corrected τ < 1 yr in some year are redrawn
    (a truncated normal); the number is reported. Returns (table, notes): per year npp, the
    uncorrected cveg_sim/csoil_sim/ctotal_sim and the ensemble mean and sd of cveg, csoil, ctotal.
    """
    import pandas as pd

    steps = as_progress(progress, is_cancelled)
    years = np.asarray(years, dtype=float)
    series = [np.asarray(v, dtype=float) for v in (npp, tau_veg_sim, tau_soil_sim)]
    if any(v.shape != years.shape for v in series) or years.ndim != 1 or len(years) < 2:
        raise InputError("years, NPP and the two turnover-time series must be 1-D and of one length (>= 2 years)")
    bad = ~np.isfinite(np.vstack([years] + series)).all(axis=0)
    if bad.any():
        raise InputError(f"missing or non-numeric values in {describe_rows(row_numbers(bad))}")
    if np.any(np.diff(years) != 1):
        raise InputError("years must be consecutive")
    first, last = reference
    reference = (years >= first) & (years <= last)
    if not reference.any():
        raise InputError(f"no year between {first:g} and {last:g} (the reference period)")
    if draws < 2:
        raise InputError(f"draws must be at least 2 (got {draws}): the ensemble sd needs two draws of each τ")
    for name, (_, sd) in (("τ_veg", tau_veg_obs), ("τ_soil", tau_soil_obs)):
        if not sd >= 0:
            raise InputError(f"the sd of the observed {name} must not be negative (got {sd:g})")
    rng = np.random.default_rng(seed)
    veg_draws, veg_rejected = _valid_draws(rng, *tau_veg_obs, draws, series[1], reference)
    soil_draws, soil_rejected = _valid_draws(rng, *tau_soil_obs, draws, series[2], reference)
    steps.update(0.1)
    tau_veg = bias_corrected(series[1], veg_draws, reference)[:, None, :]   # (veg draws, 1, years)
    tau_soil = bias_corrected(series[2], soil_draws, reference)[None, :, :]  # (1, soil draws, years)
    cveg, csoil = two_box_model(series[0], tau_veg, tau_soil)
    steps.update(0.9)
    cveg_sim, csoil_sim = two_box_model(*series)
    out = pd.DataFrame({"year": years, "npp": series[0], "cveg_sim": cveg_sim, "csoil_sim": csoil_sim,
                        "ctotal_sim": cveg_sim + csoil_sim})
    for name, values in (("cveg", cveg), ("csoil", csoil), ("ctotal", cveg + csoil)):
        flat = values.reshape(-1, len(years))
        out[f"{name}_mean"], out[f"{name}_sd"] = flat.mean(axis=0), flat.std(axis=0, ddof=1)
    notes = [f"{draws} x {draws} ensemble, seed {seed}"]
    if veg_rejected or soil_rejected:
        notes.append(f"redrawn because a corrected τ fell below 1 yr: {veg_rejected} τ_veg and "
                     f"{soil_rejected} τ_soil draws")
    steps.update(1.0)
    return out, notes


def two_box_table(table, year_col="year", npp_col="npp", tau_veg_col="tau_veg", tau_soil_col="tau_soil", **options):
    """:func:`two_box_monte_carlo` on the columns of a yearly table; options: its keyword arguments."""
    columns = [year_col, npp_col, tau_veg_col, tau_soil_col]
    require_columns(table, columns)
    data = numeric_columns(table, columns)
    return two_box_monte_carlo(*(data[c].to_numpy() for c in columns), **options)


def two_box_figure(result, title="2-box model"):
    """Vegetation, soil and total C against year: uncorrected (dashed) and ensemble mean ± sd."""
    from .plots import COLOURS, new_figure

    figure, axes = new_figure(8.0, 5.0)
    for colour, name in zip(COLOURS, ("cveg", "csoil", "ctotal")):
        mean, sd = result[f"{name}_mean"], result[f"{name}_sd"]
        axes.plot(result["year"], mean, color=colour, label=f"{name} (bias-corrected mean)")
        axes.fill_between(result["year"], mean - sd, mean + sd, color=colour, alpha=0.2)
        axes.plot(result["year"], result[f"{name}_sim"], "--", color=colour, label=f"{name} (uncorrected)")
    axes.set_xlabel("year")
    axes.set_ylabel("carbon stock")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    figure.suptitle(title)
    return figure
