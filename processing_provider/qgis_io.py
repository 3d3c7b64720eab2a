"""Conversions between QGIS features and the pandas tables core functions take.

numpy and pandas are imported inside the functions: the plugin loads without pandas.
"""

import os

from qgis.core import (QgsExpressionContext, QgsFeature, QgsFeatureSink, QgsField,
                       QgsFields, QgsGeometry, QgsProcessingException, QgsProcessingFeatureSourceDefinition,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterVectorLayer, QgsProperty,
                       QgsWkbTypes)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QVariant

from ..core.errors import CancelledError


def _python_value(value):
    """QGIS attribute value -> plain Python (None for NULL, ISO text for dates)."""
    if value is None or (isinstance(value, QVariant) and value.isNull()):
        return None
    if isinstance(value, (QDate, QDateTime)):
        return value.toString(Qt.ISODate)
    return value


def source_to_table(source, feedback=None, expressions=None, context=None):
    """All features of a QgsFeatureSource as a DataFrame (geometry as WKB, CRS in attrs).

    expressions: column name -> QgsProperty (a data-defined value), evaluated for each
    feature into that column (NaN where it gives no number); needs the processing ``context``.
    A source without features is an InputError, as in :func:`core.tables.read_table`.
    """
    import pandas as pd

    from ..core.tables import GEOMETRY, require_rows

    names = source.fields().names()
    expressions = expressions or {}
    records, geometries = [], []
    has_geometry = source.wkbType() != QgsWkbTypes.NoGeometry
    scope = None
    if expressions:
        scope = QgsExpressionContext(context.expressionContext() if context is not None else QgsExpressionContext())
        scope.appendScope(source.createExpressionContextScope())
        for prop in expressions.values():
            prop.prepare(scope)
    for feature in source.getFeatures():
        if feedback is not None and feedback.isCanceled():
            raise CancelledError()
        row = [_python_value(v) for v in feature.attributes()]
        if expressions:
            scope.setFeature(feature)
            row += [_evaluated(prop, scope) for prop in expressions.values()]
        records.append(row)
        if has_geometry:
            geometries.append(bytes(feature.geometry().asWkb()) if feature.hasGeometry() else None)
    table = pd.DataFrame.from_records(records, columns=names + list(expressions))
    if has_geometry:
        table[GEOMETRY] = geometries
        table.attrs["crs_wkt"] = source.sourceCrs().toWkt()
    return require_rows(table, source.sourceName() or "the input layer")


def _evaluated(prop, scope):
    value, ok = prop.valueAsDouble(scope, float("nan"))
    return value if ok else float("nan")


def _field_type(series):
    from ..core.tables import column_kind

    return {"bool": QVariant.Bool, "integer": QVariant.LongLong, "real": QVariant.Double,
            "text": QVariant.String}[column_kind(series)]


def _cell(value):
    import numpy as np

    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value if isinstance(value, (int, str, bool)) else str(value)


def check_sink_columns(algorithm, name, columns):
    """InputError if the feature sink parameter ``name`` could not take fields named ``columns``
    (QGIS layers compare field names without case)."""
    from ..core.tables import check_field_names

    check_field_names(columns, f"cannot write {algorithm.parameterDefinition(name).description()}", "QGIS layers")


def table_to_sink(algorithm, parameters, name, context, table, source=None):
    """Write a DataFrame to the feature sink parameter ``name``; returns its destination id.

    Geometry (WKB) is kept when ``table`` has it and ``source`` (the input) had geometry.
    """
    from ..core.tables import GEOMETRY

    columns = [c for c in table.columns if c != GEOMETRY]
    check_sink_columns(algorithm, name, columns)
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


def multi_layer_problem(definition, value):
    """A message if a vector input ``value`` is a file holding several layers without naming one, else None.

    QGIS would silently read the first layer; the CLI refuses the same file (core.tables.read_table).
    """
    if not isinstance(definition, (QgsProcessingParameterFeatureSource, QgsProcessingParameterVectorLayer)):
        return None
    if isinstance(value, QgsProcessingFeatureSourceDefinition):
        value = value.source
    if isinstance(value, QgsProperty):
        value = value.staticValue()
    if not isinstance(value, str) or "|" in value or not os.path.isfile(value):
        return None
    from osgeo import ogr

    dataset = ogr.Open(value)
    names = [dataset.GetLayer(i).GetName() for i in range(dataset.GetLayerCount())] if dataset is not None else []
    dataset = None
    if len(names) < 2:
        return None
    return (f"{definition.name()}: {value} holds several layers ({', '.join(names)}); name one, "
            f"e.g. {value}|layername={names[0]}")
