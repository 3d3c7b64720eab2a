"""Processing algorithm wholesoil:depthfractionsbetaraster."""

from ..depth_fractions_base import DepthFractionsRasterAlgorithm
from .depth_fractions_beta import BETA_HELP, BETA_PARAMETERS


class DepthFractionsBetaRaster(DepthFractionsRasterAlgorithm):
    NAME = "depthfractionsbetaraster"
    DISPLAY_NAME = "Depth fractions (β), rasters"
    MODEL = "beta"
    PARAMETERS = BETA_PARAMETERS
    REFERENCES = ("gale1987", "jackson1996")
    HELP = BETA_HELP + """
The β raster gives one output band per layer, named frac_0_20, ...; the layers are recorded in it, so Partition a
total over depth, rasters names its bands after them. Nodata in β gives nodata out.
"""
