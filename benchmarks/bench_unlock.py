"""Unlock after the password is typed, excluding Argon2id (target: under 50 ms).

Two honest ways to take Argon2id out, both on a real vault:

- the whole ``services.vault.unlock`` minus the key unwrap measured on its own right after it
  (``unwrap_user``: Argon2id, HKDF and two AES-GCM layers); the median of those paired
  differences. The vault uses the Argon2id floor (64 MiB, 3 passes) unless
  ``CIM_ARGON2_PROFILE`` is set: the subtraction is only as precise as Argon2id's run-to-run
  jitter, which grows with its cost;
- the steps after the unwrap, timed directly: ``VaultDatabase.open`` (raw key, pragmas read
  back and checked, every page's HMAC, schema and vault id checks) and the session start
  (officer lookup, pending events, the login audit row committed with fsync).

Measured twice: on a fresh vault, and on one with 1,000 officers (each with a role) and
10,000 team rows, where the state check (a digest of every granting row compared with the
newest audit row's, see ``store.state``) has the most to read. Opening authenticates every
page, so that part grows with the file: see the verify benchmark for a million-row vault.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid

from benchmarks.common import ADMIN, ADMIN_PASSWORD, Figure, below, context, make_vault, scratch_dir
from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.security.keyslots import unwrap_user_with_signer
from cim_desktop.services.session import Session
from cim_desktop.services.vault import lifecycle as vault
from cim_desktop.services.vault.paths import VaultPaths
from cim_desktop.store.database import VaultDatabase
from cim_desktop.store.vault import state
from tests.memory_keyring import MemoryKeyring

TARGET_MS = 50.0


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def populate(session: Session, officers: int, team_rows: int) -> None:
    """Officers, roles, sources and team rows laid down directly, bound by one audit row."""
    now = iso_utc(utc_now())
    conn = session.db.conn
    ids = [str(uuid.uuid4()) for _ in range(officers)]
    sources = max(1, team_rows // 20)
    with session.change(
        AuditEvent(
            Action.CREATE, "benchmark", "population", {"officers": officers, "team_rows": team_rows}
        )
    ):
        conn.executemany(
            "INSERT INTO officers (id, username, display_name, status, created_at) "
            "VALUES (?, ?, ?, 'active', ?)",
            [(oid, f"officer{i:05d}", f"Officer {i}", now) for i, oid in enumerate(ids)],
        )
        conn.executemany(
            "INSERT INTO officer_roles (officer_id, role, valid_from, granted_by) "
            "VALUES (?, 'handler', ?, 'benchmark')",
            [(oid, now) for oid in ids],
        )
        conn.executemany(
            "INSERT INTO sources (urn, pseudonym, status, created_at, created_by) "
            "VALUES (?, ?, 'prospect', ?, 'benchmark')",
            [(f"BENCH-{n:05d}", f"Pseudonym {n}", now) for n in range(sources)],
        )
        conn.executemany(
            "INSERT INTO source_team (urn, officer_id, team_role, valid_from, assigned_by) "
            "VALUES (?, ?, 'handler', ?, 'benchmark')",
            [(f"BENCH-{n % sources:05d}", ids[n % officers], now) for n in range(team_rows)],
        )


def run(runs: int = 9) -> list[Figure]:
    figures = _run(runs, 0, 0, "")
    figures += _run(runs, 1_000, 10_000, " (1,000 officers, 10,000 team rows)")
    return figures


def _run(runs: int, officers: int, team_rows: int, label: str) -> list[Figure]:
    os.environ.setdefault("CIM_ARGON2_PROFILE", "floor")
    with scratch_dir("unlock") as root:
        keyring = DeviceSecretStore(MemoryKeyring())
        made = make_vault(root / "vault", keyring).session
        if officers or team_rows:
            populate(made, officers, team_rows)
        made.close()
        paths = VaultPaths(root / "vault")
        checking = []

        whole, unwrap, after, opening, starting = [], [], [], [], []
        for _ in range(runs):
            start = time.perf_counter()
            session = vault.unlock(paths.root, ADMIN, ADMIN_PASSWORD, keyring)
            whole.append(_ms(start))
            session.close()

            slots = vault.load_slots(paths, keyring)
            slot = slots.find_user(ADMIN)
            assert slot is not None
            secret = keyring.get(slots.vault_id)
            start = time.perf_counter()
            key, signer = unwrap_user_with_signer(
                slot, secret, ADMIN_PASSWORD, vault_id=slots.vault_id
            )
            unwrap.append(_ms(start))

            start = time.perf_counter()
            db = VaultDatabase.open(paths.db, key, slots.vault_id)
            opened = time.perf_counter()
            with db.reading():
                assert state.quick_check(db.conn)
            checking.append(_ms(opened))
            # The same private step unlock() takes after the database is open.
            session = vault._start_session(paths, db, slots, slot.user_id, keyring, key, signer)
            done = time.perf_counter()
            session.close()
            after.append((done - start) * 1000.0)
            opening.append((opened - start) * 1000.0)
            starting.append((done - opened) * 1000.0)

    med = statistics.median
    paired = [w - u for w, u in zip(whole, unwrap, strict=True)]
    return [
        below(
            f"unlock excluding Argon2id (unlock - unwrap){label}",
            med(paired),
            "ms",
            TARGET_MS,
            f"median of {runs} paired differences (unlock median {med(whole):.1f} ms, "
            f"unwrap median {med(unwrap):.1f} ms)",
        ),
        below(
            f"unlock steps after the key unwrap{label}",
            med(after),
            "ms",
            TARGET_MS,
            f"open {med(opening):.1f} ms (pragmas, page HMACs, schema) + session start "
            f"{med(starting):.1f} ms (state check, login audit row, fsync); median of "
            f"{runs}",
        ),
        context(
            f"state check alone{label}",
            med(checking),
            "ms",
            "digest of every granting row against the newest audit row's",
        ),
        context(
            f"key unwrap (Argon2id + HKDF + AES-GCM){label}",
            med(unwrap),
            "ms",
            "excluded from the target; set by the slot's Argon2id parameters",
        ),
    ]


if __name__ == "__main__":
    from benchmarks.common import table

    print(table(run()))
