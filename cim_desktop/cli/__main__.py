"""``python -m cim_desktop.cli`` runs the ``cim`` command line."""

import sys

from cim_desktop.cli.app import main

sys.exit(main())
