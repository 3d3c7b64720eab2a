"""Processing algorithm wholesoil:partitiontotal."""

from qgis.core import (QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterField, QgsProcessingParameterRasterDestination,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString)

from ...core.errors import InputError
from ...core.partitioning import (fraction_columns, fractions_raster_note, partial_fractions_note,
                                  raster_partition_total, table_partition_total)
from ..algorithm import WholesoilAlgorithm
from ..depth_fractions_base import OUTPUT, OUTPUT_RASTER, raster_engine
from ..parameters import INPUT, add_value_parameter, push_notes, value_parameter
from ..qgis_io import source_to_table, table_to_sink


class PartitionTotal(WholesoilAlgorithm):
    NAME = "partitiontotal"
    DISPLAY_NAME = "Partition a total over depth"
    GROUP = "Depth partitioning"
    GROUP_ID = "depth"
    HELP = """
Splits a profile total (for example BNPP in Mg C ha-1 yr-1, or a carbon stock) over depth layers: value in layer = total x fraction of the layer.
Rasters: the total is a raster or a number and the fractions are a raster with one band per layer, such as the output of Depth fractions (logistic) or (β). The output has one band per layer, named PREFIX_top_bottom when the fraction raster records its layers. A single-band raster that records no layers (such as a β map) is refused: turn it into fractions first. When the fractions cover only part of the profile they are shares of (for example layers 30-100 cm of the 0-200 cm profile), or fraction fields sum to less than 1, the log says so: the parts then hold only that share of the total.
Tables: the total is a field or a number and the fractions are fields of the input table (by default every field named frac_top_bottom, as Depth fractions writes them). The output is the input table plus PREFIX_top_bottom fields.
Rasters must share CRS, extent and pixel size; nodata in any input gives nodata out.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(
            INPUT, "Input table (table mode)", [QgsProcessing.TypeVector], optional=True))
        add_value_parameter(self, "TOTAL", "Total to partition", None)
        self.addParameter(QgsProcessingParameterRasterLayer(
            "FRACTIONS", "Fraction raster, one band per layer (raster mode)", optional=True))
        self.addParameter(QgsProcessingParameterField(
            "FRACTION_FIELDS", "Fraction fields in depth order (table mode; default: all frac_* fields)",
            parentLayerParameterName=INPUT, type=QgsProcessingParameterField.Numeric, allowMultiple=True,
            optional=True))
        self.addParameter(QgsProcessingParameterString("PREFIX", "Prefix of the output fields/bands",
                                                       defaultValue="part"))
        self.addParameter(QgsProcessingParameterFeatureSink(
            OUTPUT, "Partitioned table", QgsProcessing.TypeVector, optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterRasterDestination(
            OUTPUT_RASTER, "Partitioned raster (one band per layer)", optional=True, createByDefault=False))

    def compute(self, parameters, context, feedback):
        kind, total = value_parameter(self, parameters, context, "TOTAL")
        prefix = self.parameterAsString(parameters, "PREFIX", context) or "part"
        fractions = self.parameterAsRasterLayer(parameters, "FRACTIONS", context)
        if kind == "raster" or fractions is not None:
            if fractions is None:
                raise InputError("a raster total needs the fraction raster (FRACTIONS)")
            if kind == "field":
                raise InputError("a fraction raster needs the total as a raster or a number, not a field")
            output = self.parameterAsOutputLayer(parameters, OUTPUT_RASTER, context)
            if not output:
                raise InputError("raster inputs: set the output 'Partitioned raster'")
            raster_partition_total(total, output, fractions.source(), prefix=prefix, **raster_engine(feedback))
            push_notes(feedback, [fractions_raster_note(fractions.source())])
            return {OUTPUT_RASTER: output}
        source = self.parameterAsSource(parameters, INPUT, context)
        if source is None:
            raise InputError("give an input table (table mode) or a fraction raster (raster mode)")
        if parameters.get(OUTPUT) is None:
            raise InputError("table input: set the output 'Partitioned table'")
        table = source_to_table(source, feedback)
        columns = self.parameterAsFields(parameters, "FRACTION_FIELDS", context) or fraction_columns(table)
        if not columns:
            raise InputError("the input table has no frac_top_bottom fields; choose the fraction fields")
        result = table_partition_total(table, total, columns, prefix)
        push_notes(feedback, [partial_fractions_note(table, columns)])
        return {OUTPUT: table_to_sink(self, parameters, OUTPUT, context, result, source)}
