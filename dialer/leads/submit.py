"""Accepting a file for import: check it is usable now, record a queued import.

Shared by the HTTP upload and the CLI. Everything that can be said about a file before
reading it all is said here, as a ``UsageError`` (HTTP 400 / CLI exit 2): no such campaign,
not a CSV file, no phone column, an unknown region. Problems found later, half-way through
the file, fail the import instead (and nothing of it lands).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from dialer.auth.roles import Principal
from dialer.campaigns import store as campaigns
from dialer.dnc.store import REGISTRIES, resolve_scope
from dialer.errors import ValidationError
from dialer.leads import imports
from dialer.leads.columns import ColumnMap, map_columns
from dialer.leads.csvfile import FileLayout, inspect_file
from dialer.leads.phones import check_region
from dialer.leads.rows import DNC, LEADS


@dataclass(frozen=True)
class FileOptions:
    """How to read a file: what the user said (all optional)."""

    name: str | None = None
    file_name: str | None = None
    default_region: str | None = None
    phone_column: str | None = None
    alt_phone_columns: tuple[str, ...] = ()
    source: str = "upload"  # upload (HTTP) or cli


@dataclass(frozen=True)
class DncOptions:
    """Where the numbers of a DNC import go."""

    list_source: str = "internal"
    reason: str | None = None
    expires_at: datetime | None = None
    client_id: int | None = None
    campaign_id: int | None = None
    scope: str | None = None
    mode: str = "add"  # add, or replace: drop this list's entries the file no longer has


DNC_MODES = ("add", "replace")
# Sources whose entries people asked for one by one: never dropped in bulk by a replace.
PERSONAL_SOURCES = ("internal", "crm")


def check_mode(mode: str | None, list_source: str) -> str:
    """``add`` (default) or ``replace``; ``replace`` is refused for the sources whose
    entries are people's own requests (``ValidationError`` naming ``mode``)."""
    value = (mode or "add").strip().lower()
    if value not in DNC_MODES:
        raise ValidationError("mode must be add or replace", field="mode")
    if value == "replace" and list_source in PERSONAL_SOURCES:
        raise ValidationError(
            f"mode replace is refused for source {list_source}: entries people asked for "
            "are never removed in bulk",
            field="mode",
        )
    return value


def _region(value: str | None) -> str | None:
    try:
        return check_region(value)
    except ValueError as exc:
        raise ValidationError(str(exc), field="default_region") from None


def _name(options: FileOptions, now: datetime) -> str:
    name = (options.name or "").strip()
    if len(name) > 200:
        raise ValidationError("name must be at most 200 characters", field="name")
    return name or (options.file_name or "").strip()[:200] or f"list of {now:%Y-%m-%d %H:%M} UTC"


def split_columns(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"home, work"`` or ``["home", "work"]`` → ``("home", "work")``."""
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else [p for v in value for p in v.split(",")]
    return tuple(p.strip() for p in parts if p.strip())


async def _read(
    path: Path, options: FileOptions, *, numbers_only: bool
) -> tuple[FileLayout, ColumnMap]:
    layout = await asyncio.to_thread(inspect_file, path)
    columns = map_columns(
        layout.header,
        layout.sample,
        has_header=layout.has_header,
        phone_column=options.phone_column,
        alt_phone_columns=options.alt_phone_columns,
        numbers_only=numbers_only,
    )
    return layout, columns


def _detected(layout: FileLayout, columns: ColumnMap) -> dict[str, Any]:
    def name(index: int | None) -> str | None:
        return None if index is None else columns.names[index]

    return {
        "header": layout.has_header,
        "phone": name(columns.phone),
        "area_code": name(columns.area_code),
        "alternates": [columns.names[i] for i in columns.alternates],
        "state": name(columns.state),
        "postal_code": name(columns.postal),
        "priority": name(columns.priority),
    }


async def lead_import(
    conn: asyncpg.Connection,
    path: Path,
    campaign_id: int,
    options: FileOptions,
    who: Principal,
    *,
    now: datetime,
) -> dict[str, Any]:
    """A queued import of a lead list into a campaign ``who`` may see."""
    campaign = await campaigns.get(conn, campaign_id, who.client_id)
    region = _region(options.default_region) or campaign.get("default_region")
    layout, columns = await _read(path, options, numbers_only=False)
    return await imports.create(
        conn,
        kind=LEADS,
        client_id=campaign["client_id"],
        campaign_id=campaign_id,
        name=_name(options, now),
        file_name=options.file_name,
        source=options.source,
        options={
            "default_region": region,
            "phone_column": options.phone_column,
            "alt_phone_columns": list(options.alt_phone_columns),
            "columns": _detected(layout, columns),
        },
        path=path,
        layout=layout,
        created_by=who.actor,
        now=now,
    )


async def dnc_import(
    conn: asyncpg.Connection,
    path: Path,
    options: FileOptions,
    dnc: DncOptions,
    who: Principal,
    *,
    now: datetime,
) -> dict[str, Any]:
    """A queued import of numbers into a DNC list (a national registry file, a client's
    list, a campaign's list). With ``mode`` replace, the list's entries of that source and
    scope that the file no longer holds are removed when the import lands."""
    mode = check_mode(dnc.mode, dnc.list_source)
    client_id, campaign_id = await resolve_scope(
        conn, who, client_id=dnc.client_id, campaign_id=dnc.campaign_id, scope=dnc.scope
    )
    if dnc.expires_at is not None and dnc.expires_at <= now:
        raise ValidationError("expires_at must be in the future", field="expires_at")
    region = _region(options.default_region) or REGISTRIES.get(dnc.list_source)
    layout, columns = await _read(path, options, numbers_only=True)
    return await imports.create(
        conn,
        kind=DNC,
        client_id=client_id,
        campaign_id=campaign_id,
        name=_name(options, now),
        file_name=options.file_name,
        source=options.source,
        options={
            "default_region": region,
            "phone_column": options.phone_column,
            "source": dnc.list_source,
            "mode": mode,
            "reason": dnc.reason,
            "expires_at": None if dnc.expires_at is None else dnc.expires_at.isoformat(),
            "columns": _detected(layout, columns),
        },
        path=path,
        layout=layout,
        created_by=who.actor,
        now=now,
    )
