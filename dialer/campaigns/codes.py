"""A campaign's dispositions and pause codes: what agents may choose, and what follows.

Each campaign may define its own lists (``PUT /api/v1/campaigns/{id}/dispositions``,
``.../pause-codes``); one that does not uses the defaults below, which are the console's
former fixed lists with the outcomes they always had. A disposition's ``action`` decides
the lead's next step: ``complete``, ``retry`` (after ``retry_after_s``, default the retry
policy's delay for that code, until ``max_attempts``, default the campaign's), ``callback``
(at the time the agent gives, else after ``retry_after_s``) or ``dnc``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import asyncpg

from dialer import audit
from dialer.auth.roles import Principal
from dialer.errors import ValidationError
from dialer.sql import queries

_Q = queries("dialer.campaigns")
ACTIONS = ("complete", "retry", "callback", "dnc")
_CODE = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_HOTKEY = re.compile(r"^[0-9a-z]$")
MAX_ITEMS = 50
DAY_S = 86_400


@dataclass(frozen=True)
class Disposition:
    code: str
    label: str
    action: str
    retry_after_s: int | None = None
    max_attempts: int | None = None
    hotkey: str | None = None


@dataclass(frozen=True)
class PauseCode:
    code: str
    label: str
    paid: bool = False


DEFAULT_DISPOSITIONS: tuple[Disposition, ...] = (
    Disposition("sale", "Sale", "complete", hotkey="1"),
    Disposition("not_interested", "Not interested", "complete", hotkey="2"),
    Disposition("callback", "Call back later", "callback", retry_after_s=DAY_S, hotkey="3"),
    Disposition("wrong_number", "Wrong number", "complete", hotkey="4"),
    Disposition("no_answer", "No answer", "retry", hotkey="5"),
    Disposition("busy", "Busy", "retry", hotkey="6"),
    Disposition("machine", "Answering machine", "retry", hotkey="7"),
    Disposition("do_not_call", "Asked not to be called", "dnc", hotkey="8"),
    Disposition("other", "Other", "complete", hotkey="9"),
)
DEFAULT_PAUSE_CODES: tuple[PauseCode, ...] = (
    PauseCode("break", "Break", paid=True),
    PauseCode("lunch", "Lunch"),
    PauseCode("training", "Training", paid=True),
    PauseCode("meeting", "Meeting", paid=True),
    PauseCode("coaching", "Coaching", paid=True),
    PauseCode("personal", "Personal"),
)


def _items(body: Any) -> list[Any]:
    if (
        not isinstance(body, dict)
        or set(body) - {"items"}
        or not isinstance(body.get("items"), list)
    ):
        raise ValidationError('send {"items": [...]}', field="items")
    items = body["items"]
    if not 1 <= len(items) <= MAX_ITEMS:
        raise ValidationError(f"items must hold 1-{MAX_ITEMS} entries", field="items")
    return items


def _code(item: dict[str, Any], at: str, seen: set[str]) -> str:
    code = item.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise ValidationError(
            "code must be 1-32 letters, digits or underscores", field=f"{at}.code"
        )
    if code.lower() in seen:
        raise ValidationError(f"code {code!r} appears twice", field=f"{at}.code")
    seen.add(code.lower())
    return code


def _label(item: dict[str, Any], at: str) -> str:
    label = item.get("label")
    if not isinstance(label, str) or not label.strip() or len(label) > 100:
        raise ValidationError("label must be 1-100 characters", field=f"{at}.label")
    return label.strip()


def _int(item: dict[str, Any], key: str, at: str, lo: int, hi: int) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValidationError(f"{key} must be a whole number {lo}-{hi}", field=f"{at}.{key}")
    return value


def _entry(item: Any, at: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValidationError("each item must be an object", field=at)
    for key in item:
        if key not in allowed:
            raise ValidationError(f"unknown field {key!r}", field=f"{at}.{key}")
    return item


def parse_dispositions(body: Any) -> list[Disposition]:
    """Check a ``PUT .../dispositions`` body (pure); errors name the item's field."""
    seen: set[str] = set()
    hotkeys: set[str] = set()
    out = []
    fields = {"code", "label", "action", "retry_after_s", "max_attempts", "hotkey"}
    for n, raw in enumerate(_items(body)):
        at = f"items[{n}]"
        item = _entry(raw, at, fields)
        code = _code(item, at, seen)
        action = item.get("action")
        if action not in ACTIONS:
            raise ValidationError(
                f"action must be one of {', '.join(ACTIONS)}", field=f"{at}.action"
            )
        hotkey = item.get("hotkey")
        if hotkey is not None and (not isinstance(hotkey, str) or not _HOTKEY.match(hotkey)):
            raise ValidationError("hotkey must be one digit or letter a-z", field=f"{at}.hotkey")
        if hotkey is not None and hotkey in hotkeys:
            raise ValidationError(f"hotkey {hotkey!r} is used twice", field=f"{at}.hotkey")
        if hotkey is not None:
            hotkeys.add(hotkey)
        out.append(
            Disposition(
                code, _label(item, at), str(action),
                _int(item, "retry_after_s", at, 60, 90 * DAY_S),
                _int(item, "max_attempts", at, 1, 100), hotkey,
            )
        )  # fmt: skip
    return out


def parse_pause_codes(body: Any) -> list[PauseCode]:
    seen: set[str] = set()
    out = []
    for n, raw in enumerate(_items(body)):
        at = f"items[{n}]"
        item = _entry(raw, at, {"code", "label", "paid"})
        paid = item.get("paid", False)
        if not isinstance(paid, bool):
            raise ValidationError("paid must be true or false", field=f"{at}.paid")
        out.append(PauseCode(_code(item, at, seen), _label(item, at), paid))
    return out


async def dispositions(conn: asyncpg.Connection, campaign_id: int) -> list[Disposition]:
    """The campaign's dispositions, or the default set when it defines none."""
    rows = await conn.fetch(_Q["dispositions"], campaign_id)
    return [Disposition(**dict(r)) for r in rows] or list(DEFAULT_DISPOSITIONS)


async def pause_codes(conn: asyncpg.Connection, campaign_id: int) -> list[PauseCode]:
    rows = await conn.fetch(_Q["pause_codes"], campaign_id)
    return [PauseCode(**dict(r)) for r in rows] or list(DEFAULT_PAUSE_CODES)


def present(items: list[Disposition] | list[PauseCode], configured: bool) -> dict[str, Any]:
    return {"items": [asdict(i) for i in items], "default": not configured}


async def configured(conn: asyncpg.Connection, table: str, campaign_id: int) -> bool:
    name = {"dispositions": "dispositions", "pause_codes": "pause_codes"}[table]
    return bool(await conn.fetch(_Q[name], campaign_id))


async def set_dispositions(
    conn: asyncpg.Connection, campaign_id: int, items: list[Disposition], who: Principal,
    *, now: datetime,
) -> None:  # fmt: skip
    async with conn.transaction():
        await conn.execute(_Q["clear_dispositions"], campaign_id)
        await conn.executemany(
            _Q["insert_disposition"],
            [(campaign_id, n, d.code, d.label, d.action, d.retry_after_s, d.max_attempts,
              d.hotkey) for n, d in enumerate(items)],
        )  # fmt: skip
        codes = {"codes": [d.code for d in items]}
        await audit.record(conn, who, "campaign.dispositions", "campaign", campaign_id, codes,
                           now=now)  # fmt: skip


async def set_pause_codes(
    conn: asyncpg.Connection, campaign_id: int, items: list[PauseCode], who: Principal,
    *, now: datetime,
) -> None:  # fmt: skip
    async with conn.transaction():
        await conn.execute(_Q["clear_pause_codes"], campaign_id)
        await conn.executemany(
            _Q["insert_pause_code"],
            [(campaign_id, n, p.code, p.label, p.paid) for n, p in enumerate(items)],
        )
        codes = {"codes": [p.code for p in items]}
        await audit.record(conn, who, "campaign.pause_codes", "campaign", campaign_id, codes,
                           now=now)  # fmt: skip


def find_disposition(items: list[Disposition], code: str) -> Disposition:
    """The disposition ``code`` names; 400 listing the allowed codes when none does."""
    for item in items:
        if item.code == code:
            return item
    allowed = ", ".join(i.code for i in items)
    raise ValidationError(
        f"disposition {code!r} is not one of this campaign's: {allowed}", field="disposition"
    )


async def agent_pause_codes(conn: asyncpg.Connection, agent_id: int) -> list[PauseCode]:
    """The pause codes an agent may use: those of the campaigns it works (in order, each
    code once), or the defaults when it works none."""
    out: dict[str, PauseCode] = {}
    for row in await conn.fetch(_Q["agent_campaign_ids"], agent_id):
        for code in await pause_codes(conn, row["campaign_id"]):
            out.setdefault(code.code, code)
    return list(out.values()) or list(DEFAULT_PAUSE_CODES)


async def check_pause_code(conn: asyncpg.Connection, agent_id: int, reason: str | None) -> None:
    """Pausing with a code none of the agent's campaigns defines is refused (400)."""
    if reason is None:
        return
    allowed = [p.code for p in await agent_pause_codes(conn, agent_id)]
    if reason not in allowed:
        raise ValidationError(
            f"pause code {reason!r} is not one of: {', '.join(allowed)}", field="reason"
        )
