"""``python -m cim_desktop.ui`` starts the application."""

# Guarded: worker processes started with "spawn" import the main module again.
if __name__ == "__main__":
    from cim_desktop.ui.app import main

    raise SystemExit(main())
