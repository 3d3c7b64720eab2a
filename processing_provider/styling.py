"""Styling of raster outputs when QGIS loads them: single-band pseudocolour of the first band.

wholesoil rasters hold one quantity per band (a depth layer each), not colour channels, so
QGIS's default RGB of bands 1-3 would read as a categorical map. The first band (the top
layer) is shown with the viridis ramp stretched over its minimum and maximum, and the unit
follows the values in the legend. A first band of classes (a classification map's class
band, whose metadata labels its codes, or an area-of-applicability band) is shown as
paletted classes with their labels.
"""

import math

from qgis.core import (QgsColorRampLegendNodeSettings, QgsColorRampShader, QgsGradientColorRamp, QgsGradientStop,
                       QgsPalettedRasterRenderer, QgsProcessingLayerPostProcessorInterface, QgsRasterBandStats,
                       QgsRasterLayer, QgsRasterShader, QgsSingleBandPseudoColorRenderer)
from qgis.PyQt.QtGui import QColor

from ..core.maps.quicklook import band_classes as classes_of_band

#: viridis (matplotlib's perceptually uniform ramp), sampled at 0, 0.25, 0.5, 0.75 and 1.
VIRIDIS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
LEGEND_CLASSES = 5


def viridis():
    """The viridis colour ramp as a QGIS gradient."""
    stops = [QgsGradientStop(i / (len(VIRIDIS) - 1), QColor(c)) for i, c in enumerate(VIRIDIS[1:-1], start=1)]
    return QgsGradientColorRamp(QColor(VIRIDIS[0]), QColor(VIRIDIS[-1]), False, stops)


def band_classes(path):
    """(code, label, colour) of each class band 1 of raster ``path`` holds (see
    :func:`..core.maps.quicklook.band_classes`: the quick-look's colours), else an empty list."""
    from osgeo import gdal

    dataset = gdal.Open(path)
    return [] if dataset is None else classes_of_band(dataset.GetRasterBand(1))


def style_first_band(layer, unit=""):
    """Band 1 as paletted classes when it holds classes, else as single-band pseudocolour over its minimum and
    maximum; False if the band has no value."""
    provider = layer.dataProvider()
    classes = band_classes(layer.source())
    if classes:
        layer.setRenderer(QgsPalettedRasterRenderer(provider, 1, [
            QgsPalettedRasterRenderer.Class(code, QColor(colour), label) for code, label, colour in classes]))
        layer.triggerRepaint()
        return True
    stats = provider.bandStatistics(1, QgsRasterBandStats.Min | QgsRasterBandStats.Max, layer.extent(), 0)
    low, high = stats.minimumValue, stats.maximumValue
    if not (math.isfinite(low) and math.isfinite(high)):
        return False
    if high <= low:
        high = low + 1.0
    shader = QgsColorRampShader(low, high, viridis(), QgsColorRampShader.Interpolated, QgsColorRampShader.Continuous)
    shader.classifyColorRamp(LEGEND_CLASSES, 1, layer.extent(), provider)
    if unit:
        legend = QgsColorRampLegendNodeSettings()
        legend.setSuffix(f" {unit}")
        shader.setLegendSettings(legend)
    raster_shader = QgsRasterShader()
    raster_shader.setRasterShaderFunction(shader)
    renderer = QgsSingleBandPseudoColorRenderer(provider, 1, raster_shader)
    renderer.setClassificationMin(low)
    renderer.setClassificationMax(high)
    layer.setRenderer(renderer)
    layer.triggerRepaint()
    return True


class RasterStyle(QgsProcessingLayerPostProcessorInterface):
    """Post-processor QGIS calls on a raster output once it is loaded into the project.

    QGIS keeps only a pointer, and runs an algorithm on a copy that is gone by the time the
    layer is loaded: the post-processors live in :attr:`live`, one per output (a new run to
    the same output replaces the previous one).
    """

    live = {}

    def __init__(self, unit=""):
        super().__init__()
        self.unit = unit

    @classmethod
    def create(cls, output, unit=""):
        """The post-processor of ``output`` (a layer id or path), kept alive until replaced."""
        cls.live[output] = cls(unit)
        return cls.live[output]

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API name)
        if isinstance(layer, QgsRasterLayer) and not style_first_band(layer, self.unit):
            feedback.pushWarning(f"{layer.name()}: the first band holds no value; left unstyled")
