"""Roles and what each may do. One table, used by the API and the console alike."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Permission(StrEnum):
    CLIENTS_READ = "clients.read"
    CLIENTS_WRITE = "clients.write"
    CAMPAIGNS_READ = "campaigns.read"
    CAMPAIGNS_WRITE = "campaigns.write"
    CAMPAIGNS_OVERRIDE = "campaigns.override"  # waive a calling rule (audited)
    LEADS_READ = "leads.read"
    LEADS_WRITE = "leads.write"
    DNC_READ = "dnc.read"
    DNC_WRITE = "dnc.write"
    AGENTS_READ = "agents.read"
    AGENTS_WRITE = "agents.write"
    AGENT_SELF = "agent.self"  # act as one's own agent: state changes, dispositions
    WEBHOOKS_READ = "webhooks.read"
    WEBHOOKS_WRITE = "webhooks.write"
    RULES_READ = "rules.read"
    STATS_READ = "stats.read"
    USERS_READ = "users.read"
    USERS_WRITE = "users.write"  # create, disable, reset people who sign in (own client)
    PRIVACY = "privacy.manage"  # erase a person, export their data, set retention
    CALLS_MONITOR = "calls.monitor"  # listen to, whisper in, barge into live calls (audited)


_READ = {p for p in Permission if p.value.endswith(".read")}
_ALL = set(Permission)

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "admin": frozenset(_ALL),
    "manager": frozenset(
        _READ - {Permission.CLIENTS_READ, Permission.WEBHOOKS_READ}
        | {
            Permission.USERS_WRITE,
            Permission.CAMPAIGNS_WRITE,
            Permission.LEADS_WRITE,
            Permission.DNC_WRITE,
            Permission.AGENTS_WRITE,
            Permission.AGENT_SELF,  # drive the agents of their client (supervisor actions)
            Permission.PRIVACY,
            Permission.CALLS_MONITOR,
        }
    ),
    "agent": frozenset({Permission.AGENT_SELF, Permission.RULES_READ}),
    "viewer": frozenset(
        _READ - {Permission.CLIENTS_READ, Permission.WEBHOOKS_READ, Permission.USERS_READ}
    ),
    "crm": frozenset(
        {
            Permission.CAMPAIGNS_READ,
            Permission.LEADS_READ,
            Permission.LEADS_WRITE,
            Permission.DNC_READ,
            Permission.DNC_WRITE,
            Permission.WEBHOOKS_READ,
            Permission.WEBHOOKS_WRITE,
            Permission.RULES_READ,
            Permission.STATS_READ,
        }
    ),
}
# Roles a person signing in with a password may have (``crm`` is for systems: tokens only).
USER_ROLES: tuple[str, ...] = ("admin", "manager", "agent", "viewer")
ROLES: tuple[str, ...] = tuple(ROLE_PERMISSIONS)


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a token's (or a signed-in user's) role, its client scope and
    (agents) its agent."""

    token_id: int | None
    name: str
    role: str
    client_id: int | None = None  # None: every client
    agent_id: int | None = None
    user_id: int | None = None  # a person signed in with a password (token_id is None)

    def can(self, permission: Permission) -> bool:
        return allowed(self.role, permission)

    def sees_client(self, client_id: int) -> bool:
        """Whether data of ``client_id`` is visible to this principal."""
        return self.client_id is None or self.client_id == client_id

    @property
    def actor(self) -> str:
        """How the principal appears in audit records."""
        if self.user_id:
            return f"user:{self.user_id}:{self.name}"
        return f"token:{self.token_id}:{self.name}" if self.token_id else self.name


SYSTEM = Principal(token_id=None, name="system", role="admin")


def allowed(role: str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())
