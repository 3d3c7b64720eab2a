"""Tables between formats: WKT geometry of CSVs read back as points, field names GeoPackages cannot hold."""

import pandas as pd

from wholesoil.core.cli import main
from wholesoil.core.learn.modelfile import load_model


def test_points_from_a_csv_written_by_sample_rasters(resources, tmp_path, capsys):
    """sample-rasters of the SRDB BNPP sites (a GeoPackage) into a CSV, then train-model and sample-rasters on
    that CSV: its geometry column is WKT text, which used to fail with 'string argument without an encoding'."""
    data = resources / "sample_data"
    rasters = [f"bio1={data / 'worldclim_bio1_americas.tif'}", f"bio12={data / 'worldclim_bio12_americas.tif'}"]
    sampled = tmp_path / "sites_cov.csv"
    assert main(["sample-rasters", str(data / "srdb_bnpp_sites.gpkg"), str(sampled), *rasters, "--quiet"]) == 0
    table = pd.read_csv(sampled)
    assert table["geometry"].str.startswith("POINT (").all()
    model = tmp_path / "bnpp.wsmodel"
    code = main(["train-model", str(sampled), str(model), "--target", "bnpp_Mg_ha_yr", "--features", "bio1,bio12",
                 "--group", "site_key", "--folds", "3", "--trees", "10", "--quiet"])
    assert code == 0, capsys.readouterr().err
    inside = table.dropna(subset=["bio1", "bio12"])
    assert load_model(model).metadata["n_rows"] == len(inside) > 0

    again = tmp_path / "again.csv"
    assert main(["sample-rasters", str(sampled), str(again), rasters[0], "--quiet"]) == 2  # WKT text has no CRS
    assert "no CRS" in capsys.readouterr().err and not again.exists()
    assert main(["sample-rasters", str(sampled), str(again), rasters[0].replace("bio1=", "t="), "--crs",
                 "EPSG:4326", "--quiet"]) == 0
    resampled = pd.read_csv(again)
    assert resampled["t"].equals(table["bio1"])  # the same points, so the same cells


def test_unreadable_geometry_text_is_named(tmp_path, capsys):
    pd.DataFrame({"geometry": ["POINT (1 2)", "not a point"], "y": [1.0, 2.0]}).to_csv(tmp_path / "p.csv",
                                                                                       index=False)
    from rasters_util import write_raster
    import numpy as np

    write_raster(tmp_path / "r.tif", np.ones((4, 4)), origin=(0.0, 4.0), pixel=1.0)
    assert main(["sample-rasters", str(tmp_path / "p.csv"), str(tmp_path / "o.csv"), str(tmp_path / "r.tif"),
                 "--crs", "EPSG:4326", "--quiet"]) == 2
    assert "unreadable geometries in row 2" in capsys.readouterr().err


def test_columns_differing_only_in_case_cannot_be_geopackage_fields(resources, tmp_path, capsys):
    """SRDB's 'Biome' and a sampled 'biome' raster made the GeoPackage writer fail with a traceback."""
    data = resources / "sample_data"
    out = tmp_path / "sites_cov.gpkg"
    assert main(["sample-rasters", str(data / "srdb_bnpp_sites.gpkg"), str(out),
                 f"biome={data / 'americas_biome.tif'}", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "the columns 'Biome' and 'biome' differ only in case" in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert main(["sample-rasters", str(data / "srdb_bnpp_sites.gpkg"), str(tmp_path / "sites_cov.csv"),
                 f"biome={data / 'americas_biome.tif'}", "--quiet"]) == 0  # a CSV keeps both
