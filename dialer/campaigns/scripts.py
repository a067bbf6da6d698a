"""Agent scripts: what to say, a template over the lead's fields (``Hello {{ lead.first_name
}}``), shown on the agent desktop at screen pop.

Rendered in Jinja's ``SandboxedEnvironment`` with autoescaping: a template cannot reach
Python internals (``{{ ''.__class__ }}`` is refused when the script is saved, and renders
as a short notice if it slipped in), and a lead field holding ``<script>`` is escaped. The
script's own text is shown as text too: every ``<``/``>`` left in the output (which can only
come from the script, never from an escaped field) is escaped, and line breaks become
``<br>``. So the HTML returned contains no markup but ``<br>``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from dialer import audit
from dialer.auth.roles import Principal
from dialer.errors import NotFound, ValidationError
from dialer.sql import queries

_Q = queries("dialer.campaigns")
MAX_SCRIPT = 20_000
MAX_OUTPUT = 50_000


class _Lenient(ChainableUndefined):
    """A missing lead field renders as nothing; an unsafe attribute fails loudly."""

    __slots__ = ()

    def __str__(self) -> str:
        if self._undefined_exception is SecurityError:
            self._fail_with_undefined_error()
        return ""

    def __html__(self) -> str:
        return str(self)


_ENV = SandboxedEnvironment(autoescape=True, undefined=_Lenient)


def check_body(body: Any) -> str:
    """A script a manager may save: a template that parses and renders safely (400 else)."""
    if not isinstance(body, dict) or set(body) - {"body"} or not isinstance(body.get("body"), str):
        raise ValidationError('send {"body": "..."}', field="body")
    text: str = body["body"]
    if len(text) > MAX_SCRIPT:
        raise ValidationError(f"body must be at most {MAX_SCRIPT} characters", field="body")
    try:
        _ENV.from_string(text).render(lead={}, campaign={}, agent={})
    except SecurityError as exc:
        raise ValidationError(
            f"the script may only use the lead's fields: {exc}", field="body"
        ) from None
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise ValidationError(f"the script cannot be read{where}: {exc}", field="body") from None
    return text


def render(text: str | None, lead: dict[str, Any], **extra: Any) -> str | None:
    """The script for one lead as safe HTML (see the module docstring); None without one."""
    if not text:
        return None
    context = {**(lead.get("fields") or {}), "phone": lead.get("phone_e164"), "id": lead.get("id")}
    try:
        out = str(_ENV.from_string(text).render(lead=context, **extra))
    except (TemplateError, SecurityError) as exc:
        out = f"(This script cannot be shown: {exc})"
        out = out.replace("&", "&amp;")
    out = out[:MAX_OUTPUT].replace("<", "&lt;").replace(">", "&gt;")
    return out.replace("\r\n", "\n").replace("\n", "<br>")


async def get_script(conn: asyncpg.Connection, campaign_id: int) -> str | None:
    value = await conn.fetchval(_Q["get_script"], campaign_id)
    return None if value is None else str(value)


async def set_script(
    conn: asyncpg.Connection, campaign_id: int, text: str, who: Principal, *, now: datetime
) -> None:
    async with conn.transaction():
        await conn.execute(_Q["set_script"], campaign_id, text or None, now)
        details = {"characters": len(text)}
        await audit.record(conn, who, "campaign.script", "campaign", campaign_id, details, now=now)


async def preview(
    conn: asyncpg.Connection, campaign_id: int, lead_id: Any, text: str | None = None
) -> str | None:
    """The campaign's script (or ``text``, unsaved) rendered for one of its leads."""
    if isinstance(lead_id, bool) or not isinstance(lead_id, int):
        raise ValidationError("lead_id must be a lead id", field="lead_id")
    lead = await conn.fetchrow(_Q["script_lead"], lead_id, campaign_id)
    if lead is None:
        raise NotFound(f"lead {lead_id} does not exist in campaign {campaign_id}")
    source = text if text is not None else await get_script(conn, campaign_id)
    return render(source, dict(lead))
