"""Figures (PNG) and self-contained HTML reports.

Uses matplotlib's object API with the Agg canvas only (no pyplot, no global state), so it
is safe in QGIS worker threads and on servers without a display. Depth axes point down.
"""

import base64
import contextvars
import datetime
import html
import io

import numpy as np

from .outputs import atomic_output

COLOURS = ["#1b6ca8", "#d1495b", "#edae49", "#00798c", "#30638e", "#66a182", "#8d6a9f",
           "#e07a5f", "#3d405b", "#81b29a", "#f2cc8f", "#6c757d"]


def new_figure(width=8.0, height=5.0, ncols=1, nrows=1, **subplot_kw):
    """A Figure on an Agg canvas and its axes (a single Axes when 1 x 1)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, squeeze=True, **subplot_kw)
    return figure, axes


def save_png(figure, path):
    """Write a figure as PNG (atomically); returns the path."""
    with atomic_output(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    return path


def figure_data_uri(figure):
    """The figure as a base64 PNG data URI for embedding in HTML."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def html_image(figure, alt="figure"):
    """An <img> element holding the figure."""
    return f'<img alt="{html.escape(alt)}" src="{figure_data_uri(figure)}"/>'


def html_table(table, float_format="{:.4g}", max_rows=200):
    """A DataFrame as an HTML table (at most ``max_rows`` rows, geometry left out)."""
    shown = table.drop(columns=[c for c in table.columns if c == "geometry"]).head(max_rows)
    note = "" if len(table) <= max_rows else f"<p>First {max_rows} of {len(table)} rows.</p>"
    return shown.to_html(index=False, float_format=float_format.format, na_rep="", border=0,
                         classes="data") + note


_STYLE = """body{font-family:sans-serif;margin:1.2em;color:#222;max-width:70em}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.4em}
table.data{border-collapse:collapse;font-size:.9em}table.data td,table.data th{padding:.2em .6em;
border-bottom:1px solid #ddd;text-align:right}img{max-width:100%}p.note{color:#555}
table.run th{text-align:left;padding-right:1em;vertical-align:top}table.run{font-size:.85em;color:#444}"""


#: What the caller records about the run (name -> text: algorithm, parameters, versions) at the end of
#: every report written in this context; the Processing algorithms set it around each run.
RUN_RECORD = contextvars.ContextVar("wholesoil_run_record", default=None)


def run_record_html():
    """The "About this run" section: the caller's RUN_RECORD, else the wholesoil version and the date."""
    from .. import __version__

    record = RUN_RECORD.get() or {
        "wholesoil": __version__,
        "run at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in record.items())
    return f"<h2>About this run</h2><table class='run'>{rows}</table>"


def write_html_report(path, title, parts):
    """Write a self-contained HTML page; ``parts`` are HTML fragments (strings), followed by the run record."""
    body = "\n".join(list(parts) + [run_record_html()])
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>")
    with atomic_output(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(page)
    return path


def series_colours(n):
    """``n`` distinguishable colours: the project's palette up to 8 series, matplotlib's tab20 beyond."""
    if n <= 8:
        return COLOURS[:max(n, 1)]
    from matplotlib import colormaps

    return [colormaps["tab20"](i % 20) for i in range(n)]


#: Above this many profiles the layer fractions are drawn as a grid of cells instead of bars.
MAX_BAR_PROFILES = 4


def depth_fractions_figure(scheme, profiles, title="Depth distribution"):
    """Layer fractions and cumulative fraction (lines) against depth.

    scheme: a LayerScheme; profiles: mapping label -> fractions per layer (sums to <= 1).
    Up to MAX_BAR_PROFILES profiles the fractions are side-by-side bars within each layer;
    more are a grid of cells (profile x layer) coloured by fraction, so that nothing overlaps.
    Profiles with the same fractions (e.g. two biomes of one β) share one colour and one line,
    labelled with all their names, so that no line hides another.
    """
    figure, (bars, cumulative) = new_figure(10.0, 5.5, ncols=2, sharey=True)
    tops, thickness = scheme.tops, scheme.thickness
    n = max(len(profiles), 1)
    curves = {}  # fractions -> the labels of the profiles that have them
    for label, fractions in profiles.items():
        curves.setdefault(tuple(np.asarray(fractions, dtype=float).round(12)), []).append(str(label))
    colour_of = {label: colour for labels, colour in zip(curves.values(), series_colours(len(curves)))
                 for label in labels}
    depths = np.concatenate(([scheme.breaks[0]], scheme.bottoms))
    if len(profiles) > MAX_BAR_PROFILES:
        grid = np.array([np.asarray(f, dtype=float) for f in profiles.values()]).T
        mesh = bars.pcolormesh(np.arange(n + 1), depths, grid, cmap="viridis", vmin=0.0, shading="flat")
        figure.colorbar(mesh, ax=bars, label="fraction in layer")
        bars.set_xticks(np.arange(n) + 0.5)
        bars.set_xticklabels([str(label) for label in profiles], rotation=60, ha="right", fontsize="small")
    else:
        height = thickness / n
        for i, (label, fractions) in enumerate(profiles.items()):
            bars.barh(tops + i * height, np.asarray(fractions, dtype=float), height=height * 0.9, align="edge",
                      color=colour_of[str(label)], label=str(label))
        bars.set_xlabel("fraction in layer")
    for fractions, labels in curves.items():
        cumulative.plot(np.concatenate(([0.0], np.cumsum(fractions))), depths, "-o", color=colour_of[labels[0]],
                        label=" = ".join(labels), markersize=3)
    bars.set_ylabel("depth (cm)")
    bars.set_yticks(list(scheme.breaks))
    bars.invert_yaxis()
    cumulative.set_xlabel("cumulative fraction above depth" if scheme.breaks[0] == 0 else
                          f"cumulative fraction from {scheme.breaks[0]:g} cm down to depth")
    cumulative.set_xlim(0, 1.02)
    for axes in (bars, cumulative):
        axes.grid(alpha=0.3)
    if len(profiles) > 1:
        cumulative.legend(fontsize="small", loc="lower left")
    figure.suptitle(title)
    return figure


def layer_amounts_figure(scheme, amounts, xlabel, title, spread=None):
    """An amount per layer (e.g. BNPP, Mg C ha-1 yr-1) as a bar spanning each layer's depths.

    amounts: one value per layer; spread: optional (low, high) per layer, drawn as a range.
    """
    figure, axes = new_figure(6.5, 5.0)
    amounts = np.asarray(amounts, dtype=float)
    axes.barh(scheme.tops, amounts, height=scheme.thickness * 0.92, align="edge", color=COLOURS[0], alpha=0.8)
    if spread is not None:
        low, high = (np.asarray(s, dtype=float) for s in spread)
        middle = scheme.tops + scheme.thickness / 2
        axes.hlines(middle, low, high, color=COLOURS[1], linewidth=2, label="interquartile range over sites")
        axes.legend(fontsize="small", loc="lower right")
    for top, thick, value in zip(scheme.tops, scheme.thickness, amounts):
        axes.text(value, top + thick / 2, f" {value:.2f}", va="center", fontsize="small")
    axes.set_yticks(list(scheme.breaks))
    axes.set_ylim(scheme.breaks[-1], scheme.breaks[0])
    axes.set_xlabel(xlabel)
    axes.set_ylabel("depth (cm)")
    axes.grid(alpha=0.3)
    figure.suptitle(title)
    return figure


def raster_maps_figure(panels, title):
    """Maps of raster bands side by side, each with its colour bar.

    panels: (path, band, panel title, colour bar label with unit) per map; a geographic grid
    (longitude/latitude in degrees) is assumed for the axis labels. Nodata is left blank.
    """
    from .rasters import open_raster

    figure, axes = new_figure(5.2 * len(panels), 5.0, ncols=len(panels))
    for ax, (path, band, panel_title, label) in zip(np.atleast_1d(axes), panels):
        dataset = open_raster(path)
        source = dataset.GetRasterBand(band)
        values = source.ReadAsArray().astype(float)
        if source.GetNoDataValue() is not None:
            values[values == source.GetNoDataValue()] = np.nan
        x0, dx, _, y0, _, dy = dataset.GetGeoTransform()
        extent = (x0, x0 + dx * dataset.RasterXSize, y0 + dy * dataset.RasterYSize, y0)
        dataset = None
        image = ax.imshow(values, extent=extent, cmap="viridis", interpolation="nearest")
        figure.colorbar(image, ax=ax, label=label, shrink=0.8)
        ax.set_title(panel_title, fontsize="medium")
        ax.set_xlabel("longitude (°)")
        ax.set_ylabel("latitude (°)")
    figure.suptitle(title)
    return figure


def fitted_profiles_figure(profiles, title="Fitted depth profiles", max_profiles=12):
    """Observed cumulative fractions (points) and fitted curves (lines) against depth.

    profiles: list of dicts with keys ``label``, ``depth``, ``observed`` (cumulative
    fractions at those depths) and ``curve`` (a callable depth -> cumulative fraction).
    """
    figure, axes = new_figure(7.0, 6.0)
    if not profiles:
        axes.text(0.5, 0.5, "no profile was fitted", ha="center", transform=axes.transAxes)
        return figure
    deepest = max([float(np.max(p["depth"])) for p in profiles] + [1.0])
    grid = np.linspace(0.0, deepest * 1.1, 200)
    for i, profile in enumerate(profiles[:max_profiles]):
        colour = series_colours(min(len(profiles), max_profiles))[i]
        axes.plot(profile["observed"], profile["depth"], "o", color=colour)
        axes.plot(profile["curve"](grid), grid, "-", color=colour, label=str(profile["label"]))
    axes.invert_yaxis()
    axes.set_xlim(0, 1.02)
    axes.set_xlabel("cumulative fraction above depth")
    axes.set_ylabel("depth (cm)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", loc="lower left")
    shown = min(len(profiles), max_profiles)
    figure.suptitle(title if shown == len(profiles) else f"{title} (first {shown} of {len(profiles)})")
    return figure
