"""``python -m striate.cli`` runs the ``striate`` command."""

import sys

from . import main

sys.exit(main())
