"""Base class of the wholesoil Processing algorithms.

An algorithm module defines a subclass with ``NAME`` (the id part after ``wholesoil:``,
public API: never renamed once released), ``DISPLAY_NAME``, ``GROUP``/``GROUP_ID`` and
``HELP`` (plain text, paragraphs separated by blank lines), plus ``initAlgorithm`` and ``compute``. It may
set ``REQUIRES`` (import names of the optional packages it needs), ``TAGS`` (search words),
``REFERENCES`` (keys of :data:`~.references.REFERENCES`) and ``RASTER_UNITS`` (raster output ->
unit). Core modules are imported inside ``compute`` so that the plugin loads without them.

The base class provides, for every algorithm: the dependency check (one message naming the
missing packages and how to install them), refusal of an input file holding several layers,
the help URL (its section of docs/qgis.md), references with DOIs under the help text,
single-band pseudocolour styling of raster outputs with their unit, short output layer names,
the run record of HTML reports, and the mapping of core errors to QgsProcessingException.
"""

import datetime
import math
import os
import re
import shlex

from qgis.core import (Qgis, QgsProcessing, QgsProcessingAlgorithm, QgsProcessingException,
                       QgsProcessingOutputLayerDefinition, QgsProcessingParameterFeatureSink,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterVectorDestination,
                       QgsProperty, QgsProviderRegistry)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from .. import __version__
from ..core.errors import CancelledError, InputError
from ..core.outputs import (OutputTransaction, Terminated, check_distinct_outputs, check_output_path,
                            check_output_suffix, clean_up_on_signals, note)
from ..core.rasters import RASTER_OUTPUT
from ..core.tables import layer_names
from . import requirements
from .references import REFERENCES

_DESTINATIONS = (QgsProcessingParameterFeatureSink, QgsProcessingParameterRasterDestination,
                 QgsProcessingParameterVectorDestination, QgsProcessingParameterFileDestination)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9]+:")  # ogr:..., memory:, postgres:... (not a drive letter C:)


def layer_file(layer):
    """The file behind a map layer ('' for layers that are not files)."""
    if layer is None:
        return ""
    parts = QgsProviderRegistry.instance().decodeUri(layer.providerType(), layer.source())
    return parts.get("path") or ""


def raster_file(layer):
    """What the core reads for a raster layer: its file; its GDAL source for one raster of a file holding several
    (GPKG:file:table, NETCDF:"file":variable) or a file inside an archive (/vsizip/…); else its source.

    InputError (one line naming the layer) for a file without a CRS whose layer has a CRS set in QGIS (the core
    would read it without one).
    """
    from osgeo import gdal

    parts = QgsProviderRegistry.instance().decodeUri(layer.providerType(), layer.source())
    if layer.providerType() != "gdal" or not parts.get("path"):
        return layer.source()
    path = layer.source() if parts.get("vsiPrefix") or parts.get("layerName") else parts["path"]
    try:
        dataset = gdal.Open(path)
    except RuntimeError:  # the core says why it cannot be read
        return path
    if dataset is None:
        return path
    if not dataset.GetProjection() and layer.crs().isValid():
        crs = layer.crs().authid() or layer.crs().toProj()
        raise InputError(f"layer {layer.name()!r}: {path} has no CRS; the CRS set in QGIS ({crs}) is not used by "
                         f"wholesoil: assign it to the file with gdal_edit.py -a_srs {shlex.quote(crs)} "
                         f"{shlex.quote(path)}")
    return path


ICON = os.path.join(os.path.dirname(os.path.dirname(__file__)), "resources", "icons", "wholesoil.svg")
#: The algorithm documentation; each algorithm's help URL is its section (see :func:`doc_anchor`).
DOCS_URL = "https://github.com/wholesoil/wholesoil/blob/main/docs/qgis.md"


def core_callbacks(feedback, start=0.0, end=100.0):
    """``progress`` and ``is_cancelled`` keyword arguments for core functions.

    The core function's 0-100 % is mapped to ``start``-``end`` % of the algorithm, so that
    work after it (writing outputs, a report) keeps the bar below 100 % until the end.
    """
    if feedback is None:
        return {"progress": None, "is_cancelled": None}
    return {"progress": lambda percent: feedback.setProgress(start + (end - start) * percent / 100.0),
            "is_cancelled": feedback.isCanceled}


#: The optional names of covariate rasters (predictraster, samplerastersatpoints); see :func:`covariate_names`.
COVARIATE_NAMES = "COVARIATE_NAMES"


def add_covariate_names_parameter(algorithm):
    """COVARIATE_NAMES, optional text naming the covariate rasters of the layer list added before it."""
    from qgis.core import QgsProcessingParameterString

    algorithm.addParameter(QgsProcessingParameterString(
        COVARIATE_NAMES, "Covariate names, one per covariate raster in the order above (or one per band of "
        "every raster), separated by commas; an empty entry keeps the layer's name (default: the layer names)",
        optional=True))


def covariate_names(algorithm, parameters, context, layers):
    """The names COVARIATE_NAMES gives raster ``layers``, one item per layer: None (no name: none given, or an
    empty entry), a name, or, when one name per band of every raster is given, for a multi-band layer a list of
    one name (or None) per band, as the command line's NAME=RASTER:BAND items name them.

    InputError when the count of names matches neither the rasters nor their bands, or one name is given to a
    multi-band layer (its bands are named by their descriptions, else by one name per band of every raster).
    """
    given = [n.strip() for n in (algorithm.parameterAsString(parameters, COVARIATE_NAMES, context) or "").split(",")]
    given = given if any(given) else [""] * len(layers)
    bands = sum(layer.bandCount() for layer in layers)
    per_band = len(given) != len(layers) and len(given) == bands  # names for the bands of multi-band rasters
    if len(given) != len(layers) and not per_band:
        raise InputError(f"{len(given)} covariate names for {len(layers)} covariate rasters ({bands} bands); "
                         "give one per raster, or one per band of every raster, in their order (an empty entry "
                         "keeps the layer's name or the band's description)")
    names, entries = [], iter(given)
    for layer in layers:
        if per_band and layer.bandCount() > 1:
            names.append([next(entries) or None for _ in range(layer.bandCount())])
            continue
        name = next(entries)
        if name and layer.bandCount() > 1:
            raise InputError(f"covariate name {name!r}: {layer.name()} has {layer.bandCount()} bands, named by "
                             f"their descriptions; leave its entry empty, or give {bands} names, one per band of "
                             "every raster")
        names.append(name or None)
    return names


def help_paragraphs(text):
    """The paragraphs of a help text (separated by blank lines), each on one line."""
    return [" ".join(paragraph.split()) for paragraph in text.strip().split("\n\n") if paragraph.strip()]


def doc_anchor(title):
    """The anchor GitHub gives a Markdown heading ``title`` (lower case, punctuation dropped, spaces -> -)."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


class WholesoilAlgorithm(QgsProcessingAlgorithm):
    """Common behaviour: metadata from class attributes, checks, styling and error mapping."""

    NAME = ""
    DISPLAY_NAME = ""
    GROUP = ""
    GROUP_ID = ""
    HELP = ""
    #: Import names of the packages this algorithm always needs (see :mod:`.requirements`).
    REQUIRES = ("numpy", "pandas")
    #: Extra search words for the toolbox (the display name and group are searched anyway).
    TAGS = ()
    #: Keys of the published works the help text cites (listed under it with their DOIs).
    REFERENCES = ()
    #: Raster output name -> unit of its first band (the band shown), in the layer name and the legend; an output
    #: not listed takes the unit its first band records, if any (see :meth:`raster_unit`).
    RASTER_UNITS = {}
    #: Output name -> the layer id or file this run produced (set by processAlgorithm, read by postProcessAlgorithm).
    produced = {}

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

    def tags(self):
        return [self.tr(tag) for tag in self.TAGS]

    def helpUrl(self):  # noqa: N802
        return f"{DOCS_URL}#{doc_anchor(self.DISPLAY_NAME)}"

    def shortDescription(self):  # noqa: N802
        """The help's first sentence (the toolbox's tooltip)."""
        return self.tr(re.split(r"(?<!et al)\. (?=[A-Z])", help_paragraphs(self.HELP)[0])[0].rstrip(".") + ".")

    def shortHelpString(self):  # noqa: N802
        paragraphs = [self.tr(paragraph) for paragraph in help_paragraphs(self.HELP)]
        missing = requirements.missing(self.REQUIRES)
        if missing:
            paragraphs.insert(0, f"Not available: {requirements.missing_message(missing)}.")
        if self.REFERENCES:
            paragraphs.append("References: " + " ".join(REFERENCES[key] for key in self.REFERENCES))
        return "\n".join(paragraphs)

    def icon(self):
        return QIcon(ICON)

    def createInstance(self):  # noqa: N802
        return type(self)()

    def requirements(self, parameters):
        """Import names of the packages this run needs: REQUIRES, plus matplotlib and pandas for an HTML report."""
        from .parameters import OUTPUT_HTML

        return self.REQUIRES + (("matplotlib", "pandas") if parameters.get(OUTPUT_HTML) not in (None, "") else ())

    def checkParameterValues(self, parameters, context):  # noqa: N802
        """Refuse a run that lacks a package or reads the first of several layers without saying which."""
        from .parameters import legacy_values
        from .qgis_io import multi_layer_problem

        missing = requirements.missing(self.requirements(parameters))
        if missing:
            return False, f"{self.DISPLAY_NAME} {requirements.missing_message(missing)}"
        for definition in self.parameterDefinitions():
            problem = (multi_layer_problem(definition, parameters.get(definition.name()))
                       or self._number_problem(definition, parameters.get(definition.name())))
            if problem:
                return False, problem
        return super().checkParameterValues(legacy_values(self, parameters), context)

    def _number_problem(self, definition, value):
        """The refusal of a number parameter given text that is no finite number (QGIS 3.22 accepts it in an optional
        number and reads it as 0: a raster path given as STOCK made an all-zero map), else None."""
        if not isinstance(definition, QgsProcessingParameterNumber) or value in (None, "") or \
                isinstance(value, QgsProperty):
            return None
        name = definition.name()
        try:
            number = float(value)
        except (TypeError, ValueError):
            raster = f"{name}_RASTER"
            hint = f" (give a raster as {raster})" if self.parameterDefinition(raster) is not None else ""
            return f"{name}: {value!r} is not a number{hint}"
        return None if math.isfinite(number) else f"{name} must be a finite number, not {value}"

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        """Check the outputs, run ``compute`` (its reports record the run) and move the files it wrote into place
        together."""
        from ..core.plots import RUN_RECORD

        token = RUN_RECORD.set(self.run_record(parameters))
        try:
            with clean_up_on_signals(), OutputTransaction(self._input_files(parameters, context),
                                                          tell=feedback.pushInfo) as outputs:
                parameters = self._checked_destinations(parameters, context)
                results = self.compute(parameters, context, feedback)
        except InputError as error:
            raise QgsProcessingException(str(error)) from None
        except (CancelledError, Terminated):
            raise QgsProcessingException("Cancelled; nothing was written") from None
        except ModuleNotFoundError as error:  # a package needed by this run's options only
            raise QgsProcessingException(f"{self.DISPLAY_NAME} {requirements.missing_message([error.name])}") \
                from None
        finally:
            RUN_RECORD.reset(token)
        for text in outputs.notes:
            feedback.pushWarning(text)
        self.produced = results
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
            elif kind == "multilayer" and definition.layerType() == QgsProcessing.TypeFile:
                files += self.parameterAsFileList(parameters, name, context)  # not opened as layers (GDAL errors)
            elif kind == "multilayer":
                files += [layer_file(layer) for layer in self.parameterAsLayerList(parameters, name, context)]
            elif kind == "file":
                files.append(self.parameterAsFile(parameters, name, context))
        return [f for f in files if f]

    def _checked_destinations(self, parameters, context):
        """Refuse a destination that is an input, two destinations naming one file, or a file named as
        another format (a raster not .tif, a model not .wsmodel, a picture not .png); write into an
        existing GeoPackage as a layer.

        A feature sink pointing at an existing GeoPackage file becomes the layer named after
        the file (or the one the user named), replacing only that layer and keeping the others,
        as the CLI does; plain QGIS would replace the whole file.
        """
        parameters, chosen = dict(parameters), []
        for definition in self.parameterDefinitions():
            if not isinstance(definition, _DESTINATIONS):
                continue
            name = definition.name()
            value = parameters.get(name)
            sink = value.sink.staticValue() if isinstance(value, QgsProcessingOutputLayerDefinition) else value
            if not isinstance(sink, str) or not sink or sink == "TEMPORARY_OUTPUT" or _URI.match(sink):
                continue
            label = definition.description()
            check_output_path(sink, label)
            chosen.append((label, sink))
            if isinstance(definition, QgsProcessingParameterRasterDestination) and \
                    not sink.lower().endswith(RASTER_OUTPUT):
                raise InputError(f"{label}: {sink} is not a GeoTIFF; wholesoil writes rasters as GeoTIFF (.tif)")
            if isinstance(definition, QgsProcessingParameterFileDestination):  # a model, a picture, a report
                suffixes = tuple(f".{s.lower()}" for s in re.findall(r"\*\.(\w+)", definition.fileFilter()))
                if suffixes:
                    check_output_suffix(label, sink, suffixes)
            if isinstance(definition, QgsProcessingParameterFeatureSink) and sink.lower().endswith(".gpkg") \
                    and os.path.exists(sink):
                layer = os.path.splitext(os.path.basename(sink))[0]
                uri = f"ogr:dbname='{sink}' table=\"{layer}\" (geom)"
                replaced = layer.lower() in (n.lower() for n in layer_names(sink))
                note(f"{sink}: writing layer {layer!r}" + (f", replacing the layer {layer!r} it holds" if replaced
                                                          else "") + "; the file's other layers are kept")
                if isinstance(value, QgsProcessingOutputLayerDefinition):
                    value = QgsProcessingOutputLayerDefinition(value)
                    value.sink = QgsProperty.fromValue(uri)
                    parameters[name] = value
                else:
                    parameters[name] = uri
        check_distinct_outputs(chosen)
        return parameters

    def compute(self, parameters, context, feedback):
        """Do the work; return the results dict. Raise InputError for bad input."""
        raise NotImplementedError

    def run_record(self, parameters):
        """What an HTML report records about this run: algorithm, parameters, versions and date."""
        given = {name: value for name, value in parameters.items() if value not in (None, "")}
        return {"algorithm": f"wholesoil:{self.NAME} ({self.DISPLAY_NAME})",
                "parameters": "; ".join(f"{name}={_text(value)}" for name, value in given.items()),
                "wholesoil": __version__, "QGIS": Qgis.QGIS_VERSION,
                "run at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}

    def postProcessAlgorithm(self, context, feedback):  # noqa: N802
        """Name the output layers of this run that QGIS loads and style raster outputs (main thread, after the run).

        Only this run's own outputs: in a model every step shares the context, whose layers to load are all
        called OUTPUT, so they are matched by the layer id or file the run returned, not by output name.
        A name QGIS did not take from the output's description (a model output's name) is kept, with the unit
        added unless it already says it.
        """
        from .styling import RasterStyle

        loading = context.layersToLoadOnCompletion()
        for definition in self.destinationParameterDefinitions():
            layer_id = self.produced.get(definition.name())
            if not isinstance(layer_id, str) or layer_id not in loading:
                continue
            details = context.layerToLoadOnCompletionDetails(layer_id)
            raster = isinstance(definition, QgsProcessingParameterRasterDestination)
            unit = self.raster_unit(definition.name(), layer_id) if raster else ""
            named = details.name not in ("", definition.description())
            name = details.name if named else self.layer_name(definition)
            details.name = name + (f" ({unit})" if unit and f"({unit})" not in name else "")
            if raster:
                details.setPostProcessor(RasterStyle.create(layer_id, unit))
        return {}

    def raster_unit(self, name, path):
        """The unit of raster output ``name`` written to ``path``: RASTER_UNITS, else the 'units' its first band
        records (as predicted maps do), else '' (no unit known, or '1': a ratio)."""
        from osgeo import gdal

        if name in self.RASTER_UNITS:
            return self.RASTER_UNITS[name]
        dataset = gdal.Open(path)
        unit = (dataset.GetRasterBand(1).GetMetadataItem("units") if dataset else None) or ""
        return "" if unit == "1" else unit

    def layer_name(self, definition):
        """A short layer name: the output's description up to its first parenthesis."""
        return definition.description().split(" (")[0]


def _text(value):
    """A parameter value as text for the run record (layers by their source, data-defined values as expressions)."""
    if isinstance(value, QgsProperty):
        return value.asExpression()
    source = getattr(value, "source", None)
    if callable(source):
        return source()
    return str(value)
