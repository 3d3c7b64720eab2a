"""Copy the real data the tests read from the project's shared data folder into tests/data/.

Run from the repository root: ``.venv/bin/python scripts/make_test_data.py [SHARED_DATA]``
(default ``../shared/data``). Every file is copied whole, byte for byte, under the same folder
and file name; nothing is subset. Each file's origin, citation and licence are in
tests/data/SOURCE.md (keep it in step with ``FILES``).
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data"

#: Files (relative to the shared data folder) that tests or scripts/make_sample_data.py read.
FILES = [
    "atm_14c/graven2017_annual_d14c.csv",
    "atm_14c/hua2021_monthly_long.csv",
    "covariates/dismo_biome_americas_0p5deg.asc",
    "covariates/dismo_biome_americas_0p5deg.prj",
    "covariates/dismo_worldclim14_bio1_americas_0p5deg.asc",
    "covariates/dismo_worldclim14_bio1_americas_0p5deg.prj",
    "covariates/dismo_worldclim14_bio12_americas_0p5deg.asc",
    "covariates/dismo_worldclim14_bio12_americas_0p5deg.prj",
    "israd/israd_layer_14c.csv",
    "neon_megapit/neon_deju_megapit_root_samples.csv",
    "neon_megapit/neon_megapit_soil_horizons.csv",
    "roots/jackson1996_beta_by_biome.csv",
    "roots/silsoe_fine_root_by_depth.csv",
    "srdb/srdb_v5_rh_annual.csv",
    "srdb/srdb_v5_studies_rh.csv",
]


def main(shared):
    for name in FILES:
        target = OUT / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared / name, target)
    print(f"copied {len(FILES)} files from {shared} to {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
