"""Officer roles known to the product (domain.md, "Roles")."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    HANDLER = "handler"
    CONTROLLER = "controller"
    AUTHORISING_OFFICER = "authorising_officer"
    RECORD_KEEPER = "record_keeper"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Role.HANDLER: "Handler",
    Role.CONTROLLER: "Controller",
    Role.AUTHORISING_OFFICER: "Authorising officer",
    Role.RECORD_KEEPER: "Source record keeper",
    Role.AUDITOR: "Auditor / professional standards",
    Role.ADMINISTRATOR: "Administrator",
}

# Who may read the audit trail. It holds no source content (URNs and field names only), so
# administrators may read it alongside auditors and controllers.
AUDIT_READERS = frozenset({Role.AUDITOR, Role.ADMINISTRATOR, Role.CONTROLLER})


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role '{text}' (known roles: {known})") from None
