"""The wholesoil Processing provider (id ``wholesoil``)."""

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .. import __version__
from .algorithm import ICON
from .algorithms.depth_fractions_beta import DepthFractionsBeta
from .algorithms.depth_fractions_logistic import DepthFractionsLogistic
from .algorithms.detect_root_bimodality import DetectRootBimodality
from .algorithms.fit_beta_per_profile import FitBetaPerProfile
from .algorithms.fit_depth_model import FitDepthModel
from .algorithms.harmonise_profiles_depth_weighted import HarmoniseProfilesDepthWeighted
from .algorithms.harmonise_profiles_spline import HarmoniseProfilesSpline
from .algorithms.partition_total import PartitionTotal
from .algorithms.soc_stocks_by_layer import SocStocksByLayer
from .algorithms.bulk_inputs import BulkInputs
from .algorithms.bulk_inputs_raster import BulkInputsRaster
from .algorithms.carbon_balance import CarbonBalance
from .algorithms.carbon_balance_raster import CarbonBalanceRaster
from .algorithms.loss_estimates import LossEstimates
from .algorithms.radiocarbon_age import RadiocarbonAge
from .algorithms.radiocarbon_forward import RadiocarbonForward
from .algorithms.turnover_time import TurnoverTime
from .algorithms.two_box_model import TwoBoxModel
from .algorithms.sample_rasters_at_points import SampleRastersAtPoints
from .algorithms.screen_covariates import ScreenCovariates
from .algorithms.train_model import TrainModel
from .algorithms.evaluate_model import EvaluateModel
from .algorithms.explain_model import ExplainModel
from .algorithms.predict_raster import PredictRaster
from .algorithms.predict_table import PredictTable

#: Every algorithm class the provider offers, in menu order.
ALGORITHMS = [
    DepthFractionsLogistic,
    DepthFractionsBeta,
    FitDepthModel,
    PartitionTotal,
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
    TwoBoxModel,
    SampleRastersAtPoints,
    ScreenCovariates,
    TrainModel,
    EvaluateModel,
    ExplainModel,
    PredictTable,
    PredictRaster,
]


class WholesoilProvider(QgsProcessingProvider):
    """Processing provider holding every wholesoil algorithm."""

    def id(self):
        return "wholesoil"

    def name(self):
        return "wholesoil"

    def longName(self):  # noqa: N802
        return f"wholesoil {__version__}: whole-soil-profile carbon analysis"

    def icon(self):
        return QIcon(ICON)

    def loadAlgorithms(self):  # noqa: N802
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())
