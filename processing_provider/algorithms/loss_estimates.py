"""Processing algorithm wholesoil:lossestimates."""

from qgis.core import QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource

from ...core.balance import ESTIMATE_INPUTS, loss_estimates_table
from ..algorithm import WholesoilAlgorithm
from ..balance_base import BALANCE_GROUP, add_field, field, push_notes
from ..parameters import INPUT
from ..qgis_io import source_to_table, table_to_sink


class LossEstimates(WholesoilAlgorithm):
    NAME = "lossestimates"
    DISPLAY_NAME = "Six Iloss estimates"
    GROUP, GROUP_ID = BALANCE_GROUP
    HELP = """
The six independent estimates of the direct loss of root-derived carbon of the Iloss study (Extended Data Table 1), from whichever inputs you have (fluxes in Mg C ha-1 yr-1, PDD = depth fraction and fBNPP as fractions).
1: observed BNPP x predicted PDD - predicted Ibulk; 2: NPP x observed fBNPP x predicted PDD - predicted Ibulk (NPP sites). 3: predicted BNPP x observed PDD - observed Ibulk; 4: NPP x predicted fBNPP x observed PDD - observed Ibulk (radiocarbon sites). 5: predicted BNPP x observed PDD - predicted Ibulk; 6: NPP x predicted fBNPP x observed PDD - predicted Ibulk (root sites).
Impossible values (negative or infinite fluxes, fBNPP or PDD outside 0-1) leave their feature without a result and are listed in a warning. Every estimate whose inputs are all given is computed: output fields iroot_eN, iloss_eN and iloss_fraction_eN. The cross table (SUMMARY) has one row per estimate: label, n, mean Iroot, Ibulk and Iloss (over the profile sums when a profile id field is given) and Iloss / Iroot of those means.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Sites and layers", [QgsProcessing.TypeVector]))
        for name in ESTIMATE_INPUTS:
            add_field(self, name.upper(), f"{name} field")
        add_field(self, "ID_FIELD", "Profile or site id field", numeric=False)
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", "Iloss estimates", QgsProcessing.TypeVector))
        self.addParameter(QgsProcessingParameterFeatureSink("SUMMARY", "Cross table of the estimates",
                                                            QgsProcessing.TypeVector))

    def compute(self, parameters, context, feedback):
        source = self.parameterAsSource(parameters, INPUT, context)
        columns = {name: field(self, parameters, context, name.upper()) for name in ESTIMATE_INPUTS}
        out, summary, notes = loss_estimates_table(source_to_table(source, feedback), columns,
                                                   field(self, parameters, context, "ID_FIELD"))
        push_notes(feedback, notes)
        for _, row in summary.iterrows():
            feedback.pushInfo(f"estimate {row['estimate']}: Iloss/Iroot {row['iloss_fraction']:.3f} (n {row['n']})")
        return {"OUTPUT": table_to_sink(self, parameters, "OUTPUT", context, out, source),
                "SUMMARY": table_to_sink(self, parameters, "SUMMARY", context, summary)}
