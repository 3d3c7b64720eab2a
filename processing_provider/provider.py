"""The wholesoil Processing provider (id ``wholesoil``)."""

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .. import __version__
from .algorithm import ICON
from .algorithms.depth_fractions_beta import DepthFractionsBeta
from .algorithms.depth_fractions_logistic import DepthFractionsLogistic
from .algorithms.fit_depth_model import FitDepthModel
from .algorithms.partition_total import PartitionTotal

#: Every algorithm class the provider offers, in menu order.
ALGORITHMS = [
    DepthFractionsLogistic,
    DepthFractionsBeta,
    FitDepthModel,
    PartitionTotal,
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
