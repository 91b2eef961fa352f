"""A logged-in officer's session: the open vault plus who is acting.

Every use case runs through ``Session.change`` (one write transaction holding the change and
its audit row) or ``Session.audited_read`` (the read is shown only if its audit row commits).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cim_desktop.domain.audit.rows import Action, AuditEvent, AuditRow, Outcome
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers.model import Officer
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import PermissionDenied
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault import signing_keys
from cim_desktop.services.vault.paths import VaultPaths
from cim_desktop.store.audit import checkpoints
from cim_desktop.store.audit.chain import Actor
from cim_desktop.store.audit.checkpoints import Checkpoint
from cim_desktop.store.database import VaultDatabase

T = TypeVar("T")


@dataclass
class Session:
    paths: VaultPaths
    db: VaultDatabase
    officer: Officer
    keyring: DeviceSecretStore
    vault_key: bytes = field(repr=False)
    # This officer's own checkpoint-signing key (services.signing_keys); set at login.
    signer: Ed25519PrivateKey | None = field(default=None, repr=False)
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    closed: bool = False

    @property
    def vault_id(self) -> str:
        return self.db.vault_id

    @property
    def unit_name(self) -> str:
        return self.db.meta.get("unit_name", "") or ""

    @property
    def actor(self) -> Actor:
        return Actor(
            self.officer.id, self.officer.username, self.officer.primary_role, self.session_id
        )

    def actor_as(self, role: Role) -> Actor:
        return Actor(self.officer.id, self.officer.username, role.value, self.session_id)

    # -- audited work -------------------------------------------------------------------
    @contextlib.contextmanager
    def change(self, event: AuditEvent, role: Role | None = None) -> Iterator[None]:
        """Run the body and append ``event`` in one transaction."""
        self._check_open()
        actor = self.actor_as(role) if role else self.actor
        with self.db.transaction():
            yield
            self.db.audit.append(actor, event)

    def record(self, event: AuditEvent, role: Role | None = None) -> AuditRow:
        self._check_open()
        actor = self.actor_as(role) if role else self.actor
        with self.db.transaction():
            return self.db.audit.append(actor, event)

    def audited_read(self, event: AuditEvent, read: Callable[[], T], role: Role | None = None) -> T:
        """Read, then commit the audit row; if the row cannot be written the data is withheld."""
        self._check_open()
        actor = self.actor_as(role) if role else self.actor
        with self.db.transaction():
            result = read()
            self.db.audit.append(actor, event)
        return result

    def require(
        self,
        roles: frozenset[Role] | set[Role],
        action: str,
        entity_type: str = "",
        entity_id: str = "",
    ) -> Role:
        """Return the role the officer acts in, or audit the denial and raise."""
        for role in Role:
            if role in roles and self.officer.has(role):
                return role
        self.record(
            AuditEvent(
                Action.DENIED, entity_type, entity_id, {"attempted": action}, outcome=Outcome.DENIED
            )
        )
        needed = ", ".join(sorted(r.label for r in roles))
        raise PermissionDenied(f"You are not permitted to {action}. It needs the role: {needed}.")

    # -- checkpoints and locking ---------------------------------------------------------
    def signing_key(self) -> Ed25519PrivateKey:
        """The vault's own key (``meta.signing_key``, public half in ``vault.pub``).

        It signs backup manifests only. Anyone holding the vault key K can read it, so it
        proves that a manifest was made with K, not by whom; checkpoints use ``signer``.
        """
        raw = bytes.fromhex(self.db.meta.require("signing_key"))
        return Ed25519PrivateKey.from_private_bytes(raw)

    def checkpoint(self) -> Checkpoint:
        """Sign the current chain head with this officer's key; append it to the file."""
        self._check_open()
        if self.signer is None:
            raise PermissionDenied("This session has no checkpoint-signing key.")
        seq, head = self.db.audit.head()
        cp = Checkpoint(
            self.vault_id,
            seq,
            head,
            iso_utc(utc_now()),
            self.officer.id,
            signing_keys.public_bytes(self.signer),
        ).signed(self.signer)
        checkpoints.append(self.paths.checkpoints, cp)
        return cp

    def lock(self, action: Action = Action.LOCK) -> None:
        """Record the lock, sign a checkpoint and drop the connection and the key."""
        if self.closed:
            return
        try:
            self.record(AuditEvent(action, "session", self.session_id))
            self.checkpoint()
        finally:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.db.close()
            self.vault_key = b""
            self.signer = None

    def _check_open(self) -> None:
        if self.closed:
            raise PermissionDenied("The vault is locked. Log in again to continue.")
