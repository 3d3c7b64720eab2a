"""Processing algorithm wholesoil:turnovertime."""

from qgis.core import (QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterString)

from ...core.balance import raster_balance, turnover_table
from ...core.errors import InputError
from ..algorithm import WholesoilAlgorithm
from ..balance_base import BALANCE_GROUP, push_notes
from ..depth_fractions_base import OUTPUT, OUTPUT_RASTER, raster_engine
from ..parameters import INPUT, add_value_parameter, value_parameter
from ..qgis_io import source_to_table, table_to_sink


class TurnoverTime(WholesoilAlgorithm):
    NAME = "turnovertime"
    DISPLAY_NAME = "Turnover time (stock / flux)"
    GROUP, GROUP_ID = BALANCE_GROUP
    HELP = """
Turnover time τ = stock / flux, in years for a stock in Mg C ha-1 and a flux in Mg C ha-1 yr-1: for example τ_soil = cSoil / Rh or τ_veg = cVeg / litter (the He et al. Rh study), or a layer's C stock over its Ibulk.
Stock and flux are each a number, a field of the input table or a raster. With any raster the result is a raster (band by band; one band per layer or single bands); otherwise the input table plus the output field (default tau_yr). τ is empty (nodata) where the flux is zero or negative.
Rasters must share CRS, extent and pixel size; nodata in any input gives nodata.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Input table (table mode)",
                                                              [QgsProcessing.TypeVector], optional=True))
        add_value_parameter(self, "STOCK", "Stock", None)
        add_value_parameter(self, "FLUX", "Flux", None)
        self.addParameter(QgsProcessingParameterString("COLUMN", "Output field", defaultValue="tau_yr"))
        self.addParameter(QgsProcessingParameterFeatureSink(OUTPUT, "Table with turnover time",
                                                            QgsProcessing.TypeVector, optional=True,
                                                            createByDefault=False))
        self.addParameter(QgsProcessingParameterRasterDestination(OUTPUT_RASTER, "Turnover time raster",
                                                                  optional=True, createByDefault=False))

    def compute(self, parameters, context, feedback):
        (stock_kind, stock), (flux_kind, flux) = (value_parameter(self, parameters, context, n) for n in ("STOCK", "FLUX"))
        if "raster" in (stock_kind, flux_kind):
            if "field" in (stock_kind, flux_kind):
                raise InputError("give stock and flux as rasters or numbers, not a field with a raster")
            output = self.parameterAsOutputLayer(parameters, OUTPUT_RASTER, context)
            if not output:
                raise InputError("raster inputs: set the output 'Turnover time raster'")
            raster_balance("turnover", stock, flux, output, **raster_engine(feedback))
            return {OUTPUT_RASTER: output}
        source = self.parameterAsSource(parameters, INPUT, context)
        if source is None or parameters.get(OUTPUT) is None:
            raise InputError("table mode needs the input table and the output 'Table with turnover time'")
        out, notes = turnover_table(source_to_table(source, feedback), stock, flux,
                                    self.parameterAsString(parameters, "COLUMN", context) or "tau_yr")
        push_notes(feedback, notes)
        return {OUTPUT: table_to_sink(self, parameters, OUTPUT, context, out, source)}
