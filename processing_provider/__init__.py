"""QGIS Processing provider of wholesoil: thin adapters from Processing parameters to core calls."""
