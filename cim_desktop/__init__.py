"""cim-desktop: offline, encrypted management of covert human intelligence sources."""

__version__ = "0.1.0"
