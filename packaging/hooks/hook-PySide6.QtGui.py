"""Replaces PyInstaller's hook for PySide6.QtGui (hooks in the spec's hookspath win).

The stock hook collects every Qt GUI plugin, and the build then bundles each plugin's system
libraries too (GTK 3 for the gtk3 theme, QtPdf for the pdf image format...). cim-desktop needs
only the platform plugins it can run on, so the rest are dropped here, before that analysis.
"""

from pathlib import PurePath

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

# offscreen serves tests and smoke runs; xcb and wayland (with its client-side helpers) real
# desktops; compose gives dead keys and compose sequences for typed names.
KEEP = {
    ("platforms", "libqoffscreen.so"),
    ("platforms", "libqxcb.so"),
    ("platforms", "libqwayland.so"),
    ("platforminputcontexts", "libcomposeplatforminputcontextplugin.so"),
}
KEEP_KINDS = {
    "xcbglintegrations",
    "wayland-decoration-client",
    "wayland-graphics-integration-client",
    "wayland-shell-integration",
}


def _wanted(source: str, dest: str) -> bool:
    parts = PurePath(dest).parts
    if "plugins" not in parts:
        return True
    kind = "/".join(parts[parts.index("plugins") + 1 :])
    return kind in KEEP_KINDS or (kind, PurePath(source).name) in KEEP


hiddenimports, _binaries, datas = add_qt6_dependencies(__file__)
binaries = [(source, dest) for source, dest in _binaries if _wanted(source, dest)]
