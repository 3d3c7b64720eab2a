"""The QGIS plugin object: registers the Processing provider and the wholesoil menu."""

from qgis.core import Qgis, QgsApplication

from ..processing_provider.provider import WholesoilProvider, unavailable_algorithms, unavailable_message

MENU_TITLE = "wholesoil"
SAMPLE_DATA_ACTION = "wholesoilLoadSampleData"
HELP_ACTION = "wholesoilHelp"


class WholesoilPlugin:
    """Loaded by QGIS desktop (with an iface) and by qgis_process (iface is None)."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.menu = None
        self.actions = []

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        """Register the provider once; qgis_process calls only this."""
        if self.provider is None:
            self.provider = WholesoilProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        """Register the provider, add the wholesoil menu and say once what is unavailable."""
        self.initProcessing()
        from qgis.PyQt.QtWidgets import QMenu

        window = self.iface.mainWindow()
        self.menu = QMenu(MENU_TITLE, window)  # text, no icon: a menu bar shows an icon instead of the title
        self.menu.setObjectName("wholesoilMenu")
        self.menu.setToolTipsVisible(True)
        self._add_action(self.menu, "Load sample data", SAMPLE_DATA_ACTION, self.load_sample_data,
                         "Add the bundled sample data (with their sources) to the project")
        self._add_action(self.menu, "Documentation", HELP_ACTION, self.open_documentation,
                         "The wholesoil algorithms, their parameters and references")
        self.menu.addSeparator()
        submenus = {}
        for algorithm in sorted(self.provider.algorithms(), key=lambda a: (a.group(), a.displayName())):
            group = submenus.get(algorithm.group())
            if group is None:
                group = submenus[algorithm.group()] = self.menu.addMenu(algorithm.group())
                group.setToolTipsVisible(True)
            self._add_action(group, algorithm.displayName(), algorithm.id(),
                             lambda _checked=False, alg_id=algorithm.id(): self.open_dialog(alg_id),
                             algorithm.shortDescription(), algorithm.icon())
        bar = window.menuBar()
        help_menu = next((a for a in bar.actions() if a.menu() and a.menu().objectName() == "mHelpMenu"), None)
        if help_menu is not None:
            bar.insertMenu(help_menu, self.menu)
        else:
            bar.addMenu(self.menu)
        message = unavailable_message(unavailable_algorithms(self.provider.algorithms()))
        if message:
            self.iface.messageBar().pushMessage("wholesoil", message, Qgis.Warning, 0)

    def _add_action(self, menu, text, name, slot, tip="", icon=None):
        action = menu.addAction(icon, text) if icon is not None else menu.addAction(text)
        action.setObjectName(name)
        if tip:
            action.setToolTip(tip)
        action.triggered.connect(slot)
        self.actions.append(action)
        return action

    def open_dialog(self, algorithm_id):
        """Open the Processing dialog of an algorithm (non-modal); returns the dialog."""
        import processing

        dialog = processing.createAlgorithmDialog(algorithm_id, {})
        dialog.show()
        return dialog

    def load_sample_data(self):
        """Add the bundled sample data to the project; returns the layer group."""
        from qgis.core import QgsProject

        from .sample_data import GROUP_NAME, load_sample_data

        group = load_sample_data(QgsProject.instance())
        self.iface.messageBar().pushMessage(
            "wholesoil", f"{len(group.findLayers())} sample layers added to the group '{GROUP_NAME}'; their "
            "sources and licences are in each layer's properties (Metadata) and in resources/sample_data/SOURCE.md",
            Qgis.Info, 10)
        return group

    def open_documentation(self):
        from qgis.PyQt.QtCore import QUrl
        from qgis.PyQt.QtGui import QDesktopServices

        from ..processing_provider.algorithm import DOCS_URL

        QDesktopServices.openUrl(QUrl(DOCS_URL))

    def unload(self):
        """Remove the menu and the provider."""
        if self.menu is not None:
            self.menu.deleteLater()
            self.iface.mainWindow().menuBar().removeAction(self.menu.menuAction())
            self.menu = None
        self.actions = []
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
