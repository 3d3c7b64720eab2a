"""Processing algorithm wholesoil:predicttable."""

from qgis.core import QgsProcessing, QgsProcessingParameterFeatureSource

from ..algorithm import WholesoilAlgorithm, core_callbacks
from ..learn_common import GROUP, GROUP_ID, LEARN_REQUIRES, LEARN_TAGS, MODEL, add_model_file_parameter
from ..parameters import INPUT, table_output
from ..qgis_io import source_to_table, table_to_sink


class PredictTable(WholesoilAlgorithm):
    NAME = "predicttable"
    DISPLAY_NAME = "Predict model at features"
    GROUP = GROUP
    GROUP_ID = GROUP_ID
    REQUIRES = LEARN_REQUIRES
    TAGS = LEARN_TAGS + ("prediction", "predict at points", "uncertainty", "prediction interval")
    REFERENCES = ("coulston2016",)
    HELP = """
Predicts a saved model (from Train model) at features that have its covariates but no observed value (sites,
profiles, points), for example BNPP at radiocarbon profiles.

Output: the input features plus predicted, and for forests sd (spread of the per-tree predictions), cv = sd /
predicted, lower and upper (the interval calibrated in training; quantile forests also q_lower and q_upper).
Classification: predicted and probability_CLASS. Features lacking a covariate, or holding a categorical class the
model never saw, get no prediction (as such pixels are nodata in Predict model as a map); the log counts them.

Evaluate model scores a model on features that do have observed values.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        add_model_file_parameter(self)
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Features with the covariates",
                                                              [QgsProcessing.TypeVector]))
        self.addParameter(table_output("OUTPUT", "Predictions"))

    def compute(self, parameters, context, feedback):
        from ...core.errors import CancelledError
        from ...core.learn.modelfile import load_model
        from ...core.learn.training import predict_table

        trained = load_model(self.parameterAsFile(parameters, MODEL, context))
        feedback.setProgress(10)
        source = self.parameterAsSource(parameters, INPUT, context)
        table = source_to_table(source, feedback)
        result = predict_table(trained, table, **core_callbacks(feedback, start=20, end=90))
        if feedback.isCanceled():  # before the output is created, so that a cancelled run writes nothing
            raise CancelledError()
        results = {"OUTPUT": table_to_sink(self, parameters, "OUTPUT", context, result, source)}
        feedback.setProgress(100)
        return results
