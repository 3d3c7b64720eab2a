"""The QGIS plugin object: registers the Processing provider and the wholesoil menu."""

from qgis.core import QgsApplication

from ..processing_provider.provider import WholesoilProvider

MENU_TITLE = "wholesoil"


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
        """Register the provider and add the wholesoil menu (one entry per algorithm)."""
        self.initProcessing()
        from qgis.PyQt.QtGui import QIcon
        from qgis.PyQt.QtWidgets import QMenu

        from ..processing_provider.algorithm import ICON

        window = self.iface.mainWindow()
        self.menu = QMenu(MENU_TITLE, window)
        self.menu.setObjectName("wholesoilMenu")
        self.menu.setIcon(QIcon(ICON))
        submenus = {}
        for algorithm in sorted(self.provider.algorithms(), key=lambda a: (a.group(), a.displayName())):
            group = submenus.get(algorithm.group())
            if group is None:
                group = submenus[algorithm.group()] = self.menu.addMenu(algorithm.group())
            action = group.addAction(algorithm.icon(), algorithm.displayName())
            action.setObjectName(algorithm.id())
            action.triggered.connect(lambda _checked=False, alg_id=algorithm.id(): self.open_dialog(alg_id))
            self.actions.append(action)
        bar = window.menuBar()
        help_menu = next((a for a in bar.actions() if a.menu() and a.menu().objectName() == "mHelpMenu"), None)
        if help_menu is not None:
            bar.insertMenu(help_menu, self.menu)
        else:
            bar.addMenu(self.menu)

    def open_dialog(self, algorithm_id):
        """Open the Processing dialog of an algorithm (non-modal); returns the dialog."""
        import processing

        dialog = processing.createAlgorithmDialog(algorithm_id, {})
        dialog.show()
        return dialog

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
