"""Grab every screen of the application to PNG, at 1366x768 and 1920x1080, to look at.

    PYTHONPATH=. QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [OUT]

Builds a throw-away vault (in-memory keyring, made-up officers and sources) in a temporary
folder, opens the windows as an administrator and as a controller, and writes one PNG per
window, screen and size into OUT (default: screenshots/, which git ignores).
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = ((1366, 768), (1920, 1080))


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    screen = ROOT / "tests" / "ui" / "screen-1366x768.json"
    big = Path(tempfile.mkdtemp()) / "screen.json"
    big.write_text(screen.read_text().replace("1366", "1920").replace("768", "1080"))

    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication(["screenshots", "-platform", f"offscreen:configfile={big}"])
    from cim_desktop.domain.access.rules import TeamRole
    from cim_desktop.services.access import permissions as access
    from cim_desktop.services.officers import associations
    from cim_desktop.services.sources import register as sources
    from cim_desktop.services.vault.lifecycle import unlock
    from cim_desktop.ui.kit import dialogs, settings, style, wheel_guard
    from cim_desktop.ui.kit.worker import DbWorker
    from cim_desktop.ui.shell.main_window import MainWindow
    from cim_desktop.ui.vault.first_run import FirstRunWizard
    from cim_desktop.ui.vault.login import LoginDialog
    from tests.access_world import build, password
    from tests.conftest import ADMIN, ADMIN_PASSWORD

    style.apply(app)
    wheel_guard.install(app)
    dialogs.set_test_mode(True)
    work = Path(tempfile.mkdtemp(prefix="cim-shots-"))
    settings.use_folder(work / "settings")
    world = build(work / "vault", "ctrl", "keeper", "handler1", "handler2", "auditor")
    for pseudonym in ("Avocet", "Bittern", "Curlew", "Dunlin", "Egret"):
        urn = sources.register_source(world["ctrl"], pseudonym).urn
        sources.assign_team_role(world["ctrl"], urn, "handler1", TeamRole.HANDLER)
    access.break_glass(
        world["handler2"], urn, password("handler2"), "Control room reports a threat"
    )
    associations.declare(world["ctrl"], "A. Example", "former neighbour", date(2023, 5, 1))
    worker = DbWorker()

    def settle() -> None:
        for _ in range(50):
            app.processEvents()
            if not worker.busy:
                app.processEvents()
                if not worker.busy:
                    return
            worker.drain()

    def grab(widget: QWidget, name: str) -> None:
        for width, height in SIZES:
            widget.resize(width, height)
            settle()
            path = out / f"{name}-{width}x{height}.png"
            widget.grab().save(str(path))
            print(path)

    for who in (ADMIN, "ctrl"):
        session = (
            unlock(world.root, ADMIN, ADMIN_PASSWORD, world.keyring)
            if who == ADMIN
            else world.login(who)
        )
        main = MainWindow(session, worker, world.keyring)
        main.show()
        settle()
        for page in main.workspace.offered():
            main.workspace.show_page(page.key)
            settle()
            grab(main, f"{who}-{page.key}")
        main.lock()
        settle()
        grab(main, f"{who}-locked")
        main.close()
        settle()

    login = LoginDialog(world.root, worker, world.keyring)
    login.show()
    settle()
    login.grab().save(str(out / "login.png"))
    wizard = FirstRunWizard(work / "new-vault", worker, world.keyring)
    wizard.show()
    settle()
    wizard.grab().save(str(out / "wizard.png"))
    wizard.unit_name.setText("DSU North")
    wizard.next()
    wizard.admin_password.setText("correct horse battery")
    settle()
    wizard.grab().save(str(out / "wizard-admin.png"))
    for window in (login, wizard):
        window.hide()
    worker.stop()
    world.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
