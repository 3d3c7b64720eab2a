"""The QGIS GUI side of wholesoil: plugin registration and menus."""
