"""Processing algorithm wholesoil:depthfractionsbeta."""

from ..depth_fractions_base import DepthFractionsAlgorithm

BETA_PARAMETERS = (("BETA", "β of Y = 1 - β^d (0 to 1)", 0.96, 0.0, 1.0),)
BETA_HELP = """
Share of roots or soil carbon in each depth layer from the β model of Gale & Grigal (1987) as used by Jackson et al.
(1996): cumulative fraction Y(d) = 1 - β^d (d in cm), share of layer [a, b] = β^a - β^b. β lies between 0 and 1;
larger means deeper.

Layers: depth breaks in cm (default 0,20,40,60,80,100,150,200) or standard7, standard5, globalsoilmap.

Profile depth (default 200 cm) and Normalize (default on): the fractions are shares of the profile from the surface
to the profile depth, so layers covering 0-200 cm sum to 1 and layers covering part of it (for example 30,100) sum
to the share they hold, with a warning in the log; layers deeper than the profile depth are refused. Off: shares of
the infinite-depth total, as tabulated by Jackson et al. (1996), e.g. 93 % in 0-30 cm for tundra (β = 0.914).
"""


class DepthFractionsBeta(DepthFractionsAlgorithm):
    NAME = "depthfractionsbeta"
    DISPLAY_NAME = "Depth fractions (β)"
    MODEL = "beta"
    PARAMETERS = BETA_PARAMETERS
    REFERENCES = ("gale1987", "jackson1996")
    HELP = BETA_HELP + """
β is a number; with an input table it can be data-defined per feature (the button next to it: a field or an
expression). The output is then the table plus one fraction field per layer (frac_0_20, ...); a feature without β
gets empty fractions. Without an input table the fractions of the number are reported in the log, the FRACTIONS
output and the report.

For maps use Depth fractions (β), rasters. The former raster mode (BETA_RASTER, OUTPUT_RASTER) and BETA_FIELD still
work from scripts and qgis_process.
"""
