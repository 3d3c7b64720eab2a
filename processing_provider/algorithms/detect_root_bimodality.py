"""Processing algorithm wholesoil:detectrootbimodality."""

from qgis.core import (QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterField, QgsProcessingParameterNumber, QgsProcessingParameterString)

from ..algorithm import core_callbacks
from ..parameters import INPUT, OUTPUT_HTML, enum_parameter, advanced, enum_code, html_output
from ..profiles_base import OUTPUT, ProfileAlgorithm
from ..qgis_io import source_to_table, table_to_sink

PROPERTIES = "PROPERTIES"
MAX_PLOTS = 12
#: core.bimodality's defaults (DEFAULT_BANDWIDTH cm, DEFAULT_MIN_RATIO) and value kinds with their labels.
DEFAULT_BANDWIDTH, DEFAULT_MIN_RATIO = 15.0, 0.1
VALUE_KINDS = (("density", "density per volume"), ("amount", "amount per area"))


class DetectRootBimodality(ProfileAlgorithm):
    NAME = "detectrootbimodality"
    DISPLAY_NAME = "Detect root bimodality"
    OUTPUT_DESCRIPTION = "Sites with their modality"
    TAGS = ("roots", "fine roots", "bimodality", "root distribution", "deep roots", "NEON", "kernel density",
            "nitrogen")
    REFERENCES = ("lu2025",)
    HELP = """
Classifies the root depth distribution of each site as unimodal or bimodal (Lu et al. 2025). The site profile is the
mean root biomass density of each depth increment over the site's profiles (an increment missing from a profile
counts as 0). A Gaussian kernel density over depth (bandwidth 15 cm by default) is built from the increments'
mid-depths weighted by that density; its local maxima are the modes. A secondary mode counts only if its density is
at least 10 % of the primary's (minimum ratio); two counted modes make the site bimodal, three or more multimodal.

Output, one row per site: modality, n_modes, n_counted_modes, d0_cm (primary mode), d1_cm (antimode between), d2_cm
(secondary mode), secondary_ratio, phi_roots = root density at D2 / at D1 (unimodal sites use D1 = 70 cm and D2 =
100 cm, as the paper prescribes), message, and the fields constant within each site (a point input keeps its
points).

Filter (optional): keep only rows where a field equals a value, for example rootStatus=live;sizeCategory=VALUE, with
VALUE NEON's fine-root size class as written in its table. Values are densities per volume (for example g m-3) or
amounts per area (divided by the thickness). Without a bottom depth field every increment is the given thickness
thick (NEON's megapit root table: 10 cm to 1 m, 20 cm below); a site whose increment tops lie further apart than the
thickness in every profile gets a note, since the gaps count as holding no roots (give a bottom depth field then).

Properties (optional): a horizon table with site, top and bottom fields and properties such as nitrogen. For each
property the output adds phi_PROPERTY = Y(D2) / Y(D1) and the depth exponent of the relative concentration (property
/ root density, rescaled to 1 in the top increment): rel_PROPERTY_exponent, the slope of log10(relative) against
depth per cm, with rel_PROPERTY_r2.

The report shows each site's mean densities, kernel density and the modes and antimode.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Root increments", [QgsProcessing.TypeVector]))
        fields = (("SITE_FIELD", "Site field", False), ("PROFILE_FIELD", "Profile field (profiles are averaged)", True),
                  ("TOP_FIELD", "Top depth field (cm)", False),
                  ("BOTTOM_FIELD", "Bottom depth field (cm; empty: top + thickness)", True),
                  ("VALUE_FIELD", "Root biomass field", False))
        for name, label, optional in fields:
            self.addParameter(QgsProcessingParameterField(name, label, parentLayerParameterName=INPUT,
                                                          optional=optional))
        thickness = QgsProcessingParameterNumber("THICKNESS", "Increment thickness without a bottom field (cm)",
                                                 QgsProcessingParameterNumber.Double, None, optional=True)
        thickness.setMinimum(0.0)
        self.addParameter(thickness)
        self.addParameter(enum_parameter("VALUE_KIND", "Values are", VALUE_KINDS))
        self.addParameter(QgsProcessingParameterString(
            "FILTER", "Keep rows where field=value (several separated by ;)", optional=True))
        bandwidth = QgsProcessingParameterNumber("BANDWIDTH", "Kernel bandwidth (cm)",
                                                 QgsProcessingParameterNumber.Double, DEFAULT_BANDWIDTH)
        bandwidth.setMinimum(0.1)
        self.addParameter(advanced(bandwidth))
        ratio = QgsProcessingParameterNumber("MIN_RATIO", "Least secondary/primary mode density",
                                             QgsProcessingParameterNumber.Double, DEFAULT_MIN_RATIO)
        ratio.setMinimum(0.0)
        ratio.setMaximum(1.0)
        self.addParameter(advanced(ratio))
        self.addParameter(QgsProcessingParameterFeatureSource(
            PROPERTIES, "Soil horizons with other properties (optional)", [QgsProcessing.TypeVector], optional=True))
        for name, label in (("PROPERTY_SITE_FIELD", "Site field of the horizons"),
                            ("PROPERTY_TOP_FIELD", "Top depth field of the horizons (cm)"),
                            ("PROPERTY_BOTTOM_FIELD", "Bottom depth field of the horizons (cm)")):
            self.addParameter(QgsProcessingParameterField(name, label, parentLayerParameterName=PROPERTIES,
                                                          optional=True))
        self.addParameter(QgsProcessingParameterField("PROPERTY_FIELDS",
                                                      "Properties for phi and relative concentration",
                                                      parentLayerParameterName=PROPERTIES, allowMultiple=True,
                                                      optional=True))
        self.add_outputs(profiles=False)
        self.addParameter(QgsProcessingParameterFeatureSink(
            "OUTPUT_INCREMENTS", "Site-mean root increments", QgsProcessing.TypeVector, optional=True,
            createByDefault=False))

    def compute(self, parameters, context, feedback):
        from ...core.bimodality import detect_bimodality
        from ...core.horizons import select_rows

        field = (lambda name: (self.parameterAsFields(parameters, name, context) or [None])[0])
        source = self.parameterAsSource(parameters, INPUT, context)
        table = source_to_table(source, feedback)
        conditions = [c for c in self.parameterAsString(parameters, "FILTER", context).split(";") if c.strip()]
        if conditions:
            table = select_rows(table, conditions)
        properties = self.parameterAsSource(parameters, PROPERTIES, context)
        property_fields = self.parameterAsFields(parameters, "PROPERTY_FIELDS", context) if properties else []
        thickness = parameters.get("THICKNESS")
        result = detect_bimodality(
            table, field("SITE_FIELD"), field("TOP_FIELD"), field("BOTTOM_FIELD"), field("VALUE_FIELD"),
            field("PROFILE_FIELD"), enum_code(self, parameters, context, "VALUE_KIND", VALUE_KINDS),
            self.parameterAsDouble(parameters, "BANDWIDTH", context),
            self.parameterAsDouble(parameters, "MIN_RATIO", context),
            source_to_table(properties, feedback) if properties else None,
            field("PROPERTY_SITE_FIELD"), field("PROPERTY_TOP_FIELD"), field("PROPERTY_BOTTOM_FIELD"),
            property_fields,
            None if thickness in (None, "") else self.parameterAsDouble(parameters, "THICKNESS", context),
            **core_callbacks(feedback, end=80))
        site_field = field("SITE_FIELD")
        for _, row in result.sites.iterrows():
            feedback.pushInfo(f"{row[site_field]}: {row['modality']}"
                              + (f" ({row['message']})" if row.get("message") else ""))
        results = {OUTPUT: table_to_sink(self, parameters, OUTPUT, context, result.sites, source)}
        if parameters.get("OUTPUT_INCREMENTS") is not None:
            results["OUTPUT_INCREMENTS"] = table_to_sink(self, parameters, "OUTPUT_INCREMENTS", context,
                                                         result.increments)
        path = html_output(self, parameters, context)
        if path:
            from ...core.plots import html_image, html_table, write_html_report
            from ...core.profile_plots import root_density_figure

            images = [html_image(root_density_figure(site, curve), f"root density {site}")
                      for site, curve in list(result.curves.items())[:MAX_PLOTS]]
            write_html_report(path, self.DISPLAY_NAME, images + [html_table(result.sites),
                                                                 html_table(result.increments)])
            results[OUTPUT_HTML] = path
        return results
