"""Processing algorithm wholesoil:explainmodel."""

from qgis.core import (QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterField, QgsProcessingParameterString)

from ..algorithm import WholesoilAlgorithm
from ..depth_fractions_base import raster_engine
from ..learn_common import GROUP, GROUP_ID, LEARN_REQUIRES, LEARN_TAGS, MODEL, add_model_file_parameter
from ..parameters import INPUT, OUTPUT_HTML, add_html_output, html_output, push_notes
from ..qgis_io import source_to_table, table_to_sink


def _names(text):
    return [name.strip() for name in text.split(",") if name.strip()]


class ExplainModel(WholesoilAlgorithm):
    NAME = "explainmodel"
    DISPLAY_NAME = "Explain model"
    GROUP = GROUP
    GROUP_ID = GROUP_ID
    REQUIRES = LEARN_REQUIRES
    TAGS = LEARN_TAGS + ("importance", "permutation importance", "partial dependence", "mixed model", "drivers",
                         "PCA")
    REFERENCES = ("he_rh",)
    HELP = """
Shows what drives a saved model (from Train model). Without data it uses the training data stored in the model file.

Importance: the impurity importance of each covariate (Gini importance for classification) in %, and the permutation
importance: how much the RMSE grows (or the balanced accuracy drops) when a covariate's values are shuffled, with
its spread over repeats. It comes from the held-out cross-validation folds, or is computed on the given data.

Partial dependence: the mean prediction as one covariate varies, for the most important covariates or those named.

Group importance (optional): name groups of covariates, for example climate: MAT, MAP; soil: clay, sand. Each group
is reduced to its first two principal components, a random forest is fitted on all components and each group's share
of the importance is reported (as in He et al., Rh manuscript), with the forest's grouped cross-validated R2, and
per component where groups have different numbers of components.

Drivers (optional): a linear mixed-effects model of the target on the standardised numeric covariates with a random
intercept per class of the random-effect field (for example biome), and partial correlations of each covariate with
the target controlling for the control fields (for example depth).

Repeated records: records of one site (the model's groups, or the group field of the given data) are not
independent. The mixed model adds a random intercept per site, nested in the random-effect class, and the partial
correlations take cluster-robust p values by site; the outputs say which.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        add_model_file_parameter(self)
        self.addParameter(QgsProcessingParameterFeatureSource(
            INPUT, "Data (default: the training data in the model)", [QgsProcessing.TypeVector], optional=True))
        self.addParameter(QgsProcessingParameterField("GROUP_FIELD", "Site or profile field of the data (default: the "
                                                      "model's group field)", parentLayerParameterName=INPUT,
                                                      optional=True))
        self.addParameter(QgsProcessingParameterString(
            "GROUPS", "Covariate groups, e.g. climate: MAT, MAP; soil: clay, sand", optional=True))
        self.addParameter(QgsProcessingParameterString("RANDOM_EFFECT", "Random-effect field (e.g. biome)",
                                                       optional=True))
        self.addParameter(QgsProcessingParameterString("CONTROL",
                                                       "Control fields for partial correlations (e.g. depth)",
                                                       optional=True))
        self.addParameter(QgsProcessingParameterString("PD_FEATURES", "Partial dependence of (default: most important)",
                                                       optional=True))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", "Importance", QgsProcessing.TypeVector,
                                                            optional=True, createByDefault=False))
        add_html_output(self)

    def requirements(self, parameters):
        """A random-effect field (the mixed-effects model) or control fields (cluster-robust p values of the
        partial correlations) need statsmodels."""
        drivers = parameters.get("RANDOM_EFFECT") or parameters.get("CONTROL")
        return super().requirements(parameters) + (("statsmodels",) if drivers else ())

    def compute(self, parameters, context, feedback):
        from ...core.learn.explain import parse_feature_groups
        from ...core.learn.modelfile import load_model
        from ...core.learn.report import explanation_report
        from ...core.learn.training import explain_model

        trained = load_model(self.parameterAsFile(parameters, MODEL, context))
        source = self.parameterAsSource(parameters, INPUT, context)
        table = source_to_table(source, feedback) if source is not None else None
        groups = self.parameterAsString(parameters, "GROUPS", context)
        group_field = self.parameterAsFields(parameters, "GROUP_FIELD", context) if table is not None else []
        explanation = explain_model(
            trained, table, parse_feature_groups(groups) if groups.strip() else None,
            self.parameterAsString(parameters, "RANDOM_EFFECT", context).strip() or None,
            _names(self.parameterAsString(parameters, "CONTROL", context)) or None,
            _names(self.parameterAsString(parameters, "PD_FEATURES", context)) or None,
            random_state=trained.metadata["random_state"], group_col=group_field[0] if group_field else None,
            **raster_engine(feedback))
        push_notes(feedback, explanation.notes)
        if explanation.groups_fit:
            feedback.pushInfo("Group importance forest: " + ", ".join(
                f"{k} {v:.4g}" for k, v in explanation.groups_fit.items() if isinstance(v, float)))
        if explanation.mixed_summary:
            feedback.pushInfo(f"Mixed model, repeated records: {explanation.mixed_summary['repeated_records']}")
        for _, row in explanation.importance.iterrows():
            feedback.pushInfo(f"{row['feature']}: impurity {row['impurity_importance']:.3g} %, permutation "
                              f"{row['permutation_importance']:.4g}")
        results = {}
        if parameters.get("OUTPUT") is not None:
            results["OUTPUT"] = table_to_sink(self, parameters, "OUTPUT", context, explanation.importance)
        html = html_output(self, parameters, context)
        if html:
            explanation_report(html, trained, explanation, pngs=False)
            results[OUTPUT_HTML] = html
        return results
