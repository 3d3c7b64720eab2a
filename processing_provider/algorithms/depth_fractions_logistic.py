"""Processing algorithm wholesoil:depthfractionslogistic."""

from ..depth_fractions_base import DepthFractionsAlgorithm


class DepthFractionsLogistic(DepthFractionsAlgorithm):
    NAME = "depthfractionslogistic"
    DISPLAY_NAME = "Depth fractions (logistic)"
    MODEL = "logistic"
    PARAMETERS = (("D50", "D50, depth (cm) above which 50 % lies", 20.0, 0.0, None),
                  ("D95", "D95, depth (cm) above which 95 % lies", 80.0, 0.0, None))
    HELP = """
Fraction of roots, belowground NPP or soil carbon in each depth layer from the Schenk & Jackson (2002) logistic model: F(D) = 1 / (1 + (D / D50)^c), c = -1.27875 / (log10 D95 - log10 D50).
D50 and D95 (cm, D95 greater than D50) are each a number, a field of the input table or a raster. With any raster the result is a raster with one band per layer (frac_0_20, ...); with an input table it is that table plus one fraction field per layer; with numbers only the fractions are reported in the log, in the FRACTIONS output and in the HTML report.
Layers: depth breaks in cm (default 0,20,40,60,80,100,150,200) or standard7, standard5, globalsoilmap. They must be contiguous, increasing and non-negative.
Profile depth (default 200 cm) and Normalize (default on): the fractions are shares of the profile from the surface to the profile depth, so layers covering 0-200 cm sum to 1 and layers covering part of it (for example 30,100) sum to the share they hold, with a warning in the log; layers deeper than the profile depth are refused. Off: shares of the infinite-depth total. BNPP totals are reported for the 0-200 cm profile.
Rasters must share CRS, extent and pixel size; nodata in any input gives nodata out.
"""
