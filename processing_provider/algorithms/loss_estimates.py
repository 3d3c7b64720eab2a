"""Processing algorithm wholesoil:lossestimates."""

from qgis.core import QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource

from ..algorithm import WholesoilAlgorithm
from ..balance_base import BALANCE_GROUP, BALANCE_TAGS, add_field, field
from ..parameters import push_notes
from ..parameters import INPUT
from ..qgis_io import source_to_table, table_to_sink

#: The inputs of the six estimates (core.balance.ESTIMATE_INPUTS) with their descriptions.
ESTIMATE_FIELDS = (("bnpp_obs", "Observed BNPP field (Mg C ha-1 yr-1)"),
                   ("bnpp_pred", "Predicted BNPP field (Mg C ha-1 yr-1)"), ("npp", "NPP field (Mg C ha-1 yr-1)"),
                   ("fbnpp_obs", "Observed fBNPP field (fraction)"), ("fbnpp_pred", "Predicted fBNPP field (fraction)"),
                   ("pdd_obs", "Observed depth fraction (PDD) field"),
                   ("pdd_pred", "Predicted depth fraction (PDD) field"),
                   ("ibulk_obs", "Observed Ibulk field (Mg C ha-1 yr-1)"),
                   ("ibulk_pred", "Predicted Ibulk field (Mg C ha-1 yr-1)"))


class LossEstimates(WholesoilAlgorithm):
    NAME = "lossestimates"
    DISPLAY_NAME = "Six Iloss estimates"
    GROUP, GROUP_ID = BALANCE_GROUP
    TAGS = BALANCE_TAGS + ("fBNPP", "PDD", "uncertainty")
    REFERENCES = ("luo_iloss",)
    HELP = """
The six independent estimates of the direct loss of root-derived carbon of Luo et al. (Iloss manuscript, Extended Data
Table 1), from whichever inputs you have (fluxes in Mg C ha-1 yr-1, PDD = depth fraction and fBNPP as fractions).

1: observed BNPP x predicted PDD - predicted Ibulk; 2: NPP x observed fBNPP x predicted PDD - predicted Ibulk (NPP
sites). 3: predicted BNPP x observed PDD - observed Ibulk; 4: NPP x predicted fBNPP x observed PDD - observed Ibulk
(radiocarbon sites). 5: predicted BNPP x observed PDD - predicted Ibulk; 6: NPP x predicted fBNPP x observed PDD -
predicted Ibulk (root sites).

Impossible values (negative or infinite fluxes, fBNPP or PDD outside 0-1) leave their feature without a result and
are listed in a warning. Every estimate whose inputs are all given is computed: output fields iroot_eN, iloss_eN and
iloss_fraction_eN. The cross table (SUMMARY) has one row per estimate: label, n, mean Iroot, Ibulk and Iloss (over
the profile sums when a profile id field is given) and Iloss / Iroot of those means.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Sites and layers", [QgsProcessing.TypeVector]))
        for name, description in ESTIMATE_FIELDS:
            add_field(self, name.upper(), description)
        add_field(self, "ID_FIELD", "Profile or site id field", numeric=False)
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", "Iloss estimates", QgsProcessing.TypeVector))
        self.addParameter(QgsProcessingParameterFeatureSink("SUMMARY", "Cross table of the estimates",
                                                            QgsProcessing.TypeVector))

    def compute(self, parameters, context, feedback):
        from ...core.balance import loss_estimates_table

        source = self.parameterAsSource(parameters, INPUT, context)
        columns = {name: field(self, parameters, context, name.upper()) for name, _ in ESTIMATE_FIELDS}
        out, summary, notes = loss_estimates_table(source_to_table(source, feedback), columns,
                                                   field(self, parameters, context, "ID_FIELD"))
        push_notes(feedback, notes)
        for _, row in summary.iterrows():
            feedback.pushInfo(f"estimate {row['estimate']}: Iloss/Iroot {row['iloss_fraction']:.3f} (n {row['n']})")
        return {"OUTPUT": table_to_sink(self, parameters, "OUTPUT", context, out, source),
                "SUMMARY": table_to_sink(self, parameters, "SUMMARY", context, summary)}
