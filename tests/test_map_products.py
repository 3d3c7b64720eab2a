"""Map products (issue 9 items 1 and 6): hand-computed pixels of U_total, products and renormalised
shares; Monte Carlo against analytic propagation; invariance to workers and block size; subsoil SOC,
turnover time, units, nodata, errors, quick-looks and the CLI, on a BNPP map predicted from the
SRDB-V5 BNPP sites with WorldClim covariates and the Jackson et al. (1996) β map of the sample data."""

import os

import numpy as np
import pandas as pd
import pytest
from osgeo import gdal
from scipy.special import ndtri

from conftest import ROOT
from rasters_util import read_bands, write_raster
from wholesoil.core.cli import main
from wholesoil.core.errors import InputError
from wholesoil.core.maps.montecarlo import lognormal_parameters, pixel_normals, pixel_uniforms
from wholesoil.core.maps.products import RootInputs, bnpp_by_depth, loss_maps, subsoil_soc, turnover_map
from wholesoil.core.maps.quicklook import read_decimated

SAMPLE = ROOT / "resources" / "sample_data"
BETA = SAMPLE / "americas_root_beta.tif"
STANDARD7 = (0, 20, 40, 60, 80, 100, 150, 200)


def name_bands(path, names, units=None):
    dataset = gdal.Open(str(path), gdal.GA_Update)
    for i, name in enumerate(names):
        dataset.GetRasterBand(i + 1).SetDescription(name)
        if units:
            dataset.GetRasterBand(i + 1).SetMetadataItem("units", units)
    dataset = None
    return str(path)


def band(path, name):
    values, names = read_bands(path)
    return values[names.index(name)]


def beta_share(beta, top, bottom, profile=200.0):
    """Share of [top, bottom] of the 0-profile total for Y = 1 - beta^d, by hand."""
    return (beta ** top - beta ** bottom) / (1.0 - beta ** profile)


@pytest.fixture(scope="module")
def bnpp_map(tmp_path_factory):
    """BNPP (mean, sd) predicted by a random forest of the SRDB-V5 BNPP sites on WorldClim bio1 and bio12."""
    from wholesoil.core.learn.modelfile import save_model
    from wholesoil.core.learn.sampling import sample_rasters
    from wholesoil.core.learn.training import train_model
    from wholesoil.core.maps.predict import predict_raster

    folder = tmp_path_factory.mktemp("products")
    rasters = {"bio1": SAMPLE / "worldclim_bio1_americas.tif", "bio12": SAMPLE / "worldclim_bio12_americas.tif"}
    sites = pd.read_csv(SAMPLE / "srdb_bnpp_sites.csv")
    sampled = sample_rasters(sites, [str(p) for p in rasters.values()], names=list(rasters), x_col="Longitude",
                             y_col="Latitude").table
    trained = train_model(sampled, "bnpp_Mg_ha_yr", list(rasters), group_col="site_key", n_trees=40, n_splits=3,
                          units="Mg C ha-1 yr-1", random_state=1)
    save_model(folder / "bnpp.wsmodel", trained)
    output = predict_raster([folder / "bnpp.wsmodel"], [f"{n}={p}" for n, p in rasters.items()],
                            folder / "bnpp_map.tif", outputs=["mean", "sd"], names=["bnpp"])
    return folder, str(output)


def test_bnpp_by_depth_pixels_by_hand(bnpp_map):
    folder, bnpp = bnpp_map
    run = bnpp_by_depth(folder / "layers.tif", RootInputs(bnpp=bnpp, beta=BETA))
    assert run.band_names[:3] == ["bnpp_0_20_mean", "bnpp_0_20_sd", "bnpp_0_20_utotal"] and len(run.band_names) == 21
    assert any("sd from band" in n and "bnpp_sd" in n for n in run.notes)
    mean_b, sd_b = band(bnpp, "bnpp_mean"), band(bnpp, "bnpp_sd")
    beta = read_bands(BETA)[0][0]
    valid = np.isfinite(mean_b) & np.isfinite(beta)
    assert valid.sum() > 5000
    for top, bottom in [(0, 20), (40, 60), (150, 200)]:
        share = beta_share(beta, top, bottom)
        mean = band(run, f"bnpp_{top}_{bottom}_mean")
        np.testing.assert_allclose(mean[valid], (mean_b * share)[valid], rtol=1e-5)
        np.testing.assert_allclose(band(run, f"bnpp_{top}_{bottom}_sd")[valid], (sd_b * share)[valid], rtol=1e-5)
        positive = valid & (mean_b > 0)
        np.testing.assert_allclose(band(run, f"bnpp_{top}_{bottom}_utotal")[positive],
                                   (sd_b / mean_b)[positive], rtol=1e-5)
        assert np.isnan(mean[~valid]).all()
    layers = read_bands(run)[0][0::3]
    np.testing.assert_allclose(np.nansum(layers, axis=0)[valid], mean_b[valid], rtol=1e-5)


def test_renormalised_shares_and_u_total_by_hand(tmp_path):
    """One share model per layer: shares renormalised per pixel, U_total = sqrt(U_BNPP² + U_PDD²)."""
    bnpp = write_raster(tmp_path / "bnpp.tif", [[[2.0, 3.0]], [[0.5, 0.3]]])
    name_bands(bnpp, ["bnpp_mean", "bnpp_sd"])
    shares = np.array([[[0.5, 0.2]], [[0.3, 0.3]], [[0.4, 0.1]]])   # sums 1.2 and 0.6
    share_sd = np.array([[[0.1, 0.05]], [[0.06, 0.03]], [[0.2, 0.0]]])
    path = write_raster(tmp_path / "pdd.tif", np.concatenate([shares, share_sd]))
    name_bands(path, ["pdd_0_30_mean", "pdd_30_60_mean", "pdd_60_100_mean", "pdd_0_30_sd", "pdd_30_60_sd",
                      "pdd_60_100_sd"])
    run = bnpp_by_depth(tmp_path / "out.tif", RootInputs(bnpp=bnpp, shares=[path], profile_depth=100))
    assert [n for n in run.band_names if n.endswith("_mean")] == ["bnpp_0_30_mean", "bnpp_30_60_mean",
                                                                  "bnpp_60_100_mean"]
    out = read_bands(run)[0]
    for pixel, (b, b_sd, total) in enumerate([(2.0, 0.5, 1.2), (3.0, 0.3, 0.6)]):
        for layer in range(3):
            share = shares[layer, 0, pixel] / total
            u_pdd = share_sd[layer, 0, pixel] / shares[layer, 0, pixel]
            u_total = np.sqrt((b_sd / b) ** 2 + u_pdd ** 2)
            assert out[3 * layer, 0, pixel] == pytest.approx(b * share, rel=1e-6)
            assert out[3 * layer + 2, 0, pixel] == pytest.approx(u_total, rel=1e-6)
            assert out[3 * layer + 1, 0, pixel] == pytest.approx(b * share * u_total, rel=1e-6)
        assert out[0::3, 0, pixel].sum() == pytest.approx(b, rel=1e-6)


def test_npp_times_fbnpp_and_beta_sd_by_hand(tmp_path):
    """NPP x fBNPP (first order) and the share sd from the β sd (delta method vs the analytic derivative)."""
    npp = write_raster(tmp_path / "npp.tif", [[[8.0, 5.0]], [[1.0, 2.0]]])
    name_bands(npp, ["npp_mean", "npp_sd"])
    beta = write_raster(tmp_path / "beta.tif", [[[0.95, 0.975]], [[0.004, 0.002]]])
    name_bands(beta, ["beta_mean", "beta_sd"])
    run = bnpp_by_depth(tmp_path / "out.tif", RootInputs(npp=npp, fbnpp=0.4, fbnpp_sd=0.05, beta=beta,
                                                         layers="0,30,100", profile_depth=100))
    out = read_bands(run)[0]
    for pixel, (n, n_sd, b, b_sd) in enumerate([(8.0, 1.0, 0.95, 0.004), (5.0, 2.0, 0.975, 0.002)]):
        bnpp, bnpp_sd = n * 0.4, np.hypot(n_sd * 0.4, n * 0.05)
        for layer, (top, bottom) in enumerate([(0, 30), (30, 100)]):
            num, den = b ** top - b ** bottom, 1.0 - b ** 100
            slope = ((top * b ** (top - 1) - bottom * b ** (bottom - 1)) * den + num * 100 * b ** 99) / den ** 2
            share, share_sd = num / den, abs(slope) * b_sd
            assert out[3 * layer, 0, pixel] == pytest.approx(bnpp * share, rel=1e-6)
            assert out[3 * layer + 1, 0, pixel] == pytest.approx(np.hypot(bnpp_sd * share, bnpp * share_sd),
                                                                 rel=1e-4)


# ---------------------------------------------------------------------------------------------
# Random numbers keyed by the pixel


def test_pixel_random_numbers_are_numpy_philox_keyed_by_pixel():
    from numpy.random import Philox

    draws, seed = 7, 42
    whole = pixel_uniforms(seed, 3, (0, 0, 9, 4), draws)
    for x, y, cols, rows in [(2, 1, 5, 2), (3, 3, 6, 1), (0, 2, 1, 2)]:
        np.testing.assert_array_equal(pixel_uniforms(seed, 3, (x, y, cols, rows), draws),
                                      whole[y:y + rows, x:x + cols])
    raw = Philox(key=seed + 3 * 2 ** 64, counter=[0, 2, 0, 0]).random_raw(9 * draws)
    np.testing.assert_array_equal(whole[2].ravel(), ((raw >> np.uint64(11)).astype(float) + 0.5) * 2.0 ** -53)
    mask = np.zeros((4, 9), dtype=bool)
    mask[0, 2:5] = mask[1, :] = mask[3, 8] = True
    np.testing.assert_array_equal(pixel_uniforms(seed, 3, (0, 0, 9, 4), draws, mask), whole[mask])
    assert not np.array_equal(whole, pixel_uniforms(seed + 1, 3, (0, 0, 9, 4), draws))
    assert not np.array_equal(whole, pixel_uniforms(seed, 4, (0, 0, 9, 4), draws))
    normals = pixel_normals(seed, 0, (0, 0, 200, 100), 50).ravel()
    assert abs(normals.mean()) < 0.005 and abs(normals.std() - 1) < 0.005
    from scipy.stats import kstest

    assert kstest(normals[:20000], "norm").pvalue > 0.001


# ---------------------------------------------------------------------------------------------
# Monte Carlo


@pytest.fixture(scope="module")
def loss_inputs(tmp_path_factory):
    """40 x 50 pixels with the same BNPP (2.5 ± 0.6), β 0.96 and Ibulk per layer (mean, sd): independent draws."""
    folder = tmp_path_factory.mktemp("loss")
    shape = (40, 50)
    bnpp = write_raster(folder / "bnpp.tif", [np.full(shape, 2.5), np.full(shape, 0.6)])
    name_bands(bnpp, ["bnpp_mean", "bnpp_sd"])
    ibulk_mean, ibulk_sd = np.array([0.6, 0.3, 0.1]), np.array([0.2, 0.15, 0.05])
    ibulk = write_raster(folder / "ibulk.tif", [np.full(shape, v) for v in np.concatenate([ibulk_mean, ibulk_sd])])
    name_bands(ibulk, [f"ibulk_{layer}_{stat}" for stat in ("mean", "sd") for layer in ("0_20", "20_50", "50_100")])
    return folder, bnpp, ibulk, ibulk_mean, ibulk_sd


def test_monte_carlo_agrees_with_analytic_propagation(loss_inputs):
    folder, bnpp, ibulk, ibulk_mean, ibulk_sd = loss_inputs
    draws = 400
    run = loss_maps(folder / "loss.tif", RootInputs(bnpp=bnpp, beta=0.96, layers="0,20,50,100", profile_depth=100),
                    ibulk=ibulk, draws=draws, seed=3)
    shares = np.array([beta_share(0.96, a, b, 100) for a, b in [(0, 20), (20, 50), (50, 100)]])
    for i, layer in enumerate(["0_20", "20_50", "50_100", "profile"]):
        root_mean = 2.5 * (shares[i] if i < 3 else 1.0)
        root_sd = 0.6 * (shares[i] if i < 3 else 1.0)   # the layers share the BNPP draw
        bulk_mean = ibulk_mean[i] if i < 3 else ibulk_mean.sum()
        bulk_sd = ibulk_sd[i] if i < 3 else np.sqrt((ibulk_sd ** 2).sum())
        loss_mean, loss_sd = root_mean - bulk_mean, np.hypot(root_sd, bulk_sd)
        for quantity, mean, sd in [("iroot", root_mean, root_sd), ("ibulk", bulk_mean, bulk_sd),
                                   ("iloss", loss_mean, loss_sd)]:
            mc_mean, mc_sd = band(run, f"{quantity}_{layer}_mean"), band(run, f"{quantity}_{layer}_sd")
            # each pixel's mean is within 4.5 standard errors; the average over 2000 pixels much closer
            assert np.all(np.abs(mc_mean - mean) < 4.5 * sd / np.sqrt(draws)), (quantity, layer)
            assert abs(mc_mean.mean() - mean) < 4 * sd / np.sqrt(draws * mc_mean.size)
            assert abs(mc_sd.mean() / sd - 1) < 0.01, (quantity, layer, mc_sd.mean(), sd)
    # the draws are lognormal: Iroot's interval is the lognormal's 2.5 and 97.5 % quantiles
    mu, sigma = lognormal_parameters(2.5 * shares[0], 0.6 * shares[0])
    for stat, z in [("lower", -ndtri(0.975)), ("upper", ndtri(0.975))]:
        assert band(run, f"iroot_0_20_{stat}").mean() == pytest.approx(np.exp(mu + sigma * z), rel=0.01)
    fraction = band(run, "iloss_fraction_profile_mean")
    assert 0 < fraction.mean() < 1


def test_monte_carlo_shares_of_one_beta_move_together(tmp_path):
    """With an sd of β, every layer's share of a draw comes from one drawn β: the layers' and the profile's
    Iroot spread as a simulation over β by hand (normal β, numpy's own generator) gives. Independent draws
    per layer, rescaled to the mean share total, gave the 0-100 cm profile no spread at all."""
    shape, draws = (30, 40), 400
    bnpp = write_raster(tmp_path / "bnpp.tif", np.full(shape, 3.0))
    beta = write_raster(tmp_path / "beta.tif", [np.full(shape, 0.96), np.full(shape, 0.01)])
    name_bands(beta, ["beta_mean", "beta_sd"])
    layers = [(0, 20), (20, 40), (40, 60), (60, 80), (80, 100)]
    ibulk = write_raster(tmp_path / "ibulk.tif", [np.full(shape, 0.1)] * len(layers))
    run = loss_maps(tmp_path / "loss.tif", RootInputs(bnpp=bnpp, beta=beta, layers="0,20,40,60,80,100"),
                    ibulk=[f"{ibulk}:{i + 1}" for i in range(len(layers))], draws=draws, seed=5, quantities=["iroot"])
    betas = np.random.default_rng(1).normal(0.96, 0.01, 2_000_000)
    for name, (top, bottom) in [(f"{a}_{b}", (a, b)) for a, b in layers] + [("profile", (0, 100))]:
        iroot = 3.0 * beta_share(betas, top, bottom)  # of the 0-200 cm profile
        mc_mean, mc_sd = band(run, f"iroot_{name}_mean"), band(run, f"iroot_{name}_sd")
        assert mc_mean.mean() == pytest.approx(iroot.mean(), rel=0.01), name
        assert mc_sd.mean() == pytest.approx(iroot.std(), rel=0.02), name


def test_monte_carlo_identical_for_workers_block_sizes_and_backends(loss_inputs):
    folder, bnpp, ibulk, _, _ = loss_inputs
    roots = RootInputs(bnpp=bnpp, beta=0.96, layers="0,20,50,100", profile_depth=100)
    runs = [loss_maps(folder / f"run{i}.tif", roots, ibulk=ibulk, draws=60, seed=11, **engine)
            for i, engine in enumerate([{"n_jobs": 1, "block": 64}, {"n_jobs": 2, "block": 16},
                                        {"n_jobs": 2, "block": 7, "backend": "loky"}])]
    reference = read_bands(runs[0])[0]
    assert np.isfinite(reference).all()
    for run in runs[1:]:
        np.testing.assert_array_equal(read_bands(run)[0], reference)
    other = loss_maps(folder / "other_seed.tif", roots, ibulk=ibulk, draws=60, seed=12)
    assert not np.array_equal(read_bands(other)[0], reference)


def test_loss_maps_real_bnpp_map_stock_age_and_nodata(bnpp_map, tmp_path):
    """Iroot from the predicted BNPP map and the β map; Ibulk from stock / age; nodata and impossible values."""
    folder, bnpp = bnpp_map
    shape = read_bands(BETA)[0][0].shape
    stock = np.stack([np.full(shape, 30.0), np.full(shape, 20.0)])
    stock[0, 10, 10] = np.nan
    age = np.stack([np.full(shape, 200.0), np.full(shape, 1000.0)])
    age[1, 20, 20] = -5.0
    grid = {"origin": (-125.0, 40.0), "pixel": 0.5}   # the sample rasters' grid
    stock_path, age_path = write_raster(tmp_path / "stock.tif", stock, **grid), \
        write_raster(tmp_path / "age.tif", age, **grid)
    run = loss_maps(tmp_path / "loss.tif", RootInputs(bnpp=bnpp, beta=BETA, layers="0,30,100"),
                    stock=stock_path, age=[f"{age_path}:1", f"{age_path}:2"], draws=50,
                    quantities=["ibulk", "iloss"], block=64)
    assert run.band_names[0] == "ibulk_0_30_mean" and len(run.band_names) == 2 * 3 * 4
    assert any("1 pixels with a C stock below 0, a C age not above 0" in note for note in run.notes)
    ibulk = band(run, "ibulk_0_30_mean")
    assert np.isnan(ibulk[10, 10]) and np.isnan(ibulk[20, 20])
    valid = np.isfinite(band(bnpp, "bnpp_mean")) & np.isfinite(read_bands(BETA)[0][0])
    valid[10, 10] = valid[20, 20] = False
    assert np.isfinite(ibulk[valid]).all() and np.isnan(ibulk[~valid]).all()
    np.testing.assert_allclose(ibulk[valid], 30.0 / 200.0, rtol=1e-6)   # stock and age exact: Ibulk exact


# ---------------------------------------------------------------------------------------------
# Subsoil SOC and turnover time


def test_subsoil_soc_by_hand_and_against_x100(tmp_path):
    beta = write_raster(tmp_path / "beta.tif", [[[0.97, 0.985, np.nan]], [[0.003, 0.0, 0.001]]])
    name_bands(beta, ["beta_mean", "beta_sd"])
    topsoil = write_raster(tmp_path / "top.tif", [[[40.0, 25.0, 30.0]], [[4.0, 5.0, 1.0]]])
    name_bands(topsoil, ["soc_0_20_mean", "soc_0_20_sd"], units="kg C m-2")
    run = subsoil_soc(tmp_path / "soc.tif", beta, topsoil)
    assert run.band_names[-2:] == ["soc_20_100_mean", "soc_20_100_sd"]
    assert any("kg C m-2 converted" in note for note in run.notes)
    out = read_bands(run)[0]
    for pixel, (b, b_sd, x, x_sd) in enumerate([(0.97, 0.003, 400.0, 40.0), (0.985, 0.0, 250.0, 50.0)]):
        b, b_sd = float(np.float32(b)), float(np.float32(b_sd))   # as stored in the raster
        for layer, (top, bottom) in enumerate([(20, 40), (40, 60), (60, 80), (80, 100)]):
            ratio = (b ** top - b ** bottom) / (1 - b ** 20)
            assert out[2 * layer, 0, pixel] == pytest.approx(x * ratio, rel=1e-6)
        x100 = (1 - b ** 100) / (1 - b ** 20) * x   # Wang et al. eq. 4
        assert out[8, 0, pixel] == pytest.approx(x100 - x, rel=1e-6)
        ratio = (b ** 20 - b ** 100) / (1 - b ** 20)
        slope = (20 * b ** 19 - 100 * b ** 99) / (1 - b ** 20) \
            + (b ** 20 - b ** 100) * 20 * b ** 19 / (1 - b ** 20) ** 2
        assert out[9, 0, pixel] == pytest.approx(np.hypot(x_sd * ratio, x * slope * b_sd), rel=1e-4)
    assert np.isnan(out[:, 0, 2]).all()


def test_turnover_map_by_hand(tmp_path):
    flux = write_raster(tmp_path / "rh.tif", [[[400.0, 250.0, 0.0]], [[120.0, 0.0, 10.0]]])
    name_bands(flux, ["Rh_annual_mean", "Rh_annual_sd"], units="g C m-2 yr-1")
    run = turnover_map(tmp_path / "tau.tif", stock=f"{write_raster(tmp_path / 's.tif', [[[90.0, 60.0, 50.0]]])}",
                       stock_sd=9.0, flux=flux)
    assert run.band_names == ["tau", "tau_sd", "tau_lower", "tau_upper"]
    assert any("g C m-2 yr-1 converted" in n for n in run.notes) and any("flux of 0 or below" in n for n in run.notes)
    out = read_bands(run)[0]
    stock, f, f_sd = 90.0, 4.0, 1.2      # Mg C ha-1 and Mg C ha-1 yr-1
    assert out[0, 0, 0] == pytest.approx(stock / f, rel=1e-6)
    assert out[1, 0, 0] == pytest.approx(np.hypot(9.0 / f, stock * f_sd / f ** 2), rel=1e-6)
    s2 = np.log1p((9.0 / stock) ** 2) + np.log1p((f_sd / f) ** 2)
    median = stock / f * np.sqrt((1 + (f_sd / f) ** 2) / (1 + (9.0 / stock) ** 2))
    assert out[2, 0, 0] == pytest.approx(median * np.exp(-1.959964 * np.sqrt(s2)), rel=1e-5)
    assert out[3, 0, 0] == pytest.approx(median * np.exp(1.959964 * np.sqrt(s2)), rel=1e-5)
    assert out[0, 0, 1] == pytest.approx(24.0, rel=1e-6) and out[1, 0, 1] == pytest.approx(24.0 * 0.15, rel=1e-5)
    assert np.isnan(out[:, 0, 2]).all()


# ---------------------------------------------------------------------------------------------
# Errors, units and the CLI


def test_input_errors_name_the_problem(bnpp_map, tmp_path):
    folder, bnpp = bnpp_map
    output = tmp_path / "never.tif"
    cases = [
        (lambda: bnpp_by_depth(output, RootInputs(bnpp=bnpp, beta=BETA, d50=20, d95=80)), "one way"),
        (lambda: bnpp_by_depth(output, RootInputs(bnpp=bnpp, npp=bnpp, beta=BETA)), "not both"),
        (lambda: bnpp_by_depth(output, RootInputs(bnpp=f"{bnpp}:nosuch", beta=BETA)), "no band named 'nosuch'"),
        (lambda: bnpp_by_depth(output, RootInputs(bnpp=bnpp, beta=1.5)), "beta must be"),
        (lambda: bnpp_by_depth(output, RootInputs(bnpp=bnpp, beta=BETA, unit="g_m2_yr")), "records units"),
        (lambda: bnpp_by_depth(output, RootInputs(bnpp=bnpp, shares=[str(BETA)])), "do not give the layers"),
        (lambda: loss_maps(output, RootInputs(bnpp=bnpp, beta=BETA), ibulk=[str(BETA)]), r"Ibulk: 1 band\(s\) for 7"),
        (lambda: loss_maps(output, RootInputs(bnpp=bnpp, beta=BETA), ibulk=[str(BETA)], seed=-1), "seed"),
        (lambda: turnover_map(output, 1.0, 2.0), "at least one input as a raster"),
    ]
    for call, message in cases:
        with pytest.raises(InputError, match=message):
            call()
    assert not output.exists()


@pytest.fixture
def layered_maps(tmp_path):
    """BNPP (3 ± 0.9), Ibulk per standard5 layer and shares per standard7 layer, the layers in the band names."""
    def write(name, values, band_names):
        return name_bands(write_raster(tmp_path / name, [np.full((2, 3), v) for v in values]), band_names)

    layers = ["0_20", "20_40", "40_60", "60_80", "80_100", "100_150", "150_200"]
    bnpp = write("bnpp.tif", [3.0, 0.9], ["bnpp_mean", "bnpp_sd"])
    ibulk = write("ibulk.tif", [0.5, 0.3, 0.2, 0.1, 0.05] + [0.1] * 5,
                  [f"ibulk_{layer}_{stat}" for stat in ("mean", "sd") for layer in layers[:5]])
    shares = write("pdd.tif", [0.4, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05], [f"pdd_{layer}_mean" for layer in layers])
    return tmp_path, bnpp, ibulk, shares


def test_band_names_giving_depths_must_agree_with_the_layers(layered_maps, capsys):
    """Bands named for other layers than the ones they are given for (order or layers) are refused, not relabelled."""
    folder, bnpp, ibulk, shares = layered_maps
    output = folder / "never.tif"
    roots = RootInputs(bnpp=f"{bnpp}:bnpp_mean", beta=0.96, layers="standard5")
    in_order = [f"{ibulk}:ibulk_{layer}_mean" for layer in ("0_20", "20_40", "40_60", "60_80", "80_100")]
    cases = [
        (lambda: loss_maps(output, roots, ibulk=in_order[::-1]), "Ibulk: band .*ibulk_80_100_mean is named for 80-100 "
                                                                  "cm but is given for the layer 0-20 cm"),
        (lambda: loss_maps(output, RootInputs(bnpp=bnpp, beta=0.96, layers="0,10,20,30,40,50"), ibulk=ibulk),
         "ibulk_0_20_mean is named for 0-20 cm but is given for the layer 0-10 cm"),
        (lambda: loss_maps(output, roots, ibulk=in_order, ibulk_sd=[f"{ibulk}:ibulk_20_40_sd", 0, 0, 0, 0]),
         "Ibulk sd: band .*ibulk_20_40_sd is named for 20-40 cm but is given for the layer 0-20 cm"),
        (lambda: loss_maps(output, roots, stock=in_order[1:] + in_order[:1], age=100), "C stock: band"),
        (lambda: bnpp_by_depth(output, RootInputs(bnpp=bnpp, shares=shares, layers="0,10,20,30,40,50,60,70")),
         "shares: band .*pdd_0_20_mean is named for 0-20 cm but is given for the layer 0-10 cm"),
    ]
    for call, message in cases:
        with pytest.raises(InputError, match=message):
            call()
    assert main(["loss-maps", "--bnpp", bnpp, "--beta", "0.96", "--layers", "standard5", "--ibulk", *in_order[::-1],
                 "--draws", "10", "--output", str(output)]) == 2
    assert "is named for 80-100 cm" in capsys.readouterr().err and not output.exists()
    assert loss_maps(folder / "ok.tif", roots, ibulk=in_order, draws=10).band_names[0] == "iroot_0_20_mean"



def test_a_file_given_as_a_layered_sd_stands_for_its_sd_bands(layered_maps, capsys):
    """--ibulk-sd FILE takes FILE's _sd bands as the layers' sds, as --ibulk FILE takes its _mean bands (QGIS's
    IBULK_SD did, the command line refused it); numbers are still one layer's sd each."""
    folder, bnpp, ibulk, _ = layered_maps
    roots = RootInputs(bnpp=bnpp, beta=0.96)
    loss_maps(folder / "beside.tif", roots, ibulk=ibulk, draws=20)
    beside = read_bands(folder / "beside.tif")[0]
    loss_maps(folder / "given.tif", roots, ibulk=ibulk, ibulk_sd=ibulk, draws=20)
    np.testing.assert_array_equal(read_bands(folder / "given.tif")[0], beside)
    assert main(["loss-maps", "--bnpp", bnpp, "--beta", "0.96", "--ibulk", ibulk, "--ibulk-sd", ibulk, "--draws", "20",
                 "--output", str(folder / "cli.tif"), "--quiet"]) == 0
    np.testing.assert_array_equal(read_bands(folder / "cli.tif")[0], beside)
    loss_maps(folder / "zero.tif", roots, ibulk=ibulk, ibulk_sd=[0] * 5, draws=20)
    assert not np.array_equal(read_bands(folder / "zero.tif")[0], beside, equal_nan=True)
    for bad in ("nan", "inf", -0.05):  # refused at once, as a single input's sd number is
        with pytest.raises(InputError, match=r"^Ibulk sd must be"):
            loss_maps(folder / "bad.tif", roots, ibulk=ibulk, ibulk_sd=[bad] + [0] * 4, draws=20)


def test_bands_of_a_flux_or_stock_given_as_shares_or_ages_are_refused(layered_maps):
    """The shipped Ibulk map's _mean bands (Mg C ha-1 yr-1) were taken as depth shares and renormalised without a
    word; shares are fractions of the profile, ages years."""
    folder, bnpp, ibulk, shares = layered_maps
    name_bands(ibulk, [f"ibulk_{layer}_{stat}" for stat in ("mean", "sd")
                       for layer in ("0_20", "20_40", "40_60", "60_80", "80_100")], units="Mg C ha-1 yr-1")
    with pytest.raises(InputError, match=r"^shares: band .*ibulk_0_20_mean records units 'Mg C ha-1 yr-1', a flux; "
                                         r"give the bands of shares themselves$"):
        bnpp_by_depth(folder / "never.tif", RootInputs(bnpp=bnpp, shares=ibulk, profile_depth=100))
    stock = write_raster(folder / "stock.tif", [np.full((2, 3), v) for v in (50.0, 40.0, 30.0, 20.0, 10.0)])
    name_bands(stock, [f"soc_{layer}" for layer in ("0_20", "20_40", "40_60", "60_80", "80_100")], units="Mg C ha-1")
    with pytest.raises(InputError, match=r"^C age: band .*soc_0_20 records units 'Mg C ha-1', a stock; give the "):
        loss_maps(folder / "never.tif", RootInputs(bnpp=bnpp, beta=0.96), stock=stock, age=stock)
    assert not (folder / "never.tif").exists()
    bnpp_by_depth(folder / "ok.tif", RootInputs(bnpp=bnpp, shares=shares))  # share bands without units

def test_share_bands_must_cover_the_whole_profile(layered_maps):
    """Share bands of 0-40 cm are not stretched to all of BNPP; with a profile depth of 40 cm they are the profile."""
    folder, bnpp, _, shares = layered_maps
    top = [f"{shares}:pdd_0_20_mean", f"{shares}:pdd_20_40_mean"]
    with pytest.raises(InputError, match="shares: the share bands cover 0-40 cm, not the whole profile"):
        bnpp_by_depth(folder / "never.tif", RootInputs(bnpp=bnpp, shares=top))
    with pytest.raises(InputError, match="cover 20-40 cm"):
        bnpp_by_depth(folder / "never.tif", RootInputs(bnpp=bnpp, shares=top[1:], profile_depth=40))
    assert not (folder / "never.tif").exists()
    run = bnpp_by_depth(folder / "top.tif", RootInputs(bnpp=bnpp, shares=top, profile_depth=40))
    np.testing.assert_allclose(read_bands(run)[0][0::3].sum(axis=0), 3.0, rtol=1e-6)


def test_topsoil_band_name_must_agree_with_the_topsoil_layer(tmp_path):
    topsoil = name_bands(write_raster(tmp_path / "top.tif", [[[40.0, 25.0]], [[4.0, 5.0]]]),
                         ["soc_0_20_mean", "soc_0_20_sd"])
    with pytest.raises(InputError, match=r"topsoil SOC: band .*soc_0_20_mean is named for 0-20 cm but is given for "
                                         r"the layer 0-30 cm; give topsoil depths \(--topsoil-layer; in QGIS, Depths "
                                         r"of the topsoil stock\) that agree"):
        subsoil_soc(tmp_path / "never.tif", 0.97, topsoil, topsoil_layer="0-30")
    with pytest.raises(InputError, match="topsoil SOC sd: band .*soc_0_20_sd"):
        subsoil_soc(tmp_path / "never.tif", 0.97, 40.0, topsoil_sd=f"{topsoil}:soc_0_20_sd", topsoil_layer="0-30")
    assert not (tmp_path / "never.tif").exists()
    assert subsoil_soc(tmp_path / "soc.tif", 0.97, topsoil, topsoil_layer="0-20").band_names[0] == "soc_20_40_mean"


def test_a_unit_of_the_wrong_kind_is_an_error(tmp_path):
    """A flux where a stock is needed, or the reverse (the band's units metadata), is an error, unit chosen or not."""
    rh = name_bands(write_raster(tmp_path / "rh.tif", [[[400.0, 250.0]]]), ["Rh_annual_mean"], units="g C m-2 yr-1")
    csoil = name_bands(write_raster(tmp_path / "csoil.tif", [[[90.0, 60.0]]]), ["csoil_mean"], units="Mg C ha-1")
    output = tmp_path / "never.tif"
    cases = [
        (lambda: turnover_map(output, stock=rh, flux=csoil), "stock: band .*'g C m-2 yr-1', a flux, but a stock"),
        (lambda: turnover_map(output, stock=90.0, flux=csoil), "flux: band .*'Mg C ha-1', a stock, but a flux"),
        (lambda: turnover_map(output, stock=rh, flux=4.0, stock_unit="g_m2"), "a flux, but a stock is needed"),
        (lambda: subsoil_soc(output, 0.97, rh), "topsoil SOC: band .*a flux, but a stock is needed"),
        (lambda: loss_maps(output, RootInputs(bnpp=rh, beta=0.96, layers="0,200"), ibulk=[csoil]),
         "Ibulk: band .*a stock, but a flux is needed"),
    ]
    for call, message in cases:
        with pytest.raises(InputError, match=message):
            call()
    assert not output.exists()
    assert turnover_map(tmp_path / "tau.tif", stock=csoil, flux=rh).band_names[0] == "tau"


def test_cli_commands_write_maps_and_quicklooks(bnpp_map, tmp_path, capsys):
    folder, bnpp = bnpp_map
    out, png = tmp_path / "layers.tif", tmp_path / "layers.png"
    assert main(["bnpp-by-depth", "--bnpp", f"{bnpp}:bnpp_mean", "--beta", str(BETA), "--output", str(out),
                 "--quicklook", str(png), "--jobs", "2", "--backend", "threading"]) == 0
    assert "wrote" in capsys.readouterr().err and png.read_bytes()[:4] == b"\x89PNG"
    assert read_bands(out)[1][0] == "bnpp_0_20_mean"
    assert main(["loss-maps", "--bnpp", bnpp, "--beta", str(BETA), "--layers", "0,100,200", "--ibulk", str(BETA),
                 f"{BETA}:1", "--ibulk-sd", "0", "0.01", "--draws", "20", "--outputs", "iloss",
                 "--output", str(tmp_path / "loss.tif"), "--quicklook", str(tmp_path / "loss.png")]) == 0
    assert read_bands(tmp_path / "loss.tif")[1][0] == "iloss_0_100_mean" and (tmp_path / "loss.png").exists()
    assert main(["subsoil-soc", "--beta", str(BETA), "--topsoil", "50", "--output", str(tmp_path / "s.tif"),
                 "--quicklook", str(tmp_path / "s.png")]) == 0
    assert main(["turnover-map", "--stock", "100", "--flux", bnpp, "--output", str(tmp_path / "t.tif")]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad.tif"
    assert main(["bnpp-by-depth", "--bnpp", bnpp, "--output", str(bad), "--quicklook", str(tmp_path / "b.png")]) == 2
    assert "depth shares one way" in capsys.readouterr().err
    assert not bad.exists() and not (tmp_path / "b.png").exists()


def test_quicklook_reads_a_decimated_window(tmp_path):
    """A 3000 x 2000 raster is read through a window of at most 600 pixels; nodata stays NaN."""
    from wholesoil.core.maps.quicklook import quicklook_figure

    values = np.tile(np.arange(3000, dtype=float), (2000, 1))
    values[:1000, :1500] = np.nan
    path = write_raster(tmp_path / "big.tif", values, pixel=0.01)
    name_bands(path, ["iloss_0_20_mean"], units="Mg C ha-1 yr-1")
    dataset = gdal.Open(path)
    small = read_decimated(dataset, 1)
    assert small.shape == (400, 600)
    assert np.isnan(small[:190, :290]).all() and np.isfinite(small[210:, 310:]).all()
    figure = quicklook_figure(path, ["iloss_0_20_mean"], "Iloss")
    axes = figure.axes
    assert axes[0].get_title() == "iloss_0_20_mean" and axes[1].get_ylabel() == "Mg C ha-1 yr-1"


def test_quicklook_layers_of_one_quantity_share_a_colour_scale(tmp_path):
    """Depth layers compare by colour: a deep layer ten times smaller is not drawn as bright as the top one."""
    from wholesoil.core.maps.quicklook import quicklook_figure

    ramp = np.add.outer(np.arange(50.0), np.arange(50.0))  # 0 ... 98
    path = write_raster(tmp_path / "layers.tif", np.stack([ramp, ramp / 10, ramp / 100, ramp - 49]))
    name_bands(path, ["bnpp_0_10_mean", "bnpp_10_30_mean", "bnpp_0_10_sd", "iloss_0_10_mean"], units="g m-2")
    figure = quicklook_figure(path, [1, 2, 3, 4])
    top, deep, sd, loss = (ax.images[0].get_clim() for ax in figure.axes[:4])
    assert top == deep and top == pytest.approx(np.percentile(np.concatenate([ramp, ramp / 10]), [2, 98]))
    assert sd == pytest.approx(np.percentile(ramp / 100, [2, 98]))  # another quantity: its own scale
    assert loss[0] == -loss[1] and figure.axes[0].images[0].get_cmap().name == "viridis"  # diverging where
    assert figure.axes[3].images[0].get_cmap().name == "RdBu_r"                            # values have both signs



def test_quicklook_of_few_negative_pixels_is_diverging_and_classes_have_a_legend(tmp_path):
    """17 negative Iloss pixels of 9766 lie below the 2nd percentile: the scale was viridis, so a loss of carbon
    looked like a small gain. A class band was drawn on a continuous scale 1-6 without its labels."""
    from wholesoil.core.maps.quicklook import CLASS_COLOURS, quicklook_figure

    loss = np.linspace(0.3, 2.0, 100 * 100).reshape(100, 100)
    loss[0, :17] = -0.285
    classes = np.tile(np.repeat([1.0, 2.0, 4.0, 9.0], 25), (100, 1))
    classes[:10] = np.nan
    path = write_raster(tmp_path / "maps.tif", [loss, classes])
    name_bands(path, ["iloss_0_20_mean", "eco_class"], units="Mg C ha-1 yr-1")
    dataset = gdal.Open(path, gdal.GA_Update)
    dataset.GetRasterBand(2).SetMetadata({"class_1": "Agriculture", "class_2": "Forest", "class_4": "Grassland"})
    dataset = None
    figure = quicklook_figure(path, [1, 2])
    low, high = figure.axes[0].images[0].get_clim()
    assert figure.axes[0].images[0].get_cmap().name == "RdBu_r" and low == -high and low < -0.285
    drawn = figure.axes[1]
    assert [t.get_text() for t in drawn.get_legend().get_texts()] == ["Agriculture", "Forest", "Grassland",
                                                                      "other codes"]
    image = drawn.images[0]
    rgba = image.cmap(image.norm(np.array([1.0, 2.0, 4.0])))
    from matplotlib.colors import to_rgba

    assert [tuple(c) for c in rgba] == [to_rgba(c) for c in CLASS_COLOURS[:3]]
    assert len(figure.axes) == 3  # two panels and one colour bar: the classes have a legend instead

def test_predict_raster_quicklook(bnpp_map, tmp_path):
    folder, _ = bnpp_map
    png = tmp_path / "bnpp.png"
    assert main(["predict-raster", str(folder / "bnpp.wsmodel"), "--covariates",
                 f"bio1={SAMPLE / 'worldclim_bio1_americas.tif'}", f"bio12={SAMPLE / 'worldclim_bio12_americas.tif'}",
                 "--output", str(tmp_path / "map.tif"), "--quicklook", str(png), "--backend", "threading"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_a_product_with_every_pixel_impossible_is_refused(tmp_path, capsys):
    """Negative stocks everywhere (a sign or unit mistake): exit 2 with the reason, no all-nodata map."""
    stock = write_raster(tmp_path / "stock.tif", np.full((6, 7), -50.0))
    output = tmp_path / "tau.tif"
    assert main(["turnover-map", "--stock", stock, "--flux", "4", "--output", str(output)]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].endswith("no pixel got a value: 42 pixels have data in every input and each "
                                                   "gave nodata (42 pixels with a stock below 0 or a negative sd); "
                                                   "nothing was written")
    assert not output.exists()


def test_impossible_pixels_are_counted_where_every_input_has_data(tmp_path):
    """A negative stock where the flux is nodata is nodata anyway: not counted as impossible."""
    stock = write_raster(tmp_path / "stock.tif", [[-5.0, -5.0, 50.0, 50.0]])
    flux = write_raster(tmp_path / "flux.tif", [[np.nan, 4.0, 4.0, np.nan]])
    run = turnover_map(tmp_path / "tau.tif", stock=stock, flux=flux)
    assert any(n.startswith("1 pixels with a stock below 0") for n in run.notes), run.notes
    assert run.valid[0] == 1


@pytest.mark.parametrize("product", ["bnpp", "loss", "subsoil"])
def test_an_impossible_beta_where_another_input_is_nodata_is_nodata(product, tmp_path):
    """β = 0 over the sea (a map with no nodata value) where BNPP is nodata: those pixels are nodata, the
    others mapped; the run used to stop with 'beta must be between 0 and 1'."""
    beta = write_raster(tmp_path / "beta.tif", [[0.0, 0.96, 0.95, 1.5]], nodata=None)
    other = write_raster(tmp_path / "other.tif", [[np.nan, 3.0, 3.0, 3.0]])
    output = tmp_path / f"{product}.tif"
    if product == "subsoil":
        run = subsoil_soc(output, beta=beta, topsoil=other)
    else:
        roots = RootInputs(bnpp=other, beta=beta, layers="0,30,100", profile_depth=100)
        run = (bnpp_by_depth(output, roots) if product == "bnpp"
               else loss_maps(output, roots, ibulk=[other, other], draws=20))
    values = read_bands(run)[0]
    assert np.isnan(values[:, 0, [0, 3]]).all() and np.isfinite(values[:, 0, 1:3]).all()
    assert any(n.startswith("1 pixels with β outside (0, 1)") for n in run.notes), run.notes  # β 1.5 only


def test_loss_maps_take_the_layers_the_ibulk_bands_are_named_for(tmp_path):
    """The bundled Ibulk map names 0-100 cm in five layers: without --layers they are the layers (the default
    seven layers to 2 m used to be refused with '5 band(s) for 7 layers')."""
    ibulk = SAMPLE / "americas_ibulk_0_100.tif"
    run = loss_maps(tmp_path / "loss.tif", RootInputs(bnpp=3.0, beta=BETA), ibulk=str(ibulk), draws=10,
                    quantities=["iloss"])
    assert run.band_names[:4:] == ["iloss_0_20_mean", "iloss_0_20_sd", "iloss_0_20_lower", "iloss_0_20_upper"]
    assert "iloss_80_100_mean" in run.band_names and "iloss_100_150_mean" not in run.band_names
    assert "layers 0-20, 20-40, 40-60, 60-80, 80-100 cm, from the Ibulk band names" in run.notes
    with pytest.raises(InputError, match="5 band.s. for 7 layers .* give one band per layer, or the layers"):
        loss_maps(tmp_path / "seven.tif", RootInputs(bnpp=3.0, beta=BETA, layers="standard7"), ibulk=str(ibulk))


def test_rasters_without_units_are_said_to_be_taken_in_the_project_unit(tmp_path):
    """Most Rh, NPP and SOC GeoTIFFs record no units: a run says which unit it took (g C m-2 yr-1 read as
    Mg C ha-1 yr-1 makes τ 100 times too small), and a chosen unit needs no note."""
    stock = write_raster(tmp_path / "stock.tif", np.full((2, 3), 80.0))
    flux = write_raster(tmp_path / "flux.tif", np.full((2, 3), 400.0))
    run = turnover_map(tmp_path / "tau.tif", stock=stock, flux=flux)
    assert "flux: the raster records no units; taken as Mg C ha-1 yr-1 (give its unit with --flux-unit (in QGIS the " \
           "unit parameter, advanced) if it is another, e.g. g_m2_yr: g C m-2 yr-1)" in run.notes, run.notes
    chosen = turnover_map(tmp_path / "tau_g.tif", stock=stock, flux=flux, flux_unit="g_m2_yr", stock_unit="Mg_ha")
    assert not [n for n in chosen.notes if "records no units" in n]
    assert band(chosen, "tau")[0, 0] == pytest.approx(80.0 / 4.0)


def test_a_raster_of_several_layers_without_a_band_is_refused(tmp_path, capsys):
    """turnover-map --stock soc_layers.tif took band 1 (the 20-40 cm layer) without a word; a raster with one
    _mean band beside its _sd band still stands for that band, and an sd band is no mean."""
    layers = write_raster(tmp_path / "soc_layers.tif", [np.full((2, 3), v) for v in (50.0, 5.0, 30.0, 3.0)])
    name_bands(layers, ["soc_20_40_mean", "soc_20_40_sd", "soc_40_60_mean", "soc_40_60_sd"], units="Mg C ha-1")
    flux = write_raster(tmp_path / "flux.tif", np.full((2, 3), 4.0))
    name_bands(flux, ["rh_mean"], units="Mg C ha-1 yr-1")
    output = tmp_path / "tau.tif"
    assert main(["turnover-map", "--stock", layers, "--flux", flux, "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert f"stock: raster {layers} has 4 bands (soc_20_40_mean, soc_20_40_sd, soc_40_60_mean, soc_40_60_sd); " \
           f"choose the one to use: RASTER:BAND (e.g. {layers}:soc_20_40_mean)" in err and not output.exists()
    assert main(["turnover-map", "--stock", f"{layers}:soc_20_40_sd", "--flux", flux, "--output", str(output)]) == 2
    assert f"stock: band {layers}:soc_20_40_sd is an sd band; give the _mean bands" in capsys.readouterr().err
    single = write_raster(tmp_path / "soc.tif", [np.full((2, 3), 50.0), np.full((2, 3), 5.0)])
    name_bands(single, ["soc_mean", "soc_sd"], units="Mg C ha-1")
    run = turnover_map(output, stock=single, flux=flux)
    assert band(run, "tau")[0, 0] == pytest.approx(12.5) and band(run, "tau_sd")[0, 0] == pytest.approx(1.25)


def test_a_band_given_as_its_own_sd_is_refused(layered_maps, capsys):
    """--beta-sd beta.tif with --beta beta.tif (the map as its own sd: β 0.96 ± 0.96) ran; so did a layer's band
    given as its own sd. Another band of the same file is an sd."""
    folder, bnpp, ibulk, _ = layered_maps
    beta = write_raster(folder / "beta.tif", np.full((2, 3), 0.96))
    output = folder / "never.tif"
    assert main(["bnpp-by-depth", "--bnpp", "3", "--beta", beta, "--beta-sd", beta, "--output", str(output)]) == 2
    assert f"beta sd: band {beta}:1 is the band of the values themselves; give the band or raster of their sd" \
           in capsys.readouterr().err and not output.exists()
    plain = write_raster(folder / "plain.tif", [np.full((2, 3), v) for v in (0.5, 0.3, 0.2, 0.1, 0.05)])
    means = [f"{plain}:{i}" for i in range(1, 6)]
    with pytest.raises(InputError, match=r"Ibulk sd: band .*plain.tif:2 is the band of the values themselves"):
        loss_maps(output, RootInputs(bnpp=bnpp, beta=0.96, layers="standard5"), ibulk=means,
                  ibulk_sd=[0, means[1], 0, 0, 0])
    with pytest.raises(InputError, match="is the band of the values themselves"):
        turnover_map(output, stock=beta, flux=4.0, stock_sd=f"./{os.path.relpath(beta)}")  # another spelling
    pair = write_raster(folder / "pair.tif", [np.full((2, 3), 0.96), np.full((2, 3), 0.01)])
    run = bnpp_by_depth(folder / "ok.tif", RootInputs(bnpp=bnpp, beta=f"{pair}:1", beta_sd=f"{pair}:2"))
    assert run.band_names[0] == "bnpp_0_20_mean"


def test_subsoil_soc_says_what_is_wrong_with_its_layers(tmp_path):
    beta = write_raster(tmp_path / "beta.tif", np.full((2, 2), 0.97))
    topsoil = write_raster(tmp_path / "top.tif", np.full((2, 2), 40.0))
    with pytest.raises(InputError, match="topsoil layer 20: give one layer as top-bottom in cm, e.g. 0-20"):
        subsoil_soc(tmp_path / "a.tif", beta=beta, topsoil=topsoil, topsoil_layer="20")
    run = subsoil_soc(tmp_path / "b.tif", beta=beta, topsoil=topsoil, topsoil_layer="0-30", layers="20,100,300")
    assert ("the layers start at 20 cm, above the bottom of the topsoil layer (30 cm): they overlap it, and their "
            "sum counts 20-30 cm, which the topsoil stock holds too") in run.notes
    assert "the layers reach 300 cm, below the 200 cm profile of the β models: β is extrapolated there" in run.notes
    plain = subsoil_soc(tmp_path / "c.tif", beta=beta, topsoil=topsoil)
    assert not [n for n in plain.notes if "overlap" in n or "extrapolated" in n]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_cancel_stops_the_monte_carlo_inside_a_window(n_jobs, tmp_path, monkeypatch):
    """A window of 500 draws per pixel takes many seconds: QGIS's Cancel used to wait for the windows running."""
    from wholesoil.core.errors import CancelledError
    from wholesoil.core.maps import products

    groups, draws_of = [], products._loss_draws

    def counted(*args):
        groups.append(1)
        return draws_of(*args)

    monkeypatch.setattr(products, "_loss_draws", counted)
    bnpp = write_raster(tmp_path / "bnpp.tif", [np.full((300, 300), 3.0), np.full((300, 300), 0.5)])
    name_bands(bnpp, ["bnpp_mean", "bnpp_sd"])
    ibulk = write_raster(tmp_path / "ibulk.tif", np.full((300, 300), 0.5))
    output = tmp_path / "loss.tif"
    with pytest.raises(CancelledError):
        loss_maps(output, RootInputs(bnpp=bnpp, beta=0.96, layers="0,100", profile_depth=100), ibulk=[ibulk],
                  draws=500, n_jobs=n_jobs, backend="threading", is_cancelled=lambda: len(groups) >= 2)
    assert len(groups) <= 2 * n_jobs + 1  # of the 128 groups of rows of each 256 x 256 window
    assert not output.exists()


def test_units_are_read_from_gdal_s_unit_type_and_in_their_usual_spellings(tmp_path):
    """gdal_edit.py -units, rasterio and terra record GDAL's unit type, not wholesoil's units metadata; gC/m2/yr and
    t C ha-1 are the same units as g C m-2 yr-1 and Mg C ha-1; a unit wholesoil cannot convert is refused."""
    stock = write_raster(tmp_path / "stock.tif", np.full((2, 3), 80.0))
    flux = write_raster(tmp_path / "flux.tif", np.full((2, 3), 400.0))
    dataset = gdal.Open(flux, gdal.GA_Update)
    dataset.GetRasterBand(1).SetUnitType("g C m-2 yr-1")
    dataset = None
    run = turnover_map(tmp_path / "tau.tif", stock=stock, flux=flux)
    assert band(run, "tau")[0, 0] == pytest.approx(80.0 / 4.0)  # 400 g C m-2 yr-1 = 4 Mg C ha-1 yr-1
    for spelling in ("gC/m2/yr", "gC m^-2 y-1", "g C m⁻² a⁻¹"):
        name_bands(flux, ["rh"], units=spelling)
        assert band(turnover_map(tmp_path / "tau2.tif", stock=stock, flux=flux), "tau")[0, 0] == pytest.approx(20.0)
    name_bands(stock, ["soc"], units="t C ha-1")
    assert band(turnover_map(tmp_path / "tau3.tif", stock=stock, flux=flux), "tau")[0, 0] == pytest.approx(20.0)
    name_bands(flux, ["rh"], units="gC/m2/day")
    with pytest.raises(InputError, match=r"flux: band .* records units 'gC/m2/day', which wholesoil does not know as a "
                                         r"flux unit; if it is one of Mg_ha_yr .*, give it with --flux-unit"):
        turnover_map(tmp_path / "tau4.tif", stock=stock, flux=flux)
    chosen = turnover_map(tmp_path / "tau5.tif", stock=stock, flux=flux, flux_unit="g_m2_yr")  # the user's word
    assert band(chosen, "tau")[0, 0] == pytest.approx(20.0)


def test_messages_say_what_to_do_with_a_raster_without_a_crs_and_a_number_for_layers(tmp_path):
    from osgeo import osr

    stock = write_raster(tmp_path / "stock.tif", np.full((2, 3), 80.0))
    flux = write_raster(tmp_path / "flux.tif", np.full((2, 3), 4.0))
    dataset = gdal.Open(flux, gdal.GA_Update)
    dataset.SetSpatialRef(osr.SpatialReference())  # an empty CRS: none
    dataset = None
    with pytest.raises(InputError, match=r"is no CRS; assign the CRS to the raster that has none \(gdal_edit.py -a_srs"):
        turnover_map(tmp_path / "tau.tif", stock=stock, flux=flux)
    bnpp = write_raster(tmp_path / "bnpp.tif", np.full((2, 3), 3.0))
    with pytest.raises(InputError, match="C age: 1000 is a number; give rasters, one band per layer"):
        loss_maps(tmp_path / "loss.tif", RootInputs(bnpp=bnpp, beta=0.96, layers="0,100", profile_depth=100),
                  stock=[stock], age=["1000"], draws=10)


def test_layered_bands_with_a_gap_or_out_of_order_are_named_in_the_error(tmp_path):
    """--ibulk I:1 I:9 fell back to the seven default layers: '2 band(s) for 7 layers'."""
    ibulk = str(SAMPLE / "americas_ibulk_0_100.tif")
    for bands, listed in (([1, 9], "0-20, 80-100"), ([3, 1], "20-40, 0-20")):
        with pytest.raises(InputError, match=f"Ibulk: the bands are named for {listed} cm, which are not one layer "
                                             "after another from the top"):
            loss_maps(tmp_path / "loss.tif", RootInputs(bnpp=3.0, beta=BETA),
                      ibulk=[f"{ibulk}:{band}" for band in bands], draws=10)
