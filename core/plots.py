"""Figures (PNG) and self-contained HTML reports.

Uses matplotlib's object API with the Agg canvas only (no pyplot, no global state), so it
is safe in QGIS worker threads and on servers without a display. Depth axes point down.
"""

import base64
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
border-bottom:1px solid #ddd;text-align:right}img{max-width:100%}p.note{color:#555}"""


def write_html_report(path, title, parts):
    """Write a self-contained HTML page; ``parts`` are HTML fragments (strings)."""
    body = "\n".join(parts)
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>")
    with atomic_output(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(page)
    return path


def depth_fractions_figure(scheme, profiles, title="Depth distribution"):
    """Layer fractions (bars) and cumulative fraction (lines) against depth.

    scheme: a LayerScheme; profiles: mapping label -> fractions per layer (sums to <= 1).
    """
    figure, (bars, cumulative) = new_figure(9.0, 5.0, ncols=2, sharey=True)
    tops, thickness = scheme.tops, scheme.thickness
    n = max(len(profiles), 1)
    for i, (label, fractions) in enumerate(profiles.items()):
        fractions = np.asarray(fractions, dtype=float)
        colour = COLOURS[i % len(COLOURS)]
        height = thickness / n
        bars.barh(tops + i * height, fractions, height=height * 0.9, align="edge", color=colour,
                  label=str(label))
        depths = np.concatenate(([scheme.breaks[0]], scheme.bottoms))
        cumulative.plot(np.concatenate(([0.0], np.cumsum(fractions))), depths, "-o", color=colour,
                        label=str(label), markersize=3)
    bars.set_xlabel("fraction in layer")
    bars.set_ylabel("depth (cm)")
    bars.set_yticks(list(scheme.breaks))
    bars.invert_yaxis()
    cumulative.set_xlabel("cumulative fraction above depth")
    cumulative.set_xlim(0, 1.02)
    for axes in (bars, cumulative):
        axes.grid(alpha=0.3)
    if len(profiles) > 1:
        cumulative.legend(fontsize="small", loc="lower left")
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
        colour = COLOURS[i % len(COLOURS)]
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
