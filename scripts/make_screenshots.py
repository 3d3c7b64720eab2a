"""Screenshots of what a QGIS user sees, for docs/images/ (README and docs/qgis.md show them).

Runs QGIS offscreen (no display needed): the wholesoil menu, two algorithm dialogs, the shipped
model in the Modeler's scene, a styled raster output and the top of the demo page (Qt WebKit,
which QGIS itself uses). Run after the demo (make demo):
    . scripts/qgis_env.sh && .venv/bin/python scripts/make_screenshots.py [demo-output]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
SAMPLE = ROOT / "resources" / "sample_data"
DEMO_PAGE_HEIGHT = 1500  # px of the demo page shown (its top: the biome table and figure)


class Iface:
    """The part of QGIS's iface the Processing dialogs and the plugin use, for a headless QGIS."""

    def __init__(self):
        from qgis.gui import QgsBrowserGuiModel, QgsMapCanvas, QgsMessageBar
        from qgis.PyQt.QtWidgets import QMainWindow

        self.window = QMainWindow()
        self.canvas = QgsMapCanvas(self.window)
        self.bar = QgsMessageBar(self.window)
        self.browser = QgsBrowserGuiModel()

    def mainWindow(self):  # noqa: N802 (QGIS API names)
        return self.window

    def mapCanvas(self):  # noqa: N802
        return self.canvas

    def messageBar(self):  # noqa: N802
        return self.bar

    def browserModel(self):  # noqa: N802
        return self.browser

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def save(widget_or_image, name):
    path = IMAGES / name
    image = widget_or_image if hasattr(widget_or_image, "save") and not hasattr(widget_or_image, "grab") \
        else widget_or_image.grab()
    if not image.save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(f"wrote {path.relative_to(ROOT)}")


def dialog_shot(processing, algorithm_id, parameters, name, size=(1120, 760)):
    from qgis.PyQt.QtWidgets import QApplication

    dialog = processing.createAlgorithmDialog(algorithm_id, {})
    dialog.setParameters(parameters)
    dialog.show()
    dialog.setMinimumSize(*size)  # wide enough to show the data-defined buttons beside the help
    dialog.resize(*size)
    QApplication.processEvents()
    save(dialog, name)
    dialog.close()


def model_shot(path, name):
    from qgis.core import QgsProcessingContext, QgsProcessingModelAlgorithm
    from qgis.PyQt.QtCore import QRectF, Qt
    from qgis.PyQt.QtGui import QImage, QPainter

    from processing.modeler.ModelerScene import ModelerScene

    model = QgsProcessingModelAlgorithm()
    model.fromFile(str(path))
    scene = ModelerScene()
    scene.createItems(model, QgsProcessingContext())
    bounds = scene.itemsBoundingRect().adjusted(-20, -20, 20, 20)
    image = QImage(int(bounds.width()), int(bounds.height()), QImage.Format_ARGB32)
    image.fill(Qt.white)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    scene.render(painter, QRectF(0, 0, bounds.width(), bounds.height()), bounds)
    painter.end()
    save(image, name)


def styled_raster_shot(processing, name):
    """The output of Depth fractions (β), rasters, as QGIS loads it (styling of the base class)."""
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings, QgsProject
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    before = set(QgsProject.instance().mapLayers())
    processing.runAndLoadResults("wholesoil:depthfractionsbetaraster", {
        "BETA_RASTER": str(SAMPLE / "americas_root_beta.tif"), "OUTPUT": "TEMPORARY_OUTPUT"})
    layer = next(QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before)
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(layer.extent())
    settings.setOutputSize(QSize(560, 580))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    save(job.renderedImage(), name)


def demo_page_shot(page, name):
    from qgis.PyQt.QtCore import QEventLoop, QSize, QUrl
    from qgis.PyQt.QtGui import QImage, QPainter
    from qgis.PyQt.QtWebKitWidgets import QWebPage

    web = QWebPage()
    loop = QEventLoop()
    web.loadFinished.connect(loop.quit)
    web.mainFrame().load(QUrl.fromLocalFile(str(page)))
    loop.exec_()
    width = 1000
    web.setViewportSize(QSize(width, DEMO_PAGE_HEIGHT))
    image = QImage(width, DEMO_PAGE_HEIGHT, QImage.Format_ARGB32)
    painter = QPainter(image)
    web.mainFrame().render(painter)
    painter.end()
    save(image, name)


def main(demo_output=ROOT / "demo-output"):
    page = Path(demo_output) / "index.html"
    if not page.exists():
        raise SystemExit(f"{page} not found: run the demo first (make demo)")
    from qgis.core import QgsApplication, QgsProperty

    app = QgsApplication([], True)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    import qgis.utils

    qgis.utils.iface = iface = Iface()  # before Processing's modules import it
    from processing.core.Processing import Processing

    import processing
    import wholesoil

    Processing.initialize()
    plugin = wholesoil.classFactory(iface)
    plugin.initGui()
    IMAGES.mkdir(parents=True, exist_ok=True)
    plugin.menu.adjustSize()
    save(plugin.menu, "menu.png")
    dialog_shot(processing, "wholesoil:depthfractionsbeta", {
        "INPUT": str(SAMPLE / "srdb_bnpp_sites.gpkg"), "BETA": QgsProperty.fromField("beta"),
        "LAYERS": "0,30,100", "OUTPUT": "TEMPORARY_OUTPUT"}, "dialog_depth_fractions.png")
    dialog_shot(processing, "wholesoil:trainmodel", {
        "INPUT": str(SAMPLE / "srdb_rh_records.csv"), "TARGET": "Rh_annual", "FEATURES": ["MAT", "MAP"],
        "GROUP_FIELD": "site_key", "OUTPUT_MODEL": "rh_forest.wsmodel"}, "dialog_train_model.png")
    model_shot(ROOT / "resources" / "models" / "bnpp_by_depth.model3", "model_bnpp_by_depth.png")
    styled_raster_shot(processing, "styled_raster_output.png")
    demo_page_shot(page, "demo_page.png")
    plugin.unload()
    app.exitQgis()


if __name__ == "__main__":
    main(*sys.argv[1:])
