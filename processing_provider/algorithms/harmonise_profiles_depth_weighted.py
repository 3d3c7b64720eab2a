"""Processing algorithm wholesoil:harmoniseprofilesdepthweighted."""

from qgis.core import QgsProcessingParameterNumber

from ..algorithm import core_callbacks
from ..parameters import LAYERS
from ..profiles_base import VALUE_FIELDS, ProfileAlgorithm


class HarmoniseProfilesDepthWeighted(ProfileAlgorithm):
    NAME = "harmoniseprofilesdepthweighted"
    DISPLAY_NAME = "Harmonise profiles (depth-weighted)"
    OUTPUT_DESCRIPTION = "Harmonised layers"
    TAGS = ProfileAlgorithm.TAGS + ("depth-weighted", "slab", "aqp")
    REFERENCES = ("lu2025",)
    HELP = """
Puts horizon properties on target layers by depth-weighted averaging (Lu et al. 2025; aqp's slab): a layer inside
one horizon takes that horizon's value, a layer spanning several takes their mean weighted by the overlap in cm.
Horizons without a value do not contribute.

Input: one feature per profile and horizon with a profile id, top and bottom depths (cm, positive down) and the
properties. Profiles with overlapping horizons, negative or inverted depths or non-numeric values are left out and
listed; the others are processed.

Horizons above the mineral soil surface (negative depths, the ISRaD convention for organic horizons) are left out by
default, or kept by measuring that profile's depths from the top of its organic layer (as aqp's accumulateDepths).
Rows without any value that overlap another horizon are dropped. Both are listed in the profile's repairs.

Output: one row per profile and layer with the id, top, bottom, each property and PROPERTY_contrib, the fraction of
the layer (0-1) covered by horizons with a value; then the fields that are constant within each profile. A point
input keeps its points.

Minimum coverage (default 0): a layer covered less than this gets no value. At 0 any overlap gives the mean over the
covered part.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_horizon_inputs()
        self.add_value_fields(VALUE_FIELDS, "Properties to harmonise")
        self.add_layers()
        coverage = QgsProcessingParameterNumber("MIN_COVERAGE", "Minimum covered fraction of a layer (0-1)",
                                                QgsProcessingParameterNumber.Double, 0.0)
        coverage.setMinimum(0.0)
        coverage.setMaximum(1.0)
        self.addParameter(coverage)
        self.add_plot_profile()
        self.add_outputs()

    def compute(self, parameters, context, feedback):
        from ...core.harmonise import depth_weighted

        source, table, id_field, top_field, bottom_field = self.read_input(parameters, context, feedback)
        result = depth_weighted(table, id_field, top_field, bottom_field,
                                self.parameterAsFields(parameters, VALUE_FIELDS, context),
                                self.parameterAsString(parameters, LAYERS, context),
                                self.parameterAsDouble(parameters, "MIN_COVERAGE", context),
                                self.organic(parameters, context), **core_callbacks(feedback, end=90))
        figure = self.profile_plot(parameters, context, result)  # an unknown profile fails before writing
        results = self.write_outputs(parameters, context, feedback, source, result.layers, result.profiles, id_field)
        return self.write_report(parameters, context, results, figure, [result.profiles, result.layers])
