"""The review queue: break-glass grants, denials and lockouts not yet signed off."""

from __future__ import annotations

from cim_desktop.domain.access.rules import ReviewKind
from cim_desktop.domain.audit.rows import AuditRow
from cim_desktop.domain.sources.model import BreakGlassGrant
from cim_desktop.store.audit.chain_format import COLUMNS
from cim_desktop.store.connection import Connection

# Must repeat the WHERE of the partial index audit_for_review for SQLite to use it.
_FOR_REVIEW = "(outcome = 'denied' OR action = 'account-locked')"
_AUDIT_KIND = (
    f"CASE WHEN action = 'account-locked' THEN '{ReviewKind.LOCKOUT.value}' "
    f"ELSE '{ReviewKind.DENIED.value}' END"
)
_UNSIGNED_AUDIT = (
    f"NOT EXISTS (SELECT 1 FROM review_signoffs s WHERE s.kind = {_AUDIT_KIND} "
    "AND s.ref = CAST(audit.seq AS TEXT))"
)
_UNSIGNED_GRANT = (
    f"NOT EXISTS (SELECT 1 FROM review_signoffs s WHERE s.kind = "
    f"'{ReviewKind.BREAK_GLASS.value}' AND s.ref = b.id)"
)
_GRANT = "b.id, b.officer_id, b.urn, b.justification, b.started_at, b.expires_at, b.ended_at"


class ReviewRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def pending_grants(self, limit: int) -> list[tuple[BreakGlassGrant, str]]:
        """Unsigned grants, newest first, each with its officer's username."""
        rows = self._conn.execute(
            f"SELECT {_GRANT}, COALESCE(o.username, '') FROM break_glass b "
            f"LEFT JOIN officers o ON o.id = b.officer_id WHERE {_UNSIGNED_GRANT} "
            "ORDER BY b.started_at DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [(BreakGlassGrant(*r[:7]), str(r[7])) for r in rows]

    def pending_audit(self, limit: int) -> list[AuditRow]:
        """Unsigned denials and lockouts, newest first."""
        rows = self._conn.execute(
            f"SELECT {COLUMNS} FROM audit WHERE {_FOR_REVIEW} AND {_UNSIGNED_AUDIT} "
            "ORDER BY seq DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [AuditRow(*r) for r in rows]

    def count_pending(self) -> int:
        grants = self._conn.execute(
            f"SELECT count(*) FROM break_glass b WHERE {_UNSIGNED_GRANT}"
        ).fetchone()[0]
        audit = self._conn.execute(
            f"SELECT count(*) FROM audit WHERE {_FOR_REVIEW} AND {_UNSIGNED_AUDIT}"
        ).fetchone()[0]
        return int(grants) + int(audit)

    def signed(self, kind: ReviewKind, ref: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM review_signoffs WHERE kind = ? AND ref = ?",
            (kind.value, ref),
        ).fetchone()
        return row is not None

    def sign(self, kind: ReviewKind, ref: str, by: str, when: str, note: str) -> None:
        self._conn.execute(
            "INSERT INTO review_signoffs (kind, ref, signed_by, signed_at, note) "
            "VALUES (?, ?, ?, ?, ?)",
            (kind.value, ref, by, when, note),
        )
