"""``python -m wholesoil.core.cli`` runs the ``wholesoil`` program."""

import sys

from . import main

sys.exit(main())
