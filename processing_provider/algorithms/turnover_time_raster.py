"""Processing algorithm wholesoil:turnovertimeraster."""

from ...core.errors import InputError
from ..algorithm import WholesoilAlgorithm
from ..balance_base import BALANCE_GROUP
from ..depth_fractions_base import raster_engine
from ..parameters import add_raster_value, raster_output, raster_value
from .turnover_time import TURNOVER_HELP, TURNOVER_TAGS


class TurnoverTimeRaster(WholesoilAlgorithm):
    NAME = "turnovertimeraster"
    DISPLAY_NAME = "Turnover time, rasters"
    GROUP, GROUP_ID = BALANCE_GROUP
    REQUIRES = ("numpy",)
    TAGS = TURNOVER_TAGS + ("raster", "map")
    REFERENCES = ("he_rh",)
    RASTER_UNITS = {"OUTPUT": "yr"}
    HELP = TURNOVER_HELP + """
Stock and flux are each a raster or, where no raster is given, a constant (at least one must be a raster); band by
band (one band per layer, or single bands). Rasters must share CRS, extent and pixel size; nodata in any input gives
nodata.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        add_raster_value(self, "STOCK", "Stock (Mg C ha-1)")
        add_raster_value(self, "FLUX", "Flux (Mg C ha-1 yr-1)")
        self.addParameter(raster_output("OUTPUT", "Turnover time"))

    def compute(self, parameters, context, feedback):
        from ...core.balance import raster_balance

        stock, flux = (raster_value(self, parameters, context, name) for name in ("STOCK", "FLUX"))
        if isinstance(stock, float) and isinstance(flux, float):
            raise InputError("give the stock or the flux as a raster (STOCK_RASTER, FLUX_RASTER)")
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        raster_balance("turnover", stock, flux, output, **raster_engine(feedback))
        return {"OUTPUT": output}
