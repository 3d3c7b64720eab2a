"""Peer check against the PyPI ``mpspline`` package (a port of mpspline2) on the NEON megapit horizons.

Both fit the same spline; mpspline averages the curve's values at whole centimetres (the
top of each 1-cm slice) where wholesoil integrates exactly. So wholesoil's curve sampled
the mpspline way must give mpspline's layer means to rounding error, and the remaining
difference between the two packages is exactly the 1-cm averaging error.
"""

import logging

import mpspline
import numpy as np
import pandas as pd
import pytest

from wholesoil.core.spline import spline_profiles

LAYERS = [(0, 5), (5, 15), (15, 30), (30, 60), (60, 100), (100, 200)]
PROPERTIES = ["carbonTot", "nitrogenTot", "bulkDen"]


@pytest.fixture(scope="module")
def comparison(real_data):
    logging.getLogger("mpspline").setLevel(logging.ERROR)
    horizons = pd.read_csv(real_data / "neon_megapit" / "neon_megapit_soil_horizons.csv")
    breaks = ",".join(str(t) for t, _ in LAYERS) + ",200"
    ours = spline_profiles(horizons, "siteID", "horizonTopDepth", "horizonBottomDepth", PROPERTIES, layers=breaks)
    ids = list(ours.horizons.ids)
    rows = []
    for name in PROPERTIES:
        fit = ours.fits[name]
        sampled = fit.evaluate(np.arange(0.0, 200.0))  # values at 0, 1, ..., 199 cm
        exact = ours.layers[name].to_numpy().reshape(len(ids), len(LAYERS))
        for site, part in horizons.groupby("siteID"):
            theirs = mpspline.spline_one(part, name, lam=0.1, depth_col_top="horizonTopDepth",
                                         depth_col_bottom="horizonBottomDepth", target_depths=LAYERS)
            p = ids.index(site)
            for k, (top, bottom) in enumerate(LAYERS):
                rows.append({"site": site, "property": name, "top": top, "bottom": bottom,
                             "mpspline": theirs["est_dcm"][k], "exact": exact[p, k],
                             "ours_1cm": np.mean(sampled[p, top:bottom])})
            fitted = fit.fitted[p][np.isfinite(fit.fitted[p])]
            np.testing.assert_allclose(fitted, theirs["est_icm"], rtol=1e-10, err_msg=f"{site} {name}")
            assert fit.rmse[p] == pytest.approx(theirs["rmse"], rel=1e-9)
    table = pd.DataFrame(rows)
    return table[np.isfinite(table["mpspline"]) & np.isfinite(table["exact"])]


def test_same_curve_as_mpspline(comparison):
    assert len(comparison) > 700
    np.testing.assert_allclose(comparison["ours_1cm"], comparison["mpspline"], rtol=1e-9, atol=1e-9)


def test_differences_are_the_one_cm_averaging(comparison):
    difference = (comparison["exact"] - comparison["mpspline"]).abs()
    averaging = (comparison["exact"] - comparison["ours_1cm"]).abs()
    np.testing.assert_allclose(difference, averaging, atol=1e-9)
    # the 1-cm error is largest in thin top layers, where curves are steep
    relative = difference / comparison["exact"].abs().clip(lower=1e-9)
    by_layer = relative.groupby(comparison["top"]).median()
    assert by_layer[0] > by_layer[100]
