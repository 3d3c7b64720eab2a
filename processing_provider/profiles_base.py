"""Shared parameters and outputs of the soil-profile algorithms (horizon table in, table out).

Input: a vector layer or table with one feature per profile and horizon (id, top, bottom
fields). Outputs: OUTPUT (the result table, with the point geometry of a point input),
OUTPUT_PROFILES (one row per profile: status, fit error, repairs, message; optional) and
OUTPUT_HTML (a report with a plot; optional). Profiles with bad input are reported as
warnings in the log and listed in OUTPUT_PROFILES; the others are processed.
"""

from qgis.core import (QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterField, QgsProcessingParameterString)

from .algorithm import WholesoilAlgorithm
from .parameters import (INPUT, LAYERS, OUTPUT_HTML, add_html_output, enum_code, enum_parameter, html_output,
                         push_notes)
from .qgis_io import source_to_table, table_to_sink

OUTPUT = "OUTPUT"
OUTPUT_PROFILES = "OUTPUT_PROFILES"
ID_FIELD, TOP_FIELD, BOTTOM_FIELD = "ID_FIELD", "TOP_FIELD", "BOTTOM_FIELD"
VALUE_FIELDS = "VALUE_FIELDS"
PLOT_PROFILE = "PLOT_PROFILE"
#: core.horizons.ORGANIC with its labels.
ORGANIC = (("exclude", "leave them out"), ("keep", "keep them (depths from the top of the organic layer)"))


def warn_profiles(feedback, rows, id_field):
    """One warning per profile that was not processed as it is (a note, not a failure of the run)."""
    for _, row in rows.iterrows():
        feedback.pushWarning(f"profile {row[id_field]}: {row['status']}: {row['message']}")


class ProfileAlgorithm(WholesoilAlgorithm):
    """Base of the profile algorithms: horizon input fields, outputs and the problem report."""

    GROUP = "Soil profiles"
    GROUP_ID = "profiles"
    OUTPUT_DESCRIPTION = "Result table"
    TAGS = ("soil profile", "horizons", "layers", "standard depths", "harmonisation", "GlobalSoilMap")

    def add_horizon_inputs(self, description="Horizons (one feature per profile and horizon)"):
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, description, [QgsProcessing.TypeVector]))
        self.addParameter(QgsProcessingParameterField(ID_FIELD, "Profile id field", parentLayerParameterName=INPUT))
        self.addParameter(QgsProcessingParameterField(TOP_FIELD, "Top depth field (cm)",
                                                      parentLayerParameterName=INPUT))
        self.addParameter(QgsProcessingParameterField(BOTTOM_FIELD, "Bottom depth field (cm)",
                                                      parentLayerParameterName=INPUT))
        self.addParameter(enum_parameter("ORGANIC", "Horizons above the mineral surface (negative depths)", ORGANIC))

    def organic(self, parameters, context):
        """The organic-horizon rule chosen (see core.horizons.read_horizons)."""
        return enum_code(self, parameters, context, "ORGANIC", ORGANIC)

    def add_value_fields(self, name, description, multiple=True):
        self.addParameter(QgsProcessingParameterField(name, description, parentLayerParameterName=INPUT,
                                                      allowMultiple=multiple))

    def add_layers(self, default="0,20,40,60,80,100,150,200", optional=False):
        self.addParameter(QgsProcessingParameterString(
            LAYERS, "Target layers: depth breaks in cm (0,20,40,...) or standard7, standard5, globalsoilmap",
            defaultValue=default, optional=optional))

    def add_outputs(self, profiles=True):
        self.addParameter(QgsProcessingParameterFeatureSink(OUTPUT, self.OUTPUT_DESCRIPTION, QgsProcessing.TypeVector))
        if profiles:
            self.addParameter(QgsProcessingParameterFeatureSink(
                OUTPUT_PROFILES, "Profile summary (status, fit error, repairs, message)", QgsProcessing.TypeVector,
                optional=True, createByDefault=False))
        add_html_output(self)

    def read_input(self, parameters, context, feedback):
        """(source, table, id field, top field, bottom field)."""
        source = self.parameterAsSource(parameters, INPUT, context)
        return (source, source_to_table(source, feedback), *self.horizon_fields(parameters, context))

    def horizon_fields(self, parameters, context):
        """(id field, top field, bottom field)."""
        return tuple(self.parameterAsFields(parameters, name, context)[0]
                     for name in (ID_FIELD, TOP_FIELD, BOTTOM_FIELD))

    def write_outputs(self, parameters, context, feedback, source, table, profiles, id_field, notes=()):
        """Write OUTPUT (and OUTPUT_PROFILES when asked); report the notes, the profiles that are not ok
        (warnings) and the first repaired ones (information)."""
        results = {OUTPUT: table_to_sink(self, parameters, OUTPUT, context, table, source)}
        push_notes(feedback, notes)
        if profiles is not None:
            not_ok = profiles[profiles["status"].ne("ok")]
            done = int(profiles["status"].ne("error").sum())
            feedback.pushInfo(f"Processed {done} of {len(profiles)} profiles")
            warn_profiles(feedback, not_ok, id_field)
            from ..core.horizons import repair_lines

            lines, more = repair_lines(profiles, id_field)
            for line in lines + ([f"... and {more} more repaired profiles (the profile summary lists every repair)"]
                                 if more else []):
                feedback.pushInfo(line)
            if parameters.get(OUTPUT_PROFILES) is not None:
                results[OUTPUT_PROFILES] = table_to_sink(self, parameters, OUTPUT_PROFILES, context, profiles)
        return results

    def add_plot_profile(self):
        self.addParameter(QgsProcessingParameterString(
            PLOT_PROFILE, "Profile to plot in the report (default: the first)", optional=True))

    def profile_plot(self, parameters, context, result):
        """The profile figure of a harmonisation result for the report (None if no report)."""
        if not html_output(self, parameters, context):
            return None
        from ..core.errors import InputError
        from ..core.profile_plots import profile_figure

        wanted = self.parameterAsString(parameters, PLOT_PROFILE, context)
        ids = list(result.horizons.ids)
        matches = [i for i in ids if str(i) == wanted] if wanted else ids[:1]
        if not matches:
            raise InputError(f"profile to plot: no harmonised profile {wanted!r}")
        return profile_figure(result, matches[0])

    def write_report(self, parameters, context, results, figure, tables):
        """Write the HTML report (figure and tables) when OUTPUT_HTML was asked for."""
        path = html_output(self, parameters, context)
        if not path:
            return results
        from ..core.plots import html_image, html_table, write_html_report

        parts = ([html_image(figure, self.DISPLAY_NAME)] if figure is not None else []) + \
            [html_table(t) for t in tables]
        write_html_report(path, self.DISPLAY_NAME, parts)
        results[OUTPUT_HTML] = path
        return results
