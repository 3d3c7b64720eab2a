"""Profile plots: horizon values, fitted curves and layer means; root density with its modes.

Depth (cm) points down. Built with :func:`wholesoil.core.plots.new_figure` (Agg, no pyplot).
"""

import numpy as np

from .plots import COLOURS, new_figure

MAX_PANELS = 4


def profile_figure(result, profile_id, title=None, step=0.5, units=None):
    """One panel per property (at most 4) of one profile of a harmonisation result.

    result: :class:`~wholesoil.core.horizons.ProfileLayers` (spline or depth-weighted);
    units: optional property -> unit for the axis labels.
    Draws the horizon values as bars, the fitted spline (if any) as a line and the layer
    means as a step line.
    """
    horizons, names = result.horizons, result.horizons.value_cols[:MAX_PANELS]
    matches = np.flatnonzero(horizons.ids == profile_id)
    if not len(matches):
        raise ValueError(f"profile {profile_id!r} was not harmonised")
    p = int(matches[0])
    a, b = horizons.starts[p], horizons.starts[p + 1]
    top, bottom = horizons.top[a:b], horizons.bottom[a:b]
    id_col = horizons.id_col
    layers = result.layers[result.layers[id_col] == profile_id]
    layer_top, layer_bottom = layers.iloc[:, 1].to_numpy(float), layers.iloc[:, 2].to_numpy(float)
    figure, axes = new_figure(3.2 * len(names) + 0.6, 5.5, ncols=len(names), sharey=True)
    axes = np.atleast_1d(axes)
    deepest = max(float(bottom.max()), float(layer_bottom.max()))
    for k, (ax, name) in enumerate(zip(axes, names)):
        values = horizons.column(name)[a:b]
        ax.barh(top, np.nan_to_num(values), height=bottom - top, align="edge", color=COLOURS[0], alpha=0.3,
                edgecolor=COLOURS[0], label="horizons")
        if result.fits and name in result.fits:
            depths = np.arange(0.0, deepest + step, step)
            curve = result.fits[name].evaluate(depths)[p]
            ax.plot(curve, depths, "-", color=COLOURS[1], label="spline")
        means = layers[name].to_numpy(float)
        ax.step(np.repeat(means, 2), np.column_stack([layer_top, layer_bottom]).ravel(), where="post",
                color=COLOURS[3], linewidth=2, label="layer means")
        ax.set_xlabel(f"{name} ({units[name]})" if units and name in units else name)
        ax.grid(alpha=0.3)
        ax.set_xlim(left=min(0.0, float(np.nanmin(np.append(values, 0.0)))))
    axes[0].set_ylim(deepest, 0)
    axes[0].set_ylabel("depth (cm)")
    axes[0].legend(fontsize="small", loc="lower right")
    figure.suptitle(title or f"Profile {profile_id}")
    return figure


def root_density_figure(site, curve, title=None, unit=None):
    """Site-mean root density by increment (bars) and its kernel density with D0, D1, D2 marked.

    curve: an entry of :attr:`wholesoil.core.bimodality.Bimodality.curves`; unit: of the density.
    """
    figure, bars = new_figure(6.5, 6.0)
    top, bottom = curve["top"], curve["bottom"]
    bars.barh(top, curve["mean_density"], height=bottom - top, align="edge", color=COLOURS[0], alpha=0.35,
              edgecolor=COLOURS[0], label="site-mean density")
    bars.set_xlabel(f"root density (site mean, {unit})" if unit else "root density (site mean)")
    bars.set_ylabel("depth (cm)")
    kde = bars.twiny()
    kde.plot(curve["density"], curve["grid"], "-", color=COLOURS[1], label="kernel density")
    modes = curve["modes"]
    kde.plot(modes["heights"], modes["modes"], "o", color=COLOURS[1], markerfacecolor="none", label="local maxima")
    for depth, label, style in ((modes["d0"], "D0 primary mode", "-"), (modes["d1"], "D1 antimode", ":"),
                                (modes["d2"], "D2 secondary mode", "--")):
        if np.isfinite(depth):
            bars.axhline(depth, color=COLOURS[2] if label.startswith("D1") else COLOURS[3], linestyle=style,
                         label=f"{label} ({depth:.1f} cm)")
    kde.set_xlabel("kernel density over depth (per cm)")
    kde.set_xlim(left=0.0)
    bars.set_ylim(float(bottom.max()), 0.0)
    handles = bars.get_legend_handles_labels()
    more = kde.get_legend_handles_labels()
    bars.legend(handles[0] + more[0], handles[1] + more[1], fontsize="small", loc="lower right")
    bars.grid(alpha=0.3)
    figure.suptitle(title or f"{site}: {modes['modality']}")
    return figure


def soc_stock_figure(layers, id_col, top_col, bottom_col, stock_col, cumulative_col, max_profiles=12):
    """SOC per cm of each layer (Mg C ha-1 cm-1, steps) and the cumulative stock (Mg C ha-1) against depth.

    layers: a table of soc_stocks (one row per horizon or layer); the first ``max_profiles``
    profiles are drawn, each in its own colour.
    """
    figure, (density, cumulative) = new_figure(9.0, 5.5, ncols=2, sharey=True)
    profiles = list(dict.fromkeys(layers[id_col]))[:max_profiles]
    deepest = 0.0
    for i, profile in enumerate(profiles):
        rows = layers[layers[id_col] == profile].sort_values(top_col)
        top, bottom = rows[top_col].to_numpy(float), rows[bottom_col].to_numpy(float)
        per_cm = rows[stock_col].to_numpy(float) / (bottom - top)
        colour = COLOURS[i % len(COLOURS)]
        density.step(np.repeat(per_cm, 2), np.column_stack([top, bottom]).ravel(), where="post", color=colour)
        cumulative.plot(np.concatenate(([0.0], rows[cumulative_col].to_numpy(float))),
                        np.concatenate(([top[0]], bottom)), "-o", markersize=3, color=colour, label=str(profile))
        deepest = max(deepest, float(np.nanmax(bottom)))
    density.set_xlabel("SOC per cm of the layer (Mg C ha-1 cm-1)")
    cumulative.set_xlabel("cumulative SOC stock (Mg C ha-1)")
    density.set_ylabel("depth (cm)")
    density.set_ylim(deepest or 1.0, 0)
    for axes in (density, cumulative):
        axes.grid(alpha=0.3)
    if profiles:
        cumulative.legend(fontsize="small", loc="lower left")
    figure.suptitle(f"SOC stocks ({len(profiles)} of {layers[id_col].nunique()} profiles)")
    return figure
