"""Calling rules: check one number (the same ``check_number`` the CLI and API use) or one
stored lead with its contact history (the same ``check_lead``), and read the loaded rule
packs with their sources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from dialer.auth.roles import Permission, Principal
from dialer.compliance import PURPOSES, Decision, check_number, load_rulebook
from dialer.compliance.check import FACTS, parse_instant
from dialer.compliance.decide import SEARCH_HORIZON
from dialer.engine.gate import check_lead
from dialer.errors import NotFound, ValidationError
from dialer.http.keys import CLOCK, POOL
from dialer.ui.context import session
from dialer.ui.filters import humanise
from dialer.ui.render import is_htmx, render, render_partial
from dialer.ui.routing import UiRoutes

routes = UiRoutes()
INPUTS = ("lead", "phone", "purpose", "at", "region", "postal_code", "state", *FACTS)


@dataclass(frozen=True)
class ZoneTime:
    """One of the callee's time zones: the local time checked and the next allowed time."""

    zone: str
    local: datetime
    next_allowed: datetime | None


def _zone_times(decision: Decision) -> list[ZoneTime]:
    out = []
    for zone, text in decision.local_times.items():
        after = decision.next_allowed_at
        out.append(
            ZoneTime(
                zone,
                datetime.fromisoformat(text).astimezone(ZoneInfo(zone)),
                after.astimezone(ZoneInfo(zone)) if after else None,
            )
        )
    return out


async def _check_lead(
    request: web.Request, values: dict[str, str], who: Principal, now: datetime
) -> tuple[Decision | None, dict[str, str]]:
    """A stored lead's decision, with its contact history; errors on the lead input."""
    if not who.can(Permission.LEADS_READ):
        return None, {"lead": "Checking a stored lead needs permission to read leads"}
    if not values["lead"].isdigit():
        return None, {"lead": "Enter a lead's number (its id), e.g. 42"}
    try:
        at = parse_instant(values["at"] or None, now=now)
    except ValidationError as exc:
        return None, {"at": exc.message[:1].upper() + exc.message[1:]}
    try:
        lead, _campaign, decision = await check_lead(
            request.app[POOL], int(values["lead"]), at=at, scope=who.client_id
        )
    except NotFound:
        return None, {"lead": f"No lead {values['lead']} (or not one of your client's)"}
    values["phone"], values["purpose"] = lead.phone_e164, decision.purpose
    return decision, {}


def _check(values: dict[str, str], now: datetime) -> tuple[Decision | None, dict[str, str]]:
    """Run the check for the submitted inputs; errors by input name."""
    if not values["phone"]:
        return None, {}
    try:
        decision = check_number(
            values["phone"],
            values["purpose"],
            values["at"] or None,
            now=now,
            region=values["region"] or None,
            postal_code=values["postal_code"] or None,
            state=values["state"] or None,
            facts={name: values[name] for name in FACTS},
        )
    except ValidationError as exc:
        field = exc.field if exc.field in INPUTS else "phone"
        return None, {field: exc.message[:1].upper() + exc.message[1:]}
    return decision, {}


@routes.get("/ui/rules", permission=Permission.RULES_READ)
async def rules_page(request: web.Request) -> web.Response:
    values = {name: request.query.get(name, "").strip() for name in INPUTS}
    values["purpose"] = values["purpose"] or "telemarketing"
    now = request.app[CLOCK].now()
    if values["lead"]:
        decision, errors = await _check_lead(request, values, session(request).principal, now)
    else:
        decision, errors = _check(values, now)
    context: dict[str, Any] = {
        "title": "Calling rules",
        "section": "rules",
        "values": values,
        "errors": errors,
        "purposes": [(p, humanise(p)) for p in PURPOSES],
        "consent_levels": [
            (c, humanise(c)) for c in ("none", "express", "express_written", "revoked")
        ],
        "wireless_choices": [("unknown", "Unknown"), ("yes", "Yes"), ("no", "No")],
        "decision": decision,
        "zones": _zone_times(decision) if decision else [],
        "horizon_days": SEARCH_HORIZON.days,
    }
    if is_htmx(request):
        return render_partial(request, "rules/_check.html", context)
    book = load_rulebook()
    context["packs"] = book.describe()
    context["lookback_days"] = book.max_lookback.days
    return await render(request, "rules/index.html", context)
