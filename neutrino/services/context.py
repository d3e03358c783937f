"""Who is calling: the request context every service function receives."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Context:
    """The caller's project and roles (from noauth headers or a Keystone token)."""

    project_id: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @classmethod
    def admin(cls, project_id: str = "admin") -> "Context":
        return cls(project_id, frozenset({"admin", "member", "reader"}))
