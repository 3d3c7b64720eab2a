"""Synthetic training tables for the predictive-model tests."""

import numpy as np
import pandas as pd


def profile_layers(n_profiles=60, layers=(10, 30, 50, 70, 90), seed=0, profile_sd=2.0):
    """Layers of soil profiles: site covariates shared by all layers of a profile, a profile
    effect (sd ``profile_sd``) the covariates do not explain, so layers of one profile are
    near-duplicates.

    Columns: profile, x, y (lon/lat), depth (cm), clim, soil, noise1, biome, soc.
    """
    rng = np.random.default_rng(seed)
    sites = pd.DataFrame({"profile": [f"P{i:03d}" for i in range(n_profiles)],
                          "x": rng.uniform(-60, -40, n_profiles).round(4), "y": rng.uniform(-30, 0, n_profiles).round(4),
                          "clim": rng.normal(size=n_profiles), "soil": rng.normal(size=n_profiles),
                          "noise1": rng.normal(size=n_profiles),
                          "biome": rng.choice(["forest", "grass", "savanna"], n_profiles)})
    effect = rng.normal(scale=profile_sd, size=n_profiles)
    table = sites.loc[sites.index.repeat(len(layers))].reset_index(drop=True)
    table["depth"] = np.tile(layers, n_profiles).astype(float)
    profile_effect = np.repeat(effect, len(layers))
    table["soc"] = (10 + 1.0 * table["clim"] + 0.5 * (table["biome"] == "forest") + profile_effect
                    - 0.05 * table["depth"] + rng.normal(scale=0.1, size=len(table)))
    return table


def heteroscedastic(n, seed=0):
    """y = 3 x1 + sin(3 x2) + noise with sd growing with |x1| (0.2 to 2.2)."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    y = 3 * x1 + np.sin(3 * x2) + rng.normal(size=n) * (0.2 + 2.0 * np.abs(x1))
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "y": y})
