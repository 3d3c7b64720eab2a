"""Depth fractions and partitioned totals over scalars, tables and raster stacks.

This is the layer the CLI and the Processing algorithms share. A model parameter is given
as a number (a constant for every row or pixel), a column name (tables) or a raster path
(rasters); the functions here resolve them and call :mod:`wholesoil.core.depth`.
"""

import numpy as np

from . import depth
from .depth import PROFILE_DEPTH
from .errors import InputError, describe_rows
from .layers import format_depth, layer_scheme
from .tables import numeric_columns, require_columns, row_numbers

#: Parameters of each depth-fraction model, in order.
MODEL_PARAMETERS = {"logistic": ("d50", "d95"), "beta": ("beta",)}
#: How parameters are named in messages.
PARAMETER_NAMES = {"d50": "D50", "d95": "D95", "beta": "beta", "total": "total"}
FRACTION_PREFIX = "frac"
LAYERS_METADATA_KEY = "WHOLESOIL_LAYERS"
PROFILE_DEPTH_METADATA_KEY = "WHOLESOIL_PROFILE_DEPTH"


def model_fractions(model, values, layers=None, normalize=True, labels=None, profile_depth=PROFILE_DEPTH):
    """Layer fractions for arrays of model parameters (``values``: name -> array or number).

    normalize, profile_depth: see :func:`wholesoil.core.depth.logistic_layer_fractions`.
    """
    _check_model(model, values)
    if model == "logistic":
        depth.check_logistic_parameters(values["d50"], values["d95"], labels)
        return depth.logistic_layer_fractions(values["d50"], values["d95"], layers, normalize, profile_depth)
    depth.check_beta(values["beta"], labels)
    return depth.beta_layer_fractions(values["beta"], layers, normalize, profile_depth)


def _check_model(model, values):
    if model not in MODEL_PARAMETERS:
        raise InputError(f"unknown depth model {model!r}; choose one of {', '.join(MODEL_PARAMETERS)}")
    names = MODEL_PARAMETERS[model]
    missing = [n for n in names if values.get(n) is None]
    if missing:
        raise InputError(f"the {model} model needs {', '.join(missing).upper()}")
    return names


def _is_constant(value):
    return isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)


def _constants(params):
    """The parameters given as numbers, as floats; each must be finite (NaN means nodata only in data)."""
    constants = {}
    for name, value in params.items():
        if _is_constant(value):
            depth.check_scalar(PARAMETER_NAMES.get(name, name), value)
            constants[name] = float(value)
    return constants


def _table_values(table, params):
    """Resolve each parameter to a float array over the table's rows (numbers broadcast)."""
    _constants(params)
    columns = [v for v in params.values() if not _is_constant(v)]
    require_columns(table, columns)
    numbers = numeric_columns(table, columns)
    return {name: (np.full(len(table), float(v)) if _is_constant(v) else numbers[v].to_numpy())
            for name, v in params.items()}


def table_fractions(table, model, params, layers=None, normalize=True, prefix=FRACTION_PREFIX,
                    profile_depth=PROFILE_DEPTH):
    """Add one fraction column per layer (``frac_0_20`` ...) to a copy of ``table``.

    params: model parameter -> number or column name, e.g. {'d50': 'D50', 'd95': 80}.
    Rows with a missing parameter get empty fractions; impossible values are an error
    naming the rows. normalize, profile_depth: see :func:`model_fractions`.
    """
    scheme = layer_scheme(layers)
    _check_model(model, params)
    values = _table_values(table, params)
    fractions = model_fractions(model, values, scheme, normalize, np.arange(1, len(table) + 1), profile_depth)
    out = table.copy()
    for column, values_in_layer in zip(scheme.column_names(prefix), np.moveaxis(fractions, -1, 0)):
        out[column] = values_in_layer
    return out


def _fractions_block(blocks, model, constants, layers, normalize, profile_depth):
    """Block function: fractions (layers, rows, cols) from parameter rasters and constants."""
    values = dict(constants)
    values.update(blocks)
    fractions = model_fractions(model, values, layers, normalize, profile_depth=profile_depth)
    return np.moveaxis(fractions, -1, 0)


def _check_constants(model, rasters, constants, scheme, normalize=True, profile_depth=PROFILE_DEPTH):
    """Check the numbers and the layers of a raster run before any pixel is read."""
    model_fractions(model, {**{n: np.full(1, np.nan) for n in rasters}, **constants}, scheme, normalize,
                    profile_depth=profile_depth)


def raster_fractions(model, params, output, layers=None, normalize=True, profile_depth=PROFILE_DEPTH, **engine):
    """Write a GeoTIFF with one fraction band per layer from parameter rasters/constants.

    params: model parameter -> number or raster path (at least one raster).
    normalize, profile_depth: see :func:`model_fractions`; both are recorded in the raster.
    engine: passed to :func:`wholesoil.core.maps.engine.map_blocks` (n_jobs, backend, block,
    progress, is_cancelled).
    """
    from .maps.engine import map_blocks

    scheme = layer_scheme(layers)
    _check_model(model, params)
    rasters = {n: v for n, v in params.items() if not _is_constant(v)}
    constants = _constants(params)
    if not rasters:
        raise InputError("raster mode needs at least one parameter given as a raster")
    _check_constants(model, rasters, constants, scheme, normalize, profile_depth)
    metadata = {LAYERS_METADATA_KEY: str(scheme), "model": model, "normalize": normalize, **constants}
    if normalize:
        metadata[PROFILE_DEPTH_METADATA_KEY] = format_depth(profile_depth)
    return map_blocks(_fractions_block, rasters, output, scheme.column_names(FRACTION_PREFIX),
                      params={"model": model, "constants": constants, "layers": scheme,
                              "normalize": normalize, "profile_depth": profile_depth},
                      metadata=metadata, **engine)


def _recorded(path):
    """(layer scheme or None, metadata dict, band count) recorded in a wholesoil raster."""
    from .rasters import open_raster

    dataset = open_raster(path)
    metadata, bands = dataset.GetMetadata() or {}, dataset.RasterCount
    dataset = None
    recorded = metadata.get(LAYERS_METADATA_KEY)
    scheme = layer_scheme(recorded) if recorded is not None else None
    return (scheme if scheme is not None and len(scheme) == bands else None), metadata, bands


def raster_layer_scheme(path):
    """The layer scheme recorded in a wholesoil raster, or None."""
    return _recorded(path)[0]


def fractions_raster_note(path):
    """A note when a fractions raster holds only part of the profile its fractions are shares of; else None."""
    scheme, metadata, _ = _recorded(path)
    if scheme is None or metadata.get("normalize") != "True":
        return None
    return depth.coverage_note(scheme, True, float(metadata.get(PROFILE_DEPTH_METADATA_KEY, PROFILE_DEPTH)))


def _partition_block(blocks, fraction_bands, model, constants, layers, profile_depth):
    """Block function: total x fractions, from a fractions raster or a depth model."""
    values = dict(constants)
    values.update(blocks)
    if fraction_bands:
        fractions = np.stack([values[f"fraction{i}"] for i in range(fraction_bands)], axis=-1)
    else:
        fractions = model_fractions(model, values, layers, True, profile_depth=profile_depth)
    return np.moveaxis(depth.partition_total(values["total"], fractions), -1, 0)


def raster_partition_total(total, output, fractions=None, model=None, params=None, layers=None,
                           prefix="part", profile_depth=PROFILE_DEPTH, **engine):
    """Per-layer rasters of total x fraction, one band per layer.

    total: raster path or number. The fractions are either a fractions raster (one band per
    layer, e.g. written by :func:`raster_fractions`, whose recorded layers name the bands; a
    single band without recorded layers is refused: it is a model parameter such as β, not
    fractions) or a depth model (``model`` and ``params``, numbers or raster paths, normalised
    over 0-``profile_depth`` cm). At least one input must be a raster. engine: see
    :func:`raster_fractions`.
    """
    from .maps.engine import map_blocks

    params = params or {}
    constants = _constants({"total": total, **params})
    inputs = {} if _is_constant(total) else {"total": total}
    fraction_bands = 0
    if fractions is not None:
        if model is not None:
            raise InputError("give a fractions raster or a depth model, not both")
        scheme, _, fraction_bands = _recorded(fractions)
        if fraction_bands == 1 and scheme is None:
            raise InputError(f"the fractions raster {fractions} has a single band and records no layers: it looks "
                             "like a depth-model parameter (such as β), not one fraction band per layer; turn it "
                             "into fractions first (depth-fractions) or give it as the model parameter")
        inputs.update({f"fraction{i}": (fractions, i + 1) for i in range(fraction_bands)})
        names = (scheme.column_names(prefix) if scheme is not None
                 else [f"{prefix}_band{i + 1}" for i in range(fraction_bands)])
    else:
        scheme = layer_scheme(layers)
        _check_model(model, params)
        inputs.update({name: value for name, value in params.items() if not _is_constant(value)})
        _check_constants(model, [n for n in inputs if n != "total"], constants, scheme, True, profile_depth)
        names = scheme.column_names(prefix)
    if not inputs:
        raise InputError("raster mode needs the total, the fractions or a model parameter as a raster")
    metadata = {LAYERS_METADATA_KEY: str(scheme)} if scheme is not None else None
    return map_blocks(_partition_block, inputs, output, names,
                      params={"fraction_bands": fraction_bands, "model": model, "constants": constants,
                              "layers": scheme, "profile_depth": profile_depth},
                      metadata=metadata, **engine)


def partial_fractions_note(table, fraction_columns):
    """A note naming the rows whose fractions sum to less than 1 (the parts then hold only that
    share of the total); else None."""
    sums = numeric_columns(table, fraction_columns).sum(axis=1, min_count=1).to_numpy()
    with np.errstate(invalid="ignore"):
        short = sums < 1.0 - 1e-6
    if not short.any():
        return None
    return (f"the fractions of {describe_rows(row_numbers(short))} sum to less than 1 "
            f"({np.min(sums[short]):.3g}-{np.max(sums[short]):.3g}): their layers hold only that share of the "
            "total (layers that do not cover the whole profile)")


def table_partition_total(table, total, fraction_columns, prefix="part"):
    """Add ``prefix_<layer>`` columns: total (column or number) x each fraction column.

    fraction_columns: the fraction columns in depth order; names like ``frac_0_20`` give
    output names ``part_0_20``, other names get the prefix in front.
    """
    if not fraction_columns:
        raise InputError("no fraction columns given")
    require_columns(table, list(fraction_columns) + ([] if _is_constant(total) else [total]))
    fractions = numeric_columns(table, fraction_columns)
    bad = ((fractions < 0) | (fractions > 1)).any(axis=1)
    if bad.any():
        raise InputError(f"fractions must lie between 0 and 1 ({describe_rows(row_numbers(bad))})")
    totals = _table_values(table, {"total": total})["total"]
    out = table.copy()
    for column in fraction_columns:
        name = (f"{prefix}_{column[len(FRACTION_PREFIX) + 1:]}"
                if str(column).startswith(FRACTION_PREFIX + "_") else f"{prefix}_{column}")
        out[name] = totals * fractions[column].to_numpy()
    return out


def fraction_columns(table, prefix=FRACTION_PREFIX):
    """The columns of ``table`` named ``<prefix>_<top>_<bottom>``, in depth order."""
    found = []
    for column in table.columns:
        parts = str(column).split("_")
        if len(parts) == 3 and parts[0] == prefix:
            try:
                found.append((float(parts[1].replace("p", ".")), column))
            except ValueError:
                continue
    return [column for _, column in sorted(found)]
