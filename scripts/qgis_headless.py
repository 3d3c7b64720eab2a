"""QGIS started headless with Processing and the wholesoil provider, for the scripts that
write the shipped models and the algorithm reference."""

import contextlib
import sys


@contextlib.contextmanager
def wholesoil_provider():
    """Yield the registered wholesoil Processing provider; QGIS exits afterwards."""
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing

    from wholesoil.processing_provider.provider import WholesoilProvider

    Processing.initialize()
    provider = WholesoilProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    try:
        yield provider
    finally:
        app.exitQgis()
