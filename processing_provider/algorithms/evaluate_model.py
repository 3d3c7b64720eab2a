"""Processing algorithm wholesoil:evaluatemodel."""

from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterFeatureSink,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField)

from ..algorithm import WholesoilAlgorithm, core_callbacks
from ..learn_common import (GROUP, GROUP_ID, LEARN_REQUIRES, LEARN_TAGS, MODEL, add_metric_outputs,
                            add_model_file_parameter, metric_results)
from ..parameters import INPUT, OUTPUT_HTML, add_html_output, html_output
from ..qgis_io import source_to_table, table_to_sink


class EvaluateModel(WholesoilAlgorithm):
    NAME = "evaluatemodel"
    DISPLAY_NAME = "Evaluate model"
    GROUP = GROUP
    GROUP_ID = GROUP_ID
    REQUIRES = LEARN_REQUIRES
    TAGS = LEARN_TAGS + ("validation", "accuracy", "prediction interval")
    REFERENCES = ("coulston2016",)
    HELP = """
Scores a saved model (from Train model) on new data that hold observed values of its target: R2 (squared
correlation), NSE, RMSE and bias, or accuracy, balanced accuracy and kappa for classification. For forests it also
reports the share of observations inside the model's Coulston et al. (2016) interval (coverage) and, for quantile
forests, inside the quantile interval; the report scores every interval (coverage, mean width and interval score,
pooled and by bins of sd) next to a no-model baseline, the training values' quantiles.

The data need the model's covariates, by name (their order does not matter). The observed field defaults to the
model's target name. Rows lacking a covariate or an observed value are not scored; categorical levels the model
never saw are reported.

Output: the data with predicted, and for forests sd (of the tree predictions), cv = sd / predicted, lower and upper
(the interval); quantile forests also q_lower and q_upper.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        add_model_file_parameter(self)
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Data with observed values",
                                                              [QgsProcessing.TypeVector]))
        self.addParameter(QgsProcessingParameterField("TARGET_FIELD", "Observed values (default: the model's target)",
                                                      parentLayerParameterName=INPUT, optional=True))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", "Predictions", QgsProcessing.TypeVector,
                                                            optional=True, createByDefault=False))
        add_html_output(self)
        add_metric_outputs(self)
        self.addOutput(QgsProcessingOutputNumber("COVERAGE", "Coverage of the interval (forests)"))
        self.addOutput(QgsProcessingOutputNumber("QUANTILE_COVERAGE",
                                                 "Coverage of the quantile interval (quantile forests)"))

    def compute(self, parameters, context, feedback):
        from ...core.learn.modelfile import load_model
        from ...core.learn.report import evaluation_report
        from ...core.learn.training import evaluate_model

        trained = load_model(self.parameterAsFile(parameters, MODEL, context))
        source = self.parameterAsSource(parameters, INPUT, context)
        target = self.parameterAsFields(parameters, "TARGET_FIELD", context)
        evaluation = evaluate_model(trained, source_to_table(source, feedback), target[0] if target else None,
                                    **core_callbacks(feedback, start=20, end=80))
        for note in evaluation.notes:
            feedback.pushWarning(note)
        feedback.pushInfo(", ".join(f"{k} {v:.4g}" for k, v in evaluation.metrics.items()))
        results = metric_results(evaluation.metrics)
        if evaluation.coverage == evaluation.coverage:
            results["COVERAGE"] = evaluation.coverage
            feedback.pushInfo(f"coverage of the interval: {evaluation.coverage:.3f}")
        if evaluation.quantile_coverage == evaluation.quantile_coverage:
            results["QUANTILE_COVERAGE"] = evaluation.quantile_coverage
            feedback.pushInfo(f"coverage of the quantile interval: {evaluation.quantile_coverage:.3f}")
        if parameters.get("OUTPUT") is not None:
            results["OUTPUT"] = table_to_sink(self, parameters, "OUTPUT", context, evaluation.table, source)
        html = html_output(self, parameters, context)
        if html:
            evaluation_report(html, trained, evaluation, pngs=False)
            results[OUTPUT_HTML] = html
        return results
