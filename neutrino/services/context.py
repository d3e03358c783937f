"""Who is calling: the request context every service function receives."""

from __future__ import annotations

from dataclasses import dataclass, field

from neutrino import policy


@dataclass(frozen=True)
class Context:
    """The caller's project, roles (lower case) and user (from noauth headers or a
    Keystone token). ``is_admin`` is the policy rule ``context_is_admin`` (Neutron's
    ``role:admin`` by default) unless given."""

    project_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    user_id: str | None = None
    is_admin: bool | None = None

    def __post_init__(self) -> None:
        if self.is_admin is None:
            object.__setattr__(self, "is_admin", policy.is_admin(self))

    @property
    def is_service(self) -> bool:
        """The policy rule ``service_api``: a service (Nova) reads and binds any
        project's ports."""
        return policy.is_service(self)

    @classmethod
    def admin(cls, project_id: str = "admin") -> Context:
        """neutrino's own callers (lab, CLI, sync): admin whatever the policy file says."""
        return cls(project_id, frozenset({"admin", "member", "reader"}), is_admin=True)
