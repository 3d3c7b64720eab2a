"""One QGIS Processing algorithm per module."""
