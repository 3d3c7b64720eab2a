"""Processing algorithm wholesoil:aggregateraster."""

import math

from qgis.core import (QgsProcessing, QgsProcessingParameterBand, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterField, QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterString)

from ..algorithm import WholesoilAlgorithm, core_callbacks, raster_file
from ..parameters import add_html_output, advanced, html_output, push_notes, table_output
from ..qgis_io import source_to_table, table_to_sink

GROUP, GROUP_ID = "Maps", "maps"


def pairs(text, name, form):
    """{left: right} from "LEFT=RIGHT; LEFT=RIGHT" text (empty items skipped); InputError for an item of another
    form (one '=' between two texts: pairs separated otherwise than by ';' are refused) or a left side given twice."""
    from ...core.errors import InputError

    found = {}
    for item in (text or "").split(";"):
        if not item.strip():
            continue
        left, sep, right = item.partition("=")
        left, right = left.strip(), right.strip()
        if not sep or not left or not right or "=" in right:
            raise InputError(f"{name}: {item.strip()!r} should be {form}, pairs separated by ; "
                             f"(e.g. {form}; {form})")
        if left in found:
            raise InputError(f"{name}: band {left!r} is given twice")
        found[left] = right
    return found


class AggregateRaster(WholesoilAlgorithm):
    NAME = "aggregateraster"
    DISPLAY_NAME = "Aggregate map: totals, zones and latitude profile"
    GROUP = GROUP
    GROUP_ID = GROUP_ID
    REQUIRES = ("numpy", "pandas", "pyproj")
    TAGS = ("total", "global total", "Pg", "zonal statistics", "biome", "latitude profile", "latitudinal pattern",
            "area-weighted mean", "cell area", "geodesic area", "uncertainty", "BNPP", "soil carbon", "map")
    REFERENCES = ("snyder1987", "luo_bnpp")
    HELP = """
Totals and area-weighted statistics of a map (every band, or the chosen ones): over the whole raster, per zone (zone
polygons with a zone field, or a class raster on the same grid, such as biomes) and per band of latitude (the 1 degree
latitude profile of Luo et al., BNPP preprint, Fig. 5).

One output row per zone and band: zoning (all, zones, latitude), zone, band, unit, count (valid cells), area_ha, mean
(area-weighted), sd (area-weighted spread across cells), total (value x area in ha, so Mg for Mg ha-1), total_unit;
total_pg and total_pg_unit where the unit is a mass per area (Mg C ha-1 yr-1 or g C m-2 yr-1 give Pg C yr-1).

Cell areas: geographic grids use the exact ellipsoidal area of each cell on the CRS's own ellipsoid (Snyder, 1987);
projected grids use the planar cell area, and a warning says how far that is off when the projection is not
equal-area. Nodata cells are left out band by band. A polygon holds the cells whose centre it contains; latitude bands
go by cell-centre latitude.

Uncertainty of a total: a band NAME_sd next to NAME_mean (as Predict model as a map writes them) adds
total_sd_independent = square root of the sum of (sd x area) squared (independent cell errors) and
total_sd_correlated = sum of sd x area (fully correlated errors); for spatially correlated errors the truth lies
between them. Other pairs are given under the advanced parameters as BAND=SD_BAND; BAND=SD_BAND (bands by name or
number), which also override the NAME_sd convention.

Units come from the advanced per-band units (BAND=UNIT; BAND=UNIT, bands by name or number), else each band's units
metadata, else the unit given here. The map is read window by window, so memory
does not grow with its size. The report shows the zone table and the latitude profile.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer("INPUT", "Map"))
        self.addParameter(QgsProcessingParameterBand("BANDS", "Bands (none chosen: every band)",
                                                     parentLayerParameterName="INPUT", optional=True,
                                                     allowMultiple=True))
        self.addParameter(QgsProcessingParameterFeatureSource("ZONES", "Zone polygons",
                                                              [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterField("ZONE_FIELD", "Zone field", parentLayerParameterName="ZONES",
                                                      optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer("ZONE_RASTER", "Zone classes raster (same grid)",
                                                            optional=True))
        latitude = QgsProcessingParameterNumber("LATITUDE_BANDS", "Latitude band width (degrees; 0: none)",
                                                QgsProcessingParameterNumber.Double, 0.0)
        latitude.setMinimum(0.0)
        latitude.setMaximum(180.0)
        self.addParameter(latitude)
        self.addParameter(QgsProcessingParameterString("UNITS", "Unit of bands without units metadata "
                                                                "(e.g. Mg C ha-1 yr-1)", optional=True))
        self.addParameter(advanced(QgsProcessingParameterString(
            "BAND_UNITS", "Units of bands, over their units metadata (BAND=UNIT; BAND=UNIT)", optional=True)))
        self.addParameter(advanced(QgsProcessingParameterString(
            "SD_BANDS", "sd band of bands, beyond the NAME_mean / NAME_sd pairs (BAND=SD_BAND; BAND=SD_BAND)",
            optional=True)))
        self.addParameter(table_output("OUTPUT", "Aggregated statistics"))
        add_html_output(self)

    def compute(self, parameters, context, feedback):
        from ...core.errors import InputError
        from ...core.maps.aggregate import aggregate_raster

        raster = self.parameterAsRasterLayer(parameters, "INPUT", context)
        zones_source = self.parameterAsSource(parameters, "ZONES", context)
        zone_raster = self.parameterAsRasterLayer(parameters, "ZONE_RASTER", context)
        field = self.parameterAsFields(parameters, "ZONE_FIELD", context)
        if zones_source is not None and not field:
            raise InputError("ZONES needs ZONE_FIELD: choose the zone field of the zone polygons")
        latitude = self.parameterAsDouble(parameters, "LATITUDE_BANDS", context)
        units = self.parameterAsString(parameters, "UNITS", context) or None
        if units is not None and "=" in units:
            raise InputError(f"UNITS: {units!r} is one unit for every band; give BAND=UNIT pairs in BAND_UNITS")
        band_units = pairs(self.parameterAsString(parameters, "BAND_UNITS", context), "BAND_UNITS", "BAND=UNIT")
        sd_bands = pairs(self.parameterAsString(parameters, "SD_BANDS", context), "SD_BANDS", "BAND=SD_BAND")
        table, notes = aggregate_raster(
            raster_file(raster), bands=self.parameterAsInts(parameters, "BANDS", context) or None,
            zones=source_to_table(zones_source, feedback) if zones_source is not None else None,
            zone_field=field[0] if field else None,
            zone_raster=raster_file(zone_raster) if zone_raster is not None else None,
            latitude_bands=latitude or None, units=units, band_units=band_units or None, sd_bands=sd_bands or None,
            **core_callbacks(feedback, end=85))
        push_notes(feedback, notes)
        for _, row in table[table["zoning"] == "all"].iterrows():
            in_pg = "total_pg" in row and isinstance(row["total_pg_unit"], str)
            column = "total_pg" if in_pg else "total"
            total = f"total {row[column]:.6g} {row[column + '_unit']}" if not math.isnan(row[column]) \
                else "no total"
            unit = "(unitless)" if row["unit"] == "1" else row["unit"]
            feedback.pushInfo(f"{row['band']}: mean {row['mean']:.6g} {unit} over {row['area_ha']:.6g} ha; {total}")
        results = {"OUTPUT": table_to_sink(self, parameters, "OUTPUT", context, table)}
        report = html_output(self, parameters, context)
        if report:
            self.write_report(report, table, raster.name())
            results["OUTPUT_HTML"] = report
        feedback.setProgress(100)
        return results

    def write_report(self, path, table, name):
        from ...core.maps.aggregate import aggregation_figure
        from ...core.plots import html_image, html_table, write_html_report

        figure = aggregation_figure(table, f"Aggregation of {name}")
        write_html_report(path, self.DISPLAY_NAME, [html_image(figure, "zone table and latitude profile"),
                                                    html_table(table, max_rows=500)])
