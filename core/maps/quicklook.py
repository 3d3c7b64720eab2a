"""Quick-look pictures of map bands: a PNG with a colour bar and units, cheap for huge rasters.

Each band is read once through a decimated window of at most ``max_pixels`` on its longer
side, so memory does not grow with the raster; GDAL reads overviews when the file has them
(without them it still reads every tile once). Nodata is transparent. Bands of one quantity
(names equal but for their numbers, e.g. the depth layers ``bnpp_0_10_mean`` and
``bnpp_10_30_mean``, in the same units) share one colour scale, so that layers compare by
colour; it spans the 2nd to 98th percentile of their shown values, and is diverging, centred
on 0, when they hold values of both signs (e.g. Iloss, even with few negative pixels). Each
colour bar is labelled with the band's ``units`` metadata. A band of classes (a ``_class``
band with its labels, an ``_aoa`` band) is drawn in one colour per class with a legend of the
labels, in the colours QGIS gives the same band (:func:`band_classes`).
"""

import re

import numpy as np

from ..errors import InputError

#: Longer side, in pixels, of the window each band is read through.
MAX_PIXELS = 600
#: Percentiles spanned by the colours.
COLOUR_RANGE = (2.0, 98.0)
#: Panels per row.
COLUMNS = 4
#: Colours of classes, in the order of their codes (ColorBrewer Set2, then Dark2).
CLASS_COLOURS = ("#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f", "#e5c494", "#b3b3b3",
                 "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
#: An area-of-applicability band: its codes, labels and colours.
AOA_CLASSES = ((0.0, "outside the area of applicability", "#d73027"),
               (1.0, "inside the area of applicability", "#1a9850"))


def band_classes(band):
    """(code, label, colour) of each class a GDAL band holds (labels ``class_<code>`` in its metadata, as
    predict-raster writes them; or a band named ``*_aoa``), else an empty list."""
    labels = sorted((float(key[len("class_"):]), label) for key, label in (band.GetMetadata() or {}).items()
                    if key.startswith("class_"))
    if labels:
        return [(code, label, CLASS_COLOURS[i % len(CLASS_COLOURS)]) for i, (code, label) in enumerate(labels)]
    return list(AOA_CLASSES) if band.GetDescription().endswith("_aoa") else []


def _band_numbers(dataset, bands):
    names = [dataset.GetRasterBand(i + 1).GetDescription() for i in range(dataset.RasterCount)]
    numbers = []
    for band in bands or [1]:
        if isinstance(band, str) and not band.isdigit():
            if band not in names:
                raise InputError(f"quick-look: the raster has no band named {band!r}")
            numbers.append(names.index(band) + 1)
        elif not 1 <= int(band) <= dataset.RasterCount:
            raise InputError(f"quick-look: the raster has no band {band} (it has {dataset.RasterCount})")
        else:
            numbers.append(int(band))
    return numbers


def read_decimated(dataset, number, max_pixels=MAX_PIXELS):
    """One band through a window of at most ``max_pixels`` on its longer side: float64, NaN for nodata."""
    width, height = dataset.RasterXSize, dataset.RasterYSize
    factor = max(1.0, max(width, height) / max_pixels)
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    band = dataset.GetRasterBand(number)
    values = band.ReadAsArray(buf_xsize=size[0], buf_ysize=size[1]).astype(np.float64)
    nodata = band.GetNoDataValue()
    if nodata is not None:
        values[values == nodata] = np.nan
    values[~np.isfinite(values)] = np.nan
    return values


def _axis_labels(dataset):
    from osgeo import osr

    wkt = dataset.GetProjection()
    srs = osr.SpatialReference()
    if wkt and srs.ImportFromWkt(wkt) == 0 and srs.IsGeographic():
        return "longitude (°)", "latitude (°)"
    unit = srs.GetLinearUnitsName() if wkt else "map units"
    return f"x ({unit})", f"y ({unit})"


def quicklook_figure(path, bands=None, title=None, max_pixels=MAX_PIXELS):
    """A figure of raster bands side by side (at most :data:`COLUMNS` per row), titled with the band
    names, each with a colour bar labelled with its ``units`` metadata. bands: numbers or names
    (default: band 1)."""
    from matplotlib import colormaps

    from ..plots import new_figure
    from ..rasters import band_unit, open_raster

    dataset = open_raster(path)
    numbers = _band_numbers(dataset, bands)
    columns = min(COLUMNS, len(numbers))
    rows = -(-len(numbers) // columns)
    figure, axes = new_figure(4.2 * columns, 3.6 * rows + 0.6, ncols=columns, nrows=rows)
    axes = np.atleast_1d(axes).ravel()
    x0, dx, _, y0, _, dy = dataset.GetGeoTransform()
    extent = (x0, x0 + dx * dataset.RasterXSize, y0 + dy * dataset.RasterYSize, y0)
    xlabel, ylabel = _axis_labels(dataset)
    panels = [read_decimated(dataset, number, max_pixels) for number in numbers]
    finite = [values[np.isfinite(values)] for values in panels]
    bands = [dataset.GetRasterBand(number) for number in numbers]
    quantities = [(re.sub(r"\d+", "#", band.GetDescription()) or f"band {number}", band_unit(band))
                  for number, band in zip(numbers, bands)]
    scales = {}
    for quantity in dict.fromkeys(quantities):
        shown = np.concatenate([f for f, q in zip(finite, quantities) if q == quantity])
        low, high = np.percentile(shown, COLOUR_RANGE) if shown.size else (0.0, 1.0)
        diverging = shown.size and shown.min() < 0 < shown.max()
        if diverging:
            high = max(abs(low), abs(high))
            low = -high
        cmap = colormaps["RdBu_r" if diverging else "viridis"].copy()
        cmap.set_bad(alpha=0.0)
        scales[quantity] = (low, high, cmap)
    for ax, number, band, values, quantity, shown in zip(axes, numbers, bands, panels, quantities, finite):
        units = band_unit(band)
        name = band.GetDescription() or f"band {number}"
        classes = band_classes(band)
        if classes:
            _draw_classes(ax, values, classes, extent)
        else:
            low, high, cmap = scales[quantity]
            image = ax.imshow(np.ma.masked_invalid(values), extent=extent, cmap=cmap, vmin=low,
                              vmax=high if high > low else low + 1e-12, interpolation="nearest")
            figure.colorbar(image, ax=ax, shrink=0.85, label="unitless (1)" if units == "1" else units or name)
        ax.set_title(name if shown.size else f"{name}: no valid pixel", fontsize="medium")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    for ax in axes[len(numbers):]:
        ax.set_visible(False)
    dataset = None
    if title:
        figure.suptitle(title)
    return figure


def _draw_classes(ax, values, classes, extent):
    """A band of class codes in one colour per class, with a legend of their labels (codes without a label
    in grey)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    codes = [code for code, _, _ in classes]
    edges = np.concatenate([[codes[0] - 0.5], (np.array(codes[1:]) + codes[:-1]) / 2, [codes[-1] + 0.5]])
    cmap = ListedColormap([colour for _, _, colour in classes])
    cmap.set_bad(alpha=0.0)
    cmap.set_over("#999999")
    cmap.set_under("#999999")
    known = np.isin(values, codes) | np.isnan(values)
    shown = np.where(known, values, codes[-1] + 1.0)  # an unlabelled code: grey (over the last edge)
    ax.imshow(np.ma.masked_invalid(shown), extent=extent, cmap=cmap, norm=BoundaryNorm(edges, cmap.N),
              interpolation="nearest")
    present = set(np.unique(values[np.isfinite(values)]))
    handles = [Patch(facecolor=colour, label=label) for code, label, colour in classes if code in present]
    if not known.all():
        handles.append(Patch(facecolor="#999999", label="other codes"))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)


def write_quicklook(path, png, bands=None, title=None, max_pixels=MAX_PIXELS):
    """Write the quick-look PNG of raster ``path`` (see :func:`quicklook_figure`); returns ``png``."""
    from ..plots import save_png

    return save_png(quicklook_figure(path, bands, title, max_pixels), png)
