"""Shared bodies of the "Depth fractions" algorithms (logistic and β models).

The table algorithms (``depthfractionslogistic``, ``depthfractionsbeta``) take each model
parameter as a number, data-defined per feature by a field or an expression of the input
table: with an input table the result is that table plus one fraction field per layer;
without one, the fractions of the numbers are reported (log, FRACTIONS output, HTML report).
The raster algorithms (``...raster``) write one fraction band per layer. The former raster
mode of the table algorithms (``NAME_RASTER``, ``OUTPUT_RASTER``) stays accepted, hidden.
"""

import os

from qgis.core import (QgsProcessing, QgsProcessingOutputString, QgsProcessingParameterFeatureSink,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterRasterDestination)

from ..core.errors import InputError
from .algorithm import WholesoilAlgorithm, core_callbacks
from .parameters import (INPUT, OUTPUT_HTML, add_html_output, add_layers_parameter, add_normalize_parameter,
                         add_profile_depth_parameter, add_raster_value, add_value_parameter, hidden, html_output,
                         layers_parameter, push_notes, raster_output, raster_value, table_with_values,
                         value_parameter)

OUTPUT = "OUTPUT"
OUTPUT_RASTER = "OUTPUT_RASTER"
FRACTIONS = "FRACTIONS"
ID_FIELD = "ID_FIELD"
#: Curves drawn in a table report.
MAX_REPORT_PROFILES = 12


def raster_engine(feedback):
    """Keyword arguments for core raster work inside QGIS: threads only, never processes."""
    return {"n_jobs": max(1, os.cpu_count() or 1), "backend": "threading", **core_callbacks(feedback)}


class DepthFractionsBase(WholesoilAlgorithm):
    """Common parts: subclasses set MODEL and PARAMETERS = ((NAME, description, default, min, max), ...)."""

    GROUP = "Depth partitioning"
    GROUP_ID = "depth"
    MODEL = ""
    PARAMETERS = ()
    TAGS = ("roots", "BNPP", "belowground NPP", "root distribution", "depth distribution", "soil carbon",
            "partitioning", "layers")
    RASTER_UNITS = {OUTPUT: "fraction", OUTPUT_RASTER: "fraction"}

    def layer_options(self, parameters, context):
        """(layer scheme, normalize, profile depth in cm) of the run."""
        return (layers_parameter(self, parameters, context), self.parameterAsBoolean(parameters, "NORMALIZE", context),
                self.parameterAsDouble(parameters, "PROFILE_DEPTH", context))

    def write_fraction_raster(self, values, output, options, feedback):
        """Write the fraction raster of ``values`` (name -> raster path or number); returns the band means."""
        from ..core.depth import coverage_note
        from ..core.partitioning import raster_fractions

        run = raster_fractions(self.MODEL, values, output, *options, **raster_engine(feedback))
        push_notes(feedback, [coverage_note(*options)])
        return run.mean

    def write_report(self, path, scheme, profiles):
        import pandas as pd

        from ..core.plots import depth_fractions_figure, html_image, html_table, write_html_report

        figure = depth_fractions_figure(scheme, profiles, f"Depth fractions ({self.MODEL} model)")
        table = pd.DataFrame({"layer (cm)": scheme.labels, **{str(k): v for k, v in profiles.items()}})
        write_html_report(path, self.DISPLAY_NAME, [html_image(figure, "depth fractions"), html_table(table)])


class DepthFractionsAlgorithm(DepthFractionsBase):
    """Table and numbers: a fraction field per layer, or the fractions of the numbers."""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(
            INPUT, "Input table (empty: use the numbers)",
            [QgsProcessing.TypeVector], optional=True))
        for name, description, default, minimum, maximum in self.PARAMETERS:
            add_value_parameter(self, name, description, default, minimum, maximum)
        add_layers_parameter(self)
        add_normalize_parameter(self)
        add_profile_depth_parameter(self)
        self.addParameter(QgsProcessingParameterField(
            ID_FIELD, "Id field naming the report's curves",
            parentLayerParameterName=INPUT, optional=True))
        self.addParameter(QgsProcessingParameterFeatureSink(
            OUTPUT, "Depth fractions (one field per layer)", QgsProcessing.TypeVector, optional=True,
            createByDefault=False))
        self.addParameter(hidden(QgsProcessingParameterRasterDestination(
            OUTPUT_RASTER, "Fraction raster (former raster mode)", optional=True, createByDefault=False)))
        add_html_output(self)
        self.addOutput(QgsProcessingOutputString(FRACTIONS, "Fractions per layer (numbers mode)"))

    def compute(self, parameters, context, feedback):
        options = self.layer_options(parameters, context)
        scheme = options[0]
        names = [name for name, *_ in self.PARAMETERS]
        html = html_output(self, parameters, context)
        if any(value_parameter(self, parameters, context, name)[0] == "raster" for name in names):
            return self._former_raster_mode(parameters, context, feedback, names, options, html)
        source = self.parameterAsSource(parameters, INPUT, context)
        if source is None:
            return self._numbers(parameters, context, feedback, names, options, html)
        from ..core.depth import coverage_note
        from ..core.partitioning import FRACTION_PREFIX, table_fractions

        if parameters.get(OUTPUT) is None:
            raise InputError("table input: set the output 'Depth fractions'")
        table, values, added = table_with_values(self, parameters, context, names, source, feedback)
        fractions = table_fractions(table, self.MODEL, values, *options[:2], profile_depth=options[2]).drop(
            columns=added)
        push_notes(feedback, [coverage_note(*options)])
        results = {OUTPUT: self.table_output(parameters, context, fractions, source)}
        if html:
            ids = self.parameterAsFields(parameters, ID_FIELD, context)
            labels = fractions[ids[0]] if ids else [f"feature {i + 1}" for i in range(len(fractions))]
            rows = fractions[scheme.column_names(FRACTION_PREFIX)].to_numpy()
            shown = list(zip(labels, rows))[:MAX_REPORT_PROFILES]
            self.write_report(html, scheme, {str(label): row for label, row in shown})
            results[OUTPUT_HTML] = html
        return results

    def table_output(self, parameters, context, table, source):
        from .qgis_io import table_to_sink

        return table_to_sink(self, parameters, OUTPUT, context, table, source)

    def _numbers(self, parameters, context, feedback, names, options, html):
        from ..core.depth import coverage_note
        from ..core.partitioning import model_fractions

        scheme = options[0]
        given = {name: value_parameter(self, parameters, context, name) for name in names}
        if any(kind not in ("number",) for kind, _ in given.values()):
            raise InputError("fields and expressions need an input table")
        values = {name.lower(): value for name, (_, value) in given.items()}
        fractions = model_fractions(self.MODEL, values, *options[:2], profile_depth=options[2])
        push_notes(feedback, [coverage_note(*options, fractions)])
        text = "; ".join(f"{label} cm: {value:.4f}" for label, value in zip(scheme.labels, fractions))
        feedback.pushInfo(f"Fractions ({self.MODEL} model): {text}")
        results = {FRACTIONS: text}
        if html:
            label = ", ".join(f"{k.upper()}={v:g}" for k, v in values.items())
            self.write_report(html, scheme, {label: fractions})
            results[OUTPUT_HTML] = html
        return results

    def _former_raster_mode(self, parameters, context, feedback, names, options, html):
        output = self.parameterAsOutputLayer(parameters, OUTPUT_RASTER, context)
        if not output:
            raise InputError("raster inputs: set OUTPUT_RASTER, or use the raster algorithm "
                             f"wholesoil:{self.NAME}raster")
        values = {name.lower(): raster_value(self, parameters, context, name) for name in names}
        means = self.write_fraction_raster(values, output, options, feedback)
        results = {OUTPUT_RASTER: output}
        if html:
            self.write_report(html, options[0], {"mean over pixels": means})
            results[OUTPUT_HTML] = html
        return results


class DepthFractionsRasterAlgorithm(DepthFractionsBase):
    """Rasters: one fraction band per layer from parameter rasters (and constants)."""

    REQUIRES = ("numpy",)
    TAGS = DepthFractionsBase.TAGS + ("raster", "map")

    def initAlgorithm(self, config=None):  # noqa: N802
        several = len(self.PARAMETERS) > 1  # a constant makes sense only next to another parameter's raster
        for name, description, default, minimum, maximum in self.PARAMETERS:
            add_raster_value(self, name, description, default, minimum, maximum, constant=several)
        add_layers_parameter(self)
        add_normalize_parameter(self)
        add_profile_depth_parameter(self)
        self.addParameter(raster_output(OUTPUT, "Depth fractions (one band per layer)"))
        add_html_output(self)

    def compute(self, parameters, context, feedback):
        options = self.layer_options(parameters, context)
        values = {name.lower(): raster_value(self, parameters, context, name) for name, *_ in self.PARAMETERS}
        if all(isinstance(v, float) for v in values.values()):
            raise InputError("give at least one parameter as a raster (" +
                             ", ".join(f"{name}_RASTER" for name, *_ in self.PARAMETERS) + ")")
        output = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        means = self.write_fraction_raster(values, output, options, feedback)
        results = {OUTPUT: output}
        html = html_output(self, parameters, context)
        if html:
            self.write_report(html, options[0], {"mean over pixels": means})
            results[OUTPUT_HTML] = html
        return results
