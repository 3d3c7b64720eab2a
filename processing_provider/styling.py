"""Styling of raster outputs when QGIS loads them: single-band pseudocolour of the first band.

wholesoil rasters hold one quantity per band (a depth layer each), not colour channels, so
QGIS's default RGB of bands 1-3 would read as a categorical map. The first band (the top
layer) is shown with the viridis ramp stretched over its minimum and maximum, and the unit
follows the values in the legend.
"""

import math

from qgis.core import (QgsColorRampLegendNodeSettings, QgsColorRampShader, QgsGradientColorRamp, QgsGradientStop,
                       QgsProcessingLayerPostProcessorInterface, QgsRasterBandStats, QgsRasterLayer, QgsRasterShader,
                       QgsSingleBandPseudoColorRenderer)
from qgis.PyQt.QtGui import QColor

#: viridis (matplotlib's perceptually uniform ramp), sampled at 0, 0.25, 0.5, 0.75 and 1.
VIRIDIS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
LEGEND_CLASSES = 5


def viridis():
    """The viridis colour ramp as a QGIS gradient."""
    stops = [QgsGradientStop(i / (len(VIRIDIS) - 1), QColor(c)) for i, c in enumerate(VIRIDIS[1:-1], start=1)]
    return QgsGradientColorRamp(QColor(VIRIDIS[0]), QColor(VIRIDIS[-1]), False, stops)


def style_first_band(layer, unit=""):
    """Single-band pseudocolour of band 1 over its minimum and maximum; False if the band has no value."""
    provider = layer.dataProvider()
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
