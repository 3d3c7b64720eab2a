"""QGIS with an iface, the plugin loaded and some algorithms run; prints what happened as JSON.

Started by tests/test_qgis_experience.py with this folder's sitecustomize blocking packages:
python run_plugin.py OUTPUT_FOLDER
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "resources" / "sample_data"


class Iface:
    """The part of QGIS's iface the plugin uses: a main window and a message bar that records its messages."""

    def __init__(self):
        from qgis.PyQt.QtWidgets import QMainWindow

        self.window = QMainWindow()
        self.messages = []

    def mainWindow(self):  # noqa: N802 (QGIS API names)
        return self.window

    def messageBar(self):  # noqa: N802
        return self

    def pushMessage(self, title, text, level, duration=0):  # noqa: N802
        self.messages.append({"title": title, "text": text, "level": int(level)})


def run(processing, algorithm_id, parameters):
    """'ok' or the error message of one processing.run."""
    from qgis.core import QgsProcessingException

    try:
        processing.run(algorithm_id, parameters)
    except QgsProcessingException as error:
        return str(error)
    return "ok"


def main(out):
    from qgis.core import Qgis, QgsApplication

    app = QgsApplication([], True)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing

    Processing.initialize()
    import processing

    iface = Iface()
    import wholesoil

    plugin = wholesoil.classFactory(iface)
    plugin.initGui()
    registry = QgsApplication.processingRegistry()
    report = {
        "modules": sorted(m for m in ("sklearn", "scipy", "pandas", "matplotlib", "statsmodels") if m in sys.modules),
        "algorithms": sorted(a.id() for a in registry.providerById("wholesoil").algorithms()),
        "warnings": [m["text"] for m in iface.messages if m["level"] == int(Qgis.Warning)],
        "menu": [a.text() for a in iface.window.menuBar().actions()],
        "fit_help": registry.algorithmById("wholesoil:fitdepthmodel").shortHelpString(),
        "numbers": run(processing, "wholesoil:depthfractionslogistic", {"D50": 20, "D95": 80}),
        "raster": run(processing, "wholesoil:depthfractionsbetaraster", {
            "BETA_RASTER": str(SAMPLE / "americas_root_beta.tif"), "OUTPUT": str(Path(out) / "fractions.tif")}),
        "model": run(processing, "wholesoil:bnppbydepth", {"beta": str(SAMPLE / "americas_root_beta.tif")}),
        "spline": run(processing, "wholesoil:harmoniseprofilesspline", {
            "INPUT": str(SAMPLE / "neon_megapit_horizons.csv"), "ID_FIELD": "siteID",
            "TOP_FIELD": "horizonTopDepth", "BOTTOM_FIELD": "horizonBottomDepth", "VALUE_FIELDS": ["estimatedOC"],
            "OUTPUT": str(Path(out) / "spline.csv")}),
        "fit": run(processing, "wholesoil:fitdepthmodel", {
            "INPUT": str(SAMPLE / "silsoe_fine_roots.csv"), "ID_FIELD": "profile_id", "TOP_FIELD": "top_cm",
            "BOTTOM_FIELD": "bottom_cm", "VALUE_FIELD": "mass_mg_cm3", "OUTPUT": str(Path(out) / "fits.csv")}),
        "train": run(processing, "wholesoil:trainmodel", {
            "INPUT": str(SAMPLE / "srdb_rh_records.csv"), "TARGET": "Rh_annual", "FEATURES": ["MAT", "MAP"],
            "OUTPUT_MODEL": str(Path(out) / "m.wsmodel")}),
    }
    plugin.unload()
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
