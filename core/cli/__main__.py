"""``python -m wholesoil.core.cli`` runs the ``wholesoil`` program."""

from . import program

program()
