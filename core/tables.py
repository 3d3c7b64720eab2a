"""Reading and writing attribute tables (CSV, GeoPackage and other OGR formats).

Tables are pandas DataFrames. A table read from a vector format keeps its geometry as
WKB bytes in the ``geometry`` column and its CRS (WKT) in ``table.attrs['crs_wkt']``, so
that writing it back to a GeoPackage keeps the points where they were. A CSV holds the
geometry as WKT text, which is read back as WKB too (without a CRS).

Row numbers in messages are 1-based data rows (the first row after a CSV header is row 1).
"""

import os
import shutil
from pathlib import Path

import numpy as np

from .errors import InputError, describe_rows
from .outputs import atomic_output, note, output_layer, register_input

GEOMETRY = "geometry"
_VECTOR_SUFFIXES = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile",
                    ".fgb": "FlatGeobuf"}
_CSV_SUFFIXES = (".csv", ".txt", ".tsv")
#: The formats :func:`read_table` reads, as its messages name them.
_TABLE_FORMATS = ("CSV (.csv, .txt, .tsv) and the vector formats GDAL opens (GeoPackage, GeoJSON, Shapefile, "
                  "FlatGeobuf...)")


def row_numbers(mask):
    """1-based row numbers of the True entries of a boolean mask."""
    return (np.flatnonzero(np.asarray(mask)) + 1).tolist()


def require_columns(table, columns, source="the input table"):
    """Raise InputError naming every column of ``columns`` that ``table`` lacks."""
    missing = [c for c in columns if c is not None and c not in table.columns]
    if missing:
        have = ", ".join(map(str, table.columns[:30]))
        word = "column" if len(missing) == 1 else "columns"
        raise InputError(f"{source} has no {word} {', '.join(repr(m) for m in missing)} "
                         f"(it has: {have})")


def numeric_columns(table, columns):
    """The given columns as float64; non-numeric text is an InputError naming the rows.

    Empty cells become NaN (missing), which callers treat as nodata.
    """
    import pandas as pd

    out = pd.DataFrame(index=table.index)
    for column in columns:
        raw = table[column]
        values = pd.to_numeric(raw, errors="coerce").astype(float)
        blank = raw.isna() | raw.astype(str).str.strip().eq("")
        bad = values.isna() & ~blank
        if bad.any():
            examples = ", ".join(repr(v) for v in raw[bad].astype(str).unique()[:3])
            raise InputError(f"column {column!r} has non-numeric values ({examples}) in "
                             f"{describe_rows(row_numbers(bad))}")
        out[column] = values
    return out


def read_table(path, layer=None):
    """Read a CSV or an OGR vector/table file (GeoPackage, GeoJSON, Shapefile...).

    A table without data rows is an InputError (no command has anything to do with one), and
    so is an empty, damaged or other file that is not a table (the message names the formats read).
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise InputError(f"input file {path} does not exist")
    if path.is_dir():
        raise InputError(f"input {path} is a folder, not a table file")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty")
    register_input(path)
    if is_csv(path):
        try:
            table = pd.read_csv(path, sep=_csv_separator(path), low_memory=False)
        except pd.errors.EmptyDataError:
            raise InputError(f"{path} is empty") from None
        except UnicodeDecodeError as error:  # binary data under a CSV name
            raise _not_a_table(path, f"read as CSV: {error}") from None
        except (pd.errors.ParserError, OSError) as error:
            raise InputError(f"cannot read {path} as CSV: {error}") from None
        table = _text_geometry_to_wkb(table)
    else:
        table = _read_ogr(path, layer)
    return require_rows(table, str(path))


def _csv_separator(path):
    return "\t" if path.suffix.lower() == ".tsv" else ","


def is_csv(path):
    """Whether ``path`` names a delimited text table (CSV, TSV, TXT), which holds no geometry of its own."""
    return Path(path).suffix.lower() in _CSV_SUFFIXES


def keep_csv_text(table, path, output):
    """``table`` (read by :func:`read_table` from ``path``, maybe with added columns) with the columns of a CSV
    ``path`` as the text of its cells, so that writing it to the CSV ``output`` keeps them as they were: '007'
    stays '007' (not 7), '12' in a column with an empty cell stays '12' (not '12.0'). The geometry stays WKB;
    other inputs, and other outputs (a GeoPackage keeps numbers as numbers), take ``table`` as it is."""
    import pandas as pd

    path = Path(path)
    if not (is_csv(path) and is_csv(output)):
        return table
    cells = pd.read_csv(path, sep=_csv_separator(path), dtype=str, keep_default_na=False)
    out = table.copy()
    for column in cells.columns.drop(GEOMETRY, errors="ignore"):
        out[column] = cells[column].to_numpy()
    return out


def _not_a_table(path, problem=None):
    """The InputError for a file that is not a table wholesoil can read, with the formats it reads."""
    problem = str(problem or "").strip().rstrip(".")
    return InputError(f"{path} is not a table wholesoil can read{f' ({problem})' if problem else ''}; "
                      f"it reads {_TABLE_FORMATS}")


def _text_geometry_to_wkb(table):
    """A CSV's ``geometry`` column of WKT (as :func:`write_table` writes it) as WKB bytes, so a table
    holds its geometry alike whatever it was read from (its CRS is unknown: ``crs_wkt`` None). A
    column named geometry that does not hold WKT is left as it is."""
    if GEOMETRY not in table.columns or table[GEOMETRY].dtype != object:
        return table
    try:
        geometries = [cell_geometry(cell) for cell in table[GEOMETRY]]
    except (RuntimeError, TypeError):
        return table
    table[GEOMETRY] = [None if g is None else bytes(g.ExportToWkb()) for g in geometries]
    table.attrs["crs_wkt"] = None
    return table


def require_rows(table, source):
    """Return ``table``; an InputError if it has no data rows."""
    if len(table) == 0:
        raise InputError(f"{source} has no data rows" + (" (only a header)" if len(table.columns) else ""))
    return table


def _read_ogr(path, layer):
    from osgeo import ogr

    ogr.UseExceptions()
    try:
        source = ogr.Open(str(path))  # None when no driver recognises the file
        if source is None:
            raise _not_a_table(path)
        return _read_layer(source, path, layer)
    except RuntimeError as error:  # GDAL: a damaged file, found when opened or when its features are read
        raise _not_a_table(path, error) from None


def _read_layer(source, path, layer):
    import pandas as pd

    if layer is None:
        if source.GetLayerCount() != 1:
            names = [source.GetLayerByIndex(i).GetName() for i in range(source.GetLayerCount())]
            if not names:
                raise InputError(f"{path} holds no layers")
            if len(names) > 1:
                raise InputError(f"{path} holds several layers ({', '.join(names)}); name one")
        lyr = source.GetLayerByIndex(0)
    else:
        lyr = source.GetLayerByName(str(layer))
        if lyr is None:
            raise InputError(f"{path} has no layer {layer!r}")
    definition = lyr.GetLayerDefn()
    names = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
    records, geometries = [], []
    for feature in lyr:
        records.append([feature.GetField(i) for i in range(len(names))])
        geometry = feature.GetGeometryRef()
        geometries.append(bytes(geometry.ExportToWkb()) if geometry is not None else None)
    table = pd.DataFrame.from_records(records, columns=names)
    srs = lyr.GetSpatialRef()
    if any(g is not None for g in geometries):
        table[GEOMETRY] = geometries
        table.attrs["crs_wkt"] = srs.ExportToWkt() if srs is not None else None
    return table


def write_table(table, path, layer=None):
    """Write a DataFrame to CSV or to an OGR format chosen by the extension, atomically.

    A ``geometry`` column of WKB bytes is written as geometry (vector formats) or as WKT
    text (CSV). GeoPackage: the table becomes the layer ``layer`` (default: the file name's
    stem); in an existing GeoPackage only that layer is written or replaced and the other
    layers are kept, as GDAL and QGIS do. A Shapefile is written as one set of files and
    needs geometry.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".txt") and suffix not in _VECTOR_SUFFIXES:
        raise InputError(f"cannot write {path}: use .csv or one of {', '.join(_VECTOR_SUFFIXES)}")
    if suffix == ".shp" and GEOMETRY not in table.columns:
        raise InputError(f"cannot write {path}: a Shapefile needs geometry and this table has none; "
                         "use .csv or .gpkg")
    check_columns_writable(table.columns, path)
    layer_name = str(layer or output_layer(path) or path.stem)
    with atomic_output(path) as tmp:
        if suffix in (".csv", ".txt"):
            out = table
            if GEOMETRY in table.columns:
                out = table.copy()
                out[GEOMETRY] = [_wkb_to_wkt(g) for g in table[GEOMETRY]]
            out.to_csv(tmp, index=False)
        else:
            update = suffix == ".gpkg" and path.exists()
            if update:
                shutil.copyfile(path, tmp)
            _write_ogr(table, tmp, _VECTOR_SUFFIXES[suffix], layer_name, path, update)
    return path


def check_columns_writable(columns, path):
    """InputError if :func:`write_table` could not write ``columns`` to ``path``: vector formats
    compare field names without case (see :func:`check_field_names`)."""
    path = Path(path)
    if path.suffix.lower() in _VECTOR_SUFFIXES:
        check_field_names(columns, f"cannot write {path}", f"{path.suffix} files (or write .csv)")


def check_field_names(columns, where, ignoring):
    """InputError if two of ``columns`` differ only in case: vector formats and QGIS layers
    compare field names without case. where: what cannot be done ("cannot write out.gpkg");
    ignoring: whose field names ignore case ("QGIS layers")."""
    seen = {}
    for column in columns:
        key = str(column).lower()
        if key in seen and column != GEOMETRY:
            raise InputError(f"{where}: the columns {seen[key]!r} and {column!r} differ only in case, which the "
                             f"field names of {ignoring} ignore; rename one")
        seen[key] = column


def cell_geometry(cell):
    """The OGR geometry of a ``geometry`` cell: WKB bytes (vector files) or WKT text (a CSV that
    :func:`write_table` wrote); None for an empty cell. Unreadable text or bytes raise RuntimeError."""
    if cell is None or (isinstance(cell, float) and cell != cell):
        return None
    from osgeo import ogr

    geometry = ogr.CreateGeometryFromWkt(cell) if isinstance(cell, str) else ogr.CreateGeometryFromWkb(bytes(cell))
    if geometry is None:
        raise RuntimeError(f"not a geometry: {str(cell)[:40]!r}")
    return geometry


def _wkb_to_wkt(wkb):
    if wkb is None:
        return None
    from osgeo import ogr

    return ogr.CreateGeometryFromWkb(wkb).ExportToWkt()


def layer_names(path):
    """The names of the layers of a vector file (none when it cannot be opened)."""
    from osgeo import ogr

    source = ogr.Open(str(path))
    return [] if source is None else [source.GetLayerByIndex(i).GetName() for i in range(source.GetLayerCount())]


def _write_ogr(table, path, driver_name, layer_name, destination, update=False):
    """Write ``table`` as layer ``layer_name`` of a new file, or into an existing GeoPackage (update)."""
    from osgeo import ogr, osr

    ogr.UseExceptions()
    if update:
        try:
            source = ogr.Open(path, 1)
        except RuntimeError as error:
            raise InputError(f"cannot add a layer to {destination}: {error}") from None
        others = [source.GetLayerByIndex(i).GetName() for i in range(source.GetLayerCount())]
        replaced = layer_name in others
        if replaced:
            source.DeleteLayer(others.index(layer_name))
            others.remove(layer_name)
        if others:
            note(f"{destination}: {'replaced' if replaced else 'added'} layer {layer_name!r}; "
                 f"kept the other layers ({', '.join(others)})")
    else:
        source = ogr.GetDriverByName(driver_name).CreateDataSource(path)
    srs = None
    if table.attrs.get("crs_wkt"):
        srs = osr.SpatialReference()
        srs.ImportFromWkt(table.attrs["crs_wkt"])
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    has_geometry = GEOMETRY in table.columns
    geometry_type = ogr.wkbUnknown if has_geometry else ogr.wkbNone
    if has_geometry:
        first = next((g for g in table[GEOMETRY] if g is not None), None)
        if first is not None:
            geometry_type = ogr.CreateGeometryFromWkb(first).GetGeometryType()
    # A column named like the GeoPackage's own feature id would be taken as that id (and
    # duplicates refused): keep it as an ordinary field and let the file number its features.
    options = ["FID=wholesoil_fid"] if driver_name == "GPKG" and "fid" in map(str.lower, map(str, table.columns)) \
        else []
    lyr = source.CreateLayer(layer_name, srs=srs, geom_type=geometry_type, options=options)
    columns = [c for c in table.columns if c != GEOMETRY]
    for column in columns:
        lyr.CreateField(ogr.FieldDefn(str(column), _ogr_type(table[column])))
    definition = lyr.GetLayerDefn()
    renamed = [f"{c} -> {definition.GetFieldDefn(j).GetName()}" for j, c in enumerate(columns)
               if definition.GetFieldDefn(j).GetName() != str(c)]
    if renamed:
        note(f"{destination}: {driver_name} renamed fields ({', '.join(renamed)})")
    lyr.StartTransaction()
    values = {c: _plain_values(table[c]) for c in columns}
    for i in range(len(table)):
        feature = ogr.Feature(definition)
        for j, column in enumerate(columns):
            value = values[column][i]
            if value is None:
                feature.SetFieldNull(j)
            else:
                feature.SetField(j, value)
        if has_geometry and table[GEOMETRY].iat[i] is not None:
            feature.SetGeometry(ogr.CreateGeometryFromWkb(table[GEOMETRY].iat[i]))
        lyr.CreateFeature(feature)
    lyr.CommitTransaction()
    source = None  # close


def column_kind(series):
    """'bool', 'integer', 'real' or 'text': how a column is stored in a vector file."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "real"
    return "text"


def _ogr_type(series):
    from osgeo import ogr

    return {"bool": ogr.OFTInteger, "integer": ogr.OFTInteger64, "real": ogr.OFTReal,
            "text": ogr.OFTString}[column_kind(series)]


def _plain_values(series):
    """Python values for OGR: None for missing, int/float/str otherwise."""
    import pandas as pd

    kind = column_kind(series)
    if kind == "bool":
        return [int(v) for v in series]
    if kind == "integer":
        return [None if pd.isna(v) else int(v) for v in series]
    if kind == "real":
        return [None if not np.isfinite(v) else float(v) for v in series]
    return [None if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v) for v in series]
