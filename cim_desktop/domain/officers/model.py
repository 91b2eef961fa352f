"""Officer accounts as the rest of the application sees them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cim_desktop.domain.officers.roles import Role


class OfficerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    LEFT = "left"


@dataclass(frozen=True)
class Officer:
    id: str
    username: str
    display_name: str
    status: OfficerStatus
    roles: frozenset[Role]
    created_at: str
    collar_number: str = ""
    rank: str = ""
    gender: str = ""
    must_change_password: bool = False

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def primary_role(self) -> str:
        """The role recorded on audit rows when an action needs no particular one."""
        order = list(Role)
        return min(self.roles, key=order.index).value if self.roles else "none"
