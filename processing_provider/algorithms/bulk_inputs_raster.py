"""Processing algorithm wholesoil:bulkinputsraster."""

from ..balance_base import RasterBalanceAlgorithm


class BulkInputsRaster(RasterBalanceAlgorithm):
    NAME = "bulkinputsraster"
    DISPLAY_NAME = "Bulk soil inputs (Ibulk), rasters"
    OPERATION = "ibulk"
    INPUTS = (("STOCK", "C stock raster (Mg C ha-1; one band per layer or one band)"),
              ("AGE", "C age raster (yr; one band per layer or one band)"))
    OUTPUT_DESCRIPTION = "Ibulk (one band per layer)"
    RASTER_UNITS = {"OUTPUT": "Mg C ha-1 yr-1"}
    REFERENCES = ("luo_iloss",)
    HELP = """
Ibulk = C stock / C age (Mg C ha-1 yr-1) pixel by pixel and band by band: the steady-state carbon input to bulk soil
of Luo et al. (Iloss manuscript, eq. 6).

The rasters must share CRS, extent and pixel size, and have equal band counts (one band per layer) or one of them a
single band. Bands are named ibulk_top_bottom when an input records its layers. Nodata in any input, or an age that
is not positive, gives nodata.
"""
