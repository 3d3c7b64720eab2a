"""The wholesoil Processing provider (id ``wholesoil``): the algorithms and the shipped models.

Loading it imports QGIS and the algorithm modules only; the scientific packages are imported
when an algorithm runs (:mod:`.requirements`).
"""

import re
from pathlib import Path

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsProcessingModelAlgorithm, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .. import __version__
from . import requirements
from .algorithm import ICON
from .algorithms.aggregate_raster import AggregateRaster
from .algorithms.bnpp_by_depth_map import BnppByDepthMap
from .algorithms.bulk_inputs import BulkInputs
from .algorithms.bulk_inputs_raster import BulkInputsRaster
from .algorithms.carbon_balance import CarbonBalance
from .algorithms.carbon_balance_raster import CarbonBalanceRaster
from .algorithms.carbon_loss_maps import CarbonLossMaps
from .algorithms.depth_fractions_beta import DepthFractionsBeta
from .algorithms.depth_fractions_beta_raster import DepthFractionsBetaRaster
from .algorithms.depth_fractions_logistic import DepthFractionsLogistic
from .algorithms.depth_fractions_logistic_raster import DepthFractionsLogisticRaster
from .algorithms.detect_root_bimodality import DetectRootBimodality
from .algorithms.evaluate_model import EvaluateModel
from .algorithms.explain_model import ExplainModel
from .algorithms.fit_beta_per_profile import FitBetaPerProfile
from .algorithms.fit_depth_model import FitDepthModel
from .algorithms.harmonise_profiles_depth_weighted import HarmoniseProfilesDepthWeighted
from .algorithms.harmonise_profiles_spline import HarmoniseProfilesSpline
from .algorithms.loss_estimates import LossEstimates
from .algorithms.partition_total import PartitionTotal
from .algorithms.partition_total_raster import PartitionTotalRaster
from .algorithms.predict_raster import PredictRaster
from .algorithms.predict_table import PredictTable
from .algorithms.radiocarbon_age import RadiocarbonAge
from .algorithms.radiocarbon_forward import RadiocarbonForward
from .algorithms.sample_rasters_at_points import SampleRastersAtPoints
from .algorithms.screen_covariates import ScreenCovariates
from .algorithms.soc_stocks_by_layer import SocStocksByLayer
from .algorithms.subsoil_soc_map import SubsoilSocMap
from .algorithms.train_model import TrainModel
from .algorithms.turnover_time import TurnoverTime
from .algorithms.turnover_time_map import TurnoverTimeMap
from .algorithms.turnover_time_raster import TurnoverTimeRaster
from .algorithms.two_box_model import TwoBoxModel

#: Every algorithm class the provider offers, in menu order.
ALGORITHMS = [
    DepthFractionsLogistic,
    DepthFractionsLogisticRaster,
    DepthFractionsBeta,
    DepthFractionsBetaRaster,
    FitDepthModel,
    PartitionTotal,
    PartitionTotalRaster,
    HarmoniseProfilesSpline,
    HarmoniseProfilesDepthWeighted,
    SocStocksByLayer,
    FitBetaPerProfile,
    DetectRootBimodality,
    RadiocarbonAge,
    RadiocarbonForward,
    BulkInputs,
    BulkInputsRaster,
    CarbonBalance,
    CarbonBalanceRaster,
    LossEstimates,
    TurnoverTime,
    TurnoverTimeRaster,
    TwoBoxModel,
    SampleRastersAtPoints,
    ScreenCovariates,
    TrainModel,
    EvaluateModel,
    ExplainModel,
    PredictTable,
    PredictRaster,
    BnppByDepthMap,
    CarbonLossMaps,
    SubsoilSocMap,
    TurnoverTimeMap,
    AggregateRaster,
]
#: Graphical Modeler models served as algorithms (``wholesoil:<file stem without _>``).
MODELS_DIR = Path(__file__).resolve().parents[1] / "resources" / "models"
MODELS_GROUP = ("Models", "models")


def model_name(path):
    """The algorithm name of a shipped model file: its stem in lower-case letters (bnpp_by_depth -> bnppbydepth)."""
    return re.sub("[^a-z]", "", Path(path).stem.lower())


class ShippedModel(QgsProcessingModelAlgorithm):
    """A .model3 file of resources/models served under the provider, with a wholesoil id and group."""

    def __init__(self, path):
        super().__init__()
        self.path = str(path)
        if not self.fromFile(self.path):
            raise ValueError(f"{self.path} is not a Processing model")
        #: The packages its steps need (their REQUIRES), so that it is refused up front as they are.
        self.REQUIRES = tuple(dict.fromkeys(module for step in self.childAlgorithms().values()
                                            for module in getattr(step.algorithm(), "REQUIRES", ())))

    def name(self):
        return model_name(self.path)

    def group(self):
        return MODELS_GROUP[0]

    def groupId(self):  # noqa: N802 (QGIS API names)
        return MODELS_GROUP[1]

    def icon(self):
        return QIcon(ICON)

    def createInstance(self):  # noqa: N802
        return ShippedModel(self.path)

    def shortHelpString(self):  # noqa: N802
        """The model's help (HTML), opening with what is missing when a step lacks a package."""
        missing = requirements.missing(self.REQUIRES)
        note = f"<p>Not available: {requirements.missing_message(missing)}.</p>" if missing else ""
        return super().shortHelpString().replace("<body>", "<body>" + note, 1)

    def checkParameterValues(self, parameters, context):  # noqa: N802
        """Refuse a run that lacks a package one of the steps needs, before any step runs."""
        missing = requirements.missing(self.REQUIRES)
        if missing:
            return False, f"{self.displayName()} {requirements.missing_message(missing)}"
        return super().checkParameterValues(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        """Inputs left out take their default values, as in the dialog (QGIS 3.22 leaves them empty)."""
        given = dict(parameters)
        for definition in self.parameterDefinitions():
            if definition.name() not in given and not definition.isDestination() \
                    and definition.defaultValue() is not None:
                given[definition.name()] = definition.defaultValue()
        return super().processAlgorithm(given, context, feedback)


def unavailable_algorithms(algorithms):
    """{missing package import name: [display names of the algorithms that need it]}."""
    unavailable = {}
    for algorithm in algorithms:
        for module in requirements.missing(getattr(algorithm, "REQUIRES", ())):
            unavailable.setdefault(module, []).append(algorithm.displayName())
    return unavailable


def unavailable_message(unavailable):
    """One sentence on what is unavailable and how to install it, or '' when nothing is."""
    if not unavailable:
        return ""
    names = sorted({name for names in unavailable.values() for name in names})
    modules = list(unavailable)
    return (f"{len(names)} wholesoil algorithms are unavailable ({', '.join(names)}): they need "
            f"{requirements.package_names(modules)}; {requirements.install_hint(modules)}, then restart QGIS.")


class WholesoilProvider(QgsProcessingProvider):
    """Processing provider holding every wholesoil algorithm and the shipped models."""

    def id(self):
        return "wholesoil"

    def name(self):
        return "wholesoil"

    def longName(self):  # noqa: N802
        return f"wholesoil {__version__}: whole-soil-profile carbon analysis"

    def icon(self):
        return QIcon(ICON)

    def supportedOutputRasterLayerExtensions(self):  # noqa: N802
        """Every raster wholesoil writes is a GeoTIFF: the dialogs offer no other format."""
        return ["tif"]

    def loadAlgorithms(self):  # noqa: N802
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())
        registry = QgsApplication.processingRegistry()
        if registry.providerById(self.id()) is None:
            # QGIS loads a provider before registering it, and a model finds its steps (this provider's
            # algorithms) only in the registry: the models are added once the provider is registered.
            registry.providerAdded.connect(self._registered)
        else:
            for path in sorted(MODELS_DIR.glob("*.model3")):
                self.addAlgorithm(ShippedModel(path))
            message = unavailable_message(unavailable_algorithms(self.algorithms()))
            if message:
                QgsMessageLog.logMessage(message, "wholesoil", Qgis.Warning)

    def _registered(self, provider_id):
        if provider_id == self.id():
            QgsApplication.processingRegistry().providerAdded.disconnect(self._registered)
            self.refreshAlgorithms()
