"""Processing algorithm wholesoil:turnovertimemap."""

from ..products_base import (BANDS_HELP, FLUX_UNIT_CHOICES, STOCK_UNIT_CHOICES, ProductAlgorithm, add_band_input,
                             add_constant, add_outputs, add_unit_parameter, band_or_constant, unit_parameter)


class TurnoverTimeMap(ProductAlgorithm):
    NAME = "turnovertimemap"
    DISPLAY_NAME = "Turnover-time map with uncertainty"
    REFERENCES = ("he_rh",)
    RASTER_UNITS = {"OUTPUT": "yr"}
    HELP = """
Turnover time τ = stock / flux (yr) pixel by pixel, as τ_soil = cSoil / Rh in He et al. (Rh manuscript), with its
uncertainty from the flux sd (and the stock sd, if any). The stock or the flux may be a number instead of a raster
(the C stock constant, the flux constant), e.g. one stock over a flux map; the other must then be a raster.

Bands (yr): tau (stock / flux of the means), tau_sd (first order, sqrt((sd_S / F)^2 + (S sd_F / F^2)^2)), tau_lower
and tau_upper (2.5 and 97.5 % of stock / flux for independent lognormal stock and flux: exact, and skewed around
tau). A flux of 0 or below gives nodata.
""" + BANDS_HELP

    def initAlgorithm(self, config=None):  # noqa: N802
        add_band_input(self, "STOCK", "C stock (Mg C ha-1)", optional=True)
        add_constant(self, "STOCK", "C stock constant (Mg C ha-1), instead of a C stock raster")
        add_unit_parameter(self, "STOCK_UNIT", "Unit of the C stock", STOCK_UNIT_CHOICES)
        add_band_input(self, "FLUX", "Flux, e.g. heterotrophic respiration (Mg C ha-1 yr-1)", optional=True)
        add_constant(self, "FLUX", "Flux constant (Mg C ha-1 yr-1), instead of a flux raster")
        add_unit_parameter(self, "FLUX_UNIT", "Unit of the flux", FLUX_UNIT_CHOICES)
        add_outputs(self, "Turnover time (tau, sd, 95 % interval)")

    def run_product(self, parameters, context, output, quicklook, engine):
        from ...core.maps.products import turnover_map

        stock, stock_sd = band_or_constant(self, parameters, context, "STOCK", required="C stock")
        flux, flux_sd = band_or_constant(self, parameters, context, "FLUX", required="flux")
        return turnover_map(output, stock, flux, stock_sd=stock_sd, flux_sd=flux_sd,
                            stock_unit=unit_parameter(self, parameters, context, "STOCK_UNIT", STOCK_UNIT_CHOICES),
                            flux_unit=unit_parameter(self, parameters, context, "FLUX_UNIT", FLUX_UNIT_CHOICES),
                            quicklook=quicklook, **engine)
