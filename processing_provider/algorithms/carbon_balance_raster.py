"""Processing algorithm wholesoil:carbonbalanceraster."""

from ..balance_base import RasterBalanceAlgorithm


class CarbonBalanceRaster(RasterBalanceAlgorithm):
    NAME = "carbonbalanceraster"
    DISPLAY_NAME = "Carbon balance (Iloss), rasters"
    OPERATION = "iloss"
    INPUTS = (("IROOT", "Iroot raster (Mg C ha-1 yr-1; one band per layer or one band)"),
              ("IBULK", "Ibulk raster (Mg C ha-1 yr-1; one band per layer or one band)"))
    OUTPUT_DESCRIPTION = "Iloss, Iloss / Iroot and Iroot (bands per layer and the profile)"
    RASTER_UNITS = {"OUTPUT": "Mg C ha-1 yr-1"}
    REFERENCES = ("luo_iloss",)
    HELP = """
Direct loss of root-derived carbon pixel by pixel and band by band, as in Luo et al. (Iloss manuscript): Iloss = Iroot
- Ibulk (Mg C ha-1 yr-1; it can be negative where carbon moves down into a layer), then Iloss / Iroot.

The output has the Iloss bands, the Iloss / Iroot bands and the Iroot bands (iloss_top_bottom,
iloss_fraction_top_bottom, iroot_top_bottom when an input records its layers), then four whole-profile bands from
the sums over the layer bands: iroot_profile, ibulk_profile, iloss_profile and iloss_fraction_profile. Rasters must
share CRS, extent and pixel size; nodata in any input band gives nodata.
"""
