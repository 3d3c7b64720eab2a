"""Processing algorithm wholesoil:screencovariates."""

from qgis.core import (QgsProcessing, QgsProcessingParameterBoolean, QgsProcessingParameterFeatureSink,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterNumber)

from ..algorithm import WholesoilAlgorithm
from ..learn_common import GROUP, GROUP_ID, LEARN_TAGS
from ..parameters import INPUT
from ..qgis_io import source_to_table, table_to_sink


class ScreenCovariates(WholesoilAlgorithm):
    NAME = "screencovariates"
    DISPLAY_NAME = "Screen covariates"
    GROUP = GROUP
    GROUP_ID = GROUP_ID
    REQUIRES = ("numpy", "pandas", "sklearn")
    TAGS = LEARN_TAGS + ("VIF", "variance inflation", "collinearity", "correlation", "feature selection")
    REFERENCES = ("kuhn2008",)
    HELP = """
Finds the covariates to drop before modelling, in three steps on the rows that have every covariate: exact linear
combinations of earlier covariates with an intercept (for example clay = 100 - sand - silt) and constant covariates;
then one of each pair whose absolute Pearson correlation exceeds the cutoff (0.9), chosen by caret's findCorrelation
rule (Kuhn 2008); then, one at a time, the covariate with the largest variance inflation factor (VIF) above the
threshold (10).

Categorical covariates (for example biome) are not screened; models one-hot encode them.

Output: one row per covariate with its action (kept, dropped, one-hot encoded), the step and the reason, and the
final VIF of the kept numeric covariates. Screened table: the input without the dropped covariates.

Train model repeats the same screening inside every cross-validation fold, so this algorithm is for looking at the
covariates, not a required step.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Table with covariates",
                                                              [QgsProcessing.TypeVector]))
        self.addParameter(QgsProcessingParameterField("FEATURES", "Covariates", parentLayerParameterName=INPUT,
                                                      allowMultiple=True))
        self.addParameter(QgsProcessingParameterField("CATEGORICAL", "Categorical covariates (among the covariates)",
                                                      parentLayerParameterName=INPUT, allowMultiple=True,
                                                      optional=True))
        self.addParameter(QgsProcessingParameterNumber("VIF", "VIF threshold", QgsProcessingParameterNumber.Double,
                                                       10.0, minValue=1.0))
        self.addParameter(QgsProcessingParameterNumber("CUTOFF", "Correlation cutoff |r|",
                                                       QgsProcessingParameterNumber.Double, 0.9, minValue=0.0,
                                                       maxValue=1.0))
        self.addParameter(QgsProcessingParameterBoolean("LINEAR_COMBINATIONS", "Drop exact linear combinations",
                                                        defaultValue=True))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", "Screening decisions", QgsProcessing.TypeVector))
        self.addParameter(QgsProcessingParameterFeatureSink("SCREENED", "Screened table", QgsProcessing.TypeVector,
                                                            optional=True, createByDefault=False))

    def compute(self, parameters, context, feedback):
        from ...core.learn.training import screen_covariates

        source = self.parameterAsSource(parameters, INPUT, context)
        table = source_to_table(source, feedback)
        result = screen_covariates(
            table, self.parameterAsFields(parameters, "FEATURES", context),
            self.parameterAsFields(parameters, "CATEGORICAL", context),
            self.parameterAsDouble(parameters, "VIF", context), self.parameterAsDouble(parameters, "CUTOFF", context),
            self.parameterAsBoolean(parameters, "LINEAR_COMBINATIONS", context))
        feedback.pushInfo(f"Screened on {result.n_rows} rows ({result.dropped_rows} lacked a covariate)")
        for _, row in result.report[result.report["action"] == "dropped"].iterrows():
            feedback.pushInfo(f"dropped {row['feature']} ({row['step']}): {row['reason']}")
        results = {"OUTPUT": table_to_sink(self, parameters, "OUTPUT", context, result.report)}
        if parameters.get("SCREENED") is not None:
            results["SCREENED"] = table_to_sink(self, parameters, "SCREENED", context, result.table, source)
        return results
