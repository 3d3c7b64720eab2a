"""Derive the small sample data in resources/sample_data/ from the real data in tests/data/.

Run from the repository root: ``.venv/bin/python scripts/make_sample_data.py [DATA]`` (default
tests/data, whole copies of the shared data folder; ``../shared/data`` gives the same result).
Every output is described, with its citation and licence, in resources/sample_data/SOURCE.md.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from osgeo import gdal, ogr, osr

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "sample_data"

#: WWF terrestrial biome code (Olson et al. 2001) -> Jackson et al. (1996) biome.
WWF_TO_JACKSON = {
    1: "tropical evergreen forest", 2: "tropical deciduous forest", 3: "tropical evergreen forest",
    4: "temperate deciduous forest", 5: "temperate coniferous forest", 6: "boreal forest",
    7: "tropical grassland savanna", 8: "temperate grassland", 9: "tropical grassland savanna",
    10: "temperate grassland", 11: "tundra", 12: "sclerophyllous shrubs", 13: "desert",
    14: "tropical evergreen forest",
}


def srdb_jackson_biome(biome, ecosystem, leaf_habit):
    """Jackson et al. (1996) biome of an SRDB record, or None when none fits (e.g. wetlands)."""
    tropical = biome in ("Tropical", "Subtropical")
    if biome == "Arctic":
        return "tundra"
    if ecosystem in ("Forest", "Plantation"):
        if biome == "Boreal":
            return "boreal forest"
        if biome == "Mediterranean":
            return "sclerophyllous shrubs"
        if tropical:
            return "tropical deciduous forest" if leaf_habit == "Deciduous" else "tropical evergreen forest"
        return "temperate coniferous forest" if leaf_habit == "Evergreen" else "temperate deciduous forest"
    if ecosystem in ("Grassland", "Savanna", "Steppe"):
        return "tropical grassland savanna" if tropical or ecosystem == "Savanna" else "temperate grassland"
    if ecosystem == "Agriculture":
        return "crops"
    if ecosystem == "Shrubland":
        return "sclerophyllous shrubs"
    if ecosystem == "Desert":
        return "desert"
    return None


def write_points(table, path, lon="Longitude", lat="Latitude"):
    """Write a table with lon/lat columns as a WGS 84 point GeoPackage."""
    if path.exists():
        path.unlink()
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    layer = source.CreateLayer(path.stem, srs=srs, geom_type=ogr.wkbPoint)
    for column in table.columns:
        kind = ogr.OFTReal if pd.api.types.is_float_dtype(table[column]) else (
            ogr.OFTInteger64 if pd.api.types.is_integer_dtype(table[column]) else ogr.OFTString)
        layer.CreateField(ogr.FieldDefn(column, kind))
    for _, row in table.iterrows():
        feature = ogr.Feature(layer.GetLayerDefn())
        for column in table.columns:
            value = row[column]
            if not pd.isna(value):
                feature.SetField(column, value.item() if hasattr(value, "item") else value)
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(float(row[lon]), float(row[lat]))
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    source = None


#: ISRaD control profiles sampled to 1 m or deeper with bulk density and organic C in every layer.
ISRAD_PROFILES = [
    "Lawrence_2021|Santa Cruz|SC1", "Lawrence_2021|Santa Cruz|SC3", "Lawrence_2021|Mattole|MT3",
    "Lawrence_2021|Mattole|MT5", "O'Donnell_2011|Hess Creek|HC03_3", "O'Donnell_2011|Hess Creek|HCCN_2",
    "Torn_1997|Kokee (4.1my)|Kokee (4.1my)_profile_1", "van der Voort_2016|Lausanne|Lausanne_203",
]
ISRAD_COLUMNS = ["profile_id", "entry_name", "doi", "pro_lat", "pro_long", "pro_land_cover", "pro_treatment",
                 "lyr_name", "lyr_hzn", "lyr_obs_date_y", "lyr_top", "lyr_bot", "lyr_14c", "lyr_fraction_modern",
                 "lyr_bd_samp", "lyr_bd_samp_filled", "lyr_coarse_tot", "lyr_c_org", "lyr_c_org_filled", "lyr_soc"]
SRDB_RH_COLUMNS = ["site_key", "Record_number", "Study_number", "Site_name", "Latitude", "Longitude", "Study_midyear",
                   "YearsOfData", "Manipulation", "Meas_method", "Biome", "Ecosystem_type", "Leaf_habit", "MAT",
                   "MAP", "Rh_annual"]
NEON_COLUMNS = ["siteID", "plotID", "decimalLatitude", "decimalLongitude", "soilOrder", "horizonName",
                "horizonTopDepth", "horizonBottomDepth", "bulkDen", "coarseFrag2To5", "coarseFrag5To20",
                "carbonTot", "nitrogenTot", "estimatedOC"]


def main(data):
    OUT.mkdir(parents=True, exist_ok=True)
    jackson = pd.read_csv(data / "roots" / "jackson1996_beta_by_biome.csv")
    jackson.to_csv(OUT / "jackson1996_beta_by_biome.csv", index=False)
    beta_of = dict(zip(jackson["biome"], jackson["beta"]))

    silsoe = pd.read_csv(data / "roots" / "silsoe_fine_root_by_depth.csv")
    silsoe.insert(0, "profile_id", silsoe["year"].astype(str) + "_" + silsoe["id"] + "_"
                  + silsoe["dist_m"].astype(str))
    silsoe["top_cm"] = silsoe["depth_cm"] - 15
    silsoe["bottom_cm"] = silsoe["depth_cm"] + 15
    silsoe[["profile_id", "year", "id", "block", "ctrltmt", "treat", "dist_m", "top_cm", "bottom_cm",
            "length_cm_cm3", "mass_mg_cm3"]].to_csv(OUT / "silsoe_fine_roots.csv", index=False)

    srdb = pd.read_csv(data / "srdb" / "srdb_v5_rh_annual.csv", low_memory=False)
    srdb[SRDB_RH_COLUMNS].to_csv(OUT / "srdb_rh_records.csv", index=False)
    srdb = srdb[srdb["BNPP"].notna() & srdb["Latitude"].notna() & srdb["Longitude"].notna()].copy()
    sites = srdb[["site_key", "Record_number", "Study_number", "Site_name", "Latitude", "Longitude",
                  "Biome", "Ecosystem_type", "Leaf_habit", "BNPP"]].rename(columns={"BNPP": "bnpp_g_m2_yr"})
    sites["bnpp_Mg_ha_yr"] = sites["bnpp_g_m2_yr"] / 100.0
    sites["jackson_biome"] = [srdb_jackson_biome(b, e, h) for b, e, h in
                              zip(sites["Biome"], sites["Ecosystem_type"], sites["Leaf_habit"])]
    sites["beta"] = sites["jackson_biome"].map(beta_of)
    sites.to_csv(OUT / "srdb_bnpp_sites.csv", index=False)
    write_points(sites, OUT / "srdb_bnpp_sites.gpkg")

    israd = pd.read_csv(data / "israd" / "israd_layer_14c.csv", low_memory=False)
    israd = israd[israd["profile_id"].isin(ISRAD_PROFILES)][ISRAD_COLUMNS]
    israd.sort_values(["profile_id", "lyr_top"]).to_csv(OUT / "israd_sample_profiles.csv", index=False)

    horizons = pd.read_csv(data / "neon_megapit" / "neon_megapit_soil_horizons.csv")
    horizons[NEON_COLUMNS].to_csv(OUT / "neon_megapit_horizons.csv", index=False)
    roots = pd.read_csv(data / "neon_megapit" / "neon_deju_megapit_root_samples.csv")
    roots.to_csv(OUT / "neon_deju_roots.csv", index=False)

    for variable in ("bio1", "bio12"):
        source = data / "covariates" / f"dismo_worldclim14_{variable}_americas_0p5deg.asc"
        gdal.Translate(str(OUT / f"worldclim_{variable}_americas.tif"), str(source),
                       creationOptions=["COMPRESS=DEFLATE", "PREDICTOR=2"], outputSRS="EPSG:4326")

    biome = gdal.Open(str(data / "covariates" / "dismo_biome_americas_0p5deg.asc"))
    classes = gdal.Translate(str(OUT / "americas_biome.tif"), biome, outputType=gdal.GDT_Int16,
                             outputSRS="EPSG:4326", creationOptions=["COMPRESS=DEFLATE", "PREDICTOR=2"])
    classes.GetRasterBand(1).SetDescription("biome")  # the covariate name sample-rasters and predict-raster use
    classes = None
    codes = biome.ReadAsArray()
    beta = np.full(codes.shape, -9999.0, dtype=np.float32)
    for code, name in WWF_TO_JACKSON.items():
        beta[codes == code] = beta_of[name]
    target = gdal.GetDriverByName("GTiff").Create(str(OUT / "americas_root_beta.tif"), biome.RasterXSize,
                                                  biome.RasterYSize, 1, gdal.GDT_Float32,
                                                  options=["COMPRESS=DEFLATE", "PREDICTOR=3"])
    target.SetGeoTransform(biome.GetGeoTransform())
    target.SetProjection(biome.GetProjection() or osr.SRS_WKT_WGS84_LAT_LONG)
    band = target.GetRasterBand(1)
    band.SetNoDataValue(-9999.0)
    band.SetDescription("beta")
    band.WriteArray(beta)
    target = None
    ibulk_map(data)
    print(f"wrote sample data to {OUT}")


#: Layers of the Ibulk demonstration map: to 1 m, because few ISRaD profiles of the Americas reach deeper.
IBULK_LAYERS = "standard5"


def ibulk_map(data):
    """americas_ibulk_0_100.tif: Ibulk per 20 cm layer to 1 m (mean and sd bands) from a random forest per layer
    of ISRaD Ibulk (slow-root radiocarbon age, C stock from filled bulk density and organic C) on WorldClim bio1
    and bio12 at the profiles of the Americas grid, predicted over that grid."""
    import tempfile

    from wholesoil.core.balance import bulk_inputs_table
    from wholesoil.core.learn.modelfile import save_model
    from wholesoil.core.learn.sampling import sample_rasters
    from wholesoil.core.learn.training import train_model
    from wholesoil.core.layers import layer_scheme
    from wholesoil.core.maps.predict import predict_raster
    from wholesoil.core.radiocarbon import radiocarbon_age_table

    israd = pd.read_csv(data / "israd" / "israd_layer_14c.csv", low_memory=False)
    ages, _ = radiocarbon_age_table(israd)
    layers, _ = bulk_inputs_table(ages, bd_col="lyr_bd_samp_filled", oc_col="lyr_c_org_filled",
                                  layers=IBULK_LAYERS)
    rasters = {name: str(OUT / f"worldclim_{name}_americas.tif") for name in ("bio1", "bio12")}
    layers = layers[layers["ibulk_mg_ha_yr"].notna()]
    sampled = sample_rasters(layers, list(rasters.values()), names=list(rasters), x_col="pro_long",
                             y_col="pro_lat").table
    sampled = sampled[sampled["bio1"].notna() & sampled["bio12"].notna()]
    scheme = layer_scheme(IBULK_LAYERS)
    with tempfile.TemporaryDirectory() as folder:
        models = []
        for name, top in zip(scheme.column_names("ibulk"), scheme.tops):
            rows = sampled[sampled["lyr_top"] == top]
            trained = train_model(rows, "ibulk_mg_ha_yr", list(rasters), x_col="pro_long", y_col="pro_lat",
                                  n_splits=5, n_trees=200, units="Mg C ha-1 yr-1", random_state=1)
            models.append(f"{name}={Path(folder) / name}.wsmodel")
            save_model(models[-1].split("=", 1)[1], trained)
            print(f"{name}: {len(rows)} profiles, CV R2 {trained.metadata['metrics']['r2']:.2f}")
        predict_raster([m.split("=", 1)[1] for m in models], [f"{n}={p}" for n, p in rasters.items()],
                       OUT / "americas_ibulk_0_100.tif", outputs=["mean", "sd"],
                       names=[m.split("=", 1)[0] for m in models])
    # the models (not shipped) by their file names; the covariates relative to the repository
    shipped_provenance(OUT / "americas_ibulk_0_100.tif", {folder + "/": "", str(ROOT) + "/": ""})


def shipped_provenance(path, replaced):
    """Rewrite the paths a map records (covariates, model files) as {old prefix: new} in place: a shipped map should
    not hold the folders of the machine that made it."""
    from osgeo import gdal

    dataset = gdal.Open(str(path), gdal.GA_Update)
    metadata = dataset.GetMetadata()
    for key, value in metadata.items():
        for old, new in replaced.items():
            value = value.replace(old, new)
        metadata[key] = value
    dataset.SetMetadata(metadata)
    dataset = None


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data")
