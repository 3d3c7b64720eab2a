"""Processing algorithm wholesoil:socstocksbylayer."""

from qgis.core import QgsProcessingParameterField, QgsProcessingParameterNumber

from ..algorithm import core_callbacks
from ..parameters import (INPUT, LAYERS, enum_parameter, add_value_parameter, advanced, enum_code, html_output,
                          table_with_values)
from ..profiles_base import ProfileAlgorithm
from .harmonise_profiles_spline import DEFAULT_LAMBDA

#: core.soc.OC_UNITS, core.stocks.COARSE_UNITS and METHODS with their labels.
OC_UNITS = (("percent", "percent (weight %)"), ("g_kg", "g kg-1"))
COARSE_UNITS = (("fraction", "fraction (0-1)"), ("percent", "percent"))
METHODS = (("depth-weighted", "depth-weighted"), ("spline", "mass-preserving spline (Bishop et al. 1999)"))


class SocStocksByLayer(ProfileAlgorithm):
    NAME = "socstocksbylayer"
    DISPLAY_NAME = "SOC stocks by layer"
    OUTPUT_DESCRIPTION = "SOC stocks per horizon or layer"
    TAGS = ProfileAlgorithm.TAGS + ("SOC", "soil organic carbon", "carbon stock", "bulk density",
                                    "coarse fragments")
    REFERENCES = ("wang2024", "bishop1999")
    HELP = """
SOC density (Mg C ha-1) of each horizon or target layer: SOC [g kg-1] x bulk density [g cm-3] x thickness [cm] / 10,
times (1 - coarse fragment volume fraction) when a coarse fragment field is given (Wang et al. 2024, eq. 1). Units
are checked: bulk density in kg m-3, coarse fragments in % given as a fraction, or organic carbon above 1000 g kg-1
are named with their rows.

Organic carbon unit: g kg-1 (default) or percent (weight %, multiplied by 10; for example ISRaD's lyr_c_org). Values
that look like the other unit are noted in the log: in g kg-1 when the median of the profiles' highest values is
below 10 g kg-1 (topsoils hold about 10-100 g kg-1), in percent when values exceed 58 % (more carbon than organic
matter holds).

Horizons above the mineral soil surface (negative depths, the ISRaD convention for organic horizons) are left out by
default, or kept by measuring that profile's depths from the top of its organic layer (as aqp's accumulateDepths).
Either is listed in the profile's repairs.

Output fields are in Mg C ha-1 (megagrams per hectare; "mg_ha" in the field names is that unit, not milligrams).
Without target layers (empty): the input table plus soc_mg_ha and soc_cum_mg_ha (cumulative from the top of the
profile) per horizon.

With target layers: one row per profile and layer with soc_mg_ha, soc_contrib (covered fraction of the layer) and
soc_cum_mg_ha, then the fields constant within each profile (a point input keeps its points). The carbon per cm (SOC
x BD / 10) is harmonised depth-weighted or with the mass-preserving spline and multiplied by the layer thickness, so
the carbon mass is kept. A layer gets a stock only when SOC and bulk density cover at least the minimum coverage
(default 1: all of it).

Area (ha, optional; a number, or data-defined per feature by a field or an expression): adds soc_stock_mg =
soc_mg_ha x area (Mg C). The former AREA_FIELD still works from scripts.

Profiles with bad input are left out and listed as warnings; the others are processed. The report plots the SOC per
cm and the cumulative stock against depth for the first 12 profiles.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_horizon_inputs()
        self.add_value_fields("SOC_FIELD", "Organic carbon field", multiple=False)
        self.addParameter(enum_parameter("OC_UNIT", "Organic carbon unit", OC_UNITS, default=1))
        self.add_value_fields("BD_FIELD", "Fine-earth bulk density field (g cm-3)", multiple=False)
        self.addParameter(QgsProcessingParameterField("COARSE_FIELD", "Coarse fragment volume field (optional)",
                                                      parentLayerParameterName=INPUT, optional=True))
        self.addParameter(enum_parameter("COARSE_UNIT", "Coarse fragments are a", COARSE_UNITS))
        self.add_layers(optional=True)
        self.addParameter(enum_parameter("METHOD", "Harmonisation onto layers", METHODS))
        lam = QgsProcessingParameterNumber("LAMBDA", "Spline smoothing λ", QgsProcessingParameterNumber.Double,
                                           DEFAULT_LAMBDA)
        lam.setMinimum(0.0)
        self.addParameter(advanced(lam))
        coverage = QgsProcessingParameterNumber("MIN_COVERAGE", "Minimum covered fraction of a layer (0-1)",
                                                QgsProcessingParameterNumber.Double, 1.0)
        coverage.setMinimum(0.0)
        coverage.setMaximum(1.0)
        self.addParameter(coverage)
        add_value_parameter(self, "AREA", "Area (ha; adds soc_stock_mg = soc_mg_ha x area)", None, minimum=0.0,
                            optional=True, former_raster=False)
        self.add_outputs()

    def compute(self, parameters, context, feedback):
        from ...core.stocks import soc_stocks

        source = self.parameterAsSource(parameters, INPUT, context)
        id_field, top_field, bottom_field = self.horizon_fields(parameters, context)
        table, values, added = table_with_values(self, parameters, context, ["AREA"], source, feedback,
                                                 optional=("AREA",))
        field = (lambda name: (self.parameterAsFields(parameters, name, context) or [None])[0])
        result = soc_stocks(
            table, id_field, top_field, bottom_field, field("SOC_FIELD"), field("BD_FIELD"), field("COARSE_FIELD"),
            enum_code(self, parameters, context, "COARSE_UNIT", COARSE_UNITS),
            self.parameterAsString(parameters, LAYERS, context) or None,
            enum_code(self, parameters, context, "METHOD", METHODS),
            self.parameterAsDouble(parameters, "LAMBDA", context),
            self.parameterAsDouble(parameters, "MIN_COVERAGE", context), values["area"],
            enum_code(self, parameters, context, "OC_UNIT", OC_UNITS), self.organic(parameters, context),
            **core_callbacks(feedback, end=90))
        layers = result.layers.drop(columns=[c for c in added if c in result.layers.columns])
        results = self.write_outputs(parameters, context, feedback, source, layers, result.profiles, id_field,
                                     result.notes)
        figure = None
        if html_output(self, parameters, context):
            from ...core.profile_plots import soc_stock_figure
            from ...core.stocks import CUMULATIVE, DENSITY

            figure = soc_stock_figure(layers, id_field, top_field, bottom_field, DENSITY, CUMULATIVE)
        return self.write_report(parameters, context, results, figure, [result.profiles, layers])
