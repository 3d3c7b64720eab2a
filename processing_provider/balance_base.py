"""Shared parameters of the radiocarbon and carbon-balance algorithms.

Field parameters default to ISRaD's column names, so an ISRaD layer export runs as it is;
band-wise raster algorithms (Ibulk, Iloss, turnover time) share one body.
"""

from qgis.core import (QgsProcessingParameterBoolean, QgsProcessingParameterField, QgsProcessingParameterFile,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer)

from ..core.errors import InputError
from ..core.radiocarbon import CURVES, HISTORY
from .algorithm import WholesoilAlgorithm, raster_file
from .depth_fractions_base import raster_engine
from .parameters import INPUT, advanced, enum_code, enum_parameter, raster_output

RADIOCARBON_GROUP = ("Radiocarbon", "radiocarbon")
BALANCE_GROUP = ("Carbon balance", "balance")
RADIOCARBON_TAGS = ("14C", "radiocarbon", "Δ14C", "delta14C", "fraction modern", "bomb carbon", "carbon age",
                    "turnover", "ISRaD")
BALANCE_TAGS = ("Iroot", "Iloss", "Ibulk", "root inputs", "carbon inputs", "BNPP", "carbon balance", "turnover")
#: Labels of the shipped atmospheric records (core.radiocarbon.CURVES), then the own-file choice.
CURVE_LABELS = {"hua2021": "Hua et al. 2022: 1950-2019, zones NH1-NH3, SH12, SH3",
                "graven2017": "Graven et al. 2017: 1850-2015, zones NH, Tropics, SH"}
CURVE_CHOICES = tuple((code, CURVE_LABELS[code]) for code in CURVES) + (("file", "Own record: CSV file (CURVE_FILE)"),)


def add_field(algorithm, name, description, default=None, numeric=True):
    """A field of INPUT; ``default`` is a column name (ISRaD's).

    Fields are optional for QGIS (so that a default applies when a caller leaves one out);
    the core functions name any column they need and do not find.
    """
    algorithm.addParameter(QgsProcessingParameterField(
        name, description, defaultValue=default, parentLayerParameterName=INPUT,
        type=QgsProcessingParameterField.Numeric if numeric else QgsProcessingParameterField.Any, optional=True))


def field(algorithm, parameters, context, name):
    """The chosen field name, else the parameter's default, else None."""
    chosen = algorithm.parameterAsFields(parameters, name, context)
    return chosen[0] if chosen else algorithm.parameterDefinition(name).defaultValue()


def add_model_parameters(algorithm):
    """Sampling year, latitude or zone, atmospheric curve, pre-bomb Δ14C (or history) and lag."""
    add_field(algorithm, "YEAR_FIELD", "Sampling year field", "lyr_obs_date_y")
    add_field(algorithm, "LAT_FIELD", "Latitude field (decimal degrees; chooses the zone)", "pro_lat")
    add_field(algorithm, "ZONE_FIELD", "Atmospheric zone field (overrides latitude where given)", numeric=False)
    algorithm.addParameter(enum_parameter("CURVE", "Atmospheric Δ14C record", CURVE_CHOICES))
    algorithm.addParameter(QgsProcessingParameterFile(
        "CURVE_FILE", "Own record: CSV with a year column and one Δ14C column per zone", extension="csv",
        optional=True))
    algorithm.addParameter(advanced(QgsProcessingParameterNumber(
        "PRE_BOMB", "Pre-bomb atmospheric Δ14C (‰)", QgsProcessingParameterNumber.Double, 0.0)))
    algorithm.addParameter(advanced(QgsProcessingParameterBoolean(
        "PRE_BOMB_HISTORY", "Pre-bomb history instead of the constant (IntCal20/SHCal20, Graven 2017 from 1850)",
        defaultValue=False)))
    lag = QgsProcessingParameterNumber("LAG", "Input lag (years)", QgsProcessingParameterNumber.Double, 0.0)
    lag.setMinimum(0.0)
    algorithm.addParameter(advanced(lag))


def model_parameters(algorithm, parameters, context):
    """Keyword arguments (year_col, lat_col, zone_col, curve, pre_d14c, lag) for the core functions."""
    curve = enum_code(algorithm, parameters, context, "CURVE", CURVE_CHOICES)
    if curve == "file":
        curve = algorithm.parameterAsFile(parameters, "CURVE_FILE", context)
    if not curve:
        raise InputError("choose a CSV file for the own atmospheric record (CURVE_FILE)")
    return {"year_col": field(algorithm, parameters, context, "YEAR_FIELD"),
            "lat_col": field(algorithm, parameters, context, "LAT_FIELD"),
            "zone_col": field(algorithm, parameters, context, "ZONE_FIELD"), "curve": curve,
            "pre_d14c": HISTORY if algorithm.parameterAsBoolean(parameters, "PRE_BOMB_HISTORY", context)
            else algorithm.parameterAsDouble(parameters, "PRE_BOMB", context),
            "lag": algorithm.parameterAsDouble(parameters, "LAG", context)}


class RasterBalanceAlgorithm(WholesoilAlgorithm):
    """Band-wise raster algorithm: subclasses set OPERATION and INPUTS ((name, description), (name, description))."""

    GROUP, GROUP_ID = BALANCE_GROUP
    REQUIRES = ("numpy",)
    TAGS = BALANCE_TAGS + ("raster", "map")
    OPERATION = ""
    INPUTS = ()
    OUTPUT_DESCRIPTION = ""

    def initAlgorithm(self, config=None):  # noqa: N802
        for name, description in self.INPUTS:
            self.addParameter(QgsProcessingParameterRasterLayer(name, description))
        self.addParameter(raster_output("OUTPUT", self.OUTPUT_DESCRIPTION))

    def compute(self, parameters, context, feedback):
        from ..core.balance import raster_balance

        first, second = (raster_file(self.parameterAsRasterLayer(parameters, name, context)) for name, _ in self.INPUTS)
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        raster_balance(self.OPERATION, first, second, output, **raster_engine(feedback))
        return {"OUTPUT": output}
