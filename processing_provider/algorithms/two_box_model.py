"""Processing algorithm wholesoil:twoboxmodel."""

from qgis.core import (QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterNumber)

from ..algorithm import WholesoilAlgorithm, core_callbacks
from ..balance_base import BALANCE_GROUP, add_field, field
from ..parameters import INPUT, OUTPUT_HTML, add_html_output, advanced, html_output, push_notes
from ..qgis_io import source_to_table, table_to_sink

FIELDS = (("YEAR_FIELD", "Year field", "year"), ("NPP_FIELD", "NPP field", "npp"),
          ("TAU_VEG_FIELD", "Simulated τ_veg field (yr)", "tau_veg"),
          ("TAU_SOIL_FIELD", "Simulated τ_soil field (yr)", "tau_soil"))
NUMBERS = (("REFERENCE_FIRST", "First year of the reference period", 1982),
           ("REFERENCE_LAST", "Last year of the reference period", 2018),
           ("TAU_VEG_MEAN", "Observed τ_veg: mean (yr)", 10.3), ("TAU_VEG_SD", "Observed τ_veg: sd (yr)", 1.4),
           ("TAU_SOIL_MEAN", "Observed τ_soil: mean (yr)", 38.3), ("TAU_SOIL_SD", "Observed τ_soil: sd (yr)", 11.0),
           ("DRAWS", "Draws of each τ (draws x draws runs)", 100), ("SEED", "Random seed", 0))


class TwoBoxModel(WholesoilAlgorithm):
    NAME = "twoboxmodel"
    DISPLAY_NAME = "Two-box model"
    GROUP, GROUP_ID = BALANCE_GROUP
    TAGS = ("turnover", "tau", "vegetation carbon", "soil carbon", "DGVM", "TRENDY", "bias correction",
            "Monte Carlo", "heterotrophic respiration", "Rh")
    REFERENCES = ("he_rh",)
    HELP = """
The 2-box vegetation-soil carbon model of He et al. (Rh manuscript, eq. 3): dcVeg/dt = NPP - cVeg/τ_veg, dcSoil/dt =
cVeg/τ_veg - cSoil/τ_soil, in yearly steps from a steady state in the first year (cVeg = NPP τ_veg, cSoil = NPP
τ_soil). Input: one feature per consecutive year with NPP and simulated turnover times (for example a DGVM's global
means).

Bias correction (eqs. 4-5): τ(t) = (τ_obs - mean simulated τ over the reference years) + τ_sim(t). Monte Carlo:
τ_veg ~ N(10.3, 1.4) and τ_soil ~ N(38.3, 11) yr by default, draws x draws combinations (100 x 100) from a seeded
random generator; draws that would make a corrected τ shorter than 1 yr in some year are redrawn.

Output per year: npp, cveg_sim, csoil_sim, ctotal_sim (uncorrected) and the ensemble mean and sd of cveg, csoil and
ctotal. The HTML report plots them.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Yearly series", [QgsProcessing.TypeVector]))
        for name, description, default in FIELDS:
            add_field(self, name, description, default)
        for name, description, default in NUMBERS:
            kind = QgsProcessingParameterNumber.Integer if isinstance(default, int) else \
                QgsProcessingParameterNumber.Double
            number = QgsProcessingParameterNumber(name, description, kind, default)
            self.addParameter(advanced(number) if name in ("DRAWS", "SEED") else number)
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", "Carbon stocks per year",
                                                            QgsProcessing.TypeVector))
        add_html_output(self)

    def compute(self, parameters, context, feedback):
        from ...core.balance import two_box_figure, two_box_table
        from ...core.plots import html_image, html_table, write_html_report

        columns = [field(self, parameters, context, name) for name, _, _ in FIELDS]
        value = {name: self.parameterAsDouble(parameters, name, context) for name, _, _ in NUMBERS}
        out, notes = two_box_table(
            source_to_table(self.parameterAsSource(parameters, INPUT, context), feedback), *columns,
            reference=(value["REFERENCE_FIRST"], value["REFERENCE_LAST"]),
            tau_veg_obs=(value["TAU_VEG_MEAN"], value["TAU_VEG_SD"]),
            tau_soil_obs=(value["TAU_SOIL_MEAN"], value["TAU_SOIL_SD"]), draws=int(value["DRAWS"]),
            seed=int(value["SEED"]), **core_callbacks(feedback, end=90))
        push_notes(feedback, notes)
        results = {"OUTPUT": table_to_sink(self, parameters, "OUTPUT", context, out)}
        html = html_output(self, parameters, context)
        if html:
            write_html_report(html, self.DISPLAY_NAME,
                              [html_image(two_box_figure(out), "2-box model"), html_table(out)])
            results[OUTPUT_HTML] = html
        return results
