"""Processing algorithm wholesoil:harmoniseprofilesspline."""

from qgis.core import QgsProcessingParameterBoolean, QgsProcessingParameterNumber

from ..algorithm import core_callbacks
from ..parameters import LAYERS
from ..profiles_base import VALUE_FIELDS, ProfileAlgorithm

DEFAULT_LAMBDA = 0.1  # core.spline.DEFAULT_LAMBDA


class HarmoniseProfilesSpline(ProfileAlgorithm):
    NAME = "harmoniseprofilesspline"
    DISPLAY_NAME = "Harmonise profiles (spline)"
    OUTPUT_DESCRIPTION = "Harmonised layers"
    TAGS = ProfileAlgorithm.TAGS + ("spline", "equal-area spline", "mpspline", "mass-preserving")
    REFERENCES = ("bishop1999",)
    HELP = """
Fits the mass-preserving (equal-area quadratic) smoothing spline of Bishop et al. (1999), as the R package mpspline2
does, to each profile and property, and gives the mean of the fitted curve over each target layer. Layer means are
exact integrals of the curve (mpspline2 averages 1-cm values), so with λ = 0 every horizon's own value is reproduced
exactly.

Input: one feature per profile and horizon with a profile id, top and bottom depths (cm, positive down) and the
properties to harmonise. Horizons may come in any order; zero-thickness and duplicated horizons are dropped, gaps
and horizons without a value are bridged by the curve. Profiles with overlapping horizons, negative or inverted
depths or non-numeric values are left out and listed; the others are processed.

Horizons above the mineral soil surface (negative depths, the ISRaD convention for organic horizons) are left out by
default, or kept by measuring that profile's depths from the top of its organic layer (as aqp's accumulateDepths).
Rows without any value that overlap another horizon are dropped. Both are listed in the profile's repairs.

Output: one row per profile and layer with the id, top, bottom and one field per property, then the fields that are
constant within each profile; a point input keeps its points. Layers the horizons do not reach stay empty unless
Extrapolate is on (the curve's end values are carried on; the spline is flat at both ends). Values are clamped to
[lowest, highest].

Profile summary (optional): status (ok, incomplete, error), fit error rmse_PROPERTY (horizon values against the
curve's horizon means), the repairs made and messages.

λ (default 0.1) sets the smoothing; 0 follows the horizon values exactly.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_horizon_inputs()
        self.add_value_fields(VALUE_FIELDS, "Properties to harmonise")
        self.add_layers()
        lam = QgsProcessingParameterNumber("LAMBDA", "Smoothing λ", QgsProcessingParameterNumber.Double,
                                           DEFAULT_LAMBDA)
        lam.setMinimum(0.0)
        self.addParameter(lam)
        self.addParameter(QgsProcessingParameterNumber("VLOW", "Lowest allowed value",
                                                       QgsProcessingParameterNumber.Double, 0.0))
        self.addParameter(QgsProcessingParameterNumber("VHIGH", "Highest allowed value (empty: no limit)",
                                                       QgsProcessingParameterNumber.Double, None, optional=True))
        self.addParameter(QgsProcessingParameterBoolean("EXTRAPOLATE", "Extrapolate beyond the horizons",
                                                        defaultValue=False))
        self.add_plot_profile()
        self.add_outputs()

    def compute(self, parameters, context, feedback):
        from ...core.spline import spline_profiles

        source, table, id_field, top_field, bottom_field = self.read_input(parameters, context, feedback)
        vhigh = parameters.get("VHIGH")
        result = spline_profiles(
            table, id_field, top_field, bottom_field, self.parameterAsFields(parameters, VALUE_FIELDS, context),
            self.parameterAsString(parameters, LAYERS, context),
            self.parameterAsDouble(parameters, "LAMBDA", context), self.parameterAsDouble(parameters, "VLOW", context),
            float("inf") if vhigh in (None, "") else self.parameterAsDouble(parameters, "VHIGH", context),
            self.parameterAsBoolean(parameters, "EXTRAPOLATE", context), self.organic(parameters, context),
            **core_callbacks(feedback, end=90))
        figure = self.profile_plot(parameters, context, result)  # an unknown profile fails before writing
        results = self.write_outputs(parameters, context, feedback, source, result.layers, result.profiles, id_field)
        return self.write_report(parameters, context, results, figure, [result.profiles, result.layers])
