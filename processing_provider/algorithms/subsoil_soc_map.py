"""Processing algorithm wholesoil:subsoilsocmap."""

from qgis.core import QgsProcessingParameterString

from ...core.layers import NAMED_SCHEMES
from ..products_base import (BANDS_HELP, STOCK_UNIT_CHOICES, ProductAlgorithm, add_band_input, add_constant,
                             add_outputs, add_unit_parameter, band_or_constant, unit_parameter)


class SubsoilSocMap(ProductAlgorithm):
    NAME = "subsoilsocmap"
    DISPLAY_NAME = "Subsoil SOC from a β map"
    REFERENCES = ("wang2024", "jackson1996", "gale1987")
    RASTER_UNITS = {"OUTPUT": "Mg C ha-1"}
    HELP = """
SOC stock per subsoil layer from a β map (or a constant β) and a topsoil SOC stock map (or a constant topsoil SOC
stock, e.g. one stock over a β map; β and the topsoil stock cannot both be numbers), as in Wang et al. (2024):
layer [a, b] holds topsoil x (β^a - β^b) / (β^t0 - β^t1) for the topsoil layer [t0, t1] (their eq. 4 taken layer by
layer; with t0 = 0, X100 = (1 - β^100) / (1 - β^d0) X_d0).

Bands soc_a_b_mean and soc_a_b_sd (Mg C ha-1) per layer (default 20-40, 40-60, 60-80 and 80-100 cm), then their sum
(soc_20_100_mean and _sd by default). The sd combines the topsoil sd and the β sd (first order).
""" + BANDS_HELP

    def initAlgorithm(self, config=None):  # noqa: N802
        add_band_input(self, "BETA", "β map", optional=True)
        add_constant(self, "BETA", "β constant (0-1), instead of a β map", maximum=1.0)
        add_band_input(self, "TOPSOIL", "Topsoil SOC stock (Mg C ha-1)", optional=True)
        add_constant(self, "TOPSOIL", "Topsoil SOC stock constant (Mg C ha-1), instead of a topsoil SOC stock map")
        self.addParameter(QgsProcessingParameterString("TOPSOIL_LAYER", "Depths of the topsoil stock (cm)",
                                                       defaultValue="0-20"))
        add_unit_parameter(self, "STOCK_UNIT", "Unit of the topsoil stock", STOCK_UNIT_CHOICES)
        self.addParameter(QgsProcessingParameterString(
            "LAYERS", f"Output layers: cm breaks or {', '.join(NAMED_SCHEMES)}", defaultValue="20,40,60,80,100"))
        add_outputs(self, "SOC by subsoil layer (mean, sd)")

    def run_product(self, parameters, context, output, quicklook, engine):
        from ...core.maps.products import subsoil_soc

        beta, beta_sd = band_or_constant(self, parameters, context, "BETA", required="β")
        topsoil, topsoil_sd = band_or_constant(self, parameters, context, "TOPSOIL", required="topsoil SOC stock")
        return subsoil_soc(output, beta, topsoil, beta_sd=beta_sd, topsoil_sd=topsoil_sd,
                           topsoil_layer=self.parameterAsString(parameters, "TOPSOIL_LAYER", context),
                           layers=self.parameterAsString(parameters, "LAYERS", context),
                           stock_unit=unit_parameter(self, parameters, context, "STOCK_UNIT", STOCK_UNIT_CHOICES),
                           quicklook=quicklook, **engine)
