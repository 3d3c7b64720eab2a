"""Depth fractions and partitioned totals over scalars, tables and raster stacks.

This is the layer the CLI and the Processing algorithms share. A model parameter is given
as a number (a constant for every row or pixel), a column name (tables) or a raster path
(rasters); the functions here resolve them and call :mod:`wholesoil.core.depth`.
"""

import numpy as np

from . import depth
from .errors import InputError, describe_rows
from .layers import layer_scheme
from .tables import numeric_columns, require_columns, row_numbers

#: Parameters of each depth-fraction model, in order.
MODEL_PARAMETERS = {"logistic": ("d50", "d95"), "beta": ("beta",)}
FRACTION_PREFIX = "frac"
LAYERS_METADATA_KEY = "WHOLESOIL_LAYERS"


def model_fractions(model, values, layers=None, normalize=True, labels=None):
    """Layer fractions for arrays of model parameters (``values``: name -> array or number)."""
    _check_model(model, values)
    if model == "logistic":
        depth.check_logistic_parameters(values["d50"], values["d95"], labels)
        return depth.logistic_layer_fractions(values["d50"], values["d95"], layers, normalize)
    depth.check_beta(values["beta"], labels)
    return depth.beta_layer_fractions(values["beta"], layers, normalize)


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


def _table_values(table, params):
    """Resolve each parameter to a float array over the table's rows (numbers broadcast)."""
    columns = [v for v in params.values() if not _is_constant(v)]
    require_columns(table, columns)
    numbers = numeric_columns(table, columns)
    return {name: (np.full(len(table), float(v)) if _is_constant(v) else numbers[v].to_numpy())
            for name, v in params.items()}


def table_fractions(table, model, params, layers=None, normalize=True, prefix=FRACTION_PREFIX):
    """Add one fraction column per layer (``frac_0_20`` ...) to a copy of ``table``.

    params: model parameter -> number or column name, e.g. {'d50': 'D50', 'd95': 80}.
    Rows with a missing parameter get empty fractions; impossible values are an error
    naming the rows.
    """
    scheme = layer_scheme(layers)
    _check_model(model, params)
    values = _table_values(table, params)
    fractions = model_fractions(model, values, scheme, normalize, labels=np.arange(1, len(table) + 1))
    out = table.copy()
    for column, values_in_layer in zip(scheme.column_names(prefix), np.moveaxis(fractions, -1, 0)):
        out[column] = values_in_layer
    return out


def _fractions_block(blocks, model, constants, layers, normalize):
    """Block function: fractions (layers, rows, cols) from parameter rasters and constants."""
    values = dict(constants)
    values.update(blocks)
    fractions = model_fractions(model, values, layers, normalize)
    return np.moveaxis(fractions, -1, 0)


def raster_fractions(model, params, output, layers=None, normalize=True, **engine):
    """Write a GeoTIFF with one fraction band per layer from parameter rasters/constants.

    params: model parameter -> number or raster path (at least one raster).
    engine: passed to :func:`wholesoil.core.maps.engine.map_blocks` (n_jobs, backend, block,
    progress, is_cancelled).
    """
    from .maps.engine import map_blocks

    scheme = layer_scheme(layers)
    _check_model(model, params)
    rasters = {n: v for n, v in params.items() if not _is_constant(v)}
    constants = {n: float(v) for n, v in params.items() if _is_constant(v)}
    if not rasters:
        raise InputError("raster mode needs at least one parameter given as a raster")
    model_fractions(model, {**{n: np.nan for n in rasters}, **constants}, scheme, normalize)
    return map_blocks(_fractions_block, rasters, output, scheme.column_names(FRACTION_PREFIX),
                      params={"model": model, "constants": constants, "layers": scheme,
                              "normalize": normalize},
                      metadata={LAYERS_METADATA_KEY: str(scheme), "model": model,
                                "normalize": normalize, **{k: v for k, v in constants.items()}},
                      **engine)


def raster_layer_scheme(path):
    """The layer scheme recorded in a wholesoil raster, or None."""
    from .rasters import open_raster

    dataset = open_raster(path)
    recorded = dataset.GetMetadataItem(LAYERS_METADATA_KEY)
    bands = dataset.RasterCount
    dataset = None
    if recorded is None:
        return None
    scheme = layer_scheme(recorded)
    return scheme if len(scheme) == bands else None


def _partition_block(blocks, fraction_bands, model, constants, layers):
    """Block function: total x fractions, from a fractions raster or a depth model."""
    values = dict(constants)
    values.update(blocks)
    if fraction_bands:
        fractions = np.stack([values[f"fraction{i}"] for i in range(fraction_bands)], axis=-1)
    else:
        fractions = model_fractions(model, values, layers, True)
    return np.moveaxis(depth.partition_total(values["total"], fractions), -1, 0)


def raster_partition_total(total, output, fractions=None, model=None, params=None, layers=None,
                           prefix="part", **engine):
    """Per-layer rasters of total x fraction, one band per layer.

    total: raster path or number. The fractions are either a fractions raster (one band per
    layer, e.g. written by :func:`raster_fractions`, whose recorded layers name the bands)
    or a depth model (``model`` and ``params``, numbers or raster paths, normalised).
    At least one input must be a raster. engine: see :func:`raster_fractions`.
    """
    from .maps.engine import map_blocks
    from .rasters import raster_info

    inputs, constants = {}, {}
    (constants if _is_constant(total) else inputs)["total"] = float(total) if _is_constant(total) else total
    fraction_bands = 0
    if fractions is not None:
        if model is not None:
            raise InputError("give a fractions raster or a depth model, not both")
        fraction_bands = raster_info(fractions).band_count
        scheme = raster_layer_scheme(fractions)
        inputs.update({f"fraction{i}": (fractions, i + 1) for i in range(fraction_bands)})
        names = (scheme.column_names(prefix) if scheme is not None
                 else [f"{prefix}_band{i + 1}" for i in range(fraction_bands)])
    else:
        scheme = layer_scheme(layers)
        _check_model(model, params or {})
        for name, value in params.items():
            (constants if _is_constant(value) else inputs)[name] = float(value) if _is_constant(value) else value
        names = scheme.column_names(prefix)
    if not inputs:
        raise InputError("raster mode needs the total, the fractions or a model parameter as a raster")
    metadata = {LAYERS_METADATA_KEY: str(scheme)} if scheme is not None else None
    return map_blocks(_partition_block, inputs, output, names,
                      params={"fraction_bands": fraction_bands, "model": model, "constants": constants,
                              "layers": scheme},
                      metadata=metadata, **engine)


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
