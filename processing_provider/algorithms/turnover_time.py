"""Processing algorithm wholesoil:turnovertime."""

from qgis.core import (QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterString)

from ...core.errors import InputError
from ..algorithm import WholesoilAlgorithm
from ..balance_base import BALANCE_GROUP, BALANCE_TAGS
from ..depth_fractions_base import OUTPUT, OUTPUT_RASTER, raster_engine
from ..parameters import INPUT, add_value_parameter, hidden, push_notes, table_with_values, value_parameter
from ..qgis_io import table_to_sink

TURNOVER_HELP = """
Turnover time τ = stock / flux, in years for a stock in Mg C ha-1 and a flux in Mg C ha-1 yr-1: for example τ_soil =
cSoil / Rh or τ_veg = cVeg / litter (as in He et al., Rh manuscript), or a layer's C stock over its Ibulk. τ is
empty (nodata) where the flux is zero or negative.
"""
TURNOVER_TAGS = BALANCE_TAGS + ("residence time", "tau", "heterotrophic respiration", "Rh")


class TurnoverTime(WholesoilAlgorithm):
    NAME = "turnovertime"
    DISPLAY_NAME = "Turnover time (stock / flux)"
    GROUP, GROUP_ID = BALANCE_GROUP
    TAGS = TURNOVER_TAGS
    REFERENCES = ("he_rh",)
    HELP = TURNOVER_HELP + """
Stock and flux are numbers, each data-defined per feature of the input table (the button next to it: a field or an
expression). The output is the input table plus the output field (default tau_yr).

For maps use Turnover time, rasters. The former raster mode (STOCK_RASTER, FLUX_RASTER, OUTPUT_RASTER) and
STOCK_FIELD, FLUX_FIELD still work from scripts and qgis_process.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Input table", [QgsProcessing.TypeVector],
                                                              optional=True))
        add_value_parameter(self, "STOCK", "Stock (Mg C ha-1)", None)
        add_value_parameter(self, "FLUX", "Flux (Mg C ha-1 yr-1)", None)
        self.addParameter(QgsProcessingParameterString("COLUMN", "Output field", defaultValue="tau_yr"))
        self.addParameter(QgsProcessingParameterFeatureSink(OUTPUT, "Turnover time", QgsProcessing.TypeVector,
                                                            optional=True))
        self.addParameter(hidden(QgsProcessingParameterRasterDestination(
            OUTPUT_RASTER, "Turnover time raster (former raster mode)", optional=True, createByDefault=False)))

    def compute(self, parameters, context, feedback):
        kinds = {value_parameter(self, parameters, context, name)[0] for name in ("STOCK", "FLUX")}
        if "raster" in kinds:
            from ...core.balance import raster_balance
            from ..parameters import raster_value

            if "field" in kinds:
                raise InputError("give stock and flux as rasters or numbers, not a field with a raster")
            output = self.parameterAsOutputLayer(parameters, OUTPUT_RASTER, context)
            if not output:
                raise InputError("raster inputs: set OUTPUT_RASTER, or use wholesoil:turnovertimeraster")
            stock, flux = (raster_value(self, parameters, context, name) for name in ("STOCK", "FLUX"))
            raster_balance("turnover", stock, flux, output, **raster_engine(feedback))
            return {OUTPUT_RASTER: output}
        from ...core.balance import turnover_table

        source = self.parameterAsSource(parameters, INPUT, context)
        if source is None or parameters.get(OUTPUT) is None:
            raise InputError("give the input table and the output 'Turnover time' (for rasters use "
                             "wholesoil:turnovertimeraster)")
        table, values, added = table_with_values(self, parameters, context, ["STOCK", "FLUX"], source, feedback)
        out, notes = turnover_table(table, values["stock"], values["flux"],
                                    self.parameterAsString(parameters, "COLUMN", context) or "tau_yr")
        push_notes(feedback, notes)
        return {OUTPUT: table_to_sink(self, parameters, OUTPUT, context, out.drop(columns=added), source)}
