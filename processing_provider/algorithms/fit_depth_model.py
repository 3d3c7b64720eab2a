"""Processing algorithm wholesoil:fitdepthmodel."""

from qgis.core import (QgsProcessing, QgsProcessingParameterBoolean, QgsProcessingParameterFeatureSink,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField)

from ..algorithm import WholesoilAlgorithm, core_callbacks
from ..parameters import (INPUT, OUTPUT_HTML, add_html_output, add_surface_parameters, enum_code, enum_parameter,
                          html_output, surface_parameters)
from ..profiles_base import warn_profiles
from ..qgis_io import source_to_table, table_to_sink

#: The models of core.depth.DEPTH_MODELS and the kinds of values, with their labels.
MODELS = (("logistic", "logistic (D50, D95; Schenk & Jackson 2002)"), ("beta", "β (Y = 1 - β^d)"),
          ("exponential", "exponential share (a exp(-b depth))"))
VALUE_KINDS = (("amount", "amount per increment"), ("density", "density per volume"))


class FitDepthModel(WholesoilAlgorithm):
    NAME = "fitdepthmodel"
    DISPLAY_NAME = "Fit depth model to profiles"
    GROUP = "Depth partitioning"
    GROUP_ID = "depth"
    REQUIRES = ("numpy", "pandas", "scipy", "sklearn")
    TAGS = ("roots", "root distribution", "D50", "D95", "beta", "β", "BNPP", "depth distribution", "curve fitting",
            "logistic")
    REFERENCES = ("schenk2002", "gale1987", "jackson1996", "luo_bnpp")
    HELP = """
Fits a depth model to every profile of a table of depth increments (one feature per profile and increment) and
writes one row per profile.

logistic: D50 and D95 (cm) of the Schenk & Jackson (2002) model. beta: β of Y = 1 - β^d (Gale & Grigal 1987; Jackson
et al. 1996), with the D50 and D95 it implies. Both are fitted by non-linear least squares to the cumulative
fraction at the increments' lower depths, taking the profile total as 100 %. exponential: a and b of share = a
exp(-b mid-depth), fitted to the values as given (for example layer shares of a biome, Luo et al., BNPP preprint,
Table S3).

Truncated profiles: by default the observed total is taken as the whole profile (Schenk & Jackson). For profiles
that stop before all roots are reached, tick "Profiles stop before all roots": the model is then scaled to 1 at the
deepest increment, which removes the bias towards shallow D50, D95 and small β.

Values are amounts per increment (for example g m-2) or densities per volume (for example mg cm-3, multiplied by the
increment thickness).

A fit needs the profile's surface: a profile whose first increment with a value starts deeper than the surface
tolerance (default 0 cm) is refused with the reason, or fitted conditionally on the covered depths, (F(d) - F(top))
/ (F(D) - F(top)), with status conditional (never ok).

Output fields: the profile id, model, n_increments, covered_top_cm (top of the first increment with a value),
max_depth_cm, the parameters, rmse and r2 of the fit, status (ok, conditional, not_converged, not_fitted) and
message. Profiles that cannot be fitted (negative or overlapping depths, no positive value, too few increments) are
listed with a message; the others are still fitted.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Depth increments", [QgsProcessing.TypeVector]))
        self.addParameter(QgsProcessingParameterField("ID_FIELD", "Profile id field", parentLayerParameterName=INPUT))
        for name, label in (("TOP_FIELD", "Top depth field (cm)"), ("BOTTOM_FIELD", "Bottom depth field (cm)"),
                            ("VALUE_FIELD", "Value field (root biomass or other amount)")):
            self.addParameter(QgsProcessingParameterField(name, label, parentLayerParameterName=INPUT,
                                                          type=QgsProcessingParameterField.Numeric))
        self.addParameter(enum_parameter("MODEL", "Model", MODELS))
        self.addParameter(enum_parameter("VALUE_KIND", "Values are", VALUE_KINDS))
        self.addParameter(QgsProcessingParameterBoolean(
            "TRUNCATED", "Profiles stop before all roots (fit the model scaled to 1 at the deepest increment)",
            defaultValue=False))
        add_surface_parameters(self)
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", "Fitted profiles", QgsProcessing.TypeVector))
        add_html_output(self)

    def compute(self, parameters, context, feedback):
        from ...core.depth import FITTED_STATUSES, fit_depth_profiles, fitted_curves

        source = self.parameterAsSource(parameters, INPUT, context)
        fields = {name: self.parameterAsFields(parameters, name, context)[0]
                  for name in ("ID_FIELD", "TOP_FIELD", "BOTTOM_FIELD", "VALUE_FIELD")}
        model = enum_code(self, parameters, context, "MODEL", MODELS)
        kind = enum_code(self, parameters, context, "VALUE_KIND", VALUE_KINDS)
        truncated = self.parameterAsBoolean(parameters, "TRUNCATED", context)
        table = source_to_table(source, feedback)
        result = fit_depth_profiles(table, fields["ID_FIELD"], fields["TOP_FIELD"], fields["BOTTOM_FIELD"],
                                    fields["VALUE_FIELD"], model, kind, truncated,
                                    *surface_parameters(self, parameters, context), **core_callbacks(feedback, end=90))
        fitted = result["status"].isin(FITTED_STATUSES)
        feedback.pushInfo(f"Fitted {int(fitted.sum())} of {len(result)} profiles ({model} model)")
        warn_profiles(feedback, result[result["status"].ne("ok")], fields["ID_FIELD"])
        results = {"OUTPUT": table_to_sink(self, parameters, "OUTPUT", context, result)}
        html = html_output(self, parameters, context)
        if html:
            from ...core.plots import fitted_profiles_figure, html_image, html_table, write_html_report

            curves = fitted_curves(table, result, fields["ID_FIELD"], fields["TOP_FIELD"], fields["BOTTOM_FIELD"],
                                   fields["VALUE_FIELD"], model, kind, truncated)
            parts = [html_image(fitted_profiles_figure(curves, f"Fitted {model} depth models"))] if curves else []
            write_html_report(html, f"{self.DISPLAY_NAME} ({model})", parts + [html_table(result)])
            results[OUTPUT_HTML] = html
        return results
