"""Real data: a grouped, climate-zone-stratified 10-fold random forest of SRDB-V5 Rh.

The table is prepared as seed 003 filtered its records, as far as the SRDB columns allow:
at least a year of measurements, coordinates and a study year, no manipulation, no alkali
absorption, no Rh beyond 6 sd of the mean. Covariates are those present in the table
(MAT, MAP, latitude, biome, ecosystem type, leaf habit); MAT and MAP gaps are filled from
the WorldClim rasters in tests/data/covariates where they cover the site.

Climate zone (seed 003's three strata): the SRDB Biome column, Tropical -> tropical,
Boreal and Arctic -> boreal, every other biome -> temperate; a missing biome is taken
from latitude (|lat| < 23.44 tropical, >= 50 boreal, else temperate).
"""

import numpy as np
import pandas as pd

from wholesoil.core.learn.sampling import sample_rasters
from wholesoil.core.learn.training import train_model

FEATURES = ["MAT", "MAP", "Latitude", "Biome", "Ecosystem_type", "Leaf_habit"]
CATEGORICAL = ["Biome", "Ecosystem_type", "Leaf_habit"]


def climate_zone(table):
    """tropical / temperate / boreal from the SRDB Biome column, else from latitude."""
    zone = table["Biome"].map({"Tropical": "tropical", "Boreal": "boreal", "Arctic": "boreal"})
    zone = zone.where(zone.notna() | table["Biome"].isna(), "temperate")
    latitude = table["Latitude"].abs()
    from_latitude = np.where(latitude < 23.44, "tropical", np.where(latitude >= 50, "boreal", "temperate"))
    return zone.fillna(pd.Series(from_latitude, index=table.index))


def prepare_srdb(real_data):
    """The SRDB Rh records filtered as seed 003 did, with gap-filled MAT/MAP and a climate zone."""
    table = pd.read_csv(real_data / "srdb" / "srdb_v5_rh_annual.csv")
    keep = (table["YearsOfData"] >= 1) & table["Latitude"].notna() & table["Longitude"].notna() \
        & table["Study_midyear"].notna()
    keep &= table["Manipulation"].isna() | table["Manipulation"].astype(str).str.lower().eq("none")
    keep &= table["Meas_method"].ne("Alkali absorption")
    rh = table["Rh_annual"]
    keep &= (rh - rh[keep].mean()).abs() <= 6 * rh[keep].std()
    table = table[keep].reset_index(drop=True)
    covariates = real_data / "covariates"
    bio1 = str(covariates / "dismo_worldclim14_bio1_americas_0p5deg.asc")
    bio12 = str(covariates / "dismo_worldclim14_bio12_americas_0p5deg.asc")
    sampled = sample_rasters(table, [bio1, bio12], {bio1: "bio1", bio12: "bio12"}, "Longitude", "Latitude").table
    sampled["MAT"] = sampled["MAT"].fillna(sampled["bio1"] / 10.0)  # WorldClim bio1 is in degC x 10
    sampled["MAP"] = sampled["MAP"].fillna(sampled["bio12"])
    sampled["climate_zone"] = climate_zone(sampled)
    return sampled


def test_srdb_grouped_stratified_random_forest(real_data):
    table = prepare_srdb(real_data)
    assert len(table) == 547
    assert set(table["climate_zone"]) == {"tropical", "temperate", "boreal"}
    trained = train_model(table, "Rh_annual", FEATURES, CATEGORICAL, group_col="site_key",
                          strata_col="climate_zone", n_splits=10, n_trees=100, units="g C m-2 yr-1",
                          permutation_repeats=2, random_state=1)
    metadata = trained.metadata
    training = trained.tables["training"]
    # every site in exactly one fold, and every climate zone in every fold
    assert training.groupby("group")["fold"].nunique().max() == 1
    assert (training.groupby("fold")["climate_zone"].nunique() == 3).all()
    assert metadata["groups"] == "column site_key" and metadata["strata"] == "climate_zone"
    # a model with signal, far from the perfect fit that leakage would give
    assert 0.15 < metadata["metrics"]["r2"] < 0.8
    assert 100 < metadata["metrics"]["rmse"] < 400
    assert metadata["fold_summary"]["r2"]["sd"] > 0
    assert 0.85 <= metadata["interval"]["coverage_mean"] <= 1.0
