"""Processing algorithm wholesoil:radiocarbonage."""

from qgis.core import (QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterString)

from ..algorithm import WholesoilAlgorithm, core_callbacks
from ..balance_base import RADIOCARBON_GROUP, RADIOCARBON_TAGS, add_field, add_model_parameters, field, model_parameters
from ..parameters import (INPUT, OUTPUT_HTML, add_html_output, advanced, enum_code, enum_parameter, html_output,
                          push_notes)
from ..qgis_io import source_to_table, table_to_sink


#: core.radiocarbon.PREFER with its labels.
PREFER = (("d14c", "Δ14C (‰)"), ("fm", "fraction modern (Fm)"))


class RadiocarbonAge(WholesoilAlgorithm):
    NAME = "radiocarbonage"
    DISPLAY_NAME = "Radiocarbon age"
    GROUP, GROUP_ID = RADIOCARBON_GROUP
    TAGS = RADIOCARBON_TAGS
    REFERENCES = ("luo_iloss", "hua2022", "graven2017")
    HELP = """
Radiocarbon age (turnover time) of bulk soil carbon in each layer with the one-pool model dA/dt = k A_atm - (k + λ)
A, λ = 1/8267 yr-1, as in Luo et al. (Iloss manuscript). Steady state with the pre-bomb atmosphere (default 0 ‰)
through 1949; from 1950 each calendar year's atmospheric value of the sample's zone is held constant within the year
and the model is solved exactly; it is read at mid-year of the sampling year. Samples taken before 1950 use the
steady-state formula.

Every decay rate k that reproduces the measured Δ14C is found (after the bomb there are often a fast and a slow
one). Output fields: k_slow and age_slow_yr (the smallest k: the default age), k_fast and age_fast_yr (the largest
k, only when there are two or more roots), n_roots and status: ok, two_roots, extrapolated_curve (sampled after the
end of the record: the atmosphere was extrapolated with an exponential decline fitted to its last 10 years),
out_of_range (no k reproduces the value: no age), missing_input or impossible_input; zone, atm_d14c and
d14c_fm_diff.

The fields default to ISRaD's names (lyr_14c, lyr_fraction_modern, lyr_obs_date_y, pro_lat), so an ISRaD layer table
works as it is. Δ14C (‰) is used where given, else the fraction modern converted with the sampling year ("use fm":
the reverse). Features whose Δ14C and Fm differ by more than 1 ‰ are listed in a warning (field d14c_fm_diff has
each difference), as is a Δ14C field that looks like fraction modern (every value between 0 and 2).

Impossible values (Δ14C below -1000 ‰, negative Fm, sampling years outside 1800 to this year, latitudes beyond ±90°)
leave their feature without an age (status impossible_input) and are listed in a warning. Fields zone and atm_d14c
record the zone and the atmospheric Δ14C (‰) that forced the model in the sampling year.

Pre-bomb atmosphere: the constant (default 0 ‰, the published convention), or with "Pre-bomb history" the history
itself: IntCal20 (northern zones) / SHCal20 (southern zones) to 1849, Graven et al. (2017) from 1850, spun up from
steady state 55,000 years ago (shipped records only). It changes ages by a few per cent (docs/radiocarbon.md).

Zone: from the zone field where given (ISRaD's pro_graven_zone names work with Graven 2017), else from latitude. Hua
et al. (2022): NH1 from 40° N, NH2 20-40° N, NH3 0-20° N, SH12 0-40° S, SH3 beyond 40° S. Graven et al. (2017): NH
from 30° N, Tropics 30° S-30° N, SH beyond 30° S. An own record is a CSV with a year column and one Δ14C column per
zone.

The optional HTML report plots one profile (the Profile id, or the first profile with an age): Δ14C, age and Ibulk
(when ISRaD stock columns are present) against depth, and the forward model Δ14C(k) with the measured values and
their roots.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Soil layers with radiocarbon",
                                                              [QgsProcessing.TypeVector]))
        add_field(self, "D14C_FIELD", "Δ14C field (‰)", "lyr_14c")
        add_field(self, "FM_FIELD", "Fraction modern field (used where Δ14C is empty)", "lyr_fraction_modern")
        self.addParameter(enum_parameter("PREFER", "Where a feature has both Δ14C and Fm, use", PREFER))
        add_model_parameters(self)
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", "Radiocarbon ages", QgsProcessing.TypeVector))
        add_html_output(self, "Radiocarbon age: profile plot (HTML)")
        add_field(self, "ID_FIELD", "Profile id field (plot)", "profile_id", numeric=False)
        add_field(self, "TOP_FIELD", "Layer top field, cm (plot)", "lyr_top")
        add_field(self, "BOTTOM_FIELD", "Layer bottom field, cm (plot)", "lyr_bot")
        self.addParameter(advanced(QgsProcessingParameterString(
            "PROFILE", "Profile id to plot (default: the first with an age)", optional=True)))

    def compute(self, parameters, context, feedback):
        from ...core.plots import html_image, html_table, write_html_report
        from ...core.radiocarbon import AGE_COLUMNS, profile_plot, radiocarbon_age_table

        source = self.parameterAsSource(parameters, INPUT, context)
        table = source_to_table(source, feedback)
        model = model_parameters(self, parameters, context)
        d14c_col, fm_col = (field(self, parameters, context, name) for name in ("D14C_FIELD", "FM_FIELD"))
        html = html_output(self, parameters, context)
        # the report's forward curves take as long as the ages: the ages fill the bar to 50 % then
        prefer = enum_code(self, parameters, context, "PREFER", PREFER)
        out, notes = radiocarbon_age_table(table, d14c_col, fm_col, **model, prefer=prefer,
                                           **core_callbacks(feedback, end=50 if html else 90))
        counts = out["status"].value_counts()
        feedback.pushInfo("Status: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
        push_notes(feedback, notes)
        report = None
        if html:  # built before the table is written: a bad profile id must leave no output
            ids = {name: field(self, parameters, context, name) for name in ("ID_FIELD", "TOP_FIELD", "BOTTOM_FIELD")}
            figure, rows, profile = profile_plot(
                table, out, self.parameterAsString(parameters, "PROFILE", context) or None, ids["ID_FIELD"],
                ids["TOP_FIELD"], ids["BOTTOM_FIELD"], d14c_col, fm_col, **model, prefer=prefer)
            shown = out.iloc[rows][[c for c in (ids["TOP_FIELD"], ids["BOTTOM_FIELD"]) if c] +
                                   list(AGE_COLUMNS)]
            report = [html_image(figure, "profile"), html_table(shown)]
        results = {"OUTPUT": table_to_sink(self, parameters, "OUTPUT", context, out, source)}
        if report:
            write_html_report(html, f"{self.DISPLAY_NAME}: {profile}", report)
            results[OUTPUT_HTML] = html
        return results
