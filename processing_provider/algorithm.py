"""Base class of the wholesoil Processing algorithms.

An algorithm module defines a subclass with ``NAME`` (the id part after ``wholesoil:``,
public API: never renamed once released), ``DISPLAY_NAME``, ``GROUP``/``GROUP_ID`` and
``HELP`` (plain text, one paragraph per line), plus ``initAlgorithm`` and ``compute``. The base
turns core errors into QgsProcessingException and adapts the feedback object to the
``progress``/``is_cancelled`` callables core functions take.
"""

import os

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..core.errors import CancelledError, InputError

ICON = os.path.join(os.path.dirname(os.path.dirname(__file__)), "resources", "icons", "wholesoil.svg")


def core_callbacks(feedback):
    """``progress`` and ``is_cancelled`` keyword arguments for core functions."""
    if feedback is None:
        return {"progress": None, "is_cancelled": None}
    return {"progress": feedback.setProgress, "is_cancelled": feedback.isCanceled}


class WholesoilAlgorithm(QgsProcessingAlgorithm):
    """Common behaviour: metadata from class attributes and error mapping."""

    NAME = ""
    DISPLAY_NAME = ""
    GROUP = ""
    GROUP_ID = ""
    HELP = ""

    def tr(self, text):
        return QCoreApplication.translate("wholesoil", text)

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802 (QGIS API names)
        return self.tr(self.DISPLAY_NAME)

    def group(self):
        return self.tr(self.GROUP)

    def groupId(self):  # noqa: N802
        return self.GROUP_ID

    def shortHelpString(self):  # noqa: N802
        return self.tr(self.HELP.strip())

    def icon(self):
        return QIcon(ICON)

    def createInstance(self):  # noqa: N802
        return type(self)()

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        try:
            return self.compute(parameters, context, feedback)
        except InputError as error:
            raise QgsProcessingException(str(error)) from None
        except CancelledError:
            raise QgsProcessingException("Cancelled by the user; nothing was written") from None

    def compute(self, parameters, context, feedback):
        """Do the work; return the results dict. Raise InputError for bad input."""
        raise NotImplementedError
