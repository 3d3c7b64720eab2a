"""Processing algorithm wholesoil:socstocksbylayer."""

from qgis.core import QgsProcessingParameterEnum, QgsProcessingParameterField, QgsProcessingParameterNumber

from ...core.spline import DEFAULT_LAMBDA
from ...core.soc import OC_UNITS
from ...core.stocks import COARSE_UNITS, METHODS, soc_stocks
from ..algorithm import core_callbacks
from ..parameters import INPUT, LAYERS
from ..profiles_base import ProfileAlgorithm


class SocStocksByLayer(ProfileAlgorithm):
    NAME = "socstocksbylayer"
    DISPLAY_NAME = "SOC stocks by layer"
    OUTPUT_DESCRIPTION = "SOC density per horizon or layer"
    HELP = """
SOC density (Mg C ha-1) of each horizon or target layer: SOC [g kg-1] x bulk density [g cm-3] x thickness [cm] / 10, times (1 - coarse fragment volume fraction) when a coarse fragment field is given (Wang et al. 2024, eq. 1). Units are checked: bulk density in kg m-3, coarse fragments in % given as a fraction, or organic carbon above 1000 g kg-1 are named with their rows.
Organic carbon unit: g kg-1 (default) or percent (weight %, multiplied by 10; for example ISRaD's lyr_c_org). Values that look like the other unit are noted in the log: in g kg-1 when the median of the profiles' highest values is below 10 g kg-1 (topsoils hold about 10-100 g kg-1), in percent when values exceed 58 % (more carbon than organic matter holds).
Horizons above the mineral soil surface (negative depths, the ISRaD convention for organic horizons) are left out by default, or kept by measuring that profile's depths from the top of its organic layer (as aqp's accumulateDepths). Either is listed in the profile's repairs.
Without target layers (empty): the input table plus soc_mg_ha and soc_cum_mg_ha (cumulative from the top of the profile) per horizon.
With target layers: one row per profile and layer with soc_mg_ha, soc_contrib (covered fraction of the layer) and soc_cum_mg_ha, then the fields constant within each profile (a point input keeps its points). The carbon per cm (SOC x BD / 10) is harmonised depth-weighted or with the mass-preserving spline and multiplied by the layer thickness, so the carbon mass is kept. A layer gets a stock only when SOC and bulk density cover at least the minimum coverage (default 1: all of it).
Area (ha, optional, a number or a field): adds soc_stock_mg = soc_mg_ha x area.
Profiles with bad input are left out and listed; the others are processed.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_horizon_inputs()
        self.add_value_fields("SOC_FIELD", "Organic carbon field", multiple=False)
        self.addParameter(QgsProcessingParameterEnum("OC_UNIT", "Organic carbon unit",
                                                     options=["percent (weight %)", "g_kg (g kg-1)"], defaultValue=1))
        self.add_value_fields("BD_FIELD", "Fine-earth bulk density field (g cm-3)", multiple=False)
        self.addParameter(QgsProcessingParameterField("COARSE_FIELD", "Coarse fragment volume field (optional)",
                                                      parentLayerParameterName=INPUT, optional=True))
        self.addParameter(QgsProcessingParameterEnum("COARSE_UNIT", "Coarse fragments are a",
                                                     options=["fraction (0-1)", "percent"], defaultValue=0))
        self.add_layers(optional=True)
        self.addParameter(QgsProcessingParameterEnum("METHOD", "Harmonisation onto layers", options=list(METHODS),
                                                     defaultValue=0))
        lam = QgsProcessingParameterNumber("LAMBDA", "Spline smoothing λ", QgsProcessingParameterNumber.Double,
                                           DEFAULT_LAMBDA)
        lam.setMinimum(0.0)
        self.addParameter(lam)
        coverage = QgsProcessingParameterNumber("MIN_COVERAGE", "Minimum covered fraction of a layer (0-1)",
                                                QgsProcessingParameterNumber.Double, 1.0)
        coverage.setMinimum(0.0)
        coverage.setMaximum(1.0)
        self.addParameter(coverage)
        area = QgsProcessingParameterNumber("AREA", "Area (ha, optional)", QgsProcessingParameterNumber.Double,
                                            None, optional=True)
        area.setMinimum(0.0)
        self.addParameter(area)
        self.addParameter(QgsProcessingParameterField("AREA_FIELD", "Area field (ha, instead of the number)",
                                                      parentLayerParameterName=INPUT, optional=True))
        self.add_outputs()

    def compute(self, parameters, context, feedback):
        source, table, id_field, top_field, bottom_field = self.read_input(parameters, context, feedback)
        field = (lambda name: (self.parameterAsFields(parameters, name, context) or [None])[0])
        area = field("AREA_FIELD")
        if area is None and parameters.get("AREA") not in (None, ""):
            area = self.parameterAsDouble(parameters, "AREA", context)
        result = soc_stocks(
            table, id_field, top_field, bottom_field, field("SOC_FIELD"), field("BD_FIELD"), field("COARSE_FIELD"),
            list(COARSE_UNITS)[self.parameterAsEnum(parameters, "COARSE_UNIT", context)],
            self.parameterAsString(parameters, LAYERS, context) or None,
            METHODS[self.parameterAsEnum(parameters, "METHOD", context)],
            self.parameterAsDouble(parameters, "LAMBDA", context),
            self.parameterAsDouble(parameters, "MIN_COVERAGE", context), area,
            list(OC_UNITS)[self.parameterAsEnum(parameters, "OC_UNIT", context)], self.organic(parameters, context),
            **core_callbacks(feedback))
        results = self.write_outputs(parameters, context, feedback, source, result.layers, result.profiles, id_field,
                                     result.notes)
        return self.write_report(parameters, context, results, None, [result.profiles, result.layers])
