"""Area of applicability (Meyer & Pebesma 2021; CAST's aoa/trainDI) of mapped models (issue 9, item 2)."""

import numpy as np
import pytest

from rasters_util import read_bands, write_raster
from test_maps_predict import pixel_table, srdb_map_model  # noqa: F401 (module fixture)
from wholesoil.core.learn.modelfile import load_model
from wholesoil.core.maps.applicability import AreaOfApplicability, boxplot_upper_whisker, from_trained
from wholesoil.core.maps.predict import predict_raster


@pytest.mark.parametrize("values, whisker", [
    (list(range(1, 11)) + [50], 10.0),     # R: boxplot.stats(c(1:10, 50))$stats[5] == 10
    ([1, 2, 3, 4, 100], 4.0),              # hinges 2 and 4: limit 7
    ([5, 1, 4, 2, 3, 6], 6.0),             # n even, no outlier
    ([1, 1, 1, 1, 9], 1.0),                # hinge spread 0: limit 1
])
def test_upper_whisker_as_r_boxplot_stats(values, whisker):
    assert boxplot_upper_whisker(values) == whisker


def cast_definition(train, folds, weights, new):
    """CAST's trainDI and DI written out directly: scale (ddof 1), weight, Euclidean distances."""
    scaled = (train - train.mean(axis=0)) / train.std(axis=0, ddof=1) * weights
    new_scaled = (new - train.mean(axis=0)) / train.std(axis=0, ddof=1) * weights
    n = len(train)
    pairs = np.sqrt(((scaled[:, None] - scaled[None]) ** 2).sum(-1))
    mean_distance = np.mean([pairs[i, np.arange(n) != i].mean() for i in range(n)])
    training_di = np.array([pairs[i, folds != folds[i]].min() for i in range(n)]) / mean_distance
    x = np.sort(training_di)
    n4 = np.floor((n + 3) / 2) / 2
    lower = 0.5 * (x[int(np.floor(n4)) - 1] + x[int(np.ceil(n4)) - 1])
    upper = 0.5 * (x[int(np.floor(n + 1 - n4)) - 1] + x[int(np.ceil(n + 1 - n4)) - 1])
    threshold = x[x <= upper + 1.5 * (upper - lower)].max()
    di = np.sqrt(((new_scaled[:, None] - scaled[None]) ** 2).sum(-1)).min(axis=1) / mean_distance
    return training_di, threshold, di


def test_agrees_with_a_direct_computation_of_the_cast_definition():
    rng = np.random.default_rng(5)
    train = rng.normal(size=(57, 4)) * [1, 10, 0.1, 3]
    folds = np.arange(57) % 5
    weights = np.array([2.0, 0.5, 1.0, 0.0])
    new = rng.normal(size=(200, 4)) * [2, 20, 0.2, 6]
    aoa = AreaOfApplicability().fit(train, folds, weights)
    training_di, threshold, di = cast_definition(train, folds, weights, new)
    np.testing.assert_allclose(aoa.training_di_, training_di, rtol=1e-12)
    assert aoa.threshold_ == pytest.approx(threshold, rel=1e-12)
    np.testing.assert_allclose(aoa.dissimilarity_index(new), di, rtol=1e-12)
    assert (aoa.predict(new) == (di <= threshold)).all()


def test_fit_learns_which_covariates_carry_no_weight():
    """``unweighted_`` is learned in fit (it was set from outside by the model-file reader): the covariates
    whose columns all have weight 0 while others have weight; none when nothing has weight (unweighted DI)."""
    train = np.random.default_rng(7).normal(size=(30, 4))
    names = ["a", "kind", "kind", "b"]  # a categorical covariate's two indicators
    assert AreaOfApplicability().fit(train, None, [0.5, 0.0, 0.0, -0.2], names).unweighted_ == ["kind", "b"]
    assert AreaOfApplicability().fit(train, None, [0.5, 0.3, 0.3, 0.0], names).unweighted_ == ["b"]
    assert AreaOfApplicability().fit(train, None, [0.0, 0.0, 0.0, 0.0], names).unweighted_ == []
    assert AreaOfApplicability().fit(train, None).unweighted_ == []


def test_training_points_are_inside_and_far_points_outside():
    rng = np.random.default_rng(6)
    train = rng.normal(size=(120, 3))
    aoa = AreaOfApplicability().fit(train, np.arange(120) % 10)
    assert (aoa.dissimilarity_index(train) == 0).all() and aoa.predict(train).all()
    assert not aoa.predict(np.array([[50.0, -50.0, 50.0]])).any()


def test_map_of_the_area_of_applicability(srdb_map_model, tmp_path):  # noqa: F811
    model, rasters, _ = srdb_map_model
    run = predict_raster([model], rasters, tmp_path / "aoa.tif", outputs=["mean", "di", "aoa"])
    bands, names = read_bands(run)
    assert names == ["Rh_annual_mean", "Rh_annual_di", "Rh_annual_aoa"]
    valid = np.isfinite(bands[0])
    assert np.array_equal(valid, np.isfinite(bands[2])) and set(np.unique(bands[2][valid])) == {0.0, 1.0}
    trained = load_model(model)
    aoa = from_trained(trained)
    pixels = pixel_table(rasters)
    encoded = trained.model.pipeline_[:-1].transform(pixels[valid.ravel()])
    np.testing.assert_allclose(bands[1][valid], aoa.dissimilarity_index(encoded.to_numpy(float)), rtol=1e-5)
    outside = 1 - bands[2][valid].mean()
    assert 0 < outside < 0.9          # the SRDB sites do not cover every climate of the Americas
    # a pixel far outside every covariate's range is outside; the training sites themselves are inside
    hot = write_raster(tmp_path / "hot.tif", np.full((3, 3), 900.0))
    wet = write_raster(tmp_path / "wet.tif", np.full((3, 3), 20000.0))
    biome = write_raster(tmp_path / "biome.tif", np.full((3, 3), float(trained.metadata["categorical"]["biome"][0])))
    far = predict_raster([model], [f"bio1={hot}", f"bio12={wet}", f"biome={biome}"], tmp_path / "far.tif",
                         outputs=["aoa"])
    assert (read_bands(far)[0] == 0).all()
    training = trained.tables["training"]
    inside = aoa.predict(trained.model.pipeline_[:-1].transform(training[trained.metadata["features"]]).to_numpy(float))
    assert inside.all()


def test_covariates_without_importance_are_named_in_a_note(srdb_map_model, tmp_path):  # noqa: F811
    """CAST weights each covariate by its importance: with bio1 and bio12 at 0 the DI sees only the biome."""
    from wholesoil.core.learn.modelfile import save_model

    model, rasters, _ = srdb_map_model
    trained = load_model(model)
    importance = trained.tables["importance"]
    importance["permutation_importance"] = np.where(importance["feature"] == "biome", 5.0, -1.0)
    save_model(tmp_path / "biome_only.wsmodel", trained)
    run = predict_raster([tmp_path / "biome_only.wsmodel"], rasters, tmp_path / "aoa.tif", outputs=["aoa"])
    assert any(text.startswith("Rh_annual: the area of applicability ignores bio1, bio12 (permutation importance")
               for text in run.notes)
    assert not any("ignores" in text for text in predict_raster([model], rasters, tmp_path / "all.tif",
                                                                  outputs=["aoa"]).notes)


def test_a_covariate_screening_dropped_is_not_named_as_ignored(srdb_map_model, tmp_path):  # noqa: F811
    """bio1b = bio1 is dropped by screening (linear combination): the DI never used it, and bio1, which it
    copies, is in the DI; no note may say the AOA cannot see bio1b."""
    from wholesoil.core.learn.modelfile import save_model
    from wholesoil.core.learn.training import train_model

    _, rasters, _ = srdb_map_model
    table = pixel_table(rasters[:2]).dropna().sample(300, random_state=1)
    table["bio1b"] = table["bio1"]
    table["y"] = table["bio1"] / 10 + table["bio12"] / 100
    trained = train_model(table, "y", ["bio1", "bio1b", "bio12"], independent_rows=True, n_trees=20, n_splits=3)
    assert "bio1b" not in trained.model.pipeline_.named_steps["encode"].passthrough_  # dropped by screening
    importance = trained.tables["importance"]  # bio1 counts, bio12 at weight 0 (one true note), bio1b as trained
    importance["permutation_importance"] = np.select([importance["feature"] == "bio1", importance["feature"] == "bio12"],
                                                     [2.0, -1.0], importance["permutation_importance"])
    assert np.nan_to_num(importance.set_index("feature")["permutation_importance"].get("bio1b", 0.0)) <= 0
    save_model(tmp_path / "screened.wsmodel", trained)
    run = predict_raster([tmp_path / "screened.wsmodel"], rasters[:2], tmp_path / "aoa.tif", outputs=["aoa"])
    notes = [text for text in run.notes if "ignores" in text]
    assert len(notes) == 1 and notes[0].startswith("y: the area of applicability ignores bio12 (permutation")
