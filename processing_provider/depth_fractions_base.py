"""Shared body of the two "Depth fractions" algorithms (logistic and beta models).

Each model parameter is a number, a field of the input table or a raster; the mode follows:
any raster -> a fraction raster (one band per layer); an input table -> the table with one
fraction field per layer; numbers only -> the fractions as text and in the HTML report.
"""

import os

from qgis.core import (QgsProcessing, QgsProcessingOutputString, QgsProcessingParameterFeatureSink,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterRasterDestination)

from ..core.depth import coverage_note
from ..core.errors import InputError
from ..core.partitioning import FRACTION_PREFIX, model_fractions, raster_fractions, table_fractions
from ..core.plots import depth_fractions_figure, html_image, html_table, write_html_report
from .algorithm import WholesoilAlgorithm, core_callbacks
from .parameters import (INPUT, OUTPUT_HTML, add_html_output, add_layers_parameter, add_normalize_parameter,
                         add_profile_depth_parameter, add_value_parameter, html_output, layers_parameter,
                         push_notes, value_parameter)
from .qgis_io import source_to_table, table_to_sink

OUTPUT = "OUTPUT"
OUTPUT_RASTER = "OUTPUT_RASTER"
FRACTIONS = "FRACTIONS"


def raster_engine(feedback):
    """Keyword arguments for core raster work inside QGIS: threads only, never processes."""
    return {"n_jobs": max(1, os.cpu_count() or 1), "backend": "threading", **core_callbacks(feedback)}


class DepthFractionsAlgorithm(WholesoilAlgorithm):
    """Base: subclasses set MODEL and PARAMETERS = ((NAME, description, default, min, max), ...)."""

    GROUP = "Depth partitioning"
    GROUP_ID = "depth"
    MODEL = ""
    PARAMETERS = ()

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(
            INPUT, "Input table (when parameters come from its fields)", [QgsProcessing.TypeVector],
            optional=True))
        for name, description, default, minimum, maximum in self.PARAMETERS:
            add_value_parameter(self, name, description, default, minimum, maximum)
        add_layers_parameter(self)
        add_normalize_parameter(self)
        add_profile_depth_parameter(self)
        self.addParameter(QgsProcessingParameterFeatureSink(
            OUTPUT, "Table with one fraction field per layer", QgsProcessing.TypeVector,
            optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterRasterDestination(
            OUTPUT_RASTER, "Fraction raster (one band per layer)", optional=True, createByDefault=False))
        add_html_output(self)
        self.addOutput(QgsProcessingOutputString(FRACTIONS, "Fractions per layer (numbers mode)"))

    def compute(self, parameters, context, feedback):
        scheme = layers_parameter(self, parameters, context)
        normalize = self.parameterAsBoolean(parameters, "NORMALIZE", context)
        profile_depth = self.parameterAsDouble(parameters, "PROFILE_DEPTH", context)
        given = {name.lower(): value_parameter(self, parameters, context, name)
                 for name, *_ in self.PARAMETERS}
        values = {name: value for name, (_, value) in given.items()}
        kinds = {kind for kind, _ in given.values()}
        source = self.parameterAsSource(parameters, INPUT, context)
        html = html_output(self, parameters, context)
        results = {}
        if "raster" in kinds:
            if "field" in kinds:
                raise InputError("give each parameter as a number, a field or a raster, but not fields "
                                 "and rasters together")
            output = self.parameterAsOutputLayer(parameters, OUTPUT_RASTER, context)
            if not output:
                raise InputError("raster inputs: set the output 'Fraction raster'")
            run = raster_fractions(self.MODEL, values, output, scheme, normalize, profile_depth,
                                   **raster_engine(feedback))
            push_notes(feedback, [coverage_note(scheme, normalize, profile_depth)])
            results[OUTPUT_RASTER] = output
            profiles = (lambda: {"mean over pixels": run.mean})
        elif source is not None or "field" in kinds:
            if source is None:
                raise InputError("fields were chosen but no input table was given")
            table = table_fractions(source_to_table(source, feedback), self.MODEL, values, scheme, normalize,
                                    profile_depth=profile_depth)
            push_notes(feedback, [coverage_note(scheme, normalize, profile_depth)])
            if parameters.get(OUTPUT) is None:
                raise InputError("table input: set the output 'Table with one fraction field per layer'")
            results[OUTPUT] = table_to_sink(self, parameters, OUTPUT, context, table, source)
            columns = scheme.column_names(FRACTION_PREFIX)
            profiles = (lambda: {f"feature {i + 1}": row for i, row in enumerate(table[columns].head(12).to_numpy())})
        else:
            fractions = model_fractions(self.MODEL, values, scheme, normalize, profile_depth=profile_depth)
            push_notes(feedback, [coverage_note(scheme, normalize, profile_depth, fractions)])
            text = "; ".join(f"{label} cm: {value:.4f}" for label, value in zip(scheme.labels, fractions))
            feedback.pushInfo(f"Fractions ({self.MODEL} model): {text}")
            results[FRACTIONS] = text
            label = ", ".join(f"{k.upper()}={v:g}" for k, v in values.items())
            profiles = (lambda: {label: fractions})
        if html:
            self._write_report(html, scheme, profiles())
            results[OUTPUT_HTML] = html
        return results

    def _write_report(self, path, scheme, profiles):
        import pandas as pd

        figure = depth_fractions_figure(scheme, profiles, f"Depth fractions ({self.MODEL} model)")
        table = pd.DataFrame({"layer (cm)": scheme.labels, **{str(k): v for k, v in profiles.items()}})
        write_html_report(path, self.DISPLAY_NAME, [html_image(figure, "depth fractions"), html_table(table)])
