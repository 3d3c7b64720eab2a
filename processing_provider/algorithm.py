"""Base class of the wholesoil Processing algorithms.

An algorithm module defines a subclass with ``NAME`` (the id part after ``wholesoil:``,
public API: never renamed once released), ``DISPLAY_NAME``, ``GROUP``/``GROUP_ID`` and
``HELP`` (plain text, one paragraph per line), plus ``initAlgorithm`` and ``compute``. The base
turns core errors into QgsProcessingException and adapts the feedback object to the
``progress``/``is_cancelled`` callables core functions take.
"""

import os
import re

from qgis.core import (QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingOutputLayerDefinition,
                       QgsProcessingParameterFeatureSink, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterVectorDestination,
                       QgsProperty, QgsProviderRegistry)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..core.errors import CancelledError, InputError
from ..core.outputs import OutputTransaction, Terminated, check_output_path, clean_up_on_signals, note

_DESTINATIONS = (QgsProcessingParameterFeatureSink, QgsProcessingParameterRasterDestination,
                 QgsProcessingParameterVectorDestination, QgsProcessingParameterFileDestination)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9]+:")  # ogr:..., memory:, postgres:... (not a drive letter C:)


def layer_file(layer):
    """The file behind a map layer ('' for layers that are not files)."""
    if layer is None:
        return ""
    parts = QgsProviderRegistry.instance().decodeUri(layer.providerType(), layer.source())
    return parts.get("path") or ""

ICON = os.path.join(os.path.dirname(os.path.dirname(__file__)), "resources", "icons", "wholesoil.svg")


def core_callbacks(feedback):
    """``progress`` and ``is_cancelled`` keyword arguments for core functions."""
    if feedback is None:
        return {"progress": None, "is_cancelled": None}
    return {"progress": feedback.setProgress, "is_cancelled": feedback.isCanceled}


class WholesoilAlgorithm(QgsProcessingAlgorithm):
    """Common behaviour: metadata from class attributes and error mapping."""

    NAME = ""
    DISPLAY_NAME = ""
    GROUP = ""
    GROUP_ID = ""
    HELP = ""

    def tr(self, text):
        return QCoreApplication.translate("wholesoil", text)

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802 (QGIS API names)
        return self.tr(self.DISPLAY_NAME)

    def group(self):
        return self.tr(self.GROUP)

    def groupId(self):  # noqa: N802
        return self.GROUP_ID

    def shortHelpString(self):  # noqa: N802
        return self.tr(self.HELP.strip())

    def icon(self):
        return QIcon(ICON)

    def createInstance(self):  # noqa: N802
        return type(self)()

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        """Check the outputs, run ``compute`` and move the files it wrote into place together."""
        try:
            with clean_up_on_signals(), OutputTransaction(self._input_files(parameters, context)) as outputs:
                parameters = self._checked_destinations(parameters, context)
                results = self.compute(parameters, context, feedback)
        except InputError as error:
            raise QgsProcessingException(str(error)) from None
        except (CancelledError, Terminated):
            raise QgsProcessingException("Cancelled; nothing was written") from None
        for text in outputs.notes:
            feedback.pushInfo(text)
        return results

    def _input_files(self, parameters, context):
        """Files behind the input parameters (layers and files), for the output = input check."""
        files = []
        for definition in self.parameterDefinitions():
            name = definition.name()
            if isinstance(definition, _DESTINATIONS) or parameters.get(name) in (None, ""):
                continue
            kind = definition.type()
            if kind in ("source", "vector", "raster", "layer"):
                files.append(layer_file(self.parameterAsLayer(parameters, name, context)))
            elif kind == "multilayer":
                files += [layer_file(layer) for layer in self.parameterAsLayerList(parameters, name, context)]
            elif kind == "file":
                files.append(self.parameterAsFile(parameters, name, context))
        return [f for f in files if f]

    def _checked_destinations(self, parameters, context):
        """Refuse a destination that is an input; write into an existing GeoPackage as a layer.

        A feature sink pointing at an existing GeoPackage file becomes the layer named after
        the file (or the one the user named), replacing only that layer and keeping the others,
        as the CLI does; plain QGIS would replace the whole file.
        """
        parameters = dict(parameters)
        for definition in self.parameterDefinitions():
            if not isinstance(definition, _DESTINATIONS):
                continue
            name = definition.name()
            value = parameters.get(name)
            sink = value.sink.staticValue() if isinstance(value, QgsProcessingOutputLayerDefinition) else value
            if not isinstance(sink, str) or not sink or sink == "TEMPORARY_OUTPUT" or _URI.match(sink):
                continue
            check_output_path(sink, definition.description())
            if isinstance(definition, QgsProcessingParameterFeatureSink) and sink.lower().endswith(".gpkg") \
                    and os.path.exists(sink):
                layer = os.path.splitext(os.path.basename(sink))[0]
                uri = f"ogr:dbname='{sink}' table=\"{layer}\" (geom)"
                note(f"{sink}: writing layer {layer!r}; the file's other layers are kept")
                if isinstance(value, QgsProcessingOutputLayerDefinition):
                    value = QgsProcessingOutputLayerDefinition(value)
                    value.sink = QgsProperty.fromValue(uri)
                    parameters[name] = value
                else:
                    parameters[name] = uri
        return parameters

    def compute(self, parameters, context, feedback):
        """Do the work; return the results dict. Raise InputError for bad input."""
        raise NotImplementedError
