"""Processing algorithm wholesoil:partitiontotal."""

from qgis.core import (QgsProcessing, QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterField, QgsProcessingParameterRasterDestination,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString)

from ...core.errors import InputError
from ..algorithm import raster_file
from ..depth_fractions_base import OUTPUT, OUTPUT_RASTER
from ..parameters import INPUT, add_value_parameter, hidden, push_notes, table_with_values, value_parameter
from ..partition_base import PARTITION_HELP, PartitionBase
from ..qgis_io import table_to_sink


class PartitionTotal(PartitionBase):
    NAME = "partitiontotal"
    DISPLAY_NAME = "Partition a total over depth"
    HELP = PARTITION_HELP + """
The total is a number, data-defined per feature (the button next to it: a field or an expression); the fractions are
fields of the input table (by default every field named frac_top_bottom, as Depth fractions writes them). The output
is the input table plus PREFIX_top_bottom fields.

For maps use Partition a total over depth, rasters. The former raster mode (TOTAL_RASTER, FRACTIONS, OUTPUT_RASTER)
and TOTAL_FIELD still work from scripts and qgis_process.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(
            INPUT, "Input table with fraction fields", [QgsProcessing.TypeVector], optional=True))
        add_value_parameter(self, "TOTAL", "Total to partition", None)
        self.addParameter(QgsProcessingParameterField(
            "FRACTION_FIELDS", "Fraction fields in depth order (default: all frac_* fields)",
            parentLayerParameterName=INPUT, type=QgsProcessingParameterField.Numeric, allowMultiple=True,
            optional=True))
        self.addParameter(QgsProcessingParameterString("PREFIX", "Prefix of the output fields",
                                                       defaultValue="part"))
        self.addParameter(QgsProcessingParameterFeatureSink(
            OUTPUT, "Partitioned total (one field per layer)", QgsProcessing.TypeVector, optional=True))
        self.addParameter(hidden(QgsProcessingParameterRasterLayer(
            "FRACTIONS", "Fraction raster (former raster mode)", optional=True)))
        self.addParameter(hidden(QgsProcessingParameterRasterDestination(
            OUTPUT_RASTER, "Partitioned raster (former raster mode)", optional=True, createByDefault=False)))

    def compute(self, parameters, context, feedback):
        prefix = self.parameterAsString(parameters, "PREFIX", context) or "part"
        fractions = self.parameterAsRasterLayer(parameters, "FRACTIONS", context)
        kind, total = value_parameter(self, parameters, context, "TOTAL")
        if kind == "raster" or fractions is not None:
            if kind == "field":
                raise InputError("a fraction raster needs the total as a raster or a number, not a field")
            output = self.parameterAsOutputLayer(parameters, OUTPUT_RASTER, context)
            if not output:
                raise InputError("raster inputs: set OUTPUT_RASTER, or use wholesoil:partitiontotalraster")
            return {OUTPUT_RASTER: self.write_partition_raster(total, fractions and raster_file(fractions), prefix,
                                                               output, feedback)}
        from ...core.partitioning import fraction_columns, partial_fractions_note, table_partition_total

        source = self.parameterAsSource(parameters, INPUT, context)
        if source is None:
            raise InputError("give the input table (for rasters use wholesoil:partitiontotalraster)")
        if parameters.get(OUTPUT) is None:
            raise InputError("table input: set the output 'Partitioned total'")
        table, values, added = table_with_values(self, parameters, context, ["TOTAL"], source, feedback)
        columns = self.parameterAsFields(parameters, "FRACTION_FIELDS", context) or fraction_columns(table)
        if not columns:
            raise InputError("the input table has no frac_top_bottom fields; choose the fraction fields")
        result = table_partition_total(table, values["total"], columns, prefix).drop(columns=added)
        push_notes(feedback, [partial_fractions_note(table, columns)])
        return {OUTPUT: table_to_sink(self, parameters, OUTPUT, context, result, source)}
