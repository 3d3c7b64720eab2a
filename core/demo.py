"""The demo: wholesoil's main jobs on the bundled sample data (resources/sample_data).

Each step calls the same core functions as the CLI and the Processing algorithms and
writes its outputs into one folder, with an ``index.html`` that shows them.
"""

from pathlib import Path

import pandas as pd

from .depth import beta_cumulative, fit_depth_profiles, fitted_curves
from .layers import layer_scheme
from .partitioning import raster_fractions, raster_partition_total, table_fractions, table_partition_total
from .plots import (depth_fractions_figure, fitted_profiles_figure, html_image, html_table, save_png,
                    write_html_report)
from .progress import as_progress
from .rasters import band_means
from .tables import read_table, write_table

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "resources" / "sample_data"

#: Global mean BNPP 0-200 cm of the mapped product of seed 000 (Mg C ha-1 yr-1).
GLOBAL_MEAN_BNPP = 2.00


def run_demo(output, sample_data=SAMPLE_DATA, progress=None, is_cancelled=None, log=print):
    """Run every demo step into folder ``output`` (created); returns the index.html path."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    steps = as_progress(progress, is_cancelled)
    standard = layer_scheme("standard7")
    parts = []

    log("1/4 beta model: root fractions of the 11 Jackson et al. (1996) biomes")
    jackson = read_table(sample_data / "jackson1996_beta_by_biome.csv")
    shares = table_fractions(jackson, "beta", {"beta": "beta"}, "0,30,100,200", normalize=False)
    shares["cum_0_30"] = beta_cumulative(30.0, jackson["beta"].to_numpy())
    write_table(shares, output / "jackson_biome_fractions.csv")
    fractions = table_fractions(jackson, "beta", {"beta": "beta"}, standard)
    figure = depth_fractions_figure(standard, {b: r for b, r in zip(
        fractions["biome"], fractions[standard.column_names("frac")].to_numpy())}, "Jackson et al. (1996) biomes")
    save_png(figure, output / "jackson_biome_fractions.png")
    parts += ["<h2>Root fractions of the Jackson et al. (1996) biomes (β model)</h2>",
              "<p>Share of roots in 0–30 cm (cum_0_30) and per layer, as fractions of the "
              "infinite-depth total; the plot shows the 7 standard layers normalised to 0–200 cm.</p>",
              html_table(shares[["biome", "beta", "cum_0_30", "frac_0_30", "frac_30_100", "frac_100_200"]]),
              html_image(figure, "biome fractions")]
    steps.update(0.25)

    log("2/4 fitting logistic and beta models to the Silsoe fine-root profiles")
    roots = read_table(sample_data / "silsoe_fine_roots.csv")
    columns = ("profile_id", "top_cm", "bottom_cm", "mass_mg_cm3")
    for model in ("logistic", "beta"):
        fits = fit_depth_profiles(roots, *columns, model=model, value_kind="density")
        write_table(fits, output / f"silsoe_{model}_fits.csv")
        curves = fitted_curves(roots, fits, *columns, model=model, value_kind="density")
        figure = fitted_profiles_figure(curves, f"Silsoe fine roots: {model} fits")
        save_png(figure, output / f"silsoe_{model}_fits.png")
        ok = fits["status"].eq("ok")
        summary = fits.loc[ok, ["d50_cm", "d95_cm", "r2"]].median()
        log(f"    {model}: {int(ok.sum())}/{len(fits)} profiles fitted; median D50 {summary['d50_cm']:.1f} cm, "
            f"D95 {summary['d95_cm']:.1f} cm, r2 {summary['r2']:.3f}")
        parts += [f"<h2>Silsoe fine-root profiles: {model} model</h2>",
                  f"<p>{int(ok.sum())} of {len(fits)} profiles fitted; medians: D50 {summary['d50_cm']:.1f} cm, "
                  f"D95 {summary['d95_cm']:.1f} cm, r² {summary['r2']:.3f}.</p>",
                  html_image(figure, f"{model} fits")]
    steps.update(0.5)

    log("3/4 partitioning measured BNPP at SRDB sites over 7 layers with each site's biome beta")
    sites = read_table(sample_data / "srdb_bnpp_sites.gpkg")
    with_fractions = table_fractions(sites, "beta", {"beta": "beta"}, standard)
    by_layer = table_partition_total(with_fractions, "bnpp_Mg_ha_yr", standard.column_names("frac"), "bnpp")
    write_table(by_layer, output / "srdb_bnpp_by_layer.gpkg")
    layer_columns = standard.column_names("bnpp")
    mean_profile = by_layer[layer_columns].mean()
    mean_fractions = mean_profile.to_numpy() / mean_profile.sum()
    figure = depth_fractions_figure(standard, {"mean over sites": mean_fractions}, "SRDB sites: BNPP by layer")
    save_png(figure, output / "srdb_bnpp_by_layer.png")
    top20 = mean_fractions[0]
    log(f"    {by_layer[layer_columns[0]].notna().sum()} sites; mean BNPP "
        f"{by_layer['bnpp_Mg_ha_yr'].mean():.2f} Mg C ha-1 yr-1; {100 * top20:.0f} % of it in 0-20 cm")
    parts += ["<h2>Measured BNPP at SRDB-V5 sites split over the 7 standard layers</h2>",
              "<p>Each site's β comes from its biome (a demonstration mapping, see SOURCE.md); sites "
              "without a matching biome get no layers.</p>",
              html_table(pd.DataFrame({"layer (cm)": standard.labels, "mean BNPP (Mg C ha-1 yr-1)": mean_profile.values,
                                       "share": mean_fractions})),
              html_image(figure, "SRDB BNPP by layer")]
    steps.update(0.75)

    log("4/4 rasters: beta fractions over the Americas and the global mean BNPP split by layer")
    fractions_tif = output / "americas_root_fractions.tif"
    raster_fractions("beta", {"beta": str(sample_data / "americas_root_beta.tif")}, fractions_tif, standard)
    bnpp_tif = output / "americas_bnpp_by_layer.tif"
    raster_partition_total(GLOBAL_MEAN_BNPP, bnpp_tif, str(fractions_tif), prefix="bnpp")
    means = band_means(fractions_tif)
    figure = depth_fractions_figure(standard, {"mean over land pixels": means}, "Americas: root fractions")
    save_png(figure, output / "americas_root_fractions.png")
    parts += ["<h2>Raster: root fractions over the Americas (0.5°)</h2>",
              f"<p>{fractions_tif.name}: one band per layer; {bnpp_tif.name}: {GLOBAL_MEAN_BNPP} Mg C ha-1 yr-1 "
              "(the mapped global mean BNPP of seed 000) split with each pixel's fractions.</p>",
              html_image(figure, "Americas fractions")]
    steps.update(1.0)
    index = write_html_report(output / "index.html", "wholesoil demo", parts)
    log(f"demo outputs are in {output.resolve()} (open {Path(index).name})")
    return index

