"""Processing algorithm wholesoil:radiocarbonforward."""

from qgis.core import QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource

from ..algorithm import WholesoilAlgorithm
from ..balance_base import RADIOCARBON_GROUP, RADIOCARBON_TAGS, add_field, add_model_parameters, field, model_parameters
from ..parameters import INPUT, push_notes
from ..qgis_io import source_to_table, table_to_sink


class RadiocarbonForward(WholesoilAlgorithm):
    NAME = "radiocarbonforward"
    DISPLAY_NAME = "Radiocarbon forward model"
    GROUP, GROUP_ID = RADIOCARBON_GROUP
    TAGS = RADIOCARBON_TAGS
    REFERENCES = ("luo_iloss", "hua2022", "graven2017")
    HELP = """
Modelled bulk-soil Δ14C (‰) for a decay rate k (yr-1) or a turnover time (yr) given per feature, with the one-pool
model of Radiocarbon age (same sampling year, zone, atmospheric record, pre-bomb Δ14C and lag).

Give either the decay-rate field or the turnover-time field. Output fields: d14c_model, status (ok,
extrapolated_curve when the sample is after the end of the record, missing_input, impossible_input: a decay rate or
turnover time that is not positive, a sampling year outside 1800 to this year or a latitude beyond ±90°), zone and
atm_d14c (the zone and the atmospheric Δ14C, ‰, forcing the model in the sampling year).
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Input table", [QgsProcessing.TypeVector]))
        add_field(self, "K_FIELD", "Decay rate field (yr-1)")
        add_field(self, "AGE_FIELD", "Turnover time field (yr)")
        add_model_parameters(self)
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", "Modelled Δ14C", QgsProcessing.TypeVector))

    def compute(self, parameters, context, feedback):
        from ...core.radiocarbon import radiocarbon_forward_table

        source = self.parameterAsSource(parameters, INPUT, context)
        out, notes = radiocarbon_forward_table(source_to_table(source, feedback),
                                               field(self, parameters, context, "K_FIELD"),
                                               field(self, parameters, context, "AGE_FIELD"),
                                               **model_parameters(self, parameters, context))
        push_notes(feedback, notes)
        return {"OUTPUT": table_to_sink(self, parameters, "OUTPUT", context, out, source)}
