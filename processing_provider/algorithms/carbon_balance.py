"""Processing algorithm wholesoil:carbonbalance."""

from qgis.core import QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource

from ..algorithm import WholesoilAlgorithm
from ..balance_base import BALANCE_GROUP, BALANCE_TAGS, add_field, field
from ..parameters import push_notes
from ..parameters import INPUT
from ..qgis_io import source_to_table, table_to_sink

FIELDS = (("IBULK_FIELD", "Ibulk field (Mg C ha-1 yr-1)", "ibulk_mg_ha_yr"),
          ("IROOT_FIELD", "Iroot field (instead of BNPP x depth fraction)", None),
          ("BNPP_FIELD", "BNPP field (Mg C ha-1 yr-1)", None), ("NPP_FIELD", "NPP field (with fBNPP)", None),
          ("FBNPP_FIELD", "fBNPP field (belowground share of NPP)", None),
          ("FRACTION_FIELD", "Depth fraction field of the layer (PDD)", None))


class CarbonBalance(WholesoilAlgorithm):
    NAME = "carbonbalance"
    DISPLAY_NAME = "Carbon balance (Iroot, Iloss)"
    GROUP, GROUP_ID = BALANCE_GROUP
    TAGS = BALANCE_TAGS
    REFERENCES = ("luo_iloss",)
    HELP = """
Root-derived carbon inputs and their direct loss by layer and profile, as in Luo et al. (Iloss manuscript): Iroot =
BNPP x depth fraction of the layer (BNPP = NPP x fBNPP when only those are given, or an Iroot field), Iloss = Iroot
- Ibulk and Iloss / Iroot, fluxes in Mg C ha-1 yr-1. Iloss can be negative (downward transport into a layer).

One feature per layer. Output fields: iroot_mg_ha_yr, iloss_mg_ha_yr (Mg C ha-1 yr-1, megagrams per hectare and
year), iloss_fraction; with a profile id field also the profile sums over the layers with both values:
iroot_profile, ibulk_profile, iloss_profile, iloss_fraction_profile, and what they cover: profile_top_cm and
profile_bottom_cm (from the layer top and bottom fields), profile_layers (layers summed) and complete (every layer
of the profile summed, joined without gaps from the surface down).

Impossible values (negative or infinite fluxes, fractions outside 0-1) leave their feature without a result and are
listed in a warning.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Layers", [QgsProcessing.TypeVector]))
        for name, description, default in FIELDS:
            add_field(self, name, description, default)
        add_field(self, "ID_FIELD", "Profile id field (adds profile sums)", numeric=False)
        add_field(self, "TOP_FIELD", "Layer top field, cm (depths of the profile sums)", "lyr_top")
        add_field(self, "BOTTOM_FIELD", "Layer bottom field, cm", "lyr_bot")
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", "Carbon balance", QgsProcessing.TypeVector))

    def compute(self, parameters, context, feedback):
        from ...core.balance import carbon_balance_table

        source = self.parameterAsSource(parameters, INPUT, context)
        ibulk, iroot, bnpp, npp, fbnpp, fraction = (field(self, parameters, context, name) for name, _, _ in FIELDS)
        out, notes = carbon_balance_table(source_to_table(source, feedback), ibulk, iroot, bnpp, npp, fbnpp, fraction,
                                          *(field(self, parameters, context, name)
                                            for name in ("ID_FIELD", "TOP_FIELD", "BOTTOM_FIELD")))
        push_notes(feedback, notes)
        return {"OUTPUT": table_to_sink(self, parameters, "OUTPUT", context, out, source)}
