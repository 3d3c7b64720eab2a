"""The headless wholesoil library: no QGIS imports anywhere below this package.

Units unless a function says otherwise: depth in cm (positive downwards, 0 = mineral soil
surface), fluxes in Mg C ha-1 yr-1, stocks in Mg C ha-1, time in calendar years AD.
"""
