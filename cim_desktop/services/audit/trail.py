"""Reading, verifying and exporting the audit trail."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cim_desktop.domain.audit.rows import Action, AuditEvent, AuditRow, ChainReport, Outcome
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers.roles import AUDIT_READERS
from cim_desktop.errors import InvalidInput, VaultCorrupt
from cim_desktop.services.audit import lines
from cim_desktop.services.audit.lines import AuditLine
from cim_desktop.services.session import Session
from cim_desktop.services.vault import signing_keys, state_check
from cim_desktop.store.audit import checkpoints as checkpoint_file
from cim_desktop.store.audit.chain import AuditFilter
from cim_desktop.store.audit.checkpoints import Checkpoint


@dataclass(frozen=True)
class CheckpointFinding:
    seq: int
    time: str
    ok: bool
    problem: str = ""
    signer: str = ""  # the signing officer's username, when the chain records their key

    def line(self) -> str:
        who = f", signed by {self.signer}" if self.signer else ""
        state = "ok" if self.ok else f"FAILED: {self.problem}"
        return f"checkpoint at sequence {self.seq} ({self.time}){who}: {state}"


_NO_OUTSIDE = (
    "no checkpoint from outside this vault was presented, so a roll-back cannot be ruled out"
)


@dataclass(frozen=True)
class VerifyResult:
    """The chain walk, the vault's own checkpoint file, and any checkpoints from outside.

    ``checkpoints`` are the ones presented from outside the vault (``--checkpoint``, a backup
    manifest); ``own`` those read from the vault's own ``checkpoints.jsonl``.
    """

    chain: ChainReport
    checkpoints: list[CheckpointFinding]
    verified_at: str
    damaged_pages: int = 0
    own: list[CheckpointFinding] = field(default_factory=list)
    own_old_format: int = 0  # format-1 lines in the own file, ignored: they prove nothing
    own_problem: str = ""  # the own file could not be read
    # Granting rows that do not answer to the chain (store.state), named.
    state_findings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return (
            self.chain.ok
            and not self.damaged_pages
            and not self.own_problem
            and not self.state_findings
            and all(c.ok for c in [*self.checkpoints, *self.own])
        )

    def summary(self) -> str:
        if self.damaged_pages:
            return (
                f"DAMAGED: {self.damaged_pages} page(s) of the vault file fail their "
                "authentication check; restore the vault from a backup"
            )
        if not self.chain.ok:
            return (
                f"BROKEN at sequence {self.chain.first_bad_seq}: {self.chain.problem} "
                f"({self.chain.rows_checked} rows verified before it)"
            )
        bad = [c for c in self.checkpoints if not c.ok]
        if bad:
            return (
                f"BROKEN: checkpoint at sequence {bad[0].seq} from outside this vault: "
                f"{bad[0].problem}"
            )
        if self.own_problem:
            return f"BROKEN: the vault's own checkpoint file: {self.own_problem}"
        bad = [c for c in self.own if not c.ok]
        if bad:
            return (
                f"BROKEN: checkpoint at sequence {bad[0].seq} in the vault's own checkpoint "
                f"file: {bad[0].problem}"
            )
        if self.state_findings:
            more = len(self.state_findings) - 1
            return (
                "MISMATCH: granting rows do not answer to the chain: "
                f"{self.state_findings[0]}" + (f" (and {more} more)" if more else "")
            )
        intact = (
            f"OK: chain intact to sequence {self.chain.head_seq} ({self.chain.rows_checked} rows)"
        )
        if not self.checkpoints:
            return f"{intact}; {_NO_OUTSIDE}"
        newest = max(self.checkpoints, key=lambda c: c.seq)
        return (
            f"{intact}; {len(self.checkpoints)} checkpoint(s) from outside this vault "
            f"match, the newest at sequence {newest.seq} signed by {newest.signer}: the "
            f"chain has not been rolled back or rewritten below sequence {newest.seq}"
        )

    def details(self) -> list[str]:
        """What each checkpoint proved, one line each, for the command line and the screen."""
        lines: list[str] = []
        good = [c for c in self.own if c.ok]
        if self.own_problem:
            lines.append(f"The vault's own checkpoint file cannot be used: {self.own_problem}")
        elif good:
            newest = max(good, key=lambda c: c.seq)
            lines.append(
                f"The vault's own checkpoint file: {len(good)} checkpoint(s) match, the newest "
                f"at sequence {newest.seq} signed by {newest.signer}. The chain up to there is "
                "what those officers signed; but whoever can write this folder can cut the file "
                "back along with the vault, so it cannot rule out a roll-back."
            )
        elif not self.own:
            lines.append("The vault's own checkpoint file holds no checkpoint.")
        lines += [f"  own file: {c.line()}" for c in self.own if not c.ok]
        if self.own_old_format:
            lines.append(
                f"{self.own_old_format} old-format checkpoint(s) in the vault's own file "
                "were ignored: signed with the vault's own key, they prove nothing "
                "against anyone holding the vault key."
            )
        lines += [f"  from outside: {c.line()}" for c in self.checkpoints]
        return lines


class AuditView:
    """A filtered, keyset-paged window on the trail; opening it was audited once."""

    def __init__(self, session: Session, flt: AuditFilter) -> None:
        self._session = session
        self.filter = flt

    def advanced(self) -> AuditView:
        """The same filter over the trail as it now stands (not audited again: the officer
        opened this view already; new rows are shown as they are written)."""
        with self._session.db.reading():
            head, _ = self._session.db.audit.head()
        return AuditView(self._session, replace(self.filter, upto=head))

    def count(self) -> int:
        with self._session.db.reading():
            return self._session.db.audit.count(self.filter)

    def page(self, before_seq: int | None = None, limit: int = 200) -> list[AuditRow]:
        with self._session.db.reading():
            return self._session.db.audit.page(self.filter, before_seq=before_seq, limit=limit)

    def lines(self, before_seq: int | None = None, limit: int = 200) -> list[AuditLine]:
        """A page with officers and records named (one more query for the names)."""
        with self._session.db.reading():
            chain = self._session.db.audit
            rows = chain.page(self.filter, before_seq=before_seq, limit=limit)
            names = chain.officer_names(set().union(*(lines.officer_ids(r) for r in rows)))
        return lines.label(rows, names)


def make_filter(
    user_id: str | None = None,
    action: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    text: str = "",
) -> AuditFilter:
    return AuditFilter(
        user_id or None,
        action or None,
        iso_utc(date_from) if date_from else None,
        iso_utc(date_to) if date_to else None,
        " ".join(text.split()) or None,
    )


def open_view(session: Session, flt: AuditFilter | None = None) -> AuditView:
    flt = flt or AuditFilter()
    role = session.require(AUDIT_READERS, "read the audit trail", "audit")
    # What was asked for, never the words searched for (they may name someone).
    detail: dict[str, object] = {
        k: v for k, v in asdict(flt).items() if v and k not in ("text", "upto")
    }
    if flt.text:
        detail["searched"] = True
    row = session.record(AuditEvent(Action.VIEW, "audit", "trail", detail), role)
    # The view shows the trail up to and including the row that records opening it.
    return AuditView(session, replace(flt, upto=row.seq))


def action_names() -> list[str]:
    return [a.value for a in Action]


def verify(
    session: Session,
    presented: list[Checkpoint] | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Walk the chain and check the vault's own checkpoint file and ``presented`` (checkpoints
    from outside the vault) against it."""
    role = session.require(AUDIT_READERS, "verify the audit trail", "audit")
    # A large vault skips the page check at login; it is made here, before the chain walk.
    damaged = 0 if session.db.pages_verified else session.db.damaged_pages()
    if damaged:
        report = ChainReport(False, 0, 0, b"", None, "the vault file is damaged")
    else:
        report = session.db.verify_chain(session.vault_key, progress)
    own_problem = ""
    try:
        own_file = checkpoint_file.read(session.paths.checkpoints, missing_ok=True)
    except InvalidInput as exc:
        own_file, own_problem = [], exc.message
    own_new = [cp for cp in own_file if not cp.old_format]
    with session.db.reading():
        findings = [check_checkpoint(session, cp) for cp in presented or []]
        own = [check_checkpoint(session, cp) for cp in own_new]
    named = tuple(f.text for f in state_check.findings(session.db)) if report.ok else ()
    result = VerifyResult(
        report,
        findings,
        iso_utc(utc_now()),
        damaged,
        own,
        len(own_file) - len(own_new),
        own_problem,
        named,
    )
    session.record(
        AuditEvent(
            Action.VERIFY,
            "audit",
            "chain",
            {
                "rows": report.rows_checked,
                "checkpoints": len(findings),
                "own_checkpoints": len(own),
                "first_bad_seq": report.first_bad_seq,
                "damaged_pages": damaged,
                "granting_row_findings": len(named),
            },
            outcome=Outcome.OK if result.ok else Outcome.FAILED,
        ),
        role,
    )
    return result


def _export_rows(session: Session, flt: AuditFilter | None) -> Iterator[AuditRow]:
    if flt is None:
        yield from session.db.audit.iter_all()
        return
    before: int | None = None
    while True:
        page = session.db.audit.page(flt, before_seq=before, limit=2000)
        yield from page
        if len(page) < 2000:
            return
        before = page[-1].seq


def public_key(session: Session) -> Ed25519PublicKey:
    """The vault's own public key: it verifies backup manifests, not checkpoints."""
    key = checkpoint_file.load_public_key((session.db.meta.get("public_key") or "").encode())
    if key is None:
        raise VaultCorrupt("The vault's signing key is missing or damaged.")
    return key


def _officer_name(session: Session, officer_id: str) -> str:
    officer = session.db.officers.get(officer_id)
    return officer.username if officer else f"an unknown officer ({officer_id[:8]})"


def check_checkpoint(session: Session, cp: Checkpoint) -> CheckpointFinding:
    """Accept ``cp`` only if it matches the chain and is signed with the key the chain last
    recorded, at or before its sequence, for the officer it names. The caller holds a read."""

    def refused(problem: str, signer: str = "") -> CheckpointFinding:
        return CheckpointFinding(cp.seq, cp.time, False, problem, signer)

    if cp.vault_id != session.vault_id:
        return refused("it belongs to another vault")
    if cp.old_format:
        return refused(checkpoint_file.OLD_FORMAT_REFUSED)
    if not cp.signature_valid():
        return refused("its signature does not verify")
    claimed = _officer_name(session, cp.signer_id)
    row = session.db.audit.get(cp.seq)
    if row is None:
        head, _ = session.db.audit.head()
        return refused(
            f"the trail ends at sequence {head}: rows were removed or the vault was "
            f"rolled back (the checkpoint names {claimed} as its signer)"
        )
    if not isinstance(row.hash, bytes) or row.hash != cp.head:
        return refused(
            "the row there differs: the trail was rewritten or rolled back (the "
            f"checkpoint names {claimed} as its signer)"
        )
    recorded, contested = signing_keys.standing(
        session.db.conn, cp.signer_id, cp.signer_key, cp.seq
    )
    if not recorded:
        return refused(
            f"it is signed with a key the chain does not record for {claimed} at "
            f"or before sequence {cp.seq}: no officer of this vault signed it"
        )
    if contested is not None:
        return refused(
            f"it is signed with the key recorded for {claimed}, but {claimed}'s own "
            f"login at sequence {contested} found that "
            "key was not theirs: someone holding the vault key recorded it"
        )
    return CheckpointFinding(cp.seq, cp.time, True, "", claimed)


def read_checkpoints(path: Path) -> list[Checkpoint]:
    return checkpoint_file.read(path)


EXPORT_FIELDS = (
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


def export(session: Session, fmt: str, flt: AuditFilter | None = None) -> Iterator[str]:
    """Yield the trail as CSV or JSON Lines text chunks; the export itself is audited.

    With ``flt`` only the rows it matches, newest first as the screen shows them (a view's
    filter stops at the row that opened it, so the file holds exactly the rows shown and
    not the export's own audit row).
    """
    if fmt not in ("csv", "jsonl"):
        raise InvalidInput("The export format is csv or jsonl.")
    role = session.require(AUDIT_READERS, "export the audit trail", "audit")
    detail: dict[str, object] = {"format": fmt}
    if flt is not None:
        detail |= {k: v for k, v in asdict(flt).items() if v and k not in ("text", "upto")}
        detail["searched"] = bool(flt.text) or None
        detail = {k: v for k, v in detail.items() if v is not None}
    session.record(AuditEvent(Action.EXPORT, "audit", "trail", detail), role)
    with session.db.reading():
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(EXPORT_FIELDS)
            yield buffer.getvalue()
        for row in _export_rows(session, flt):
            values = [getattr(row, f) for f in EXPORT_FIELDS]
            values = [v.hex() if isinstance(v, bytes) else v for v in values]
            if fmt == "csv":
                buffer = io.StringIO()
                csv.writer(buffer).writerow(values)
                yield buffer.getvalue()
            else:
                yield (
                    json.dumps(dict(zip(EXPORT_FIELDS, values, strict=True)), ensure_ascii=False)
                    + "\n"
                )
