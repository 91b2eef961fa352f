"""One icon set: Tabler's, shipped with its licence, on every menu action and screen."""

from __future__ import annotations

from pathlib import Path

import cim_desktop.ui
from cim_desktop.ui.kit import icons
from cim_desktop.ui.shell.main_window import MainWindow

UI = Path(cim_desktop.ui.__file__).parent


def test_every_menu_action_and_screen_has_an_icon_from_the_set(window: MainWindow) -> None:
    for menu_action in window.menu_bar.actions():
        menu = menu_action.menu()
        assert menu is not None
        for action in menu.actions():
            assert action.isSeparator() or not action.icon().isNull(), action.text()
    for row in range(window.workspace.nav.count()):
        assert not window.workspace.nav.item(row).icon().isNull()
    assert {p.icon for p in window.workspace.pages} <= set(icons.names())


def test_the_set_is_shipped_with_its_licence_and_no_stock_icons_are_used() -> None:
    assert "lock" in icons.names()
    assert not icons.icon("lock").pixmap(16, 16).isNull()
    licences = (UI / "resources" / "LICENSES.md").read_text(encoding="utf-8")
    assert "Tabler Icons" in licences and "MIT License" in licences
    for path in UI.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "StandardPixmap" not in text and "standardIcon" not in text, path
