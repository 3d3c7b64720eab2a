"""Processing algorithm wholesoil:bnppbydepthmap."""

from ..products_base import BANDS_HELP, SHARES_HELP, ProductAlgorithm, add_outputs


class BnppByDepthMap(ProductAlgorithm):
    NAME = "bnppbydepthmap"
    DISPLAY_NAME = "BNPP by depth layer, map with uncertainty"
    REFERENCES = ("luo_bnpp", "jackson1996", "schenk2002")
    RASTER_UNITS = {"OUTPUT": "Mg C ha-1 yr-1"}
    HELP = """
Depth-resolved belowground NPP as in Luo et al. (BNPP preprint): BNPP (or NPP x fBNPP) times the share of each depth
layer, pixel by pixel, with its total uncertainty U_total = sqrt(U_BNPP^2 + U_PDD^2), U = sd / mean.

Bands per layer: bnpp_top_bottom_mean (Mg C ha-1 yr-1), bnpp_top_bottom_sd and bnpp_top_bottom_utotal. The sd of a
product of independent X and Y is first order, sqrt((sd_X Y)^2 + (X sd_Y)^2), as U_total in Luo et al.
""" + SHARES_HELP + BANDS_HELP

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_root_inputs()
        add_outputs(self, "BNPP by depth layer (mean, sd, U_total)")

    def run_product(self, parameters, context, output, quicklook, engine):
        from ...core.maps.products import bnpp_by_depth

        return bnpp_by_depth(output, self.root_inputs(parameters, context), quicklook=quicklook, **engine)
