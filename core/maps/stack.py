"""Covariate rasters matched to a model's covariates by name.

Names follow the rule of ``sample-rasters`` (:func:`..rasters.band_names`), so a
model trained on sampled covariates predicts on the same rasters without renaming:
``NAME=RASTER`` names a single-band raster; a single-band file is otherwise named by its
band description or file name; the bands of multi-band files and VRTs by their
descriptions (else ``<stem>_b<band>``). A single-band raster also answers to its file name
and its band description (so a model sampled in QGIS, where a layer's name is its file
name, maps on the command line, and the reverse), unless another raster has or offers
that name. One raster of a file holding several (a GDAL subdataset: ``GPKG:x.gpkg:bio1``,
``NETCDF:"x.nc":bio1``) is named by its table or variable, here bio1, in place of the file
name and of its band description; ``NAME=GPKG:x.gpkg:bio1`` names it, and
``GPKG:x.gpkg:bio1:2`` is its band 2.

All covariates must share one grid (CRS, size, origin and pixel size), or be warped on
the fly to a reference grid (``grid``): a GDAL warped VRT per raster, nearest neighbour
for categorical covariates and bilinear for the others, kept as VRT text so that every
worker, local or on a cluster, opens it itself.
"""

import math
import os

from ..errors import InputError
from ..rasters import band_names, check_aligned, gdal_source, open_raster, raster_info, raster_stem
from .bands import raster_band, split_reference


def parse_named_rasters(items):
    """[(name or None, path)] from 'NAME=RASTER' or 'RASTER' items.

    An item is split at its first '='; an existing path holding '=' (e.g.
    year=2020/bio1.tif) is a path.
    """
    parsed = []
    for item in items:
        name, separator, path = str(item).partition("=")
        if not separator or os.path.exists(str(item)):
            name, path = None, str(item)
        parsed.append((name or None, path))
    return parsed


def covariate_bands(name, item, what="covariate raster"):
    """(path, [(band number, name)], default names) of one 'NAME=RASTER' item (see
    :func:`parse_named_rasters`): every band of RASTER, or the one band of RASTER:BAND (by its
    number or description), named as ``sample-rasters`` and ``predict-raster`` name them.
    name: None, a name, or (a whole raster) a list of one name per band. default: the names the
    raster's bands take without ``name`` (None for one band chosen). what: the raster's role in
    messages."""
    path, selected = (item, None) if os.path.isfile(item) else split_reference(item)  # RASTER:BAND?
    if not os.path.isfile(path) and not gdal_source(path):
        raise InputError(f"{what} {path} " + ("is a folder" if os.path.isdir(path) else "does not exist"))
    if selected is not None:
        if isinstance(name, (list, tuple)):
            raise InputError(f"{what} {item}: give one name for one band, not {len(name)}")
        chosen = raster_band(path, selected, what)
        return path, [(chosen.band, name or chosen.name or f"{raster_stem(path)}_b{chosen.band}")], None
    default = band_names(path)  # band descriptions, else the file name (one opening of the file)
    if name is None:
        names = default
    else:
        names = [name] if len(default) == 1 and isinstance(name, str) else band_names(path, name)
    return path, list(enumerate(names, start=1)), default


class CovariateStack:
    """Covariate name -> (raster, band) on one grid.

    rasters: items as for :func:`parse_named_rasters` (strings) or (name, path) pairs.
    grid: a reference raster; every covariate is warped to its grid. categorical: names
    warped with nearest neighbour (all others bilinearly).
    Attributes: ``layers`` {name: (source, band)}, where source is an absolute path, a GDAL source as given
    (GPKG:x.gpkg:table, /vsizip/…) or VRT text, ``grid`` (a RasterInfo of the common grid; without a reference
    grid, that of the covariates last selected), ``sources`` {name: 'path:band'} for the record, ``files`` the
    rasters read.
    """

    def __init__(self, rasters, grid=None, categorical=()):
        pairs = [item if isinstance(item, tuple) else parse_named_rasters([item])[0] for item in rasters]
        if not pairs:
            raise InputError("no covariate raster given")
        self.layers, self.sources, self.files, offered = {}, {}, [], {}
        for name, item in pairs:
            path, bands, default = covariate_bands(name, item)
            numbers, labels = [band for band, _ in bands], [label for _, label in bands]
            source = os.path.abspath(path) if os.path.isfile(path) else path
            self.files.append(source)
            for band, label in zip(numbers, labels):
                if label in self.layers:
                    raise InputError(f"two covariate rasters are both named {label!r} ({self.sources[label]} and "
                                     f"{path}:{band}); name one with NAME=RASTER (Covariate names in QGIS)")
                self.layers[label] = (source, band)
                self.sources[label] = f"{path}:{band}"
            if default is not None and len(labels) == 1:  # also known by its file name and its band description
                for other in {raster_stem(path), default[0]} - {labels[0]}:
                    offered.setdefault(other, []).append(labels[0])
        #: other names of single-band rasters {name: label}, used only when no raster has that label
        #: and no other raster offers the same name (a QGIS layer named after its file and the same
        #: file named by its band description on the command line are one raster)
        self.aliases = {other: labels[0] for other, labels in offered.items()
                        if other not in self.layers and len(labels) == 1}
        self.grid_path, self.misses, self.grid = grid, {}, None
        if grid is not None:
            self.layers, self.misses = _warped(self.layers, grid, {self.aliases.get(c, c) for c in categorical})
            self.grid = raster_info(grid)
        else:  # checked in select(): only the covariates a model uses must share a grid
            self.infos = {path: raster_info(path) for path in {path for path, _ in self.layers.values()}}  # per file

    def select(self, names):
        """{name: (source, band)} for the covariates ``names`` (labels, or other names of single-band
        rasters); InputError listing both sides if any is missing."""
        missing = [n for n in names if n not in self.layers and n not in self.aliases]
        if missing:
            raise InputError(f"the covariate rasters lack {', '.join(map(repr, missing))} (the model needs: "
                             f"{', '.join(names)}; the rasters give: {', '.join(self.layers)}); "
                             "name each raster as the model's covariate: NAME=RASTER on the command line; in "
                             "QGIS the layer name, a single band's description or Covariate names (a multi-band "
                             "layer's band descriptions)")
        for name in names:
            label = name if name in self.layers else self.aliases[name]
            if label in self.misses:  # only the covariates a model uses must overlap the grid
                raise InputError(self.misses[label])
            self.sources[name] = self.sources[label]
        chosen = {name: self.layers[name] if name in self.layers else self.layers[self.aliases[name]] for name in names}
        if self.grid_path is None:
            try:
                self.grid = check_aligned({f"{name} ({self.sources[name]})": self.infos[path]
                                           for name, (path, _) in chosen.items()})
            except InputError as error:
                raise InputError(f"{error} (or give a reference grid to warp them to: --grid on the command line, "
                                 "Reference grid in QGIS)") from None
        return chosen


def _warped(layers, grid, categorical):
    """The layers warped to the grid of ``grid``: one VRT (as text) per raster and resampling, and
    {name: the problem} of those that do not overlap the grid."""
    from osgeo import gdal

    reference = raster_info(grid)
    x0, dx, _, y0, _, dy = reference.geotransform
    bounds = (x0, y0 + dy * reference.height, x0 + dx * reference.width, y0)
    vrts, out, misses = {}, {}, {}
    for name, (path, band) in layers.items():
        method = "near" if name in categorical else "bilinear"
        key = (path, method)
        if key not in vrts:
            source = open_raster(path)
            if not source.GetProjection() or not reference.crs_wkt:
                raise InputError(f"--grid: {path if not source.GetProjection() else grid} has no CRS, so it "
                                 "cannot be warped; assign one first")
            covered = _bounds(source, reference.crs_wkt)
            if covered is not None and not _overlap(covered, bounds):
                misses[path] = (f"does not overlap the reference grid {grid} (--grid on the command line, Reference "
                                f"grid in QGIS): it covers {_extent_text(covered)}, the grid {_extent_text(bounds)} "
                                "(in the grid's CRS), so every pixel would be nodata")
            memory = f"/vsimem/wholesoil_{os.getpid()}_{len(vrts)}.vrt"
            first = source.GetRasterBand(1)
            whole = gdal.GetDataTypeName(first.DataType).startswith(("Byte", "Int", "UInt"))
            # interpolated values of whole-number rasters (bio1 in 0.1 °C, pH x 10) are not whole numbers; and
            # a raster without a nodata value gets NaN outside its footprint (GDAL's fill, 0, would be a value)
            floats = (whole and method != "near") or first.GetNoDataValue() is None
            options = gdal.WarpOptions(format="VRT", dstSRS=reference.crs_wkt, outputBounds=bounds,
                                       width=reference.width, height=reference.height, resampleAlg=method,
                                       outputType=(gdal.GDT_Float64 if first.DataType == gdal.GDT_Float64 else
                                                   gdal.GDT_Float32) if floats else gdal.GDT_Unknown,
                                       dstNodata=float("nan") if first.GetNoDataValue() is None else None,
                                       multithread=False)
            gdal.Warp(memory, source, options=options)
            handle = gdal.VSIFOpenL(memory, "rb")
            gdal.VSIFSeekL(handle, 0, 2)
            size = gdal.VSIFTellL(handle)
            gdal.VSIFSeekL(handle, 0, 0)
            vrts[key] = gdal.VSIFReadL(1, size, handle).decode("utf-8")
            gdal.VSIFCloseL(handle)
            gdal.Unlink(memory)
        out[name] = (vrts[key], band)
    return out, {name: f"covariate {name} ({path}) {misses[path]}" for name, (path, _) in layers.items()
                 if path in misses}


def _bounds(dataset, crs_wkt):
    """(xmin, ymin, xmax, ymax) of an open raster in the CRS ``crs_wkt``; None when that cannot be
    told (a failed transformation, or bounds across the antimeridian)."""
    from osgeo import osr

    x0, dx, _, y0, _, dy = dataset.GetGeoTransform()
    xs, ys = (x0, x0 + dx * dataset.RasterXSize), (y0, y0 + dy * dataset.RasterYSize)
    own = (min(xs), min(ys), max(xs), max(ys))
    source, target = osr.SpatialReference(), osr.SpatialReference()
    for srs, wkt in ((source, dataset.GetProjection()), (target, crs_wkt)):
        srs.ImportFromWkt(wkt)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    if source.IsSame(target):
        return own
    try:
        bounds = osr.CoordinateTransformation(source, target).TransformBounds(*own, 21)
    except RuntimeError:
        return None
    if not all(math.isfinite(v) for v in bounds) or bounds[0] > bounds[2] or bounds[1] > bounds[3]:
        return None
    return tuple(bounds)


def _overlap(a, b):
    """Whether two (xmin, ymin, xmax, ymax) boxes share an area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _extent_text(box):
    return "x {:.10g} to {:.10g}, y {:.10g} to {:.10g}".format(box[0], box[2], box[1], box[3])
