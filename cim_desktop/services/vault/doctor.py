"""A health check of the open vault and its surroundings (``cim doctor``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives import serialization

from cim_desktop.domain.audit.rows import Action, AuditEvent, Outcome
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers.roles import AUDIT_READERS
from cim_desktop.errors import CimError, KeyringEntryMissing
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.policy.settings import current, lockout_of
from cim_desktop.services.session import Session
from cim_desktop.services.vault import memory_security, state_check
from cim_desktop.services.vault.backup import last_backup
from cim_desktop.services.vault.slots import read_slots
from cim_desktop.store.audit.checkpoints import load_public_key
from cim_desktop.store.vault.diagnostics import expected_pragmas, parse_version, pinned_sqlcipher
from cim_desktop.store.vault.slot_keys import SlotKeyRepository


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class DoctorCheck:
    name: str
    status: Status
    detail: str


@dataclass(frozen=True)
class DoctorReport:
    checks: list[DoctorCheck]
    ran_at: str

    @property
    def ok(self) -> bool:
        """True when nothing failed; warnings (such as no backup yet) do not fail."""
        return all(c.status is not Status.FAIL for c in self.checks)

    def failed(self) -> list[DoctorCheck]:
        return [c for c in self.checks if c.status is Status.FAIL]


def _keyring(session: Session) -> DoctorCheck:
    name = session.keyring.backend_name()
    try:
        session.keyring.get(session.vault_id)
    except KeyringEntryMissing:
        return DoctorCheck(
            "keyring", Status.FAIL, f"{name}: no device secret for this vault; run 'cim recover'"
        )
    except CimError as exc:
        return DoctorCheck("keyring", Status.FAIL, f"{name}: {exc.message}")
    return DoctorCheck("keyring", Status.OK, f"{name} holds this vault's device secret")


def _sqlcipher(session: Session) -> DoctorCheck:
    text = session.db.pragmas().get("cipher_version", "")
    pinned = ".".join(map(str, pinned_sqlcipher()))
    found = parse_version(text)
    if not found or found < pinned_sqlcipher():
        return DoctorCheck(
            "sqlcipher",
            Status.FAIL,
            f"SQLCipher {text or 'unknown'} is older than the pinned {pinned}",
        )
    return DoctorCheck("sqlcipher", Status.OK, f"SQLCipher {text} (pinned minimum {pinned})")


def _pragmas(session: Session) -> DoctorCheck:
    values = session.db.pragmas()
    wanted = expected_pragmas()
    wrong = [
        f"{k}={values.get(k)!r} (want {v!r})"
        for k, v in wanted.items()
        if str(values.get(k, "")).lower() != v
    ]
    if wrong:
        return DoctorCheck("pragmas", Status.FAIL, "; ".join(wrong))
    return DoctorCheck("pragmas", Status.OK, ", ".join(f"{k}={v}" for k, v in wanted.items()))


def _memory_security(session: Session) -> DoctorCheck:
    """Either setting is acceptable (the site chooses); running with one other than the
    policy's, or a copy beside the vault that would start the next session so, is not."""
    try:
        # Read without the MAC check: the vault.keys check reports a bad MAC on its own.
        slots = read_slots(session.paths)
    except CimError as exc:
        return DoctorCheck("memory security", Status.FAIL, exc.message)
    state = memory_security.check(session.db, slots)
    detail = state.describe()
    if state.mirrored != state.policy:
        return DoctorCheck(
            "memory security",
            Status.WARN,
            f"{detail}; vault.keys holds a copy of the policy that differs "
            "from it (it is corrected at the next login)",
        )
    return DoctorCheck("memory security", Status.OK if state.as_policy else Status.WARN, detail)


def _integrity(session: Session) -> DoctorCheck:
    problems = session.db.integrity_problems()
    if problems:
        return DoctorCheck(
            "integrity", Status.FAIL, f"{len(problems)} problem(s); first: {problems[0]}"
        )
    return DoctorCheck("integrity", Status.OK, "cipher_integrity_check and integrity_check ok")


def _chain(session: Session) -> DoctorCheck:
    with session.db.reading():
        report = session.db.verify_chain(session.vault_key)
    if not report.ok:
        return DoctorCheck(
            "audit chain",
            Status.FAIL,
            f"broken at sequence {report.first_bad_seq}: {report.problem}",
        )
    return DoctorCheck(
        "audit chain", Status.OK, f"{report.rows_checked} rows, head at sequence {report.head_seq}"
    )


def _granting_rows(session: Session) -> DoctorCheck:
    found = state_check.findings(session.db)
    if found:
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        return DoctorCheck(
            "granting rows", Status.FAIL, "; ".join(f.text for f in found[:3]) + more
        )
    return DoctorCheck(
        "granting rows",
        Status.OK,
        "status, roles, accreditation, policy, teams and break-glass grants match the audit trail",
    )


def _checkpoints(session: Session) -> DoctorCheck:
    path = session.paths.checkpoints
    if not path.exists():
        return DoctorCheck("checkpoints", Status.WARN, f"no checkpoint file at {path}")
    try:
        found = audit.read_checkpoints(path)
    except CimError as exc:
        return DoctorCheck("checkpoints", Status.FAIL, exc.message)
    # Old-format lines were signed with the vault's own key: not evidence, not damage either.
    current = [cp for cp in found if not cp.old_format]
    with session.db.reading():
        findings = [audit.check_checkpoint(session, cp) for cp in current]
    bad = [f for f in findings if not f.ok]
    if bad:
        return DoctorCheck(
            "checkpoints", Status.FAIL, f"checkpoint at sequence {bad[0].seq}: {bad[0].problem}"
        )
    old = len(found) - len(current)
    ignored = f"; {old} old-format checkpoint(s) ignored" if old else ""
    return DoctorCheck(
        "checkpoints",
        Status.OK,
        f"{len(findings)} checkpoint(s) match{ignored}; they cannot rule out a "
        "roll-back (check against a backup's checkpoint: cim audit verify "
        "--checkpoint)",
    )


def _slot_file(session: Session) -> DoctorCheck:
    """vault.keys as it is now on disk: its MAC, and its lockout settings against the
    database's policy (the database is authoritative; logins copy it into the file)."""
    name = session.paths.keys.name
    try:
        slots = read_slots(session.paths)
        if not slots.mac_matches(session.keyring.get(session.vault_id)):
            return DoctorCheck(
                "vault.keys",
                Status.FAIL,
                f"{name} fails its authentication code: it was changed outside "
                "cim-desktop; open the vault with the recovery code",
            )
    except CimError as exc:
        return DoctorCheck("vault.keys", Status.FAIL, exc.message)
    wanted = lockout_of(current(session))
    found = slots.lockout_policy
    if found != wanted:
        return DoctorCheck(
            "vault.keys",
            Status.FAIL,
            f"lockout settings in {name} ({found.max_failures} failures in "
            f"{found.window_minutes} min) differ from the policy "
            f"({wanted.max_failures} in {wanted.window_minutes} min)",
        )
    return DoctorCheck(
        "vault.keys",
        Status.OK,
        f"authentication code valid; lockout {wanted.max_failures} failures "
        f"in {wanted.window_minutes} min, as the policy says",
    )


def _raw_public(pem: bytes) -> bytes | None:
    key = load_public_key(pem)
    return (
        None
        if key is None
        else key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def _public_key_file(session: Session) -> DoctorCheck:
    path = session.paths.public_key
    with session.db.reading():
        ours = _raw_public((session.db.meta.get("public_key") or "").encode())
    try:
        with path.open("rb") as handle:
            found = _raw_public(handle.read(64 * 1024))
    except FileNotFoundError:
        return DoctorCheck("vault.pub", Status.FAIL, f"{path.name} is missing beside the vault")
    except OSError as exc:
        return DoctorCheck("vault.pub", Status.FAIL, f"{path.name} cannot be read ({exc.strerror})")
    if ours is None or found != ours:
        return DoctorCheck(
            "vault.pub",
            Status.FAIL,
            f"{path.name} does not match the vault's checkpoint signing key",
        )
    return DoctorCheck("vault.pub", Status.OK, "matches the vault's checkpoint signing key")


def _last_backup(session: Session) -> DoctorCheck:
    last = last_backup(session)
    if last is None:
        return DoctorCheck("last backup", Status.WARN, "never")
    return DoctorCheck("last backup", Status.OK, f"{last['time']} ({last['file']})")


def _rekey(session: Session) -> DoctorCheck:
    # An officer who has left knew the vault key; until the vault is re-keyed, any copy of
    # vault.db they can reach opens with what they knew.
    with session.db.reading():
        keys = SlotKeyRepository(session.db.conn)
        due, last = keys.rekey_due_since(), keys.last_rekey()
    if due:
        return DoctorCheck(
            "re-keying",
            Status.WARN,
            f"an officer was marked as left on {due} and the vault has not been "
            "re-keyed since: re-key it (cim vault rekey, or Vault > Re-key)",
        )
    return DoctorCheck(
        "re-keying",
        Status.OK,
        f"last re-keyed {last}" if last else "no officer has left; not needed",
    )


_CHECKS: tuple[Callable[[Session], DoctorCheck], ...] = (
    _keyring,
    _sqlcipher,
    _pragmas,
    _memory_security,
    _integrity,
    _chain,
    _granting_rows,
    _checkpoints,
    _slot_file,
    _public_key_file,
    _last_backup,
    _rekey,
)


def run_doctor(session: Session) -> DoctorReport:
    role = session.require(AUDIT_READERS, "run the health check", "vault", session.vault_id)
    report = DoctorReport([check(session) for check in _CHECKS], iso_utc(utc_now()))
    session.record(
        AuditEvent(
            Action.VERIFY,
            "vault",
            session.vault_id,
            {
                "check": "doctor",
                "failed": [c.name for c in report.failed()],
                "warnings": [c.name for c in report.checks if c.status is Status.WARN],
            },
            outcome=Outcome.OK if report.ok else Outcome.FAILED,
        ),
        role,
    )
    return report
