"""Makes the packages named in $WHOLESOIL_BLOCKED (comma-separated) unimportable, as if not installed.

Put this folder first on PYTHONPATH of a Python or QGIS process (qgis_process included):
``import sklearn`` then fails with ModuleNotFoundError and importlib.util.find_spec finds nothing.
"""

import os
import sys

BLOCKED = {name for name in os.environ.get("WHOLESOIL_BLOCKED", "").split(",") if name}


class _Blocker:
    """A meta path finder that refuses the blocked top-level packages and their submodules."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


if BLOCKED:
    sys.meta_path.insert(0, _Blocker())
