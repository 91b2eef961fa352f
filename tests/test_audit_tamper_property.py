"""Every tampering with the stored audit trail is detected.

An attacker who holds the vault key can edit ``vault.db`` at will: drop the append-only
triggers, change, delete, insert, swap or duplicate rows, cut off the tail, even recompute
every hash after the edit. The hash chain (``AuditChain.verify``) catches edits it was not
rebuilt over; a signed checkpoint of the head (``services.audit.check_checkpoint``) catches
the rest: rebuilt chains, truncation and roll-back.

One vault with a real chain is built per module (Argon2 makes vaults expensive). Each example
tampers inside a transaction on a copy of it, verifies, and rolls back.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from cim_desktop.domain.audit.rows import Action, AuditEvent, ChainReport, Outcome
from cim_desktop.domain.officers.roles import Role
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.audit.trail import CheckpointFinding, check_checkpoint
from cim_desktop.services.session import Session
from cim_desktop.services.vault.lifecycle import create_vault
from cim_desktop.services.vault.paths import VaultPaths
from cim_desktop.store.audit.chain import Actor, AuditChain
from cim_desktop.store.audit.chain_format import genesis, row_hash
from cim_desktop.store.audit.checkpoints import Checkpoint
from cim_desktop.store.connection import Connection, DatabaseError, connect
from cim_desktop.store.database import VaultDatabase
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.memory_keyring import MemoryKeyring

ROWS = 80
COLUMNS = (
    "seq",
    "ts",
    "user_id",
    "username",
    "role",
    "session_id",
    "action",
    "entity_type",
    "entity_id",
    "detail",
    "reason",
    "outcome",
    "prev_hash",
    "hash",
    "state",
    "bound",
)
SELECT_ALL = f"SELECT {', '.join(COLUMNS)} FROM audit ORDER BY seq"
INSERT = f"INSERT INTO audit ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"

Row = tuple[Any, ...]


class Trail:
    """The working copy under attack; kept out of reports (its session holds the key)."""

    def __init__(
        self, conn: Connection, vault_id: str, checkpoint: Checkpoint, checker: Session
    ) -> None:
        self.conn = conn
        self.vault_id = vault_id
        self.checkpoint = checkpoint
        self.checker = checker  # a real session over the working copy, for check_checkpoint
        self.rows = self.state()

    def __repr__(self) -> str:
        return f"<Trail of {len(self.rows)} rows>"

    @property
    def head(self) -> int:
        return len(self.rows)

    def state(self) -> list[Row]:
        return [tuple(r) for r in self.conn.execute(SELECT_ALL)]

    def verify(self) -> tuple[ChainReport, CheckpointFinding]:
        return (
            AuditChain(self.conn, self.vault_id).verify(),
            check_checkpoint(self.checker, self.checkpoint),
        )


def _fill(session: Session) -> None:
    """Varied rows: several actors, actions, outcomes, nested details, non-ASCII text."""
    db = session.db
    others = [Actor("u-2", "handler1", "handler", "s-2"), Actor("u-3", "ctl", "controller", "")]
    n = 0
    while db.audit.head()[0] < ROWS:
        n += 1
        if n % 3:
            session.record(
                AuditEvent(
                    Action.VIEW if n % 2 else Action.UPDATE,
                    "officer",
                    f"urn:cim:officer:{n}",
                    {"fields": ["status", "name"], "n": n},
                ),
                Role.ADMINISTRATOR,
            )
        else:
            with db.transaction():
                db.audit.append(
                    others[n % 2],
                    AuditEvent(
                        Action.FAILED_LOGIN if n % 2 else Action.EXPORT,
                        "audit",
                        "trail",
                        {"format": "csv", "nested": {"a": [1, 2, None]}, "note": "café ✓"},
                        reason="réunion at 10:00",
                        outcome=Outcome.FAILED if n % 2 else Outcome.OK,
                    ),
                )


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trail]:
    root = tmp_path_factory.mktemp("tamper") / "vault"
    keyring = DeviceSecretStore(MemoryKeyring())
    session = create_vault(
        root, unit_name=UNIT, admin_username=ADMIN, admin_password=ADMIN_PASSWORD, keyring=keyring
    ).session
    _fill(session)
    checkpoint = session.checkpoint()
    key, vault_id, officer = bytes(session.vault_key), session.vault_id, session.officer
    session.close()  # checkpoints the WAL into vault.db, so one file is the whole database
    work = root.parent / "work.db"
    shutil.copyfile(VaultPaths(root).db, work)
    conn = connect(work, key)
    # What an attacker with the key does first.
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    checker = Session(VaultPaths(root), VaultDatabase(conn, work, vault_id), officer, keyring, key)
    found = Trail(conn, vault_id, checkpoint, checker)
    assert found.head == ROWS == checkpoint.seq
    yield found
    conn.close()


@contextlib.contextmanager
def tampering(trail: Trail) -> Iterator[None]:
    """Tamper, verify and roll back, so every example starts from the genuine trail."""
    trail.conn.execute("BEGIN")
    try:
        yield
    finally:
        trail.conn.execute("ROLLBACK")
    assert trail.state() == trail.rows


# -- what an attacker can do -----------------------------------------------------------------


def set_row(conn: Connection, seq: int, row: Row) -> None:
    """Write ``row``'s columns (all but seq) into the row numbered ``seq``."""
    sets = ", ".join(f"{c} = ?" for c in COLUMNS[1:])
    conn.execute(f"UPDATE audit SET {sets} WHERE seq = ?", (*row[1:], seq))


def shift_up(conn: Connection, from_seq: int, by: int = 1) -> None:
    """Renumber rows ``seq >= from_seq`` upwards, highest first (seq is the primary key)."""
    for (seq,) in conn.execute(
        "SELECT seq FROM audit WHERE seq >= ? ORDER BY seq DESC", (from_seq,)
    ).fetchall():
        conn.execute("UPDATE audit SET seq = ? WHERE seq = ?", (seq + by, seq))


def shift_down(conn: Connection, from_seq: int) -> None:
    for (seq,) in conn.execute(
        "SELECT seq FROM audit WHERE seq >= ? ORDER BY seq", (from_seq,)
    ).fetchall():
        conn.execute("UPDATE audit SET seq = ? WHERE seq = ?", (seq - 1, seq))


def rehash(conn: Connection, vault_id: str) -> None:
    """Recompute prev_hash and hash of every row in seq order, as a careful forger would."""
    prev = genesis(vault_id)
    for row in conn.execute(SELECT_ALL).fetchall():
        try:
            digest = row_hash(prev, tuple(row[:12]), row[14], row[15])
        except TypeError:  # a blob in a text column has no canonical form; leave the row be
            digest = bytes(row[13]) if isinstance(row[13], bytes) else b""
        else:
            conn.execute(
                "UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, row[0])
            )
        prev = digest


def chained(prev: bytes, row: Row) -> Row:
    """``row`` with its prev_hash and hash made consistent with ``prev``."""
    return (*row[:12], prev, row_hash(prev, tuple(row[:12]), row[14], row[15]), *row[14:16])


def is_plain_append(state: list[Row], original: list[Row], vault_id: str) -> bool:
    """True when the original rows are untouched and valid rows were only added after them.

    That is what the application itself does on every audited action: it is not tampering,
    and neither the chain nor a checkpoint of an older head can (or should) object to it.
    """
    n = len(original)
    if state[:n] != original or len(state) == n:
        return False
    prev = original[-1][13] if original else genesis(vault_id)
    for offset, row in enumerate(state[n:], 1):
        try:
            expected = chained(prev, row)
        except TypeError:
            return False
        if row[0] != n + offset or row != expected:
            return False
        prev = row[13]
    return True


# -- strategies ---------------------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
INT64 = st.integers(-(2**63), 2**63 - 1)
HASHLIKE = st.binary(min_size=32, max_size=32)


@st.composite
def near(draw: st.DrawFn, value: Any) -> Any:
    """A small edit of ``value``: the forgery a person would actually try."""
    if isinstance(value, bytes):
        if not value:
            return b"\x00"
        i = draw(st.integers(0, len(value) - 1))
        bit = 1 << draw(st.integers(0, 7))
        return value[:i] + bytes([value[i] ^ bit]) + value[i + 1 :]
    if isinstance(value, int):
        return value + draw(st.sampled_from([-1, 1, 2, 1000]))
    text = str(value)
    how = draw(st.sampled_from(["flip", "append", "drop", "case", "space"]))
    if how == "append" or not text:
        return text + draw(st.text(min_size=1, max_size=3))
    i = draw(st.integers(0, len(text) - 1))
    if how == "flip":
        return text[:i] + chr(ord(text[i]) ^ 1) + text[i + 1 :]
    if how == "drop":
        return text[:i] + text[i + 1 :]
    if how == "case":
        return text.swapcase()
    return text[:i] + " " + text[i:]


def new_value(column: str, current: Any, other_rows: list[Row]) -> st.SearchStrategy[Any]:
    index = COLUMNS.index(column)
    borrowed = st.sampled_from([r[index] for r in other_rows])
    if column == "seq":  # an INTEGER PRIMARY KEY holds integers only
        return st.one_of(near(current), INT64, st.integers(-3, ROWS + 3))
    if column in ("prev_hash", "hash"):
        return st.one_of(near(current), HASHLIKE, borrowed, st.binary(max_size=40), TEXT, INT64)
    return st.one_of(
        near(current), borrowed, TEXT, INT64, st.binary(max_size=8), st.just(b""), st.just("")
    )


@dataclass(frozen=True)
class Tamper:
    kind: str
    seqs: tuple[int, ...] = ()
    column: str = ""
    value: Any = None
    forged: Row = ()
    shift: bool = False  # renumber the rows after, to close a gap or make room
    chained: bool = False  # give an inserted row a hash that fits the row before it
    rehash: bool = False  # then recompute every hash in the table

    def apply(self, trail: Trail) -> None:
        conn, rows = trail.conn, trail.rows
        if self.kind == "change":
            conn.execute(
                f"UPDATE audit SET {self.column} = ? WHERE seq = ?", (self.value, self.seqs[0])
            )
        elif self.kind == "delete":
            conn.execute("DELETE FROM audit WHERE seq = ?", (self.seqs[0],))
            if self.shift:
                shift_down(conn, self.seqs[0] + 1)
        elif self.kind in ("insert", "duplicate"):
            seq = self.seqs[0]
            row = self.forged if self.kind == "insert" else rows[self.seqs[1] - 1]
            if self.shift:
                shift_up(conn, seq)
            if self.chained:
                before = [r for r in rows if r[0] < seq]
                row = chained(
                    before[-1][13] if before else genesis(trail.vault_id), (seq, *row[1:])
                )
            conn.execute(INSERT, (seq, *row[1:]))
        elif self.kind == "swap":
            i, j = self.seqs
            set_row(conn, i, rows[j - 1])
            set_row(conn, j, rows[i - 1])
        elif self.kind == "truncate":
            conn.execute("DELETE FROM audit WHERE seq >= ?", (self.seqs[0],))
        else:  # pragma: no cover - the strategy only makes the kinds above
            raise AssertionError(self.kind)
        if self.rehash:
            rehash(conn, trail.vault_id)


def forged_row(seq: int) -> st.SearchStrategy[Row]:
    return st.tuples(
        st.just(seq),
        st.one_of(TEXT, st.just("2030-01-01T00:00:00.000000Z")),
        st.one_of(TEXT, st.just("u-1")),
        st.one_of(TEXT, st.just(ADMIN)),
        st.sampled_from(["administrator", "handler", "system"]),
        TEXT,
        st.sampled_from([a.value for a in Action]),
        TEXT,
        TEXT,
        st.one_of(TEXT, st.just("{}")),
        TEXT,
        st.sampled_from([o.value for o in Outcome]),
        HASHLIKE,
        HASHLIKE,
        st.one_of(st.none(), st.text(max_size=32)),
        st.one_of(st.none(), st.just("{}")),
    )


@st.composite
def tampers(draw: st.DrawFn, rows: list[Row]) -> Tamper:
    n = len(rows)
    seq_of_row = st.integers(1, n)
    rehash_ = draw(st.booleans())
    # Field changes weigh more: fourteen columns, each with several kinds of new value.
    kind = draw(
        st.sampled_from(["change"] * 4 + ["delete", "insert", "swap", "duplicate", "truncate"])
    )
    if kind == "change":
        seq = draw(seq_of_row)
        column = draw(st.sampled_from(COLUMNS))
        current = rows[seq - 1][COLUMNS.index(column)]
        others = [r for r in rows if r[0] != seq]
        value = draw(new_value(column, current, others))
        return Tamper("change", (seq,), column, value, rehash=rehash_)
    if kind == "delete":
        return Tamper("delete", (draw(seq_of_row),), shift=draw(st.booleans()), rehash=rehash_)
    if kind in ("insert", "duplicate"):
        # A shift makes room at an existing number; otherwise the row takes a free number,
        # including zero and negative ones that sort before the first row.
        shift, chained_ = draw(st.booleans()), draw(st.booleans())
        seq = (
            draw(st.integers(1, n + 1))
            if shift
            else draw(st.one_of(st.integers(n + 1, n + 3), st.integers(-2, 0), INT64))
        )
        if kind == "insert":
            return Tamper(
                "insert",
                (seq,),
                forged=draw(forged_row(seq)),
                shift=shift,
                chained=chained_,
                rehash=rehash_,
            )
        return Tamper(
            "duplicate", (seq, draw(seq_of_row)), shift=shift, chained=chained_, rehash=rehash_
        )
    if kind == "swap":
        i, j = sorted(draw(st.lists(seq_of_row, min_size=2, max_size=2, unique=True)))
        return Tamper("swap", (i, j), rehash=rehash_)
    return Tamper("truncate", (draw(seq_of_row),))


def _detected(trail: Trail) -> bool:
    chain, finding = trail.verify()
    return not chain.ok or not finding.ok


# -- tests ---------------------------------------------------------------------------------


def test_the_genuine_trail_verifies(trail: Trail) -> None:
    with tampering(trail):
        chain, finding = trail.verify()
    assert chain.ok and chain.rows_checked == ROWS and chain.head_seq == ROWS
    assert finding.ok


@settings(max_examples=150, deadline=None, database=None)
@given(
    actor=st.builds(Actor, TEXT, TEXT, TEXT, TEXT),
    entity=TEXT,
    reason=TEXT,
    detail=st.dictionaries(TEXT, st.one_of(TEXT, INT64, st.lists(TEXT, max_size=3)), max_size=3),
)
def test_genuine_rows_with_any_text_verify(
    trail: Trail, actor: Actor, entity: str, reason: str, detail: dict[str, Any]
) -> None:
    """No false alarm: verification encodes rows exactly as appending did, whatever the text
    (quotes, backslashes, control characters, any script)."""
    with tampering(trail):
        chain = AuditChain(trail.conn, trail.vault_id)
        chain.append(actor, AuditEvent(Action.UPDATE, entity, entity, detail, reason))
        report = chain.verify()
    assert report.ok, report
    assert report.head_seq == ROWS + 1


@settings(
    max_examples=1200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_every_random_tampering_is_detected(trail: Trail, data: st.DataObject) -> None:
    tamper = data.draw(tampers(trail.rows), label="tamper")
    with tampering(trail):
        try:
            tamper.apply(trail)
        except DatabaseError:
            # Not a state the file can be in (NOT NULL, primary key clash, type mismatch).
            assume(False)
        state = trail.state()
        assume(state != trail.rows)
        assume(not is_plain_append(state, trail.rows, trail.vault_id))
        chain, finding = trail.verify()
        assert not chain.ok or not finding.ok, (tamper, chain, finding)
        event(
            f"{tamper.kind}{' +rehash' if tamper.rehash else ''}: caught by the "
            f"{'chain' if not chain.ok else 'checkpoint'}"
        )


# -- one explicit case per kind, with the exact place reported ------------------------------

MID = 40


def _broken_at(trail: Trail, tamper: Tamper) -> ChainReport:
    with tampering(trail):
        tamper.apply(trail)
        chain, _ = trail.verify()
    assert not chain.ok
    return chain


@pytest.mark.parametrize("column", COLUMNS[1:])
def test_changing_any_field_breaks_the_chain_at_that_row(trail: Trail, column: str) -> None:
    current = trail.rows[MID - 1][COLUMNS.index(column)]
    if isinstance(current, bytes):
        value: Any = bytes([current[0] ^ 1]) + current[1:]
    else:  # bound is NULL on a row that changed no granting row: forging one in counts too
        value = '{"officers:x":[]}' if current is None else current + "x"
    chain = _broken_at(trail, Tamper("change", (MID,), column, value))
    assert chain.first_bad_seq == MID
    assert chain.rows_checked == MID - 1


def test_renumbering_a_row_is_reported_as_a_missing_row(trail: Trail) -> None:
    chain = _broken_at(trail, Tamper("change", (MID,), "seq", 10_000))
    assert (chain.first_bad_seq, chain.problem) == (MID, "a row is missing")


def test_a_blob_where_text_belongs_is_reported_not_crashed_on(trail: Trail) -> None:
    chain = _broken_at(trail, Tamper("change", (MID,), "username", ADMIN.encode()))
    assert chain.first_bad_seq == MID


def test_an_unreadable_text_value_is_reported_at_its_row(trail: Trail) -> None:
    with tampering(trail):
        trail.conn.execute("UPDATE audit SET reason = CAST(x'c3ff' AS TEXT) WHERE seq = ?", (MID,))
        chain, _ = trail.verify()
    assert not chain.ok
    assert chain.first_bad_seq == MID


def test_a_text_hash_is_reported_not_crashed_on(trail: Trail) -> None:
    chain = _broken_at(trail, Tamper("change", (MID,), "hash", "not a hash"))
    assert chain.first_bad_seq == MID


def test_deleting_a_row_breaks_the_chain_there(trail: Trail) -> None:
    chain = _broken_at(trail, Tamper("delete", (MID,)))
    assert (chain.first_bad_seq, chain.problem) == (MID, "a row is missing")


def test_deleting_and_renumbering_breaks_at_the_next_row(trail: Trail) -> None:
    chain = _broken_at(trail, Tamper("delete", (MID,), shift=True))
    assert chain.first_bad_seq == MID


def test_a_forged_row_inserted_in_the_middle_breaks_the_chain(trail: Trail) -> None:
    forged = (
        MID,
        "2030-01-01T00:00:00.000000Z",
        "u-9",
        "mallory",
        "administrator",
        "s-9",
        "approve",
        "payment",
        "urn:cim:payment:1",
        "{}",
        "",
        "ok",
        b"\0" * 32,
        b"\0" * 32,
        None,
        None,
    )
    # A forged row with a well-formed hash: it fits the row before, so the one after breaks.
    chain = _broken_at(trail, Tamper("insert", (MID,), forged=forged, shift=True, chained=True))
    assert chain.first_bad_seq == MID + 1
    chain = _broken_at(trail, Tamper("insert", (MID,), forged=forged, shift=True))
    assert chain.first_bad_seq == MID


@pytest.mark.parametrize("seq", [0, -1, -(2**63)])
def test_a_row_numbered_before_the_first_is_found(trail: Trail, seq: int) -> None:
    forged = (seq, *trail.rows[0][1:])
    chain = _broken_at(trail, Tamper("insert", (seq,), forged=forged))
    assert (chain.first_bad_seq, chain.problem) == (1, "rows are out of order")


def test_the_export_walk_includes_a_row_numbered_before_the_first(trail: Trail) -> None:
    with tampering(trail):
        Tamper("insert", (-7,), forged=(-7, *trail.rows[0][1:])).apply(trail)
        seqs = [row.seq for row in AuditChain(trail.conn, trail.vault_id).iter_all()]
    assert seqs == [-7, *range(1, ROWS + 1)]


def test_a_row_beyond_the_head_with_a_gap_is_found(trail: Trail) -> None:
    forged = (ROWS + 5, *trail.rows[-1][1:])
    chain = _broken_at(trail, Tamper("insert", (ROWS + 5,), forged=forged))
    assert (chain.first_bad_seq, chain.problem) == (ROWS + 1, "a row is missing")


def test_swapping_two_rows_breaks_at_the_first(trail: Trail) -> None:
    chain = _broken_at(trail, Tamper("swap", (20, 60)))
    assert chain.first_bad_seq == 20


def test_a_duplicated_row_breaks_the_chain(trail: Trail) -> None:
    chain = _broken_at(trail, Tamper("duplicate", (MID + 1, MID), shift=True))
    assert chain.first_bad_seq == MID + 1
    chain = _broken_at(trail, Tamper("duplicate", (ROWS + 1, MID)))
    assert chain.first_bad_seq == ROWS + 1


@pytest.mark.parametrize(
    "tamper",
    [
        Tamper("truncate", (70,)),
        Tamper("truncate", (1,)),
        Tamper("delete", (ROWS,)),
        Tamper("delete", (MID,), shift=True, rehash=True),
        Tamper("change", (MID,), "detail", '{"fields":[]}', rehash=True),
        Tamper("swap", (20, 60), rehash=True),
    ],
    ids=[
        "truncate-70",
        "truncate-all",
        "delete-head",
        "delete-rehash",
        "change-rehash",
        "swap-rehash",
    ],
)
def test_only_the_checkpoint_catches_truncation_and_rebuilt_chains(
    trail: Trail, tamper: Tamper
) -> None:
    with tampering(trail):
        tamper.apply(trail)
        chain, finding = trail.verify()
    assert chain.ok  # the chain alone cannot see these ...
    assert not finding.ok  # ... the signed checkpoint of the old head does
    if tamper.kind in ("truncate", "delete"):
        assert finding.problem.startswith("the trail ends at sequence")
    else:
        assert finding.problem.startswith("the row there differs")
