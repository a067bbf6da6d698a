"""Errors that carry a message meant for the user (CLI line or HTTP JSON body)."""

from __future__ import annotations


class DialerError(Exception):
    """Base class for errors whose message is shown to the user as is."""


class UsageError(DialerError):
    """Unusable input: the CLI exits 2 and prints one line saying what to fix."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConfigError(UsageError):
    """An invalid ``DIALER_*`` environment variable."""


class ValidationError(UsageError):
    """Invalid input to a domain operation; ``field`` names the offending field."""


class NotFound(DialerError):
    """The named object does not exist (or is not visible to the caller)."""


class Forbidden(DialerError):
    """The caller may not do this at all (HTTP 403), e.g. a client-scoped token acting
    beyond its client."""


class Conflict(DialerError):
    """The change clashes with existing data (e.g. a duplicate name)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
