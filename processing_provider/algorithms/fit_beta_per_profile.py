"""Processing algorithm wholesoil:fitbetaperprofile."""

from qgis.core import (QgsProcessing, QgsProcessingParameterBoolean,
                       QgsProcessingParameterFeatureSink, QgsProcessingParameterField, QgsProcessingParameterNumber)

from ..algorithm import core_callbacks
from ..parameters import (INPUT, LAYERS, add_profile_depth_parameter, add_surface_parameters, enum_code,
                          enum_parameter, html_output, surface_parameters)
from ..profiles_base import ProfileAlgorithm, warn_profiles
from ..qgis_io import table_to_sink

#: Kinds of values (core.beta_profiles.VALUE_KINDS) with their labels.
VALUE_KINDS = (("amount", "amount per increment"), ("density", "density (per cm or volume)"))


class FitBetaPerProfile(ProfileAlgorithm):
    NAME = "fitbetaperprofile"
    DISPLAY_NAME = "Fit β per profile"
    OUTPUT_DESCRIPTION = "β per profile"
    REQUIRES = ("numpy", "pandas", "scipy", "sklearn")
    TAGS = ProfileAlgorithm.TAGS + ("roots", "beta", "β", "soil carbon", "SOC", "X100", "extrapolation",
                                    "depth distribution", "curve fitting")
    REFERENCES = ("gale1987", "jackson1996", "wang2024", "luo_bnpp")
    HELP = """
Fits the β model Y(d) = 1 - β^d (Gale & Grigal 1987; Jackson et al. 1996) to each profile by non-linear least
squares on the cumulative fraction at the increments' bottoms (the profile total counts as 100 %), as Fit depth
model does, and derives the layer fractions β^top - β^bottom and the stock extrapolated to the target depth: X100 =
(1 - β^100) / (1 - β^d0) x X_d0, with X_d0 the observed total down to d0, the deepest bottom with a value (Wang et
al. 2024, eq. 4).

Values are amounts per increment (for example soc_mg_ha from SOC stocks by layer, or g m-2 of roots) or densities
per cm or per volume (multiplied by the thickness).

Output: one row per profile with beta, d50_cm, d95_cm, rmse, r2, status, message, frac_top_bottom per layer,
observed_total, observed_depth_cm and xTARGET (x100 for 100 cm), then the fields constant within each profile (a
point input keeps its points). Profiles that cannot be fitted are listed with a message; the others are fitted.

A fit needs the profile's surface: a profile whose first increment with a value starts deeper than the surface
tolerance (default 0 cm) is refused with the reason, or fitted conditionally on the covered depths, (Y(d) - Y(top))
/ (Y(D) - Y(top)), with status conditional (never ok); its X100 is then (1 - β^100) / (β^top - β^d0) x X.

The fractions are shares of the profile from the surface to the profile depth (default 200 cm): layers covering only
part of it sum to less than 1. Horizons above the mineral surface (negative depths) are left out or kept, as in SOC
stocks by layer.

Exponential share model (optional output): share = a exp(-b mid-depth) fitted to the observed shares of the
increments (amount / profile total) of all profiles of a group (Luo et al., BNPP preprint, Table S3), per value of
the group field or over all profiles.

By default the observed total is taken as 100 %, so β fitted to a profile that stops before nearly all of the amount
is reached comes out smaller than the β that generated it. Tick "Profiles stop before all of the amount" to fit
Y(d)/Y(D) with D the deepest increment instead, which removes that bias.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_horizon_inputs("Increments (one feature per profile and depth increment)")
        self.add_value_fields("VALUE_FIELD", "Value field (amount or density)", multiple=False)
        self.addParameter(enum_parameter("VALUE_KIND", "Values are", VALUE_KINDS))
        self.add_layers()
        self.addParameter(QgsProcessingParameterBoolean(
            "NORMALIZE", "Normalise the fractions (shares of the profile to the profile depth)", defaultValue=True))
        add_profile_depth_parameter(self)
        add_surface_parameters(self)
        target = QgsProcessingParameterNumber("TARGET_DEPTH", "Depth of the extrapolated stock (cm)",
                                              QgsProcessingParameterNumber.Double, 100.0)
        target.setMinimum(0.0)
        self.addParameter(target)
        self.addParameter(QgsProcessingParameterBoolean(
            "TRUNCATED", "Profiles stop before all of the amount (fit Y(d)/Y(deepest depth))", defaultValue=False))
        self.addParameter(QgsProcessingParameterField("GROUP_FIELD", "Group field of the exponential share model",
                                                      parentLayerParameterName=INPUT, optional=True))
        self.add_outputs(profiles=False)
        self.addParameter(QgsProcessingParameterFeatureSink(
            "OUTPUT_GROUPS", "Exponential share model per group", QgsProcessing.TypeVector, optional=True,
            createByDefault=False))

    def compute(self, parameters, context, feedback):
        from ...core.beta_profiles import fit_beta_profiles
        from ...core.depth import FITTED_STATUSES

        source, table, id_field, top_field, bottom_field = self.read_input(parameters, context, feedback)
        value = self.parameterAsFields(parameters, "VALUE_FIELD", context)[0]
        kind = enum_code(self, parameters, context, "VALUE_KIND", VALUE_KINDS)
        group = (self.parameterAsFields(parameters, "GROUP_FIELD", context) or [None])[0]
        result = fit_beta_profiles(table, id_field, top_field, bottom_field, value, kind,
                                   self.parameterAsString(parameters, LAYERS, context),
                                   self.parameterAsBoolean(parameters, "NORMALIZE", context),
                                   self.parameterAsDouble(parameters, "TARGET_DEPTH", context), group,
                                   self.parameterAsBoolean(parameters, "TRUNCATED", context),
                                   *surface_parameters(self, parameters, context),
                                   self.parameterAsDouble(parameters, "PROFILE_DEPTH", context),
                                   self.organic(parameters, context), **core_callbacks(feedback, end=90))
        profiles = result.profiles
        fitted = profiles["status"].isin(FITTED_STATUSES)
        feedback.pushInfo(f"Fitted β to {int(fitted.sum())} of {len(profiles)} profiles")
        warn_profiles(feedback, profiles[profiles["status"].ne("ok")], id_field)
        results = self.write_outputs(parameters, context, feedback, source, profiles, None, id_field)
        if parameters.get("OUTPUT_GROUPS") is not None:
            results["OUTPUT_GROUPS"] = table_to_sink(self, parameters, "OUTPUT_GROUPS", context, result.groups)
        figure = None
        if html_output(self, parameters, context):
            from ...core.plots import fitted_profiles_figure

            figure = fitted_profiles_figure(result.curves(), "Fitted β profiles")
        return self.write_report(parameters, context, results, figure, [profiles, result.groups])
