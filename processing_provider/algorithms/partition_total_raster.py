"""Processing algorithm wholesoil:partitiontotalraster."""

from qgis.core import QgsProcessingParameterRasterLayer, QgsProcessingParameterString

from ..algorithm import raster_file
from ..parameters import add_raster_value, raster_output, raster_value
from ..partition_base import PARTITION_HELP, PartitionBase


class PartitionTotalRaster(PartitionBase):
    NAME = "partitiontotalraster"
    DISPLAY_NAME = "Partition a total over depth, rasters"
    REQUIRES = ("numpy",)
    TAGS = PartitionBase.TAGS + ("raster", "map")
    HELP = PARTITION_HELP + """
The total is a raster or, where no raster is given, a constant; the fractions are a raster with one band per layer,
such as the output of Depth fractions (logistic) or (β), rasters. The output has one band per layer, named
PREFIX_top_bottom when the fraction raster records its layers. A single-band raster that records no layers (such as a
β map) is refused: turn it into fractions first.

Rasters must share CRS, extent and pixel size; nodata in any input gives nodata out.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer("FRACTIONS", "Fraction raster (one band per layer)"))
        add_raster_value(self, "TOTAL", "Total to partition")
        self.addParameter(QgsProcessingParameterString("PREFIX", "Prefix of the output band names",
                                                       defaultValue="part"))
        self.addParameter(raster_output("OUTPUT", "Partitioned total (one band per layer)"))

    def compute(self, parameters, context, feedback):
        total = raster_value(self, parameters, context, "TOTAL")
        fractions = raster_file(self.parameterAsRasterLayer(parameters, "FRACTIONS", context))
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        prefix = self.parameterAsString(parameters, "PREFIX", context) or "part"
        return {"OUTPUT": self.write_partition_raster(total, fractions, prefix, output, feedback)}
