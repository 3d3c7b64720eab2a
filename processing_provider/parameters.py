"""Parameter helpers shared by several algorithms.

A *value parameter* (D50, β, a total, a stock ...) follows QGIS's own idiom, as native:buffer's
distance does: one number, which the user may data-define per feature with a field or an
expression of the input table (a dynamic parameter). Raster algorithms take each value as a
raster or, where no raster is given, a constant (:func:`add_raster_value`).

The former ways, ``NAME_FIELD`` (a field) and ``NAME_RASTER`` (a raster), stay accepted but
hidden in the dialog, so that existing scripts, models and ``qgis_process`` calls run unchanged;
as before, a raster wins over a field and a field over the number.
"""

from qgis.core import (QgsProcessing, QgsProcessingParameterBoolean, QgsProcessingParameterDefinition,
                       QgsProcessingParameterEnum, QgsProcessingParameterFeatureSink,
                       QgsProcessingParameterField,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterNumber, QgsProcessingParameters,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterString, QgsProperty,
                       QgsPropertyDefinition)

from ..core.depth import PROFILE_DEPTH
from ..core.errors import InputError
from ..core.layers import DEFAULT_SCHEME, NAMED_SCHEMES, layer_scheme
from .algorithm import raster_file

INPUT = "INPUT"
LAYERS = "LAYERS"
OUTPUT_HTML = "OUTPUT_HTML"
#: core.depth.MISSING_SURFACE with its labels.
MISSING_SURFACE_CHOICES = (("refuse", "refuse (not fitted, with the reason)"),
                           ("conditional", "fit the covered depths conditionally"))


def _number(name, description, default, minimum, maximum, optional=False):
    number = QgsProcessingParameterNumber(name, description, QgsProcessingParameterNumber.Double, default,
                                          optional=optional)
    if minimum is not None:
        number.setMinimum(minimum)
    if maximum is not None:
        number.setMaximum(maximum)
    return number


def hidden(definition):
    """``definition`` flagged hidden: accepted from scripts and qgis_process, not shown in the dialog."""
    definition.setFlags(definition.flags() | QgsProcessingParameterDefinition.FlagHidden)
    return definition


def advanced(definition):
    """``definition`` flagged advanced: shown under the dialog's "Advanced parameters"."""
    definition.setFlags(definition.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
    return definition


def add_value_parameter(algorithm, name, description, default, minimum=None, maximum=None, parent=INPUT,
                        optional=False, former_raster=True):
    """NAME: a number, data-defined per feature of ``parent`` (a field or an expression); plus the
    hidden former NAME_FIELD and (``former_raster``) NAME_RASTER."""
    number = _number(name, description, default, minimum, maximum, optional)
    number.setIsDynamic(True)
    number.setDynamicPropertyDefinition(QgsPropertyDefinition(name, description, QgsPropertyDefinition.Double))
    number.setDynamicLayerParameterName(parent)
    algorithm.addParameter(number)
    algorithm.addParameter(hidden(QgsProcessingParameterField(
        f"{name}_FIELD", f"{description}: field of the input table (former way; instead of {name})",
        parentLayerParameterName=parent, type=QgsProcessingParameterField.Numeric, optional=True)))
    if former_raster:
        algorithm.addParameter(hidden(QgsProcessingParameterRasterLayer(
            f"{name}_RASTER", f"{description}: raster (former way; the raster algorithm is clearer)",
            optional=True)))


def add_raster_value(algorithm, name, description, default=None, minimum=None, maximum=None, constant=True):
    """NAME_RASTER (a raster) and, with ``constant``, NAME: the constant used where no raster is given.

    Without ``constant`` the raster is required.
    """
    algorithm.addParameter(QgsProcessingParameterRasterLayer(f"{name}_RASTER", f"{description}: raster",
                                                             optional=constant))
    if constant:
        algorithm.addParameter(_number(name, f"{description}: constant, used where no raster is given", default,
                                       minimum, maximum, optional=default is None))


def legacy_values(algorithm, parameters):
    """``parameters`` with each value parameter given the former way (NAME_FIELD, NAME_RASTER) as NAME,
    so that QGIS's check of required parameters accepts it."""
    given = dict(parameters)
    for definition in algorithm.parameterDefinitions():
        name = definition.name()
        if not definition.isDynamic() or parameters.get(name) not in (None, ""):
            continue
        former = parameters.get(f"{name}_RASTER") or parameters.get(f"{name}_FIELD")
        if former not in (None, ""):
            given[name] = QgsProperty.fromValue(former)
    return given


def value_parameter(algorithm, parameters, context, name):
    """(kind, value) of a value parameter: ('raster', path), ('field', name), ('expression', QgsProperty),
    ('number', x) or ('none', None) when nothing was given."""
    if algorithm.parameterDefinition(f"{name}_RASTER") is not None:
        raster = algorithm.parameterAsRasterLayer(parameters, f"{name}_RASTER", context)
        if raster is not None:
            return "raster", raster_file(raster)
    if algorithm.parameterDefinition(f"{name}_FIELD") is not None:
        field = algorithm.parameterAsFields(parameters, f"{name}_FIELD", context)
        if field:
            return "field", field[0]
    if QgsProcessingParameters.isDynamic(parameters, name):
        value = parameters[name]
        if value.propertyType() == QgsProperty.FieldBasedProperty:
            return "field", value.field()
        if value.propertyType() == QgsProperty.ExpressionBasedProperty:
            return "expression", value
        return "number", float(value.staticValue())
    if parameters.get(name) in (None, "") and algorithm.parameterDefinition(name).defaultValue() is None:
        return "none", None
    return "number", algorithm.parameterAsDouble(parameters, name, context)


def raster_value(algorithm, parameters, context, name):
    """A raster algorithm's value: the raster path, else the constant; InputError if neither is given."""
    kind, value = value_parameter(algorithm, parameters, context, name)
    if kind == "none":
        raise InputError(f"give {name}_RASTER (a raster) or {name} (a constant)")
    return value


def add_layers_parameter(algorithm):
    names = ", ".join(NAMED_SCHEMES)
    algorithm.addParameter(QgsProcessingParameterString(
        LAYERS, f"Depth layers: cm breaks or {names}",
        defaultValue=",".join(f"{b:g}" for b in NAMED_SCHEMES[DEFAULT_SCHEME])))


def layers_parameter(algorithm, parameters, context):
    return layer_scheme(algorithm.parameterAsString(parameters, LAYERS, context))


def add_normalize_parameter(algorithm):
    algorithm.addParameter(QgsProcessingParameterBoolean(
        "NORMALIZE", "Normalise to the profile depth (else: shares of the infinite-depth total)",
        defaultValue=True))


def add_profile_depth_parameter(algorithm):
    depth = QgsProcessingParameterNumber(
        "PROFILE_DEPTH", "Profile depth (cm): normalised fractions are shares of 0 cm to it",
        QgsProcessingParameterNumber.Double, PROFILE_DEPTH)
    depth.setMinimum(0.0)
    algorithm.addParameter(depth)


def add_surface_parameters(algorithm):
    """SURFACE_TOLERANCE and MISSING_SURFACE of the depth-model fits."""
    tolerance = QgsProcessingParameterNumber(
        "SURFACE_TOLERANCE", "Surface tolerance (cm): a profile starting deeper misses its surface",
        QgsProcessingParameterNumber.Double, 0.0)
    tolerance.setMinimum(0.0)
    algorithm.addParameter(advanced(tolerance))
    algorithm.addParameter(advanced(enum_parameter("MISSING_SURFACE", "Profiles missing their surface",
                                                   MISSING_SURFACE_CHOICES)))


def surface_parameters(algorithm, parameters, context):
    """(surface tolerance in cm, missing-surface rule) from the parameters."""
    return (algorithm.parameterAsDouble(parameters, "SURFACE_TOLERANCE", context),
            enum_code(algorithm, parameters, context, "MISSING_SURFACE", MISSING_SURFACE_CHOICES))


def push_notes(feedback, notes):
    """Show a core function's notes for the user as warnings in the Processing log."""
    for note in notes:
        if note:
            feedback.pushWarning(note)


def add_html_output(algorithm, description=None):
    """OUTPUT_HTML, an optional report named after the algorithm (the Results Viewer lists it by that name)."""
    algorithm.addParameter(QgsProcessingParameterFileDestination(
        OUTPUT_HTML, description or f"{algorithm.DISPLAY_NAME}: report (HTML)", fileFilter="HTML files (*.html)",
        optional=True, createByDefault=False))


def html_output(algorithm, parameters, context):
    """The HTML output path, or None when the user did not ask for it."""
    if parameters.get(OUTPUT_HTML) in (None, ""):
        return None
    return algorithm.parameterAsFileOutput(parameters, OUTPUT_HTML, context) or None


def table_with_values(algorithm, parameters, context, names, source, feedback, optional=()):
    """The input table and its value parameters ``names`` for the core functions.

    Returns (table, values, added): values maps each lower-cased name to a number, a column or
    (for the ``optional`` names not given) None;
    a data-defined expression is evaluated per feature into a column of its own, listed in
    ``added`` (drop those from the output). A raster value is an InputError (raster algorithms).
    """
    from .qgis_io import source_to_table

    given = {name: value_parameter(algorithm, parameters, context, name) for name in names}
    rasters = [name for name, (kind, _) in given.items() if kind == "raster"]
    if rasters:
        raise InputError(f"{', '.join(rasters)}: a raster cannot be combined with a table; use the raster algorithm")
    missing = [name for name, (kind, _) in given.items() if kind == "none" and name not in optional]
    if missing:
        raise InputError(f"give {', '.join(missing)}: a number, or a field or an expression of the input table")
    expressions = {f"{name} (expression)": value for name, (kind, value) in given.items() if kind == "expression"}
    table = source_to_table(source, feedback, expressions, context)
    values = {name.lower(): f"{name} (expression)" if kind == "expression" else value
              for name, (kind, value) in given.items()}
    return table, values, list(expressions)


def enum_parameter(name, description, choices, default=0):
    """An enum of ``choices`` ((code, label), ...): the dialog shows the labels; the value is the index."""
    return QgsProcessingParameterEnum(name, description, options=[label for _, label in choices],
                                      defaultValue=default)


def enum_code(algorithm, parameters, context, name, choices):
    """The code of the chosen choice of an :func:`enum_parameter`."""
    return choices[algorithm.parameterAsEnum(parameters, name, context)][0]


def table_output(name, description):
    """A table output that defaults to a temporary layer, as :func:`raster_output` does for rasters."""
    return QgsProcessingParameterFeatureSink(name, description, QgsProcessing.TypeVector,
                                             defaultValue=QgsProcessing.TEMPORARY_OUTPUT, optional=True,
                                             createByDefault=True)


def raster_output(name, description):
    """A raster output that defaults to a temporary file, so that the algorithm, and a model exposing the
    output, runs with its inputs alone (qgis_process and processing.run otherwise insist on a value)."""
    return QgsProcessingParameterRasterDestination(name, description, defaultValue=QgsProcessing.TEMPORARY_OUTPUT,
                                                   optional=True, createByDefault=True)
