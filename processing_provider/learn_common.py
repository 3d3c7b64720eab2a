"""Parameters and outputs shared by the predictive-model algorithms (group "Predictive models")."""

import math

from qgis.core import QgsProcessingOutputNumber, QgsProcessingParameterFile

GROUP = "Predictive models"
GROUP_ID = "models"
MODEL = "MODEL"
#: What training, evaluating and explaining a model need (import names).
LEARN_REQUIRES = ("numpy", "pandas", "scipy", "sklearn", "joblib")
LEARN_TAGS = ("machine learning", "random forest", "quantile forest", "gradient boosting", "SVM", "lasso",
              "regression", "classification", "covariates", "digital soil mapping", "soil carbon")

#: Metric outputs (id, description); each algorithm reports those its task has.
METRICS = (("R2", "R2 (squared correlation)"), ("NSE", "Nash-Sutcliffe efficiency"), ("RMSE", "RMSE (target units)"),
           ("BIAS", "Bias, mean predicted - observed (target units)"), ("ACCURACY", "Accuracy"),
           ("BALANCED_ACCURACY", "Balanced accuracy"), ("KAPPA", "Cohen's kappa"))


def add_model_file_parameter(algorithm):
    algorithm.addParameter(QgsProcessingParameterFile(MODEL, "Model file (.wsmodel, from Train model)",
                                                      extension="wsmodel"))


def add_metric_outputs(algorithm):
    for name, description in METRICS:
        algorithm.addOutput(QgsProcessingOutputNumber(name, description))


def metric_results(metrics):
    """{OUTPUT_ID: value} for the metrics present (NaN left out)."""
    return {name: metrics[name.lower()] for name, _ in METRICS
            if name.lower() in metrics and not math.isnan(metrics[name.lower()])}
