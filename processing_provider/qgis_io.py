"""Conversions between QGIS features and the pandas tables core functions take."""

import numpy as np
import pandas as pd
from qgis.core import (QgsFeature, QgsFeatureSink, QgsField, QgsFields, QgsGeometry,
                       QgsProcessingException, QgsWkbTypes)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QVariant

from ..core.errors import CancelledError
from ..core.tables import GEOMETRY, column_kind, require_rows


def _python_value(value):
    """QGIS attribute value -> plain Python (None for NULL, ISO text for dates)."""
    if value is None or (isinstance(value, QVariant) and value.isNull()):
        return None
    if isinstance(value, (QDate, QDateTime)):
        return value.toString(Qt.ISODate)
    return value


def source_to_table(source, feedback=None):
    """All features of a QgsFeatureSource as a DataFrame (geometry as WKB, CRS in attrs).

    A source without features is an InputError, as in :func:`core.tables.read_table`.
    """
    names = source.fields().names()
    records, geometries = [], []
    has_geometry = source.wkbType() != QgsWkbTypes.NoGeometry
    for feature in source.getFeatures():
        if feedback is not None and feedback.isCanceled():
            raise CancelledError()
        records.append([_python_value(v) for v in feature.attributes()])
        if has_geometry:
            geometries.append(bytes(feature.geometry().asWkb()) if feature.hasGeometry() else None)
    table = pd.DataFrame.from_records(records, columns=names)
    if has_geometry:
        table[GEOMETRY] = geometries
        table.attrs["crs_wkt"] = source.sourceCrs().toWkt()
    return require_rows(table, source.sourceName() or "the input layer")


def _field_type(series):
    return {"bool": QVariant.Bool, "integer": QVariant.LongLong, "real": QVariant.Double,
            "text": QVariant.String}[column_kind(series)]


def _cell(value):
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value if isinstance(value, (int, str, bool)) else str(value)


def table_to_sink(algorithm, parameters, name, context, table, source=None):
    """Write a DataFrame to the feature sink parameter ``name``; returns its destination id.

    Geometry (WKB) is kept when ``table`` has it and ``source`` (the input) had geometry.
    """
    columns = [c for c in table.columns if c != GEOMETRY]
    fields = QgsFields()
    for column in columns:
        fields.append(QgsField(str(column), _field_type(table[column])))
    keep_geometry = GEOMETRY in table.columns and source is not None \
        and source.wkbType() != QgsWkbTypes.NoGeometry
    wkb_type = source.wkbType() if keep_geometry else QgsWkbTypes.NoGeometry
    crs = source.sourceCrs() if source is not None else None
    sink, destination = algorithm.parameterAsSink(parameters, name, context, fields, wkb_type, crs) \
        if crs is not None else algorithm.parameterAsSink(parameters, name, context, fields, wkb_type)
    if sink is None:
        raise QgsProcessingException(algorithm.invalidSinkError(parameters, name))
    values = table[columns].astype(object).to_numpy()
    geometries = table[GEOMETRY].to_numpy() if keep_geometry else None
    for i, row in enumerate(values):
        feature = QgsFeature(fields)
        feature.setAttributes([_cell(v) for v in row])
        if keep_geometry and geometries[i] is not None:
            geometry = QgsGeometry()
            geometry.fromWkb(geometries[i])
            feature.setGeometry(geometry)
        if not sink.addFeature(feature, QgsFeatureSink.FastInsert):
            raise QgsProcessingException(f"could not write feature {i + 1} to {name}: {sink.lastError()}")
    return destination
