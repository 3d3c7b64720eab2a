"""Processing algorithm wholesoil:depthfractionslogisticraster."""

from ..depth_fractions_base import DepthFractionsRasterAlgorithm
from .depth_fractions_logistic import LOGISTIC_HELP, LOGISTIC_PARAMETERS


class DepthFractionsLogisticRaster(DepthFractionsRasterAlgorithm):
    NAME = "depthfractionslogisticraster"
    DISPLAY_NAME = "Depth fractions (logistic), rasters"
    MODEL = "logistic"
    PARAMETERS = LOGISTIC_PARAMETERS
    REFERENCES = ("schenk2002",)
    HELP = LOGISTIC_HELP + """
D50 and D95 are each a raster or, where no raster is given, a constant (at least one must be a raster). The output
has one band per layer, named frac_0_20, ...; the layers are recorded in it, so Partition a total over depth,
rasters names its bands after them.

Rasters must share CRS, extent and pixel size; nodata in any input gives nodata out.
"""
