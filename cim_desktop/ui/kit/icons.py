"""The application's one icon set: Tabler's outline icons (MIT; see resources/LICENSES.md).

The SVG files are drawn in ``currentColor``; they are painted here in the style's ink colour
with QtSvg itself, so no image-format plugin is needed in the packaged build.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

FOLDER = Path(__file__).resolve().parent.parent / "resources" / "icons"
INK = "#1d3557"
SIZES = (16, 20, 24, 32)


def names() -> list[str]:
    return sorted(p.stem for p in FOLDER.glob("*.svg"))


@cache
def icon(name: str, colour: str = INK) -> QIcon:
    """The named icon; a missing name is a programming error and raises FileNotFoundError."""
    svg = (FOLDER / f"{name}.svg").read_text(encoding="utf-8")
    result = QIcon()
    # Selected rows (navigation, menus) are dark: the icon turns white with the text.
    for mode, ink in ((QIcon.Mode.Normal, colour), (QIcon.Mode.Selected, "#ffffff")):
        renderer = QSvgRenderer(QByteArray(svg.replace("currentColor", ink).encode()))
        for size in SIZES:
            pixmap = QPixmap(size, size)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            renderer.render(painter, QRectF(0, 0, size, size))
            painter.end()
            result.addPixmap(pixmap, mode)
    return result
