"""Shared parameters and report of the map-product algorithms (group "Map products").

Every input is a raster layer with a band (``NAME_RASTER``, ``NAME_BAND``: when none is chosen,
the raster's only band, or its only ``_mean`` band) and an optional sd raster and band
(``NAME_SD_RASTER``, ``NAME_SD_BAND``, advanced) or sd number (``NAME_SD``, advanced); without
one the ``<name>_sd`` band beside a ``<name>_mean`` band is used, else the input is exact. Some
(BNPP, NPP, fBNPP, β, D50, D95, the C stock and flux of the turnover time, the topsoil stock) may instead be a
constant, the number ``NAME``.
Layered inputs (shares, Ibulk, stock, age) are lists of rasters whose ``_mean`` bands (else all
bands) are the layers, with an optional advanced list ``NAME_SD`` of sd rasters whose ``_sd``
bands (else all bands) are the layers' sds. Runs on threads only; the quick-look goes to the
HTML report and, if asked, to a PNG file.
"""

from qgis.core import (QgsProcessing, QgsProcessingParameterBand, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterLayer)

from ..core.errors import InputError
from .algorithm import WholesoilAlgorithm, raster_file
from .depth_fractions_base import raster_engine
from .parameters import (OUTPUT_HTML, add_html_output, add_layers_parameter, add_profile_depth_parameter, advanced,
                         enum_code, enum_parameter, html_output, layers_parameter, raster_output)

GROUP, GROUP_ID = "Map products", "products"
TAGS = ("map", "raster", "uncertainty", "BNPP", "Iroot", "Ibulk", "Iloss", "carbon inputs", "soil carbon",
        "depth layers", "Monte Carlo", "quick-look")
QUICKLOOK = "QUICKLOOK"
#: Unit choices of core.maps.bands.UNITS ("" = the band's units metadata, else the project unit).
FLUX_UNIT_CHOICES = (("", "from the band's units metadata, else Mg C ha-1 yr-1"), ("Mg_ha_yr", "Mg C ha-1 yr-1"),
                     ("g_m2_yr", "g C m-2 yr-1"), ("kg_m2_yr", "kg C m-2 yr-1"))
STOCK_UNIT_CHOICES = (("", "from the band's units metadata, else Mg C ha-1"), ("Mg_ha", "Mg C ha-1"),
                      ("g_m2", "g C m-2"), ("kg_m2", "kg C m-2"), ("g_cm2", "g C cm-2"))
#: The sd of an input of one raster per layer (formatted with ``what``).
LAYERED_SD_HELP = """{what} is given by the advanced sd rasters, one band per layer in the same order (their NAME_sd
bands, else all their bands), else by the NAME_sd bands beside the NAME_mean bands, else taken as 0.
"""
BANDS_HELP = """
Each input is a raster layer and a band (when none is chosen: its only band, or its only NAME_mean band; a raster of
several layers is refused). Its sd is the sd raster and band, or the sd number, given under
the advanced parameters, else the NAME_sd band beside a NAME_mean band (as Predict model as a map writes them), else
the input is taken as exact. An input with a constant parameter may be that number instead of a raster (giving
both is an error); at least one input must be a raster. Rasters must share CRS, extent and pixel size; nodata in any
input, or an impossible value (e.g. a negative flux or stock, a negative sd), gives nodata, counted in the log.
Fluxes are in Mg C ha-1 yr-1 and stocks in Mg C ha-1 unless the unit parameter or the band's units metadata says
otherwise (then converted); a constant is in its unit parameter's unit. The HTML report shows
a quick-look of the result with its units and the mean of every band; the quick-look can also be saved as a PNG.
Details: docs/maps.md, section Map products.
"""
SHARES_HELP = """
Depth shares, one way: a β raster or constant (Y = 1 - β^d), or D50 and D95 rasters or constants (cm, the logistic
model of Schenk and Jackson 2002), giving layer fractions normalised over 0 cm to the profile depth (an sd of the
parameters gives the shares an sd, first order); or share rasters, one per layer in depth order (or one raster whose
NAME_mean bands are the layers, e.g. the map of one share model per layer), renormalised per pixel to sum to 1, with
the layers from the band names (NAME_0_20_mean) unless the layers parameter is changed from its default; band names
giving depths must agree with the layers, and share rasters must cover 0 cm to the profile depth.
""" + LAYERED_SD_HELP.format(what="The share rasters' sd")


def add_band_input(algorithm, name, description, optional=False):
    """NAME_RASTER and NAME_BAND, and the advanced NAME_SD_RASTER and NAME_SD_BAND, or NAME_SD (an sd number)."""
    algorithm.addParameter(QgsProcessingParameterRasterLayer(f"{name}_RASTER", description, optional=optional))
    algorithm.addParameter(QgsProcessingParameterBand(f"{name}_BAND", f"{description}: band", None, f"{name}_RASTER",
                                                      optional=True))
    algorithm.addParameter(advanced(QgsProcessingParameterRasterLayer(
        f"{name}_SD_RASTER", f"{description}: sd raster (default: the _sd band beside a _mean band)", optional=True)))
    algorithm.addParameter(advanced(QgsProcessingParameterBand(
        f"{name}_SD_BAND", f"{description}: sd band (of the sd raster, else of the raster itself)", None,
        f"{name}_SD_RASTER", optional=True)))
    sd = QgsProcessingParameterNumber(f"{name}_SD", f"{description}: sd as a number, instead of an sd raster",
                                      QgsProcessingParameterNumber.Double, None, optional=True)
    sd.setMinimum(0.0)
    algorithm.addParameter(advanced(sd))


def _band(algorithm, parameters, context, name):
    """(path, band) of NAME_RASTER and NAME_BAND; the path alone when no band is chosen (the core takes the raster's
    only band, or its only _mean band (_sd band for an sd), and refuses a raster of several layers)."""
    layer = algorithm.parameterAsRasterLayer(parameters, f"{name}_RASTER", context)
    if layer is None:
        return None
    band = parameters.get(f"{name}_BAND")
    return (raster_file(layer), int(band)) if band not in (None, "", 0, "0") else raster_file(layer)


def band_input(algorithm, parameters, context, name):
    """(value, sd) of a band input: each a (path, band) pair or a path (no band chosen), the sd also a number
    (NAME_SD; InputError when an sd raster is given too); None when not given."""
    sd = _band(algorithm, parameters, context, f"{name}_SD")
    sd_band = parameters.get(f"{name}_SD_BAND")
    if sd is None and sd_band not in (None, "", 0, "0"):  # the sd band beside the values (it was ignored)
        layer = algorithm.parameterAsRasterLayer(parameters, f"{name}_RASTER", context)
        if layer is None:
            raise InputError(f"{name}_SD_BAND {sd_band} is a band of {name}_SD_RASTER, else of {name}_RASTER: give "
                             "the raster that holds it")
        sd = (raster_file(layer), int(sd_band))
    if parameters.get(f"{name}_SD") not in (None, ""):
        if sd is not None:
            raise InputError(f"{name}_SD_RASTER and {name}_SD both given: give the sd as a raster or as a number, "
                             "not both")
        sd = algorithm.parameterAsDouble(parameters, f"{name}_SD", context)
    return _band(algorithm, parameters, context, name), sd


def add_constant(algorithm, name, description, minimum=0.0, maximum=None):
    """NAME, an optional number used where no NAME_RASTER is given (:func:`band_or_constant`)."""
    number = QgsProcessingParameterNumber(name, description, QgsProcessingParameterNumber.Double, None, optional=True)
    number.setMinimum(minimum)
    if maximum is not None:
        number.setMaximum(maximum)
    algorithm.addParameter(number)


def band_or_constant(algorithm, parameters, context, name, required=None):
    """(value, sd) of a band input that may be the constant NAME instead of NAME_RASTER (InputError when both are
    given); the sd is the NAME_SD_RASTER band or the NAME_SD number either way. required: what the input is (e.g.
    "β"), for an input that must be given: InputError naming NAME_RASTER and NAME when neither is."""
    value, sd = band_input(algorithm, parameters, context, name)
    if parameters.get(name) in (None, ""):
        if value is None and required:
            raise InputError(f"give {required}: a {required} map ({name}_RASTER) or a constant {required} ({name})")
        return value, sd
    if value is not None:
        raise InputError(f"{name}_RASTER and {name} both given: give {name} as a raster or as a constant, not both")
    return algorithm.parameterAsDouble(parameters, name, context), sd


def add_layered_input(algorithm, name, description, optional=True):
    algorithm.addParameter(QgsProcessingParameterMultipleLayers(name, description, QgsProcessing.TypeRaster,
                                                                optional=optional))


def add_layered_sd_input(algorithm, name, description):
    """NAME_SD, advanced: the sd rasters of the layered input NAME (:func:`layered_sd_input`)."""
    algorithm.addParameter(advanced(QgsProcessingParameterMultipleLayers(
        f"{name}_SD", f"{description}: sd rasters, one band per layer (default: the _sd bands beside the _mean bands)",
        QgsProcessing.TypeRaster, optional=True)))


def layered_input(algorithm, parameters, context, name):
    """The files of a layered input (each one band per layer, or its _mean bands), or None."""
    layers = algorithm.parameterAsLayerList(parameters, name, context)
    return [raster_file(layer) for layer in layers] or None


def layered_sd_input(algorithm, parameters, context, name):
    """The sd bands of the layered input NAME from NAME_SD, in layer order: each raster's ``_sd`` bands, else
    all its bands (:func:`..core.maps.bands.layer_references`); None when NAME_SD is not given (InputError when
    NAME is not given)."""
    layers = algorithm.parameterAsLayerList(parameters, f"{name}_SD", context)
    if not layers:
        return None
    if not algorithm.parameterAsLayerList(parameters, name, context):
        raise InputError(f"{name}_SD gives the sd of {name}: give {name} too, or leave {name}_SD empty")
    from ..core.maps.bands import layer_references

    return layer_references([raster_file(layer) for layer in layers], f"{name}_SD", sd=True)


def add_unit_parameter(algorithm, name, description, choices):
    algorithm.addParameter(advanced(enum_parameter(name, description, choices)))


def unit_parameter(algorithm, parameters, context, name, choices):
    return enum_code(algorithm, parameters, context, name, choices) or None


def add_outputs(algorithm, description):
    algorithm.addParameter(raster_output("OUTPUT", description))
    add_html_output(algorithm)
    algorithm.addParameter(QgsProcessingParameterFileDestination(
        QUICKLOOK, "Quick-look picture (PNG)", fileFilter="PNG files (*.png)", optional=True, createByDefault=False))


class ProductAlgorithm(WholesoilAlgorithm):
    """A map product: subclasses implement ``run_product(parameters, context, output, quicklook, engine)``."""

    GROUP, GROUP_ID = GROUP, GROUP_ID
    REQUIRES = ("numpy", "scipy", "matplotlib")
    TAGS = TAGS

    def add_root_inputs(self):
        """BNPP (or NPP and fBNPP), the shares, the layers and the profile depth."""
        add_band_input(self, "BNPP", "BNPP (Mg C ha-1 yr-1)", optional=True)
        add_constant(self, "BNPP", "BNPP constant (Mg C ha-1 yr-1), instead of a BNPP raster")
        add_band_input(self, "NPP", "NPP, instead of BNPP (Mg C ha-1 yr-1)", optional=True)
        add_constant(self, "NPP", "NPP constant (Mg C ha-1 yr-1), instead of an NPP raster")
        add_band_input(self, "FBNPP", "fBNPP, the belowground share of NPP (0-1), with NPP", optional=True)
        fbnpp = QgsProcessingParameterNumber("FBNPP", "fBNPP constant, used where no fBNPP raster is given",
                                             QgsProcessingParameterNumber.Double, None, optional=True)
        fbnpp.setMinimum(0.0)
        fbnpp.setMaximum(1.0)
        self.addParameter(fbnpp)
        add_unit_parameter(self, "FLUX_UNIT", "Unit of BNPP or NPP", FLUX_UNIT_CHOICES)
        add_band_input(self, "BETA", "β of the depth shares", optional=True)
        add_constant(self, "BETA", "β constant (0-1), instead of a β raster", maximum=1.0)
        add_band_input(self, "D50", "D50 of the depth shares (cm)", optional=True)
        add_constant(self, "D50", "D50 constant (cm), instead of a D50 raster")
        add_band_input(self, "D95", "D95 of the depth shares (cm)", optional=True)
        add_constant(self, "D95", "D95 constant (cm), instead of a D95 raster")
        add_layered_input(self, "SHARES", "Share rasters, one per layer (or their _mean bands)")
        add_layered_sd_input(self, "SHARES", "Shares")
        add_layers_parameter(self)
        add_profile_depth_parameter(self)

    def root_inputs(self, parameters, context):
        from ..core.maps.products import RootInputs

        values = {name.lower(): band_or_constant(self, parameters, context, name)
                  for name in ("BNPP", "NPP", "BETA", "D50", "D95")}
        values["fbnpp"] = band_input(self, parameters, context, "FBNPP")
        if values["fbnpp"][0] is None and parameters.get("FBNPP") not in (None, ""):  # the raster wins, as before
            values["fbnpp"] = (self.parameterAsDouble(parameters, "FBNPP", context), values["fbnpp"][1])
        shares = layered_input(self, parameters, context, "SHARES")
        # the default layers: those of the share or layered bands' names, else the default scheme
        layers = self.parameterAsString(parameters, "LAYERS", context)
        given = layers != self.parameterDefinition("LAYERS").defaultValue()
        return RootInputs(**{k: v for k, (v, _) in values.items()}, **{f"{k}_sd": sd for k, (_, sd) in values.items()},
                          shares=shares, shares_sd=layered_sd_input(self, parameters, context, "SHARES"),
                          layers=layers_parameter(self, parameters, context) if given else None,
                          profile_depth=self.parameterAsDouble(parameters, "PROFILE_DEPTH", context),
                          unit=unit_parameter(self, parameters, context, "FLUX_UNIT", FLUX_UNIT_CHOICES))

    def compute(self, parameters, context, feedback):
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        png = self.parameterAsFileOutput(parameters, QUICKLOOK, context) \
            if parameters.get(QUICKLOOK) not in (None, "") else None
        html = html_output(self, parameters, context)
        run = self.run_product(parameters, context, output, png, raster_engine(feedback))
        feedback.pushInfo(f"{len(run.band_names)} bands: {', '.join(run.band_names)}; "
                          f"{int(run.valid.max()) if len(run.valid) else 0} valid pixels")
        results = {"OUTPUT": output}
        if png:
            results[QUICKLOOK] = png
        if html:
            results[OUTPUT_HTML] = self.write_report(html, run)
        return results

    def run_product(self, parameters, context, output, quicklook, engine):
        raise NotImplementedError

    def write_report(self, path, run):
        """An HTML page with the quick-look and every band's valid pixels, mean and unit."""
        import html

        import pandas as pd

        from ..core.maps.quicklook import quicklook_figure
        from ..core.plots import html_image, html_table, write_html_report
        from ..core.rasters import open_raster

        dataset = open_raster(run)
        units = [dataset.GetRasterBand(i + 1).GetMetadataItem("units") or "" for i in range(dataset.RasterCount)]
        dataset = None
        table = pd.DataFrame({"band": run.band_names, "unit": units, "valid pixels": run.valid,
                              "mean over valid pixels": run.mean})
        notes = "".join(f"<p class='note'>{html.escape(note)}</p>" for note in run.notes)
        figure = quicklook_figure(run, run.quicklook_bands, run.title)
        return write_html_report(path, self.DISPLAY_NAME, [html_image(figure, "quick-look"), notes, html_table(table)])
