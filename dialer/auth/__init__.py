"""API tokens, roles and the principal a request acts as."""

from dialer.auth.roles import ROLES, Permission, Principal, allowed
from dialer.auth.tokens import authenticate, create_token, hash_token, list_tokens, revoke_token

__all__ = [
    "ROLES",
    "Permission",
    "Principal",
    "allowed",
    "authenticate",
    "create_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
]
