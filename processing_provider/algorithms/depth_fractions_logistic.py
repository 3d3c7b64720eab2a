"""Processing algorithm wholesoil:depthfractionslogistic."""

from ..depth_fractions_base import DepthFractionsAlgorithm

#: (name, description, default, minimum, maximum) of the logistic model's parameters.
LOGISTIC_PARAMETERS = (("D50", "D50, depth (cm) above which 50 % lies", 20.0, 0.0, None),
                       ("D95", "D95, depth (cm) above which 95 % lies", 80.0, 0.0, None))
LOGISTIC_HELP = """
Fraction of roots, belowground NPP or soil carbon in each depth layer from the logistic model of Schenk & Jackson
(2002): F(D) = 1 / (1 + (D / D50)^c), c = -1.27875 / (log10 D95 - log10 D50), with D50 and D95 in cm (D95 greater
than D50).

Layers: depth breaks in cm (default 0,20,40,60,80,100,150,200) or standard7, standard5, globalsoilmap. They must be
contiguous, increasing and non-negative.

Profile depth (default 200 cm) and Normalize (default on): the fractions are shares of the profile from the surface
to the profile depth, so layers covering 0-200 cm sum to 1 and layers covering part of it (for example 30,100) sum
to the share they hold, with a warning in the log; layers deeper than the profile depth are refused. Off: shares of
the infinite-depth total. BNPP totals are reported for the 0-200 cm profile.
"""


class DepthFractionsLogistic(DepthFractionsAlgorithm):
    NAME = "depthfractionslogistic"
    DISPLAY_NAME = "Depth fractions (logistic)"
    MODEL = "logistic"
    PARAMETERS = LOGISTIC_PARAMETERS
    REFERENCES = ("schenk2002",)
    HELP = LOGISTIC_HELP + """
D50 and D95 are numbers; with an input table each can be data-defined per feature (the button next to it: a field or
an expression), as native Buffer's distance is. The output is then the table plus one fraction field per layer
(frac_0_20, ...); a feature without a value gets empty fractions. Without an input table the fractions of the two
numbers are reported in the log, the FRACTIONS output and the report.

For maps use Depth fractions (logistic), rasters. The former raster mode (D50_RASTER, D95_RASTER, OUTPUT_RASTER) and
D50_FIELD, D95_FIELD still work from scripts and qgis_process.
"""
