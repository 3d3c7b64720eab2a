"""Processing algorithm wholesoil:bulkinputs."""

from qgis.core import (QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterNumber, QgsProcessingParameterString)

from ..algorithm import WholesoilAlgorithm, core_callbacks
from ..balance_base import BALANCE_GROUP, BALANCE_TAGS, add_field, field
from ..parameters import INPUT, enum_code, enum_parameter, push_notes
from ..profiles_base import ORGANIC
from ..qgis_io import source_to_table, table_to_sink

FIELDS = (("AGE_FIELD", "C age field (yr)", "age_slow_yr"), ("TOP_FIELD", "Layer top field (cm)", "lyr_top"),
          ("BOTTOM_FIELD", "Layer bottom field (cm)", "lyr_bot"),
          ("BD_FIELD", "Bulk density field (g cm-3)", "lyr_bd_samp"),
          ("OC_FIELD", "Organic C field", "lyr_c_org"), ("STOCK_FIELD", "C stock field", "lyr_soc"),
          ("COARSE_FIELD", "Coarse fragments field", "lyr_coarse_tot"))
#: (parameter, description, choices (code of core.balance's units, label), default): ISRaD's units by default.
UNITS = (("OC_UNIT", "Organic C unit", (("percent", "weight % (ISRaD)"), ("g_kg", "g kg-1")), 0),
         ("STOCK_UNIT", "C stock unit", (("Mg_ha", "Mg C ha-1"), ("g_cm2", "g C cm-2 (ISRaD)"),
                                         ("kg_m2", "kg C m-2")), 1),
         ("COARSE_UNIT", "Coarse fragments unit", (("percent", "volume % (ISRaD)"), ("fraction", "fraction (0-1)")),
          0))


class BulkInputs(WholesoilAlgorithm):
    NAME = "bulkinputs"
    DISPLAY_NAME = "Bulk soil inputs (Ibulk)"
    GROUP, GROUP_ID = BALANCE_GROUP
    TAGS = BALANCE_TAGS + ("14C", "radiocarbon", "carbon stock", "ISRaD")
    REFERENCES = ("luo_iloss",)
    HELP = """
Carbon stock and carbon input to bulk soil of each layer: Ibulk = C stock / C age (Mg C ha-1 yr-1), the steady-state
estimate of Luo et al. (Iloss manuscript, eq. 6). The C age is typically age_slow_yr from Radiocarbon age.

The stock is taken from the C stock field where it has a value (ISRaD's lyr_soc is g C cm-2), else computed as bulk
density x organic C x thickness x (1 - coarse fragments where given). Fields and units default to ISRaD's (organic C
in weight %, coarse fragments in %). A stock value that would need a bulk density above 2.65 g cm-3 for its layer's
thickness and organic C is a unit slip (ISRaD's Finstad_2020 entry holds Mg C ha-1 in lyr_soc): it is not used and a
warning names the rows; if every value is like that the stock unit is wrong (an error). Output fields: c_stock_mg_ha
(Mg C ha-1, megagrams per hectare) and ibulk_mg_ha_yr (Mg C ha-1 yr-1).

Impossible values (an age that is not a positive number, negative organic C or stock, bulk density outside 0-2.65 g
cm-3, coarse fragments outside 0-100 %) leave their feature without a stock or Ibulk and are listed in a warning.

Target layers (optional, for example 0,20,40,60,80,100,150,200 or standard7): both are harmonised per profile
(Profile id field) with depth-weighted amounts per cm times the layer thickness; layers above the mineral surface
(negative top) are left out. A target layer covered less than the minimum coverage (default 1, the whole layer) gets
no value; the output then has one feature per profile and layer with the covered share (_contrib), the layer's age
(C stock / Ibulk, the stock-weighted harmonic mean of the ages within it, in the C age field's name) and the profile
attributes (the fields constant within every profile, such as land cover, treatment and coordinates, and the
geometry).
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Soil layers with C ages",
                                                              [QgsProcessing.TypeVector]))
        for name, description, default in FIELDS:
            add_field(self, name, description, default)
        for name, description, choices, default in UNITS:
            self.addParameter(enum_parameter(name, description, choices, default))
        self.addParameter(QgsProcessingParameterString("LAYERS", "Target layers (empty: keep the input layers)",
                                                       optional=True))
        add_field(self, "ID_FIELD", "Profile id field (target layers)", "profile_id", numeric=False)
        coverage = QgsProcessingParameterNumber("MIN_COVERAGE", "Minimum covered share of a target layer",
                                                QgsProcessingParameterNumber.Double, 1.0)
        coverage.setMinimum(0.0)
        coverage.setMaximum(1.0)
        self.addParameter(coverage)
        self.addParameter(enum_parameter("ORGANIC", "Target layers: layers above the mineral surface (negative depths)",
                                         ORGANIC))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", "Bulk soil inputs", QgsProcessing.TypeVector))

    def compute(self, parameters, context, feedback):
        from ...core.balance import bulk_inputs_table

        source = self.parameterAsSource(parameters, INPUT, context)
        columns = [field(self, parameters, context, name) for name, _, _ in FIELDS]
        units = [enum_code(self, parameters, context, name, choices) for name, _, choices, _ in UNITS]
        layers = self.parameterAsString(parameters, "LAYERS", context).strip() or None
        out, notes = bulk_inputs_table(source_to_table(source, feedback), *columns, *units, layers,
                                       field(self, parameters, context, "ID_FIELD"),
                                       self.parameterAsDouble(parameters, "MIN_COVERAGE", context),
                                       enum_code(self, parameters, context, "ORGANIC", ORGANIC),
                                       **core_callbacks(feedback, end=90))
        push_notes(feedback, notes)
        return {"OUTPUT": table_to_sink(self, parameters, "OUTPUT", context, out, source)}
