"""Processing algorithm wholesoil:carbonlossmaps."""

from qgis.core import QgsProcessingParameterEnum, QgsProcessingParameterNumber

from ..parameters import advanced
from ..products_base import (BANDS_HELP, FLUX_UNIT_CHOICES, LAYERED_SD_HELP, SHARES_HELP, STOCK_UNIT_CHOICES,
                             ProductAlgorithm, add_layered_input, add_layered_sd_input, add_outputs, add_unit_parameter,
                             layered_input, layered_sd_input, unit_parameter)

#: core.maps.products.LOSS_QUANTITIES.
QUANTITIES = ["iroot", "ibulk", "iloss", "iloss_fraction"]


class CarbonLossMaps(ProductAlgorithm):
    NAME = "carbonlossmaps"
    DISPLAY_NAME = "Root-carbon loss maps (Iroot, Ibulk, Iloss), Monte Carlo"
    REFERENCES = ("luo_iloss", "luo_bnpp", "jackson1996")
    #: The quantities of the run, in band order (set by run_product, read by layer_name).
    quantities = QUANTITIES
    HELP = """
Iroot, Ibulk, Iloss = Iroot - Ibulk and Iloss / Iroot per depth layer and for the profile, with per-pixel Monte
Carlo propagation of both uncertainties as in Luo et al. (Iloss manuscript). Iroot = BNPP (or NPP x fBNPP) x the
layer's share; Ibulk from one raster band per layer (e.g. the maps of Ibulk models) or from C stock / C age rasters
(one band per layer each).
""" + LAYERED_SD_HELP.format(what="The sd of the Ibulk, C stock and C age rasters") + """
Each pixel draws BNPP, the depth shares and each layer's Ibulk (500 times by default), independently, with the
pixel's mean and sd: BNPP and Ibulk lognormal (positive, keeping both); shares from β or D50/D95 from draws of the
parameters (every layer's share of a draw from the same β), share layers lognormal with each draw rescaled to the
pixel's share total. The layers share the BNPP draw. The random numbers of a pixel depend on the seed and its row
and column in the input grid only, so the maps do not depend on the number of threads or the window size (a map
cut into tiles draws other numbers).

Bands QUANTITY_top_bottom_STAT and QUANTITY_profile_STAT (sums over the layers) with STAT mean, sd, lower and upper
(2.5 and 97.5 % of the draws).
""" + SHARES_HELP + BANDS_HELP

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_root_inputs()
        add_layered_input(self, "IBULK", "Ibulk rasters, one band per layer (or their _mean bands)")
        add_layered_sd_input(self, "IBULK", "Ibulk")
        add_unit_parameter(self, "IBULK_UNIT", "Unit of Ibulk", FLUX_UNIT_CHOICES)
        add_layered_input(self, "STOCK", "C stock rasters, instead of Ibulk (one band per layer)")
        add_layered_sd_input(self, "STOCK", "C stock")
        add_layered_input(self, "AGE", "C age rasters, with the C stock (yr, one band per layer)")
        add_layered_sd_input(self, "AGE", "C age")
        add_unit_parameter(self, "STOCK_UNIT", "Unit of the C stock", STOCK_UNIT_CHOICES)
        draws = QgsProcessingParameterNumber("DRAWS", "Monte Carlo draws per pixel",
                                             QgsProcessingParameterNumber.Integer, 500)
        draws.setMinimum(2)
        self.addParameter(draws)
        seed = QgsProcessingParameterNumber("SEED", "Seed of the random numbers", QgsProcessingParameterNumber.Integer,
                                            0)
        seed.setMinimum(0)
        self.addParameter(advanced(seed))
        self.addParameter(QgsProcessingParameterEnum("QUANTITIES", "Quantities", options=QUANTITIES,
                                                     allowMultiple=True, defaultValue=list(range(len(QUANTITIES)))))
        add_outputs(self, "Iroot, Ibulk, Iloss and Iloss / Iroot (mean, sd, 95 % interval)")

    def layer_name(self, definition):
        """The map's name: the quantities it holds, in band order (its unit is that of band 1, the first one)."""
        from ...core.maps.products import LOSS_TITLES

        if definition.name() != "OUTPUT":
            return super().layer_name(definition)
        titles = [LOSS_TITLES[q] for q in self.quantities]
        return " and ".join(filter(None, [", ".join(titles[:-1]), titles[-1]]))

    def run_product(self, parameters, context, output, quicklook, engine):
        from ...core.maps.products import loss_maps

        self.quantities = [QUANTITIES[i] for i in self.parameterAsEnums(parameters, "QUANTITIES", context)]
        return loss_maps(output, self.root_inputs(parameters, context),
                         ibulk=layered_input(self, parameters, context, "IBULK"),
                         ibulk_sd=layered_sd_input(self, parameters, context, "IBULK"),
                         stock=layered_input(self, parameters, context, "STOCK"),
                         stock_sd=layered_sd_input(self, parameters, context, "STOCK"),
                         age=layered_input(self, parameters, context, "AGE"),
                         age_sd=layered_sd_input(self, parameters, context, "AGE"),
                         ibulk_unit=unit_parameter(self, parameters, context, "IBULK_UNIT", FLUX_UNIT_CHOICES),
                         stock_unit=unit_parameter(self, parameters, context, "STOCK_UNIT", STOCK_UNIT_CHOICES),
                         quantities=self.quantities,
                         draws=self.parameterAsInt(parameters, "DRAWS", context),
                         seed=self.parameterAsInt(parameters, "SEED", context), quicklook=quicklook, **engine)
