"""wholesoil: whole-soil-profile carbon analysis.

This folder is both the QGIS plugin (``classFactory`` below) and the Python package
``wholesoil``. The headless library lives in :mod:`wholesoil.core` and never imports
QGIS; the Processing provider and the GUI import QGIS lazily.
"""

__version__ = "0.1.0"


def classFactory(iface):  # noqa: N802 (QGIS's name)
    """Create the plugin object; ``iface`` is None under ``qgis_process``."""
    from .plugin.plugin import WholesoilPlugin

    return WholesoilPlugin(iface)
