"""Raster bands as inputs of map products: ``RASTER[:BAND]`` references, their sd bands, layers and units.

A band is named by its number or its description (``bnpp.tif:2``, ``preds.tif:bnpp_mean``);
without one, band 1. The sd of a ``<name>_mean`` band is, unless given, the ``<name>_sd``
band of the same file (what predict-raster writes). Several layers are a list of bands, or a
file whose ``_mean`` bands (else all bands) are the layers in order. A band whose name gives
depths (``…_0_20_mean``) must be the layer of those depths; units of the wrong kind are errors.
"""

import os
import re
from dataclasses import dataclass

from ..errors import InputError
from ..layers import LayerScheme, format_depth, layer_scheme

#: Units of each kind of quantity: code -> (factor to the project unit, label). Project units first.
UNITS = {
    "flux": {"Mg_ha_yr": (1.0, "Mg C ha-1 yr-1"), "g_m2_yr": (0.01, "g C m-2 yr-1"),
             "kg_m2_yr": (10.0, "kg C m-2 yr-1")},
    "stock": {"Mg_ha": (1.0, "Mg C ha-1"), "g_m2": (0.01, "g C m-2"), "kg_m2": (10.0, "kg C m-2"),
              "g_cm2": (100.0, "g C cm-2")},
}


@dataclass(frozen=True)
class BandRef:
    """One band of a raster file: path, 1-based band number and its description (may be empty)."""

    path: str
    band: int
    name: str

    def __str__(self):
        return f"{self.path}:{self.name or self.band}"


def _descriptions(path):
    from ..rasters import open_raster, raster_info

    raster_info(path)  # says clearly when the file is missing; registers it as an input
    dataset = open_raster(path)
    names = [dataset.GetRasterBand(i + 1).GetDescription() for i in range(dataset.RasterCount)]
    dataset = None
    return names


def raster_band(path, band, option):
    """The :class:`BandRef` of band ``band`` (a number, or number text, or a band description) of a raster."""
    names = _descriptions(path)
    if isinstance(band, str) and band.isdigit():
        band = int(band)
    if isinstance(band, int):
        if not 1 <= band <= len(names):
            raise InputError(f"{option}: raster {path} has no band {band} (it has {len(names)})")
        return BandRef(str(path), band, names[band - 1])
    if band not in names:
        raise InputError(f"{option}: raster {path} has no band named {band!r} "
                         f"(its bands: {', '.join(n or '(unnamed)' for n in names)})")
    return BandRef(str(path), names.index(band) + 1, band)


def split_reference(text):
    """(path, band or None) of ``RASTER[:BAND]`` text; a path that exists is taken whole (C:\\x.tif), and so is a
    GDAL source (GPKG:x.gpkg:table, NETCDF:"x.nc":variable) unless only its text before the last ':' opens."""
    from ..rasters import gdal_source, opens_as_raster

    text = str(text)
    if os.path.exists(text) or ":" not in text:
        return text, None
    path, band = text.rsplit(":", 1)
    if not path or not band or (gdal_source(text) and (opens_as_raster(text) or not opens_as_raster(path))):
        return text, None
    return path, band


def band_reference(value, option, constant=False, sd=False):
    """A :class:`BandRef` from ``RASTER[:BAND]`` text, (path, band) or a BandRef; None stays None.

    constant: a number (or number text) is returned as a float (a value for every pixel). sd: the
    reference is an sd, so a raster without a band stands for its only ``_sd`` band (else its
    only ``_mean`` band).
    """
    if value is None or isinstance(value, BandRef):
        return value
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, (tuple, list)):
        return raster_band(str(value[0]), value[1], option)
    else:
        try:
            number = float(value)
        except ValueError:
            path, band = split_reference(value)
            return raster_band(path, _only_band(path, option, "_sd" if sd else "_mean") if band is None else band,
                               option)
    if not constant:
        raise InputError(f"{option}: give a raster (RASTER or RASTER:BAND), not the number {number:g}")
    from ..depth import check_scalar

    check_scalar(option, number)
    return number


def _only_band(path, option, suffix):
    """The band a raster given without one stands for: its only band, or its only band named ``…<suffix>``
    (``_mean`` beside its ``_sd``, or ``_sd`` for an sd); InputError naming the bands when that is not clear."""
    names = _descriptions(path)
    named = [i + 1 for i, name in enumerate(names) if name.endswith(suffix)]
    if len(names) == 1 or len(named) == 1:
        return named[0] if named else 1
    shown = ", ".join(name or "(unnamed)" for name in names[:8]) + (", ..." if len(names) > 8 else "")
    raise InputError(f"{option}: raster {path} has {len(names)} bands ({shown}); choose the one to use: "
                     f"RASTER:BAND (e.g. {path}:{names[named[0] - 1] if named else 1}), in QGIS its band parameter")


def sd_partner(ref):
    """The ``<name>_sd`` band beside a ``<name>_mean`` band, or None."""
    if not isinstance(ref, BandRef) or not ref.name.endswith("_mean"):
        return None
    wanted = ref.name[:-len("_mean")] + "_sd"
    names = _descriptions(ref.path)
    return BandRef(ref.path, names.index(wanted) + 1, wanted) if wanted in names else None


def _is_number(text):
    try:
        float(str(text))
    except ValueError:
        return False
    return not os.path.exists(str(text))


def layer_references(items, option, sd=False):
    """The bands of a layered input, in depth order: each item ``RASTER:BAND``, or a file whose
    ``_mean`` bands (else all its bands) are layers. sd: the sds of a layered input: a file stands
    for its ``_sd`` bands, and a number is the sd of one layer (a float in the list)."""
    suffix = "_sd" if sd else "_mean"
    refs = []
    for item in ([items] if isinstance(items, (str, os.PathLike, BandRef, int, float)) else items):
        if isinstance(item, (int, float)) or _is_number(item):
            if sd:
                refs.append(band_reference(item, option, constant=True, sd=True))  # a finite number
                continue
            raise InputError(f"{option}: {item} is a number; give rasters, one band per layer (a number is not a "
                             "layered input)")
        if isinstance(item, (BandRef, tuple, list)) or split_reference(item)[1] is not None:
            refs.append(band_reference(item, option))
            continue
        names = _descriptions(item)
        chosen = [i for i, name in enumerate(names) if name.endswith(suffix)]
        refs += [BandRef(str(item), i + 1, names[i]) for i in (chosen or range(len(names)))]
    if not refs:
        raise InputError(f"{option}: give at least one raster")
    return refs


_LAYER_NAME = re.compile(r"_(\d+(?:p\d+)?)_(\d+(?:p\d+)?)(?:_mean|_sd)?$")


def layers_of(refs, layers, option):
    """The layer scheme of layered bands: ``layers`` if given, else the layers a wholesoil raster
    records (when ``refs`` are all its bands), else the depths in the band names (``…_0_20_mean``).

    Band names that give depths must agree with the scheme, layer by layer (InputError otherwise).
    """
    if layers is not None:
        scheme = layer_scheme(layers)
    else:
        scheme = named_layers(refs, option)
        if scheme is None:
            raise InputError(f"{option}: the band names ({', '.join(r.name or str(r.band) for r in refs)}) do "
                             "not give the layers; give the layers (e.g. 0,20,40,60,80,100,150,200)")
    if len(scheme) != len(refs):
        raise InputError(f"{option}: {len(refs)} band(s) for {len(scheme)} layers ({', '.join(scheme.labels)} cm); "
                         "give one band per layer, or the layers the bands hold")
    check_layer_names(refs, scheme, option)
    return scheme


def check_layer_names(refs, scheme, option, layers_option="layers"):
    """InputError when a band of ``refs`` (one per layer of ``scheme``; numbers and None pass) has a
    name giving other depths (cm) than its layer's. layers_option: what sets the layers, for the message."""
    wrong = [(ref, named, layer) for ref, layer in zip(refs, zip(scheme.tops, scheme.bottoms))
             if (named := _named_layer(ref)) is not None and named != layer]
    if wrong:
        ref, named, layer = wrong[0]
        hint = (f" ({len(wrong)} of {len(refs)} bands disagree with the layers {', '.join(scheme.labels)} cm); give "
                "the bands in depth order and" if len(refs) > 1 else "; give")
        raise InputError(f"{option}: band {ref} is named for {_label(named)} cm but is given for the layer "
                         f"{_label(layer)} cm{hint} {layers_option} that agree with the band names")


def _named_layer(ref):
    """(top, bottom) depths (cm) a band's name gives (``…_0_20_mean``, ``…_2p5_10_sd``), or None."""
    match = _LAYER_NAME.search(ref.name) if isinstance(ref, BandRef) else None
    return None if match is None else tuple(float(g.replace("p", ".")) for g in match.groups())


def _label(layer):
    """'0-20' for the layer (0, 20) cm."""
    return "-".join(format_depth(depth) for depth in layer)


def named_layers(refs, option):
    """The layer scheme layered bands give: the layers a wholesoil raster records (when ``refs`` are
    all its bands), else the depths in the band names (``…_0_20_mean``); None when they give none.
    InputError when every band names a layer but they are not consecutive layers in depth order."""
    return _recorded_layers(refs) or _named_layers(refs, option)


def _recorded_layers(refs):
    from ..partitioning import raster_layer_scheme

    paths = {r.path for r in refs}
    if len(paths) != 1 or [r.band for r in refs] != list(range(1, len(refs) + 1)):
        return None
    return raster_layer_scheme(refs[0].path)


def _named_layers(refs, option):
    named = [_named_layer(ref) for ref in refs]
    if None in named:
        return None
    try:
        return LayerScheme.from_intervals(named)
    except InputError as error:
        raise InputError(f"{option}: the bands are named for {', '.join(_label(layer) for layer in named)} cm, "
                         f"which are not one layer after another from the top ({error}); give one band per layer, "
                         "in depth order") from None


def band_units(ref):
    """The unit a band records (:func:`..rasters.band_unit`), or None."""
    if not isinstance(ref, BandRef):
        return None
    from ..rasters import band_unit, open_raster

    dataset = open_raster(ref.path)
    units = band_unit(dataset.GetRasterBand(ref.band))
    dataset = None
    return units


#: Spellings of a year in unit texts.
_YEAR = {"y", "yr", "a", "year"}


def _unit_words(text):
    """Unit text in one spelling, without the element: 'g C m-2 yr-1', 'gC m^-2 y-1', 'gC/m2/yr' and
    'g C m⁻² a⁻¹' -> 'g m-2 yr-1'. Case is kept (Mg is not mg)."""
    text = str(text).replace("⁻¹", "-1").replace("⁻²", "-2").replace("^", "").replace("/", " /")
    words = []
    for word in text.replace("·", " ").replace("*", " ").split():
        divided, word = word.startswith("/"), word.lstrip("/")
        match = re.fullmatch(r"([A-Za-z]+?)C?(-?\d+)?", word) if word != "C" else None
        if word == "C" or match is None:
            if word != "C":
                words.append(("/" if divided else "") + word)
            continue
        unit, power = match[1], int(match[2] or 1)
        unit = "yr" if unit in _YEAR else "Mg" if unit == "t" else unit  # t C ha-1 is Mg C ha-1
        power = -power if divided else power
        words.append(unit if power == 1 else f"{unit}{power}")
    return " ".join(words)


def recorded_kind(ref):
    """('flux' or 'stock', the recorded unit text) when a band records a flux or stock unit of :data:`UNITS`,
    else (None, the recorded text or None)."""
    recorded = band_units(ref)
    words = _unit_words(recorded) if recorded else None
    kind = next((k for k in UNITS if words in {_unit_words(label) for _, label in UNITS[k].values()}), None)
    return kind, recorded


def unit_factor(ref, kind, unit, option, notes):
    """Factor from the band's unit to the project unit of ``kind`` ('flux' or 'stock').

    unit: a code of :data:`UNITS` (the user's choice); None: the band's ``units`` metadata when
    it names a known unit, else the project unit. A known unit in the metadata that differs
    from a chosen one, or is of the other kind (a flux for a stock, or the reverse), is an
    InputError, and so is a unit in the metadata this does not know (unless ``unit`` is chosen). A
    note says which unit was used when it is not the project unit, or when the band records none.
    """
    units = UNITS[kind]
    if unit is not None and unit not in units:
        raise InputError(f"{option} unit must be one of {', '.join(units)}, not {unit!r}")
    other, recorded = recorded_kind(ref)
    words = _unit_words(recorded) if recorded else None
    known = {k: {_unit_words(label): code for code, (_, label) in UNITS[k].items()} for k in UNITS}
    if other is not None and other != kind:
        raise InputError(f"{option}: band {ref} records units {recorded!r}, a {other}, but a {kind} is needed "
                         f"({next(iter(units.values()))[1]} or another {kind} unit); check the band")
    found = known[kind].get(words)
    if unit is not None and found is not None and found != unit:
        raise InputError(f"{option}: band {ref} records units {recorded!r}, but the unit given is {unit} "
                         f"({units[unit][1]}); give {found} ({units[found][1]}) or check the raster")
    code = unit or found or next(iter(units))
    where = f"{'--ibulk-unit' if option == 'Ibulk' else f'--{kind}-unit'} (in QGIS the unit parameter, advanced)"
    if recorded and found is None and unit is None:
        raise InputError(f"{option}: band {ref} records units {recorded!r}, which wholesoil does not know as a {kind} "
                         f"unit; if it is one of {', '.join(f'{c} ({label})' for c, (_, label) in units.items())}, "
                         f"give it with {where}, else convert the raster")
    if not recorded and unit is None:
        example = list(units)[1]
        notes.append(f"{option}: the raster records no units; taken as {units[code][1]} (give its unit with {where} "
                     f"if it is another, e.g. {example}: {units[example][1]})")
    elif code != next(iter(units)):
        notes.append(f"{option}: {units[code][1]} converted to {next(iter(units.values()))[1]}")
    return units[code][0]
