"""The schema as an ordered ladder of migrations keyed by ``PRAGMA user_version``.

Each step runs in its own transaction together with the version bump, so a crash leaves the
database at the last whole step. A database newer than the ladder is refused, never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from cim_desktop.store.connection import Connection
from cim_desktop.store.migrations import (
    m001_core,
    m002_audit_filters,
    m003_officer_particulars,
    m004_policy,
    m005_source_access,
    m006_state_binding,
    m007_slot_keys,
    m008_source_versions,
)

# Imported by name rather than discovered so that the packaged build (PyInstaller) sees every
# step; tests/test_migrations.py checks that every ``mNNN_*.py`` file is listed here.
STEPS: tuple[ModuleType, ...] = (
    m001_core,
    m002_audit_filters,
    m003_officer_particulars,
    m004_policy,
    m005_source_access,
    m006_state_binding,
    m007_slot_keys,
    m008_source_versions,
)


@dataclass(frozen=True)
class Migration:
    version: int
    summary: str
    apply: Callable[[Connection], None]


def _step(module: ModuleType) -> Migration:
    # ``m005_source_access`` is step 5; its docstring's first line says what it does.
    version = int(module.__name__.rsplit(".", 1)[1][1:4])
    first = (module.__doc__ or "").strip().splitlines()[0]
    summary = first.split(":", 1)[-1].strip()
    return Migration(version, summary, module.apply)


def _ladder() -> tuple[Migration, ...]:
    steps = tuple(_step(m) for m in STEPS)
    # The numbers must run 1, 2, 3... without a gap, so no step is skipped or reordered.
    numbers = [s.version for s in steps]
    if numbers != list(range(1, len(steps) + 1)):
        raise RuntimeError(f"migration files are not numbered 1..n: {numbers}")
    return steps


MIGRATIONS: tuple[Migration, ...] = _ladder()
LATEST = MIGRATIONS[-1].version


def user_version(conn: Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def apply(conn: Connection, migration: Migration) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        migration.apply(conn)
        conn.execute(f"PRAGMA user_version = {int(migration.version)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
