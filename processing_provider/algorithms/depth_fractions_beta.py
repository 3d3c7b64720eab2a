"""Processing algorithm wholesoil:depthfractionsbeta."""

from ..depth_fractions_base import DepthFractionsAlgorithm


class DepthFractionsBeta(DepthFractionsAlgorithm):
    NAME = "depthfractionsbeta"
    DISPLAY_NAME = "Depth fractions (β)"
    MODEL = "beta"
    PARAMETERS = (("BETA", "β of Y = 1 - β^d (0 to 1)", 0.96, 0.0, 1.0),)
    HELP = """
Share of roots or soil carbon in each depth layer from the β model of Gale & Grigal (1987) used by Jackson et al. (1996): cumulative fraction Y(d) = 1 - β^d, share of layer [a, b] = β^a - β^b.
β (between 0 and 1; larger means deeper) is a number, a field of the input table or a raster. With any raster the result is a raster with one band per layer (frac_0_20, ...); with an input table it is that table plus one fraction field per layer; with numbers only the fractions are reported in the log, in the FRACTIONS output and in the HTML report.
Layers: depth breaks in cm (default 0,20,40,60,80,100,150,200) or standard7, standard5, globalsoilmap.
Profile depth (default 200 cm) and Normalize (default on): the fractions are shares of the profile from the surface to the profile depth, so layers covering 0-200 cm sum to 1 and layers covering part of it (for example 30,100) sum to the share they hold, with a warning in the log; layers deeper than the profile depth are refused. Off: shares of the infinite-depth total. Off gives the shares tabulated by Jackson et al. (1996), e.g. 93 % in 0-30 cm for tundra (β = 0.914).
Rasters must share CRS, extent and pixel size; nodata in any input gives nodata out.
"""
