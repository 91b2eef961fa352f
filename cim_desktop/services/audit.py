"""Reading, verifying and exporting the audit trail."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cim_desktop.domain.audit import Action, AuditEvent, AuditRow, ChainReport, Outcome
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.roles import AUDIT_READERS
from cim_desktop.errors import InvalidInput, VaultCorrupt
from cim_desktop.services import state_check
from cim_desktop.services.session import Session
from cim_desktop.store import checkpoints as checkpoint_file
from cim_desktop.store.audit_chain import AuditFilter
from cim_desktop.store.checkpoints import Checkpoint


@dataclass(frozen=True)
class CheckpointFinding:
    seq: int
    time: str
    ok: bool
    problem: str = ""


@dataclass(frozen=True)
class VerifyResult:
    chain: ChainReport
    checkpoints: list[CheckpointFinding]
    verified_at: str
    damaged_pages: int = 0
    # Granting rows that do not answer to the chain (store.state), named.
    state_findings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return (self.chain.ok and all(c.ok for c in self.checkpoints)
                and not self.damaged_pages and not self.state_findings)

    def summary(self) -> str:
        if self.damaged_pages:
            return (f"DAMAGED: {self.damaged_pages} page(s) of the vault file fail their "
                    "authentication check; restore the vault from a backup")
        if not self.chain.ok:
            return (f"BROKEN at sequence {self.chain.first_bad_seq}: {self.chain.problem} "
                    f"({self.chain.rows_checked} rows verified before it)")
        bad = [c for c in self.checkpoints if not c.ok]
        if bad:
            return f"BROKEN: checkpoint at sequence {bad[0].seq}: {bad[0].problem}"
        if self.state_findings:
            more = len(self.state_findings) - 1
            return ("MISMATCH: granting rows do not answer to the chain: "
                    f"{self.state_findings[0]}" + (f" (and {more} more)" if more else ""))
        extra = f", {len(self.checkpoints)} checkpoint(s) match" if self.checkpoints else ""
        return f"OK: {self.chain.rows_checked} rows, head at sequence {self.chain.head_seq}{extra}"


class AuditView:
    """A filtered, keyset-paged window on the trail; opening it was audited once."""

    def __init__(self, session: Session, flt: AuditFilter) -> None:
        self._session = session
        self.filter = flt

    def count(self) -> int:
        with self._session.db.reading():
            return self._session.db.audit.count(self.filter)

    def page(self, before_seq: int | None = None, limit: int = 200) -> list[AuditRow]:
        with self._session.db.reading():
            return self._session.db.audit.page(self.filter, before_seq=before_seq, limit=limit)


def make_filter(user_id: str | None = None, action: str | None = None,
                date_from: datetime | None = None, date_to: datetime | None = None) -> AuditFilter:
    return AuditFilter(user_id or None, action or None,
                       iso_utc(date_from) if date_from else None,
                       iso_utc(date_to) if date_to else None)


def open_view(session: Session, flt: AuditFilter | None = None) -> AuditView:
    flt = flt or AuditFilter()
    role = session.require(AUDIT_READERS, "read the audit trail", "audit")
    detail = {k: v for k, v in asdict(flt).items() if v}
    session.record(AuditEvent(Action.VIEW, "audit", "trail", detail), role)
    return AuditView(session, flt)


def action_names() -> list[str]:
    return [a.value for a in Action]


def verify(session: Session, presented: list[Checkpoint] | None = None,
           progress: Callable[[int], None] | None = None) -> VerifyResult:
    role = session.require(AUDIT_READERS, "verify the audit trail", "audit")
    # A large vault skips the page check at login; it is made here, before the chain walk.
    damaged = 0 if session.db.pages_verified else session.db.damaged_pages()
    if damaged:
        report = ChainReport(False, 0, 0, b"", None, "the vault file is damaged")
    else:
        report = session.db.verify_chain(session.vault_key, progress)
    with session.db.reading():
        findings = [check_checkpoint(session, cp) for cp in presented or []]
    named = tuple(f.text for f in state_check.findings(session.db)) if report.ok else ()
    result = VerifyResult(report, findings, iso_utc(utc_now()), damaged, named)
    session.record(
        AuditEvent(Action.VERIFY, "audit", "chain",
                   {"rows": report.rows_checked, "checkpoints": len(findings),
                    "first_bad_seq": report.first_bad_seq, "damaged_pages": damaged,
                    "granting_row_findings": len(named)},
                   outcome=Outcome.OK if result.ok else Outcome.FAILED),
        role,
    )
    return result


def public_key(session: Session) -> Ed25519PublicKey:
    key = checkpoint_file.load_public_key((session.db.meta.get("public_key") or "").encode())
    if key is None:
        raise VaultCorrupt("The vault's checkpoint signing key is missing or damaged.")
    return key


def check_checkpoint(session: Session, cp: Checkpoint) -> CheckpointFinding:
    if cp.vault_id != session.vault_id:
        return CheckpointFinding(cp.seq, cp.time, False, "it belongs to another vault")
    if not cp.signature_valid(public_key(session)):
        return CheckpointFinding(cp.seq, cp.time, False, "its signature is not this vault's")
    row = session.db.audit.get(cp.seq)
    if row is None:
        head, _ = session.db.audit.head()
        return CheckpointFinding(
            cp.seq, cp.time, False,
            f"the trail ends at sequence {head}: rows were removed or the vault was rolled back",
        )
    if not isinstance(row.hash, bytes) or row.hash != cp.head:
        return CheckpointFinding(cp.seq, cp.time, False,
                                 "the row there differs: the trail was rewritten or rolled back")
    return CheckpointFinding(cp.seq, cp.time, True)


def read_checkpoints(path: Path) -> list[Checkpoint]:
    return checkpoint_file.read(path)


EXPORT_FIELDS = ("seq", "ts", "user_id", "username", "role", "session_id", "action",
                 "entity_type", "entity_id", "detail", "reason", "outcome", "prev_hash", "hash",
                 "state", "bound")


def export(session: Session, fmt: str) -> Iterator[str]:
    """Yield the whole trail as CSV or JSON Lines text chunks; the export itself is audited."""
    if fmt not in ("csv", "jsonl"):
        raise InvalidInput("The export format is csv or jsonl.")
    role = session.require(AUDIT_READERS, "export the audit trail", "audit")
    session.record(AuditEvent(Action.EXPORT, "audit", "trail", {"format": fmt}), role)
    with session.db.reading():
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(EXPORT_FIELDS)
            yield buffer.getvalue()
        for row in session.db.audit.iter_all():
            values = [getattr(row, f) for f in EXPORT_FIELDS]
            values = [v.hex() if isinstance(v, bytes) else v for v in values]
            if fmt == "csv":
                buffer = io.StringIO()
                csv.writer(buffer).writerow(values)
                yield buffer.getvalue()
            else:
                yield json.dumps(dict(zip(EXPORT_FIELDS, values, strict=True)),
                                 ensure_ascii=False) + "\n"

