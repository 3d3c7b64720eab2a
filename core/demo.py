"""The demo: wholesoil's main jobs on the bundled sample data (resources/sample_data).

Each step calls the same core functions as the CLI and the Processing algorithms and
writes its outputs into one folder, with an ``index.html`` that shows them.
"""

from pathlib import Path

import pandas as pd

from .depth import beta_cumulative, fit_depth_profiles, fitted_curves
from .layers import layer_scheme
from .partitioning import table_fractions, table_partition_total
from .plots import (depth_fractions_figure, fitted_profiles_figure, html_image, html_table, layer_amounts_figure,
                    raster_maps_figure, save_png, write_html_report)
from .progress import as_progress
from .tables import read_table, write_table

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "resources" / "sample_data"

#: Units of the NEON megapit columns drawn (NEON DP1.00096.001 and DP1.10066.001 variables files).
NEON_UNITS = {"carbonTot": "g kg-1", "nitrogenTot": "g kg-1", "bulkDen": "g cm-3"}
NEON_ROOT_UNIT = "g m-3"


def caption(text):
    """One paragraph under a panel: what it shows and how it compares with the published figure."""
    import html

    return f"<p class='note'>{html.escape(text)}</p>"


def _rh_map(sampled, sample_data, output, log):
    """The Rh forest on the two climate covariates that exist as rasters, mapped over the Americas.

    sampled: the SRDB records with MAT (degC) and MAP (mm), gaps filled from WorldClim. The
    forest learns Rh from bio1 = MAT x 10 and bio12 = MAP (WorldClim's units), so it
    predicts on the WorldClim rasters; the records come from every continent.
    """
    from .learn.modelfile import save_model
    from .learn.training import train_model
    from .maps.predict import predict_raster

    climate = sampled.assign(bio1=sampled["MAT"] * 10.0, bio12=sampled["MAP"])
    trained = train_model(climate, "Rh_annual", ["bio1", "bio12"], group_col="site_key", n_splits=5, n_trees=200,
                          units="g C m-2 yr-1", permutation_repeats=2, random_state=0)
    model = save_model(output / "srdb_rh_climate_forest.wsmodel", trained)
    log("    mapping a climate-only Rh forest over the Americas (predict-raster, with its area of applicability)")
    run = predict_raster([model], [f"bio1={sample_data / 'worldclim_bio1_americas.tif'}",
                                   f"bio12={sample_data / 'worldclim_bio12_americas.tif'}"],
                         output / "americas_rh_map.tif", outputs=["mean", "sd", "aoa"])
    figure = raster_maps_figure([(run, 1, "Rh, mean of 200 trees", "g C m-2 yr-1"),
                                 (run, 2, "Rh, sd of the trees", "g C m-2 yr-1"),
                                 (run, 3, "area of applicability", "inside (1) or outside (0), fraction")],
                                "Soil heterotrophic respiration over the Americas (0.5°)")
    save_png(figure, output / "americas_rh_map.png")
    metrics = trained.metadata["metrics"]
    outside = 1 - run.mean[2]
    return ["<h3>The Rh model as a map</h3>",
            f"<p>americas_rh_map.tif: a forest on the two covariates that exist as rasters here, MAT and MAP "
            f"(WorldClim bio1 and bio12 where a record lacks them), trained on {metrics['n']} records from every "
            f"continent (grouped 5-fold CV R² {metrics['r2']:.2f}) and predicted pixel by pixel with "
            f"<code>predict-raster</code>: bands Rh_annual_mean, Rh_annual_sd and Rh_annual_aoa over "
            f"{int(run.valid[0]):,} pixels; {outside:.1%} of them lie outside the model's area of "
            "applicability.</p>",
            html_image(figure, "Rh map"),
            caption("Mean and spread of the per-tree predictions of Rh, and where the map extrapolates: the area "
                    "of applicability of Meyer & Pebesma (2021), as the R package CAST computes it, is 0 where a "
                    "pixel's climate is farther from every training record than the cross-validation folds are "
                    "from each other. He et al. map global Rh of 48.8 Pg C yr-1 with many more covariates at "
                    "0.5°; this map shows the workflow on two climate layers, not their product.")]


def _depth_resolved_maps(sites, sample_data, output, log):
    """The BNPP chain over the Americas: a forest of SRDB BNPP on WorldClim bio1 and bio12, its map,
    BNPP per layer with U_total from each biome's β, the latitude profile, and the Iloss maps with
    the bundled Ibulk demonstration map (per-pixel Monte Carlo)."""
    from .learn.modelfile import save_model
    from .learn.sampling import sample_rasters
    from .learn.training import train_model
    from .maps.aggregate import aggregate_raster, aggregation_figure
    from .maps.predict import predict_raster
    from .maps.products import RootInputs, bnpp_by_depth, loss_maps
    from .maps.quicklook import quicklook_figure

    rasters = {name: str(sample_data / f"worldclim_{name}_americas.tif") for name in ("bio1", "bio12")}
    sampled = sample_rasters(sites, list(rasters.values()), list(rasters)).table
    trained = train_model(sampled, "bnpp_Mg_ha_yr", list(rasters), group_col="site_key", n_splits=5, n_trees=200,
                          units="Mg C ha-1 yr-1", permutation_repeats=2, random_state=0)
    model = save_model(output / "srdb_bnpp_forest.wsmodel", trained)
    bnpp_map = predict_raster([model], [f"{n}={p}" for n, p in rasters.items()], output / "americas_bnpp_map.tif",
                              outputs=["mean", "sd"], names=["bnpp"])
    beta = str(sample_data / "americas_root_beta.tif")
    layers = bnpp_by_depth(output / "americas_bnpp_by_layer.tif", RootInputs(bnpp=f"{bnpp_map}:bnpp_mean", beta=beta))
    means = [name for name in layers.band_names if name.endswith("_mean")]
    figure = quicklook_figure(layers, means, "BNPP by depth layer over the Americas (Mg C ha-1 yr-1)")
    save_png(figure, output / "americas_bnpp_by_layer.png")
    utotal = quicklook_figure(layers, [means[0].replace("_mean", "_utotal"), means[-1].replace("_mean", "_utotal")],
                              "U_total of the top and the deepest layer")
    save_png(utotal, output / "americas_bnpp_utotal.png")
    totals, _ = aggregate_raster(str(bnpp_map), bands=["bnpp_mean"], latitude_bands=1)
    write_table(totals, output / "americas_bnpp_totals.csv")
    profile = aggregation_figure(totals, "BNPP map of the Americas: latitude profile (1° bands)")
    save_png(profile, output / "americas_bnpp_latitude.png")
    log("    Iloss maps: 200 Monte Carlo draws per pixel with the bundled Ibulk demonstration map")
    loss = loss_maps(output / "americas_loss_maps.tif",
                     RootInputs(bnpp=f"{bnpp_map}:bnpp_mean", beta=beta, layers="standard5"),
                     ibulk=str(sample_data / "americas_ibulk_0_100.tif"), quantities=["iloss", "iloss_fraction"],
                     draws=200, seed=0)
    loss_figure = quicklook_figure(loss, ["iloss_0_20_mean", "iloss_profile_mean", "iloss_profile_lower",
                                          "iloss_fraction_profile_mean"], "Iloss over the Americas, 0-100 cm")
    save_png(loss_figure, output / "americas_iloss_map.png")
    whole = totals[totals["zoning"].eq("all")].iloc[0]
    shares = [layers.mean[layers.band_names.index(name)] for name in means]
    top = shares[0] / sum(shares)
    metrics = trained.metadata["metrics"]
    iloss = loss.mean[loss.band_names.index("iloss_profile_mean")]
    fraction = loss.mean[loss.band_names.index("iloss_fraction_profile_mean")]
    log(f"    BNPP map: mean {whole['mean']:.2f} Mg C ha-1 yr-1, {whole['total_pg']:.1f} Pg C yr-1; "
        f"{top:.0%} in 0-20 cm; Iloss 0-100 cm {iloss:.2f} Mg C ha-1 yr-1 ({fraction:.0%} of Iroot)")
    return ["<h2>Maps: depth-resolved BNPP, its latitude profile and the Iloss map (Americas, 0.5°)</h2>",
            f"<p>A random forest of SRDB-V5 BNPP on WorldClim bio1 and bio12 sampled at the "
            f"{metrics['n']} records on the grid (grouped 5-fold CV R² {metrics['r2']:.2f}), mapped with the "
            f"spread of its trees (americas_bnpp_map.tif), then split over the 7 layers with each biome's "
            f"Jackson et al. (1996) β: americas_bnpp_by_layer.tif holds bnpp_&lt;layer&gt;_mean, _sd and "
            f"_utotal = √(U_BNPP² + U_PDD²) (<code>bnpp-by-depth</code>).</p>",
            html_image(figure, "BNPP by layer"),
            caption(f"BNPP per depth layer (Mg C ha-1 yr-1): {top:.0%} of the mapped BNPP lies in 0-20 cm "
                    f"(Luo et al., BNPP preprint: 57 % globally). The forest has seen few sites on this grid and "
                    f"has little skill; the map shows the workflow, not a BNPP estimate (docs/studies/bnpp.md)."),
            html_image(utotal, "U_total"),
            caption("U_total of 0-20 and 150-200 cm: with one β per biome the shares carry no uncertainty, so "
                    "U_total is the forest's U_BNPP in every layer (the study: 0.48 at the top, 1.90 at depth)."),
            html_image(profile, "latitude profile"),
            caption(f"The latitude profile of the BNPP map (wholesoil aggregate, 1° bands; cf. Fig. 5 of the BNPP "
                    f"preprint): area-weighted mean and total per band. Over the grid: {whole['mean']:.2f} "
                    f"Mg C ha-1 yr-1, {whole['total_pg']:.1f} Pg C yr-1 (the study: 2.00 and ~21 for the globe)."),
            html_image(loss_figure, "Iloss map"),
            caption(f"Iloss = Iroot - Ibulk by per-pixel Monte Carlo (loss-maps, 200 draws): 0-20 cm, "
                    f"0-100 cm with its 2.5 % quantile (negative where Ibulk may exceed Iroot) and Iloss / Iroot of "
                    f"0-100 cm (each pixel's mean over the draws of the ratio; over the pixels {fraction:.0%}). The "
                    f"Iloss study's 77.9 % is a ratio of global totals over 0-200 cm, not the same quantity. Ibulk "
                    f"is the bundled demonstration map americas_ibulk_0_100.tif, whose forests have no skill.")]


def run_demo(output, sample_data=SAMPLE_DATA, progress=None, is_cancelled=None, log=print):
    """Run every demo step into folder ``output`` (created); returns the index.html path."""
    from .balance import bulk_inputs_table
    from .bimodality import detect_bimodality
    from .horizons import select_rows
    from .learn.modelfile import save_model
    from .learn.report import training_report
    from .learn.sampling import sample_rasters
    from .learn.training import train_model
    from .profile_plots import profile_figure, root_density_figure
    from .radiocarbon import profile_plot, radiocarbon_age_table
    from .spline import spline_profiles
    from .stocks import soc_stocks

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    steps = as_progress(progress, is_cancelled)
    standard = layer_scheme("standard7")
    parts = []

    log("1/7 beta model: root fractions of the 11 Jackson et al. (1996) biomes")
    jackson = read_table(sample_data / "jackson1996_beta_by_biome.csv")
    shares = table_fractions(jackson, "beta", {"beta": "beta"}, "0,30,100,200", normalize=False)
    shares["cum_0_30"] = beta_cumulative(30.0, jackson["beta"].to_numpy())
    write_table(shares, output / "jackson_biome_fractions.csv")
    fractions = table_fractions(jackson, "beta", {"beta": "beta"}, standard)
    figure = depth_fractions_figure(standard, {b: r for b, r in zip(
        fractions["biome"], fractions[standard.column_names("frac")].to_numpy())}, "Jackson et al. (1996) biomes")
    save_png(figure, output / "jackson_biome_fractions.png")
    top30 = shares.set_index("biome")["cum_0_30"]
    parts += ["<h2>Root fractions of the Jackson et al. (1996) biomes (β model)</h2>",
              "<p>Share of roots in 0–30 cm (cum_0_30) and per layer, as fractions of the "
              "infinite-depth total; the plot shows the 7 standard layers normalised to 0–200 cm.</p>",
              html_table(shares[["biome", "beta", "cum_0_30", "frac_0_30", "frac_30_100", "frac_100_200"]]),
              html_image(figure, "biome fractions"),
              caption(f"Each biome's β gives its root share per layer (left, one column per biome) and the cumulative "
                      f"share with depth (right). As in Jackson et al. (1996), tundra, boreal forest and temperate "
                      f"grassland are shallowest ({top30['tundra']:.0%}, {top30['boreal forest']:.0%} and "
                      f"{top30['temperate grassland']:.0%} of roots in the top 30 cm here; 80-90 % in the paper) and "
                      f"desert and temperate coniferous forest deepest ({top30['desert']:.0%} and "
                      f"{top30['temperate coniferous forest']:.0%}; about 50 % in the paper).")]
    steps.update(0.13)

    log("2/7 fitting logistic and beta models to the Silsoe fine-root profiles")
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
        example = str(fits["profile_id"].iloc[0])
        year, plot, distance = (example.split("_") + ["?", "?", "?"])[:3]  # ids are year_plot_distance
        log(f"    {model}: {int(ok.sum())}/{len(fits)} profiles fitted; median D50 {summary['d50_cm']:.1f} cm, "
            f"D95 {summary['d95_cm']:.1f} cm, r2 {summary['r2']:.3f}")
        parts += [f"<h2>Silsoe fine-root profiles: {model} model</h2>",
                  f"<p>{int(ok.sum())} of {len(fits)} profiles fitted; medians: D50 {summary['d50_cm']:.1f} cm, "
                  f"D95 {summary['d95_cm']:.1f} cm, r² {summary['r2']:.3f}.</p>",
                  html_image(figure, f"{model} fits"),
                  caption("Points: each profile's measured cumulative share of fine-root mass at the bottom of its "
                          "30 cm increments; lines: the fitted model (first 12 profiles). Legend ids are "
                          f"year_plot_distance, e.g. {example} = sampled in {year} in plot {plot}, {distance} m "
                          "from the tree "
                          "(see resources/sample_data/SOURCE.md). Upson & Burgess (2013) report these densities by "
                          "depth; the fits "
                          "summarise each profile by D50 and D95, which Schenk & Jackson (2002) tabulate by biome.")]
    steps.update(0.26)

    log("3/7 partitioning measured BNPP at SRDB sites over 7 layers with each site's biome beta")
    sites = read_table(sample_data / "srdb_bnpp_sites.gpkg")
    with_fractions = table_fractions(sites, "beta", {"beta": "beta"}, standard)
    by_layer = table_partition_total(with_fractions, "bnpp_Mg_ha_yr", standard.column_names("frac"), "bnpp")
    write_table(by_layer, output / "srdb_bnpp_by_layer.gpkg")
    layer_columns = standard.column_names("bnpp")
    mean_profile = by_layer[layer_columns].mean()
    mean_fractions = mean_profile.to_numpy() / mean_profile.sum()
    quartiles = by_layer[layer_columns].quantile([0.25, 0.75]).to_numpy()
    figure = layer_amounts_figure(standard, mean_profile.to_numpy(), "mean BNPP in the layer (Mg C ha-1 yr-1)",
                                  "SRDB-V5 sites: BNPP by layer", spread=quartiles)
    save_png(figure, output / "srdb_bnpp_by_layer.png")
    top20 = mean_fractions[0]
    log(f"    {by_layer[layer_columns[0]].notna().sum()} sites; mean BNPP "
        f"{by_layer['bnpp_Mg_ha_yr'].mean():.2f} Mg C ha-1 yr-1; {100 * top20:.0f} % of it in 0-20 cm")
    parts += ["<h2>Measured BNPP at SRDB-V5 sites split over the 7 standard layers</h2>",
              "<p>Each site's β comes from its biome (a demonstration mapping, see SOURCE.md); sites "
              "without a matching biome get no layers.</p>",
              html_table(pd.DataFrame({"layer (cm)": standard.labels, "mean BNPP (Mg C ha-1 yr-1)": mean_profile.values,
                                       "share": mean_fractions})),
              html_image(figure, "SRDB BNPP by layer"),
              caption(f"Mean BNPP of the sites in each layer (bars, Mg C ha-1 yr-1) with the interquartile range over "
                      f"sites: {mean_profile.iloc[0]:.2f} Mg C ha-1 yr-1 ({top20:.0%}) in 0-20 cm and "
                      f"{mean_profile.iloc[1]:.2f} in 20-40 cm. Luo et al. (BNPP preprint, Fig. 2a-b) estimate 1.60 "
                      f"and 0.69 Mg C ha-1 yr-1 in these layers at their 725 NPP sites, about 60 % of BNPP in "
                      f"0-20 cm and 80 % in 0-40 cm, from measured root profiles rather than one β per biome.")]
    steps.update(0.39)

    log("4/7 maps: a BNPP forest of the SRDB sites, BNPP by depth with U_total, its latitude profile, Iloss")
    parts += _depth_resolved_maps(sites, sample_data, output, log)
    steps.update(0.52)

    log("5/7 radiocarbon: ages and inputs to bulk soil of 8 ISRaD profiles")
    israd = read_table(sample_data / "israd_sample_profiles.csv")
    ages, _ = radiocarbon_age_table(israd)
    write_table(ages, output / "israd_ages.csv")
    ibulk, _ = bulk_inputs_table(ages, bd_col="lyr_bd_samp_filled", oc_col="lyr_c_org_filled", layers=standard)
    write_table(ibulk, output / "israd_ibulk_by_layer.csv")
    figure, _, profile = profile_plot(israd, ages, profile="Lawrence_2021|Santa Cruz|SC1")
    save_png(figure, output / "israd_profile_SC1.png")
    statuses = ages["status"].value_counts()
    log("    " + ", ".join(f"{n} {s}" for s, n in statuses.items()) + f" of {len(ages)} layers")
    parts += ["<h2>Radiocarbon ages and inputs to bulk soil (ISRaD)</h2>",
              f"<p>{len(ages)} layers of {ages['profile_id'].nunique()} profiles; statuses: "
              + ", ".join(f"{n} {s}" for s, n in statuses.items()) + ". Ibulk = C stock / age, "
              "harmonised to the 7 standard layers.</p>",
              html_table(ibulk[["profile_id", "lyr_top", "lyr_bot", "c_stock_mg_ha", "ibulk_mg_ha_yr"]].dropna()),
              html_image(figure, f"profile {profile}"),
              caption(f"Profile {profile}: measured Δ14C (‰), the slow-root age (yr) and Ibulk = stock / age "
                      "(Mg C ha-1 yr-1) against depth, and the one-pool model's Δ14C for each decay rate k with "
                      "the measured values and their roots. Ages grow and Ibulk falls with depth, as in Luo et al. "
                      "(Iloss manuscript), where inputs to bulk soil are a small part of root inputs (about 20 % "
                      "of 3.5 Mg C ha-1 yr-1 of Iroot in 0-200 cm reach bulk soil).")]
    steps.update(0.7)

    log("6/7 soil profiles: NEON megapits on GlobalSoilMap layers, SOC stocks, DEJU root bimodality")
    horizons = read_table(sample_data / "neon_megapit_horizons.csv")
    depths = ("siteID", "horizonTopDepth", "horizonBottomDepth")
    splined = spline_profiles(horizons, *depths, ["carbonTot", "nitrogenTot", "bulkDen"], layers="globalsoilmap")
    write_table(splined.layers, output / "neon_spline_globalsoilmap.csv")
    # organic carbon only: NEON's carbonTot includes carbonate carbon (JORN 30-100 cm: 106 against 6.7 Mg C ha-1)
    stocks = soc_stocks(horizons, *depths, "estimatedOC", "bulkDen", layers="0,30,100")
    write_table(stocks.layers, output / "neon_soc_stocks.csv")
    figure = profile_figure(splined, "DEJU", units=NEON_UNITS)
    save_png(figure, output / "neon_DEJU_spline.png")
    roots = select_rows(read_table(sample_data / "neon_deju_roots.csv"), ["rootStatus=live", "sizeCategory=<=4mm"])
    modes = detect_bimodality(roots, "siteID", "topDepth_cm_from_id", None, "incrementRootDensity",
                              profile_col="pitProfileID", thickness=10)
    write_table(modes.sites, output / "neon_deju_root_modes.csv")
    root_figure = root_density_figure("DEJU", modes.curves["DEJU"], unit=NEON_ROOT_UNIT)
    save_png(root_figure, output / "neon_DEJU_roots.png")
    complete = int(splined.profiles["status"].eq("ok").sum())
    site = modes.sites.iloc[0]
    log(f"    {complete}/{len(splined.profiles)} sites complete to 200 cm; DEJU roots {site['modality']}, "
        f"D0 {site['d0_cm']:.1f} cm")
    parts += ["<h2>Soil profiles (NEON megapits)</h2>",
              f"<p>Mass-preserving spline (λ 0.1) of carbon, nitrogen and bulk density onto the GlobalSoilMap "
              f"layers: {complete} of {len(splined.profiles)} sites complete to 200 cm (the others stop shallower; "
              "see neon_spline_globalsoilmap.csv and each site's message). SOC stocks 0–30 and 30–100 cm in "
              "neon_soc_stocks.csv, from NEON's <code>estimatedOC</code> (organic carbon, g kg⁻¹), not "
              "<code>carbonTot</code>, which includes the carbonate carbon of calcareous soils (at JORN it would "
              "make the 30–100 cm stock 106 instead of 6.7 Mg C ha⁻¹).</p>", html_image(figure, "DEJU spline"),
              caption("Horizon values (bars), the spline (line) and its means over the GlobalSoilMap layers (steps) "
                      "of total carbon and nitrogen (g kg-1) and bulk density (g cm-3) at NEON's Delta Junction "
                      "megapit (Alaska): carbon and nitrogen concentrate in the organic top, as NEON's horizon "
                      "data show; the layer means keep each horizon's mass."),
              f"<p>DEJU live fine roots: {site['modality']}, primary mode D0 = {site['d0_cm']:.1f} cm.</p>",
              html_image(root_figure, "DEJU roots"),
              caption(f"Site-mean live fine-root density (g m-3) of 10 cm increments and its kernel density with the "
                      f"modes: DEJU is {site['modality']}. Lu et al. (2025) find a second, deep peak at about 20 % of "
                      f"44 NEON sites (for example SCBI, about 1.3 m), mostly where total fine-root biomass is low.")]
    steps.update(0.85)

    log("7/7 predictive model: random forest of SRDB-V5 heterotrophic respiration, grouped by site")
    records = read_table(sample_data / "srdb_rh_records.csv")
    keep = (records["Manipulation"].isna() | records["Manipulation"].eq("None")) & (records["YearsOfData"] >= 1) \
        & records["Meas_method"].ne("Alkali absorption")  # He et al.'s (Rh) record filters, as far as SRDB allows
    records = records[keep]
    rasters = [str(sample_data / f"worldclim_{v}_americas.tif") for v in ("bio1", "bio12")]
    sampled = sample_rasters(records, rasters, dict(zip(rasters, ("bio1", "bio12"))), "Longitude", "Latitude").table
    sampled["MAT"] = sampled["MAT"].fillna(sampled["bio1"] / 10.0)  # WorldClim bio1 is in degC x 10
    sampled["MAP"] = sampled["MAP"].fillna(sampled["bio12"])
    trained = train_model(sampled, "Rh_annual", ["MAT", "MAP", "Latitude", "Biome", "Ecosystem_type"],
                          ["Biome", "Ecosystem_type"], group_col="site_key", n_splits=5, n_trees=200,
                          units="g C m-2 yr-1", permutation_repeats=2, random_state=0)
    save_model(output / "srdb_rh_forest.wsmodel", trained)
    training_report(output / "srdb_rh_forest.html", trained)
    metrics = trained.metadata["metrics"]
    summary = (f"{len(trained.tables['training'])} records, 5-fold CV grouped by site: R2 {metrics['r2']:.2f}, "
               f"NSE {metrics['nse']:.2f}, RMSE {metrics['rmse']:.0f} g C m-2 yr-1")
    log("    " + summary)
    parts += ["<h2>Predictive model: SRDB-V5 heterotrophic respiration</h2>",
              f"<p>Random forest on MAT, MAP (gaps filled from WorldClim), latitude, biome and ecosystem type; "
              f"{summary}. Full report: <a href='srdb_rh_forest.html'>srdb_rh_forest.html</a>; "
              "the model file srdb_rh_forest.wsmodel works with evaluate-model and explain-model.</p>",
              caption(f"Why R² is only {metrics['r2']:.2f}: five coarse covariates (annual climate, partly from a "
                      "0.5° grid, latitude and two classes) say little about a flux that varies with soil, vegetation "
                      "and the year of measurement, and the cross-validation is honest: all records of a site are "
                      "held out together, so the forest cannot score by recognising a site it has seen. He et al. "
                      "(Rh manuscript) map Rh globally with many more climate, soil and vegetation covariates; this "
                      "demo shows the workflow (sampling, grouped CV, the report), not their accuracy.")]
    steps.update(0.92)
    parts += _rh_map(sampled, sample_data, output, log)
    steps.update(1.0)
    index = write_html_report(output / "index.html", "wholesoil demo", parts)
    log(f"demo outputs are in {output.resolve()} (open {Path(index).name})")
    return index

