"""``python -m cim_desktop.ui`` starts the application."""

from cim_desktop.ui.app import main

raise SystemExit(main())
