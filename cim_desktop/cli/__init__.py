"""The ``cim`` command line: parsing and exit codes in ``app``, one module per command group."""

from cim_desktop.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
