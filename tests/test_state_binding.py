"""Granting rows answer to the audit chain: an old page copied back is caught.

The attack needs no key: copy one 4 KiB page of an older ``vault.db`` over the current file.
SQLCipher's page HMAC binds the page number, not its age, so the copied page authenticates.
Each test makes a change that takes something away, then tries every page that differs
between the old and the new file until one brings the old row back (the key is only the
test's oracle for "did it come back"), and shows the revival is caught: the officer it
concerns cannot log in, doctor and verification name the entity and fail, and the finding is
in the chain.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from cim_desktop import cli
from cim_desktop.domain.access.rules import TeamRole
from cim_desktop.domain.officers.model import OfficerStatus
from cim_desktop.domain.officers.rules import NewAccreditation
from cim_desktop.errors import CimError, SlotDisabled
from cim_desktop.services.access import permissions as access
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.officers import accounts
from cim_desktop.services.officers import management as officers
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.session import Session
from cim_desktop.services.sources import register as sources
from cim_desktop.services.vault import doctor, reconcile, state_check
from cim_desktop.services.vault.lifecycle import unlock
from cim_desktop.services.vault.state_check import StateMismatch
from cim_desktop.store.connection import Connection, close_quietly, connect
from tests.access_world import World, build, password
from tests.conftest import ADMIN, ADMIN_PASSWORD

PAGE = 4096
PROBE = "HANDLER1"


@dataclass
class Attack:
    before: Callable[[World], None]  # what the old copy holds
    change: Callable[[World], None]  # what takes it away
    revived: Callable[[Connection], bool]  # the oracle: the old row is back
    refused: str  # who can no longer log in
    entity: str  # what doctor names


def _officer_id(world: World, username: str) -> str:
    return world[ADMIN].db.officers.by_username(username).id  # type: ignore[union-attr]


def _id_of(conn: Connection, username: str) -> str:
    return str(
        conn.execute("SELECT id FROM officers WHERE username = ?", (username,)).fetchone()[0]
    )


def _source_with_handler(world: World) -> None:
    urn = sources.register_source(world["ctrl"], "Nightjar").urn
    sources.assign_team_role(world["ctrl"], urn, "handler1", TeamRole.HANDLER)
    world.notes["urn"] = urn


def _end_handler(world: World) -> None:
    urn = world.notes["urn"]
    member = next(m for m in sources.team(world["ctrl"], urn) if m.username == "handler1")
    sources.end_team_role(world["ctrl"], urn, member.id)


def _break_glass(world: World) -> None:
    urn = sources.register_source(world["ctrl"], "Kestrel").urn
    grant = access.break_glass(
        world["handler1"],
        urn,
        password("handler1"),
        "urgent threat to life reported by the duty inspector",
    )
    world.notes["grant"] = grant.id


def _nothing(world: World) -> None:
    return None


_SEEN: dict[str, str] = {}  # values the oracle compares with, noted before the change


def _note_public_key(world: World) -> None:
    with world[ADMIN].db.reading():
        row = (
            world[ADMIN]
            .db.conn.execute(
                "SELECT hex(public_key) FROM slot_keys WHERE holder = ?",
                (_officer_id(world, "handler1"),),
            )
            .fetchone()
        )
    _SEEN["public_key"] = str(row[0])


ATTACKS: dict[str, Attack] = {
    "officer status": Attack(
        _nothing,
        lambda w: officers.set_status(
            w[ADMIN],
            _officer_id(w, "handler1"),
            OfficerStatus.SUSPENDED,
            None,
            "under investigation",
        ),
        lambda c: (
            c.execute("SELECT status FROM officers WHERE username = 'handler1'").fetchone()[0]
            == "active"
        ),
        "handler1",
        "officer 'handler1'",
    ),
    "role": Attack(
        _nothing,
        lambda w: officers.revoke_role(
            w[ADMIN], _officer_id(w, "handler1"), officers.Role.HANDLER, None
        ),
        lambda c: (
            c.execute(
                "SELECT count(*) FROM officer_roles NOT INDEXED WHERE officer_id = ? "
                "AND role = 'handler' AND valid_to IS NULL",
                (_id_of(c, "handler1"),),
            ).fetchone()[0]
            == 1
        ),
        "handler1",
        "officer role",
    ),
    "accreditation": Attack(
        _nothing,
        lambda w: officers.record_accreditation(
            w[ADMIN],
            _officer_id(w, "handler1"),
            NewAccreditation("Advanced source handling", date(2026, 3, 1), 40.0),
        ),
        lambda c: (
            c.execute(
                "SELECT count(*) FROM accreditations NOT INDEXED WHERE officer_id = ?",
                (_id_of(c, "handler1"),),
            ).fetchone()[0]
            == 1
        ),
        "handler1",
        "accreditation",
    ),
    "policy value": Attack(
        lambda w: policy.change(w[ADMIN], "break_glass_minutes", 30, None),
        lambda w: policy.change(w[ADMIN], "break_glass_minutes", 10, None),
        lambda c: (
            c.execute("SELECT value FROM policy WHERE key = 'break_glass_minutes'").fetchone()[0]
            == "30"
        ),
        "ctrl",
        "policy value 'break_glass_minutes'",
    ),
    "team assignment": Attack(
        _source_with_handler,
        _end_handler,
        lambda c: (
            c.execute(
                "SELECT count(*) FROM source_team NOT INDEXED WHERE officer_id = ? "
                "AND valid_to IS NULL",
                (_id_of(c, "handler1"),),
            ).fetchone()[0]
            == 1
        ),
        "handler1",
        "team assignment",
    ),
    # A reset gives handler1 a fresh key pair; the old public key put back would have the
    # next re-keying issue the vault key to whoever held the old private key.
    "slot public key": Attack(
        _note_public_key,
        lambda w: accounts.reset_password(
            w[ADMIN], _officer_id(w, "handler1"), password("handler1"), None
        ),
        lambda c: (
            c.execute(
                "SELECT hex(public_key) FROM slot_keys WHERE holder = ?", (_id_of(c, "handler1"),)
            ).fetchone()[0]
            == _SEEN["public_key"]
        ),
        "handler1",
        "slot public key",
    ),
    "break-glass grant": Attack(
        _break_glass,
        lambda w: access.end_break_glass(w["handler1"], w.notes["grant"]),
        lambda c: (
            c.execute("SELECT count(*) FROM break_glass WHERE ended_at IS NULL").fetchone()[0] == 1
        ),
        "handler1",
        "break-glass grant",
    ),
}


def _oracle(db: Path, key: bytes, revived: Callable[[Connection], bool]) -> bool:
    # The oracle reads tables, not indexes (NOT INDEXED): an old index page alone only hides
    # rows added since, and PRAGMA integrity_check (doctor) reports that.
    try:
        conn = connect(db, key, check=False)
    except Exception:  # a page that does not fit the file's structure: try the next
        return False
    try:
        return bool(revived(conn))
    except Exception:
        return False
    finally:
        close_quietly(conn)


def copy_back_one_page(
    db: Path, old: bytes, key: bytes, revived: Callable[[Connection], bool]
) -> int:
    """Put back the one old page that revives the row; return its number (1-based)."""
    current = db.read_bytes()
    assert not _oracle(db, key, revived), "the change did not take the row away"
    for n in range(min(len(old), len(current)) // PAGE):
        span = slice(n * PAGE, (n + 1) * PAGE)
        if old[span] == current[span]:
            continue
        trial = bytearray(current)
        trial[span] = old[span]
        db.write_bytes(bytes(trial))
        if _oracle(db, key, revived):
            return n + 1
    db.write_bytes(current)
    raise AssertionError("no single old page brings the row back")


def _login(world: World, username: str) -> Session:
    if username == ADMIN:
        return unlock(world.root, ADMIN, ADMIN_PASSWORD, world.keyring)
    return world.login(username)


def _close_all(world: World) -> None:
    for session in world.sessions.values():
        session.lock()
    world.sessions = {}


@pytest.mark.parametrize("kind", list(ATTACKS))
def test_an_old_page_copied_back_is_caught(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    attack = ATTACKS[kind]
    world = build(tmp_path / "vault", "ctrl", "handler1")
    key = world[ADMIN].vault_key
    attack.before(world)
    _close_all(world)
    db = world.root / "vault.db"
    old = db.read_bytes()
    for name in (ADMIN, "ctrl", "handler1"):
        world.sessions[name] = _login(world, name)
    attack.change(world)
    _close_all(world)

    page = copy_back_one_page(db, old, key, attack.revived)
    assert page >= 1

    # The officer the revived row concerns cannot log in, and says why. (A suspension also
    # took the vault key out of the officer's key slot, so for that row the slot refuses
    # first: two independent locks on the same door.)
    refusal: type[CimError] = SlotDisabled if kind == "officer status" else StateMismatch
    with pytest.raises(refusal):
        _login(world, attack.refused)

    # An administrator still can, and doctor and verification name the entity and fail.
    admin = _login(world, ADMIN)
    report = doctor.run_doctor(admin)
    failed = {c.name: c.detail for c in report.failed()}
    assert "granting rows" in failed, failed
    assert attack.entity in failed["granting rows"]
    result = audit.verify(admin)
    assert not result.ok
    assert attack.entity in result.summary()
    # The refused login reached the chain, naming the entity (never blessing the row).
    rows = [r for r in audit.open_view(admin).page() if r.action == "state-mismatch"]
    assert rows and attack.refused != ADMIN
    if refusal is StateMismatch:
        assert '"login_refused":true' in rows[-1].detail
    assert result.chain.ok, "the finding rows keep the chain intact"
    admin.lock()

    # The command line says the same and exits 1.
    monkeypatch.setattr("sys.stdin", io.StringIO(ADMIN_PASSWORD + "\n"))
    code = cli.main(
        ["doctor", "--user", ADMIN, "--password-stdin", "--vault", str(world.root)],
        keyring=world.keyring,
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert attack.entity in out + err

    # Reconciling puts the row back to what the chain last recorded: the revival is undone,
    # the officer it kept out is judged on the true record again, and doctor passes.
    monkeypatch.setattr("sys.stdin", io.StringIO(ADMIN_PASSWORD + "\n"))
    code = cli.main(
        ["vault", "reconcile", "--user", ADMIN, "--password-stdin", "--vault", str(world.root)],
        keyring=world.keyring,
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "put back:" in out or "removed:" in out
    assert not _oracle(db, key, attack.revived)
    admin = _login(world, ADMIN)
    assert doctor.run_doctor(admin).ok
    admin.lock()
    if kind == "officer status":
        with pytest.raises(SlotDisabled, match="suspended"):
            _login(world, attack.refused)
    else:
        _login(world, attack.refused).lock()


def test_a_row_changed_outside_the_application_is_caught(tmp_path: Path) -> None:
    """Someone with the key edits a row directly: the change never reached the chain."""
    world = build(tmp_path / "vault", "handler1")
    key = world[ADMIN].vault_key
    _close_all(world)
    conn = connect(world.root / "vault.db", key)
    conn.execute("UPDATE officers SET must_change_password = 1 WHERE username = 'handler1'")
    conn.execute(
        "INSERT INTO officer_roles (officer_id, role, valid_from, granted_by) "
        "SELECT id, 'controller', '2026-01-01T00:00:00.000000Z', 'x' FROM officers "
        "WHERE username = 'handler1'"
    )
    close_quietly(conn)
    with pytest.raises(StateMismatch, match="handler1"):
        world.login("handler1")
    admin = _login(world, ADMIN)
    text = " ".join(n.text for n in state_check.findings(admin.db))
    assert "changed without an audit row" in text
    admin.close()


def test_normal_work_keeps_the_state_in_step(tmp_path: Path) -> None:
    """Every change through the services leaves nothing pending and the digest current."""
    from cim_desktop.store.vault import state

    world = build(tmp_path / "vault", "ctrl", "handler1")
    _source_with_handler(world)
    _end_handler(world)
    admin = world[ADMIN]
    officers.set_status(admin, _officer_id(world, "handler1"), OfficerStatus.SUSPENDED, None)
    officers.set_status(admin, _officer_id(world, "handler1"), OfficerStatus.ACTIVE, None)
    policy.change(admin, "break_glass_minutes", 20, None)
    with admin.db.reading():
        assert state.quick_check(admin.db.conn)
        assert state.findings(admin.db.conn) == []
        assert state.pending(admin.db.conn) == []
    assert audit.verify(admin).ok
    world.close()


def test_a_newest_row_without_state_starts_no_new_baseline(tmp_path: Path) -> None:
    """Someone with the key appends a row with no state, hoping the next row re-baselines
    (and so blesses) whatever the granting rows now hold."""
    from cim_desktop.store.audit.chain_format import row_hash

    world = build(tmp_path / "vault", "handler1")
    key = world[ADMIN].vault_key
    _close_all(world)
    conn = connect(world.root / "vault.db", key)
    conn.execute("UPDATE officers SET status = 'active' WHERE username = 'handler1'")
    conn.execute("DELETE FROM state_pending")  # and covers the edit's tracks
    seq, prev = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    fields = (
        seq + 1,
        "2026-11-28T05:00:00.000000Z",
        "system",
        "system",
        "system",
        "",
        "verify",
        "vault",
        "",
        "{}",
        "",
        "ok",
    )
    conn.execute(
        "INSERT INTO audit (seq, ts, user_id, username, role, session_id, action, "
        "entity_type, entity_id, detail, reason, outcome, prev_hash, hash) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (*fields, prev, row_hash(prev, fields)),
    )
    close_quietly(conn)
    for _ in range(2):  # the refusal is not undone by the rows written meanwhile
        with pytest.raises(StateMismatch, match="carries no state"):
            _login(world, "handler1")
        admin = _login(world, ADMIN)
        assert not doctor.run_doctor(admin).ok
        admin.lock()
    admin = _login(world, ADMIN)
    done = reconcile.reconcile(admin, None)
    assert done.findings
    assert doctor.run_doctor(admin).ok
    admin.lock()
    _login(world, "handler1").lock()
