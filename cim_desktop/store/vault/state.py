"""Rows that grant something answer to the audit chain.

A plain file copy of one old 4 KiB page of ``vault.db`` needs no key, and SQLCipher's page
HMAC binds a page's number, not its age: copied back, an old page revives a suspended officer
or a revoked role while every page still authenticates. So every row that grants something
(officer status, roles, accreditations, policy values, team assignments, break-glass grants)
is *bound*:

- it carries ``audit_seq``, the sequence number of the audit row that last changed it, and
  that audit row records the row's content in its ``bound`` column;
- every audit row carries ``state``, a digest of all bound rows as they stood after it, and
  the digest is part of the row's hash. The newest row's ``state`` is therefore as fresh as
  the chain itself, and an unlock compares it with a digest of the rows as they are now.

Triggers note every insert, update and delete of a bound row in ``state_pending``; the next
audit row appended in the same transaction stamps those rows and records their content. A row
changed without an audit row (outside the application) stays pending, which is itself a
finding. Rolling back the chain's newest page too is a truncation of the trail, which the
signed checkpoints catch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cim_desktop.store.connection import Connection

DIGEST_HEX = 32  # 128 bits: carried on every audit row, so kept short
_DIGEST_BYTES = DIGEST_HEX // 2
_MODULUS = 1 << (8 * _DIGEST_BYTES)


@dataclass(frozen=True)
class BoundTable:
    name: str
    key: str
    columns: tuple[str, ...]  # the content recorded and digested, key first
    officer: str  # the column naming the officer the row grants something to, or ''
    label: str  # what a finding calls a row of this table
    step: int = 6  # the schema step that binds it (the table may be younger than step 6)
    blobs: frozenset[str] = frozenset()  # BLOB columns, recorded as hex text


BOUND_TABLES: tuple[BoundTable, ...] = (
    BoundTable(
        "officers",
        "id",
        ("id", "username", "status", "created_at", "must_change_password"),
        "id",
        "officer status",
    ),
    BoundTable(
        "officer_roles",
        "id",
        ("id", "officer_id", "role", "valid_from", "valid_to", "granted_by", "revoked_by"),
        "officer_id",
        "officer role",
    ),
    BoundTable(
        "accreditations",
        "id",
        (
            "id",
            "officer_id",
            "course",
            "completed_on",
            "hours",
            "expires_on",
            "recorded_by",
            "recorded_at",
        ),
        "officer_id",
        "accreditation",
    ),
    BoundTable(
        "policy",
        "key",
        ("key", "value", "changed_at", "changed_by", "approved_by"),
        "",
        "policy value",
    ),
    BoundTable(
        "source_team",
        "id",
        ("id", "urn", "officer_id", "team_role", "valid_from", "valid_to", "assigned_by"),
        "officer_id",
        "team assignment",
    ),
    BoundTable(
        "break_glass",
        "id",
        ("id", "officer_id", "urn", "started_at", "expires_at", "ended_at"),
        "officer_id",
        "break-glass grant",
    ),
    # Re-keying issues the vault key to these public keys: an old one put back could hand
    # the next key to whoever held the matching private key then.
    BoundTable(
        "slot_keys",
        "holder",
        ("holder", "public_key", "recorded_at"),
        "holder",
        "slot public key",
        step=7,
        blobs=frozenset({"public_key"}),
    ),
)
BY_NAME = {t.name: t for t in BOUND_TABLES}


@dataclass(frozen=True)
class StateFinding:
    """A bound row that does not match the chain (or a change the chain never saw)."""

    table: str
    key: str
    officer_id: str  # '' when the row grants nothing to one officer (policy)
    problem: str

    @property
    def label(self) -> str:
        return BY_NAME[self.table].label if self.table in BY_NAME else self.table

    @property
    def entity(self) -> str:
        return f"{self.table}:{self.key}"

    def to_json(self) -> dict[str, str]:
        return {"entity": self.entity, "officer_id": self.officer_id, "problem": self.problem}


def create_triggers(conn: Connection) -> None:
    """Note every change of a bound row in ``state_pending`` (schema step 6).

    ``old`` is the row as it stood before the transaction's first change to it (NULL for an
    insert), so the digest can be carried forward by subtracting it and adding the new row.
    ``foreign`` marks a change found pending when a transaction began: made outside the
    application, never bound by a later audit row.
    """
    conn.execute(
        "CREATE TABLE state_pending (tbl TEXT NOT NULL, key NOT NULL, old TEXT, "
        "foreign_change INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (tbl, key)) WITHOUT ROWID"
    )
    for t in BOUND_TABLES:
        if t.step == 6:
            bind_table(conn, t)


def bind_table(conn: Connection, t: BoundTable) -> None:
    """Give ``t`` its stamp column and the triggers that note its changes (a schema step;
    a table created after step 6 is bound by the step that creates it, while still empty)."""
    conn.execute(f"ALTER TABLE {t.name} ADD COLUMN audit_seq INTEGER")
    old = _text(t, "OLD.")
    # The stamp itself (an update that changes audit_seq) is not a change to record.
    for event, ref, when, before in (
        ("INSERT", "NEW", "", "NULL"),
        ("UPDATE", "NEW", "WHEN NEW.audit_seq IS OLD.audit_seq", old),
        ("DELETE", "OLD", "", old),
    ):
        conn.execute(
            f"CREATE TRIGGER {t.name}_bind_{event.lower()} AFTER {event} ON {t.name} "
            f"{when} BEGIN INSERT OR IGNORE INTO state_pending (tbl, key, old) "
            f"VALUES ('{t.name}', {ref}.{t.key}, {before}); END"
        )


def _columns(t: BoundTable) -> str:
    return ", ".join(f"hex({c})" if c in t.blobs else c for c in t.columns)


def _text(t: BoundTable, ref: str = "") -> str:
    """SQL for a row's digested text: its key and the audit row that last changed it.

    The stamp is enough: every change the application makes moves it, so a row put back from
    an old page comes back with an older stamp (or comes back at all, or goes); a change made
    outside the application, which moves no stamp, is caught by the triggers instead. The
    triggers build ``old`` with this same expression.
    """
    return f"{ref}{t.key} || '|' || ifnull({ref}audit_seq, '')"


def _row_value(table: str, text: str) -> int:
    return _value(table, text.encode("utf-8", "surrogatepass"))


def _value(table: str, data: bytes) -> int:
    # BLAKE2b personalised with the table's name: a row's hash differs from table to table,
    # and it is the fastest keyed-by-purpose hash the standard library has (every unlock
    # hashes every granting row).
    digest = hashlib.blake2b(data, digest_size=_DIGEST_BYTES, person=_person(table))
    return int.from_bytes(digest.digest(), "big")


def _person(table: str) -> bytes:
    return table.encode()[:16]  # BLAKE2b's personalisation holds 16 bytes; names are shorter


def _format(total: int) -> str:
    return f"{total % _MODULUS:0{DIGEST_HEX}x}"


def mark_foreign(conn: Connection) -> None:
    """At the start of every write transaction: whatever is pending now was not made by a
    transaction of this application (each binds its own changes before it commits)."""
    conn.execute("UPDATE state_pending SET foreign_change = 1 WHERE foreign_change = 0")


def pending(conn: Connection) -> list[tuple[str, Any]]:
    return [
        (str(r[0]), r[1])
        for r in conn.execute("SELECT tbl, key FROM state_pending ORDER BY tbl, key")
    ]


def row_content(conn: Connection, table: str, key: Any) -> list[Any] | None:
    t = BY_NAME[table]
    row = conn.execute(f"SELECT {_columns(t)} FROM {t.name} WHERE {t.key} = ?", (key,)).fetchone()
    return None if row is None else list(row)


def _row_text(conn: Connection, t: BoundTable, key: Any) -> str | None:
    row = conn.execute(f"SELECT {_text(t)} FROM {t.name} WHERE {t.key} = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def bind(
    conn: Connection, seq: int, state: Any, rebase: bool = False
) -> tuple[dict[str, Any], str | None]:
    """Bind this transaction's changes to audit row ``seq``; return (bound contents, state).

    The rows are stamped with ``seq`` and their contents returned for the row's detail. The
    state is carried forward from ``state`` (the previous row's) by taking out each changed
    row as it was and putting it in as it is, never recomputed from the table: a row put back
    from an old page stays out of step with the chain whatever is changed after it. A chain
    with no state yet (a new or just-migrated vault) starts from a digest of every row, all
    of them recorded as the baseline.
    """
    bound: dict[str, Any] = {}
    if not rebase and not isinstance(state, str) and ever_stated(conn):
        # The newest row lost its state (written by someone holding the key): no new
        # baseline, which would bless whatever the rows now hold; only a reconciliation
        # starts one. Until then every row goes without, and every unlock says so.
        return {}, None
    if rebase or not isinstance(state, str):
        for t in BOUND_TABLES:
            conn.execute(f"UPDATE {t.name} SET audit_seq = ?", (seq,))
            for row in conn.execute(f"SELECT {_columns(t)} FROM {t.name}").fetchall():
                bound[f"{t.name}:{row[0]}"] = list(row)
        conn.execute(
            "DELETE FROM state_pending"
            if rebase
            else "DELETE FROM state_pending WHERE foreign_change = 0"
        )
        return bound, digest(conn)
    try:
        total = int(state, 16)
    except ValueError:
        total = 0  # a damaged state: whatever follows will not match, which is the finding
    rows = conn.execute(
        "SELECT tbl, key, old FROM state_pending WHERE foreign_change = 0 ORDER BY tbl, key"
    ).fetchall()
    for table, key, old in rows:
        changed = BY_NAME.get(str(table))
        if changed is None:
            continue
        conn.execute(f"UPDATE {changed.name} SET audit_seq = ? WHERE {changed.key} = ?", (seq, key))
        if old is not None:
            total -= _row_value(changed.name, str(old))
        text = _row_text(conn, changed, key)
        if text is not None:
            total += _row_value(changed.name, text)
        bound[f"{changed.name}:{key}"] = row_content(conn, changed.name, key)
    if rows:
        conn.execute("DELETE FROM state_pending WHERE foreign_change = 0")
    return bound, _format(total)


def digest(conn: Connection) -> str:
    """The digest of every bound row as it stands (key and stamp): a sum of per-row hashes,
    so a change can be carried forward without reading every row."""
    total = 0
    for t in BOUND_TABLES:
        # One string a table, split here (neither part holds a line break): building 10,000
        # row tuples costs more than the hashing.
        (text,) = conn.execute(
            f"SELECT group_concat({_text(t)}, char(10)) FROM {t.name}"
        ).fetchone()
        if text is None:
            continue
        person = _person(t.name)
        blake2b, from_bytes = hashlib.blake2b, int.from_bytes
        total += sum(
            from_bytes(blake2b(line, digest_size=_DIGEST_BYTES, person=person).digest(), "big")
            for line in str(text).encode("utf-8", "surrogatepass").split(b"\n")
        )
    return _format(total)


def ever_stated(conn: Connection) -> bool:
    """Whether any audit row carries a state (false only before the first after step 6)."""
    return (
        conn.execute("SELECT 1 FROM audit WHERE state IS NOT NULL LIMIT 1").fetchone() is not None
    )


def head_state(conn: Connection) -> tuple[int, Any]:
    """(sequence, state) of the newest audit row; (0, None) for an empty trail."""
    row = conn.execute("SELECT seq, state FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return (0, None) if row is None else (int(row[0]), row[1])


def quick_check(conn: Connection) -> bool:
    """True when the bound rows are exactly what the chain's newest row vouches for.

    Cheap enough for every unlock: one digest over the bound tables.
    """
    if conn.execute("SELECT 1 FROM state_pending LIMIT 1").fetchone() is not None:
        return False
    _, state = head_state(conn)
    return isinstance(state, str) and state == digest(conn)


def _recorded(conn: Connection) -> Iterator[tuple[int, dict[str, Any]]]:
    """(seq, bound contents) of every audit row that recorded bound rows, oldest first."""
    rows = conn.execute("SELECT seq, bound FROM audit WHERE bound IS NOT NULL ORDER BY seq")
    for seq, text in rows:
        try:
            found = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(found, dict):
            yield int(seq), found


def _officer_of(t: BoundTable, content: list[Any] | None) -> str:
    if not t.officer or content is None:
        return ""
    return str(content[t.columns.index(t.officer)])


def latest_records(conn: Connection) -> dict[str, tuple[int, Any]]:
    """Entity -> (sequence, content) of the newest audit row that recorded it."""
    latest: dict[str, tuple[int, Any]] = {}
    for seq, bound in _recorded(conn):
        for entity, content in bound.items():
            latest[str(entity)] = (seq, content)
    return latest


def findings(conn: Connection) -> list[StateFinding]:
    """Every bound row that differs from its latest record in the chain, by name.

    Reads the whole trail's records: for doctor, verification, and an unlock whose quick
    check failed.
    """
    latest = latest_records(conn)
    out: list[StateFinding] = []
    seen: set[str] = set()
    for table, key in pending(conn):
        t = BY_NAME.get(table)
        if t is None:
            continue
        seen.add(f"{table}:{key}")
        out.append(
            StateFinding(
                table,
                str(key),
                _officer_of(t, row_content(conn, table, key)),
                "the row was changed without an audit row",
            )
        )
    for t in BOUND_TABLES:
        rows = conn.execute(f"SELECT {_columns(t)}, audit_seq FROM {t.name}").fetchall()
        for row in rows:
            content, stamp = list(row[:-1]), row[-1]
            entity = f"{t.name}:{content[0]}"
            if entity in seen:
                continue
            seen.add(entity)
            officer = _officer_of(t, content)
            record = latest.get(entity)
            if record is None:
                out.append(
                    StateFinding(
                        t.name, str(content[0]), officer, "the audit trail never recorded this row"
                    )
                )
            elif stamp != record[0]:
                out.append(
                    StateFinding(
                        t.name,
                        str(content[0]),
                        officer,
                        f"the row answers to audit row {stamp}, but audit row {record[0]} "
                        "changed it last: an older copy of the row was put back",
                    )
                )
            elif record[1] != content:
                out.append(
                    StateFinding(
                        t.name,
                        str(content[0]),
                        officer,
                        f"the row differs from what audit row {record[0]} recorded",
                    )
                )
    for entity, (seq, content) in latest.items():
        table, _, key = entity.partition(":")
        t = BY_NAME.get(table)
        if t is None or entity in seen or content is None:
            continue
        out.append(
            StateFinding(
                table,
                key,
                _officer_of(t, content),
                f"the row recorded by audit row {seq} is missing",
            )
        )
    return out


def check(conn: Connection) -> list[StateFinding]:
    """Findings for an unlock: none when the quick check passes, else every named row.

    When the digest differs but no row can be named, one finding without an officer says so.
    """
    if quick_check(conn):
        return []
    found = findings(conn)
    if found:
        return found
    seq, state = head_state(conn)
    problem = (
        "the newest audit row carries no state, though earlier rows do"
        if state is None
        else f"they do not match the state audit row {seq} vouches for"
    )
    return [StateFinding("audit", "state", "", problem)]
