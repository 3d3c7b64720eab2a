"""Parameter helpers shared by several algorithms.

A *value parameter* can be given three ways, as in the CLI: a number (``NAME``), a field
of the input table (``NAME_FIELD``) or a raster layer (``NAME_RASTER``).
"""

from qgis.core import (QgsProcessingParameterBoolean, QgsProcessingParameterEnum, QgsProcessingParameterField,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString)

from ..core.depth import MISSING_SURFACE, PROFILE_DEPTH
from ..core.errors import InputError
from ..core.layers import DEFAULT_SCHEME, NAMED_SCHEMES, layer_scheme

INPUT = "INPUT"
LAYERS = "LAYERS"
OUTPUT_HTML = "OUTPUT_HTML"


def add_value_parameter(algorithm, name, description, default, minimum=None, maximum=None, parent=INPUT):
    """Add NAME (number), NAME_FIELD (field of ``parent``) and NAME_RASTER (raster layer)."""
    number = QgsProcessingParameterNumber(name, f"{description}: number", QgsProcessingParameterNumber.Double,
                                          default, optional=True)
    if minimum is not None:
        number.setMinimum(minimum)
    if maximum is not None:
        number.setMaximum(maximum)
    algorithm.addParameter(number)
    algorithm.addParameter(QgsProcessingParameterField(
        f"{name}_FIELD", f"{description}: field of the input table (instead of the number)",
        parentLayerParameterName=parent, type=QgsProcessingParameterField.Numeric, optional=True))
    algorithm.addParameter(QgsProcessingParameterRasterLayer(
        f"{name}_RASTER", f"{description}: raster (instead of the number)", optional=True))


def value_parameter(algorithm, parameters, context, name):
    """(kind, value) of a value parameter: ('raster', path), ('field', name) or ('number', x).

    A raster wins over a field, a field over the number.
    """
    raster = algorithm.parameterAsRasterLayer(parameters, f"{name}_RASTER", context)
    if raster is not None:
        return "raster", raster.source()
    field = algorithm.parameterAsFields(parameters, f"{name}_FIELD", context)
    if field:
        return "field", field[0]
    if parameters.get(name) in (None, "") and algorithm.parameterDefinition(name).defaultValue() is None:
        raise InputError(f"{name}: give a number, a field ({name}_FIELD) or a raster ({name}_RASTER)")
    return "number", algorithm.parameterAsDouble(parameters, name, context)


def add_layers_parameter(algorithm):
    names = ", ".join(NAMED_SCHEMES)
    algorithm.addParameter(QgsProcessingParameterString(
        LAYERS, f"Depth layers: breaks in cm (0,20,40,...) or a named scheme ({names})",
        defaultValue=",".join(f"{b:g}" for b in NAMED_SCHEMES[DEFAULT_SCHEME])))


def layers_parameter(algorithm, parameters, context):
    return layer_scheme(algorithm.parameterAsString(parameters, LAYERS, context))


def add_normalize_parameter(algorithm):
    algorithm.addParameter(QgsProcessingParameterBoolean(
        "NORMALIZE", "Fractions sum to 1 over the layers (else: shares of the infinite-depth total)",
        defaultValue=True))


def add_profile_depth_parameter(algorithm):
    depth = QgsProcessingParameterNumber(
        "PROFILE_DEPTH", "Profile depth (cm): normalised fractions are shares of the profile from the surface to it",
        QgsProcessingParameterNumber.Double, PROFILE_DEPTH)
    depth.setMinimum(0.0)
    algorithm.addParameter(depth)


def add_surface_parameters(algorithm):
    """SURFACE_TOLERANCE and MISSING_SURFACE of the depth-model fits."""
    tolerance = QgsProcessingParameterNumber(
        "SURFACE_TOLERANCE", "Surface tolerance (cm): a profile starting deeper misses its surface",
        QgsProcessingParameterNumber.Double, 0.0)
    tolerance.setMinimum(0.0)
    algorithm.addParameter(tolerance)
    algorithm.addParameter(QgsProcessingParameterEnum(
        "MISSING_SURFACE", "Profiles missing their surface",
        options=["refuse (not fitted, with the reason)", "fit the covered depths conditionally"], defaultValue=0))


def surface_parameters(algorithm, parameters, context):
    """(surface tolerance in cm, missing-surface rule) from the parameters."""
    return (algorithm.parameterAsDouble(parameters, "SURFACE_TOLERANCE", context),
            MISSING_SURFACE[algorithm.parameterAsEnum(parameters, "MISSING_SURFACE", context)])


def push_notes(feedback, notes):
    """Show a core function's notes for the user as warnings in the Processing log."""
    for note in notes:
        if note:
            feedback.pushWarning(note)


def add_html_output(algorithm, description="Report with plot (HTML)"):
    algorithm.addParameter(QgsProcessingParameterFileDestination(
        OUTPUT_HTML, description, fileFilter="HTML files (*.html)", optional=True, createByDefault=False))


def html_output(algorithm, parameters, context):
    """The HTML output path, or None when the user did not ask for it."""
    if parameters.get(OUTPUT_HTML) in (None, ""):
        return None
    return algorithm.parameterAsFileOutput(parameters, OUTPUT_HTML, context) or None
