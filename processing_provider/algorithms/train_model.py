"""Processing algorithm wholesoil:trainmodel."""

from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterBoolean,
                       QgsProcessingParameterCrs, QgsProcessingParameterFeatureSink,
                       QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterField, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterString)

from ..algorithm import WholesoilAlgorithm
from ..depth_fractions_base import raster_engine
from ..learn_common import GROUP, GROUP_ID, LEARN_REQUIRES, LEARN_TAGS, add_metric_outputs, metric_results
from ..parameters import (INPUT, OUTPUT_HTML, add_html_output, advanced, enum_code, enum_parameter, html_output,
                          push_notes)
from ..qgis_io import source_to_table, table_to_sink

#: core.learn.models.MODEL_KINDS, TASKS, TARGET_TRANSFORMS and BIAS_CORRECTIONS with their labels.
MODELS = (("random_forest", "random forest"), ("quantile_forest", "quantile regression forest"),
          ("gradient_boosting", "gradient boosting"), ("svm", "support vector machine (SVM)"),
          ("lasso", "lasso (linear)"), ("ensemble", "ensemble: stack of the best three"))
TASKS = (("regression", "regression (a number)"), ("classification", "classification (classes)"))
TARGET_TRANSFORMS = (("none", "none"), ("log", "log"), ("log1p", "log(1 + target)"))
BIAS_CORRECTIONS = (("ratio", "ratio estimator (Snowdon 1991)"), ("duan", "smearing estimate (Duan 1983)"),
                    ("none", "none (plain exp)"))


class TrainModel(WholesoilAlgorithm):
    NAME = "trainmodel"
    DISPLAY_NAME = "Train model"
    GROUP = GROUP
    GROUP_ID = GROUP_ID
    REQUIRES = LEARN_REQUIRES
    TAGS = LEARN_TAGS + ("cross-validation", "grouped cross-validation", "training", "prediction interval")
    REFERENCES = ("coulston2016", "kuhn2008", "luo_iloss")
    HELP = """
Trains a model of a soil-carbon quantity (the target field) from covariate fields, validates it by grouped k-fold
cross-validation and saves it as a model file (.wsmodel) for Evaluate model and Explain model.

Models: random forest (default), quantile forest, gradient boosting, SVM, lasso, and an ensemble that stacks the
best three of the first four by grouped cross-validated RMSE. Classification (for example bimodal or unimodal sites)
uses a random forest with class weights against imbalance.

Grouping: all rows of one group stay in one fold, so a model is never tested on a near-copy of a training row (the
layers of one profile, the records of one site). Rows are grouped by the group field, else by identical point
location (the geometry, or the x and y fields of a table without geometry, in their CRS, default WGS 84); independent
rows (naive cross-validation) must be asked for. Folds can be stratified by a class field (for example climate
zone). A grouped hold-out split (for example 80/20) can be scored as well. The located points give the model's
training extent and CRS; the model also keeps the range of every covariate (the levels of categorical ones) for
later applicability checks. Empty text in a categorical field is a missing value, as on the command line.

Covariates are screened inside every training fold (exact linear combinations, correlation above the cutoff, VIF
above the threshold) and categorical covariates are one-hot encoded. Tuning searches a small grid of learner
parameters inside every training fold (nested cross-validation). The target can be log-transformed; predictions are
back-transformed with a bias correction estimated on grouped out-of-fold predictions (the ratio estimator of Snowdon
1991 by default, or the smearing estimate of Duan 1983), since exp of a log-scale prediction estimates the median,
below the mean.

Outputs: the model file (holding the covariate names and order, categorical levels, target units and transform,
training extent and CRS, metrics and library versions; it loads without running code from the file), the out-of-fold
predictions, the pooled R2 (squared correlation), NSE, RMSE and bias, and an HTML report with observed against
predicted values per fold, importance bars, partial dependence and the metrics per fold. For forests, held-out
errors calibrate the interval of Coulston et al. (2016): prediction +- tau x sd of the tree predictions, tau being
the 95th percentile (or the chosen level) of |observed - predicted| / sd on held-out rows. By default the held-out
rows are the cross-validation folds and the coverage is checked fold by fold with tau from the other folds; with
interval repeats, tau comes from that many grouped 80/20 splits as in Luo et al. (Iloss manuscript). The report scores
every interval on the held-out rows (coverage, mean width and interval score, pooled and by bins of sd) next to a
no-model baseline, the training values' quantiles. Lower bounds stop at the lower limit: auto (0 when every training
value is at least 0), none, or a number.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Training table", [QgsProcessing.TypeVector]))
        self.addParameter(QgsProcessingParameterField("TARGET", "Target field", parentLayerParameterName=INPUT))
        self.addParameter(QgsProcessingParameterField("FEATURES", "Covariates", parentLayerParameterName=INPUT,
                                                      allowMultiple=True))
        self.addParameter(QgsProcessingParameterField("CATEGORICAL", "Categorical covariates (among the covariates)",
                                                      parentLayerParameterName=INPUT, allowMultiple=True,
                                                      optional=True))
        self.addParameter(QgsProcessingParameterField("GROUP_FIELD", "Group field (profile or site)",
                                                      parentLayerParameterName=INPUT, optional=True))
        self.addParameter(enum_parameter("MODEL", "Model", MODELS))
        self.addParameter(enum_parameter("TASK", "Task", TASKS))
        self.addParameter(QgsProcessingParameterString("UNITS", "Target units (stored in the model)", optional=True))
        for definition in (
                QgsProcessingParameterBoolean("INDEPENDENT_ROWS",
                                              "Rows are independent (naive cross-validation, no grouping)",
                                              defaultValue=False),
                QgsProcessingParameterField("STRATA_FIELD", "Stratify folds by (class field)",
                                            parentLayerParameterName=INPUT, optional=True),
                QgsProcessingParameterField("X_FIELD", "X (longitude) field of a table without geometry",
                                            parentLayerParameterName=INPUT, optional=True),
                QgsProcessingParameterField("Y_FIELD", "Y (latitude) field", parentLayerParameterName=INPUT,
                                            optional=True),
                QgsProcessingParameterCrs("CRS", "CRS of the x and y fields (default WGS 84)", optional=True),
                QgsProcessingParameterNumber("FOLDS", "Folds", QgsProcessingParameterNumber.Integer, 10, minValue=2),
                QgsProcessingParameterNumber("TREES", "Trees (forests)", QgsProcessingParameterNumber.Integer, 500,
                                             minValue=1),
                QgsProcessingParameterBoolean("TUNE", "Tune over the default grid (nested)", defaultValue=False),
                enum_parameter("TARGET_TRANSFORM", "Target transform", TARGET_TRANSFORMS),
                enum_parameter("BIAS_CORRECTION", "Bias correction of the back-transform", BIAS_CORRECTIONS),
                QgsProcessingParameterString("LOWER_LIMIT", "Lower limit of interval bounds (auto, none or a number)",
                                             defaultValue="auto"),
                QgsProcessingParameterBoolean("SCREEN", "Screen covariates", defaultValue=True),
                QgsProcessingParameterNumber("VIF", "VIF threshold", QgsProcessingParameterNumber.Double, 10.0,
                                             minValue=1.0),
                QgsProcessingParameterNumber("CUTOFF", "Correlation cutoff |r|", QgsProcessingParameterNumber.Double,
                                             0.9, minValue=0.0, maxValue=1.0),
                QgsProcessingParameterNumber("LEVEL", "Interval level", QgsProcessingParameterNumber.Double, 0.95,
                                             minValue=0.5, maxValue=0.999),
                QgsProcessingParameterNumber(
                    "HOLDOUT", "Also score a grouped hold-out split of this fraction (0.2 = 80/20; 0 = none)",
                    QgsProcessingParameterNumber.Double, 0.0, minValue=0.0, maxValue=0.5),
                QgsProcessingParameterNumber(
                    "INTERVAL_REPEATS", "Interval calibration: grouped 80/20 hold-out repeats (0 = the CV folds)",
                    QgsProcessingParameterNumber.Integer, 0, minValue=0),
                QgsProcessingParameterNumber("SEED", "Random seed", QgsProcessingParameterNumber.Integer, 0)):
            self.addParameter(advanced(definition))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_MODEL", "Model file",
                                                                fileFilter="wholesoil model (*.wsmodel)"))
        self.addParameter(QgsProcessingParameterFeatureSink(
            "OUTPUT", "Out-of-fold predictions", QgsProcessing.TypeVector, optional=True, createByDefault=False))
        add_html_output(self)
        add_metric_outputs(self)
        self.addOutput(QgsProcessingOutputNumber("TAU", "Coulston tau (forests)"))
        self.addOutput(QgsProcessingOutputNumber("COVERAGE", "Held-out coverage of the interval, mean over the folds "
                                                             "(forests)"))
        self.addOutput(QgsProcessingOutputNumber("QUANTILE_COVERAGE",
                                                 "Held-out coverage of the quantile interval (quantile forests)"))

    def compute(self, parameters, context, feedback):
        from ...core.learn.modelfile import save_model
        from ...core.learn.report import training_report
        from ...core.learn.training import train_model

        source = self.parameterAsSource(parameters, INPUT, context)
        table = source_to_table(source, feedback)
        group = self.parameterAsFields(parameters, "GROUP_FIELD", context)
        strata = self.parameterAsFields(parameters, "STRATA_FIELD", context)
        x_field = self.parameterAsFields(parameters, "X_FIELD", context)
        y_field = self.parameterAsFields(parameters, "Y_FIELD", context)
        crs = self.parameterAsCrs(parameters, "CRS", context)
        lower_limit = self.parameterAsString(parameters, "LOWER_LIMIT", context).strip() or "auto"
        trained = train_model(
            table, self.parameterAsFields(parameters, "TARGET", context)[0],
            self.parameterAsFields(parameters, "FEATURES", context),
            self.parameterAsFields(parameters, "CATEGORICAL", context),
            kind=enum_code(self, parameters, context, "MODEL", MODELS),
            task=enum_code(self, parameters, context, "TASK", TASKS),
            group_col=group[0] if group else None,
            independent_rows=self.parameterAsBoolean(parameters, "INDEPENDENT_ROWS", context),
            strata_col=strata[0] if strata else None, x_col=x_field[0] if x_field else None,
            y_col=y_field[0] if y_field else None, crs=crs.toWkt() if crs.isValid() else None,
            n_splits=self.parameterAsInt(parameters, "FOLDS", context),
            grid="default" if self.parameterAsBoolean(parameters, "TUNE", context) else None,
            target_transform=enum_code(self, parameters, context, "TARGET_TRANSFORM", TARGET_TRANSFORMS),
            bias_correction=enum_code(self, parameters, context, "BIAS_CORRECTION", BIAS_CORRECTIONS),
            lower_limit=None if lower_limit.lower() == "none" else lower_limit,
            units=self.parameterAsString(parameters, "UNITS", context),
            n_trees=self.parameterAsInt(parameters, "TREES", context),
            screen=self.parameterAsBoolean(parameters, "SCREEN", context),
            vif_threshold=self.parameterAsDouble(parameters, "VIF", context),
            correlation_cutoff=self.parameterAsDouble(parameters, "CUTOFF", context),
            interval_level=self.parameterAsDouble(parameters, "LEVEL", context),
            interval_repeats=self.parameterAsInt(parameters, "INTERVAL_REPEATS", context),
            holdout=self.parameterAsDouble(parameters, "HOLDOUT", context) or None,
            random_state=self.parameterAsInt(parameters, "SEED", context), **raster_engine(feedback))
        metadata = trained.metadata
        model_path = self.parameterAsFileOutput(parameters, "OUTPUT_MODEL", context)
        save_model(model_path, trained)
        push_notes(feedback, trained.notes)
        feedback.pushInfo(f"{metadata['n_rows']} rows in {metadata['n_groups']} groups ({metadata['groups']}), "
                          f"{metadata['folds']} folds; left out {metadata['dropped_rows']} incomplete rows")
        feedback.pushInfo("Cross-validated: " + ", ".join(f"{k} {v:.4g}" for k, v in metadata["metrics"].items()))
        if metadata["holdout"]:
            feedback.pushInfo("Grouped hold-out split: " + ", ".join(f"{k} {v:.4g}"
                                                                    for k, v in metadata["holdout"].items()))
        results = {"OUTPUT_MODEL": model_path, **metric_results(metadata["metrics"])}
        if metadata["interval"]:
            results["TAU"] = metadata["interval"]["tau"]
            results["COVERAGE"] = metadata["interval"]["coverage_mean"]
            if "quantile_coverage" in metadata["interval"]:
                results["QUANTILE_COVERAGE"] = metadata["interval"]["quantile_coverage"]
            for _, row in trained.tables["intervals"].query("sd_bin == 'all'").iterrows():
                feedback.pushInfo(f"{row['method']} interval on the held-out rows pooled: coverage "
                                  f"{row['coverage']:.3f}, mean width {row['mean_width']:.4g}, interval score "
                                  f"{row['interval_score']:.4g}")
            feedback.pushInfo(f"Coulston interval coverage, mean over the folds (output COVERAGE): "
                              f"{results['COVERAGE']:.3f}")
        if parameters.get("OUTPUT") is not None:
            results["OUTPUT"] = table_to_sink(self, parameters, "OUTPUT", context, trained.tables["training"])
        html = html_output(self, parameters, context)
        if html:
            training_report(html, trained, pngs=False)
            results[OUTPUT_HTML] = html
        return results
