"""``/api/v1/rules``: the loaded calling-rule packs, and one decision for a number."""

from __future__ import annotations

from aiohttp import web

from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.compliance import load_rulebook
from dialer.compliance.check import FACTS, PURPOSES, check_number, parse_instant
from dialer.engine.gate import check_lead
from dialer.errors import ValidationError
from dialer.http.jsonio import json_response
from dialer.http.keys import CLOCK, POOL, principal

routes = Routes("rules", "Calling rules: packs per jurisdiction and decisions")

DECISION = {
    "type": "object",
    "properties": {
        "allowed": {"type": "boolean"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "rule_ids": {"type": "array", "items": {"type": "string"}},
        "reason_details": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "rule_id": {"type": "string"},
                    "message": {"type": "string"},
                    "source": {"type": "string"},
                    "until": {
                        "type": ["string", "null"],
                        "format": "date-time",
                        "description": "when a contact cap or cool-down lapses",
                    },
                },
            },
        },
        "lead_id": {"type": "integer", "description": "with `lead_id`: the lead checked"},
        "time_zones": {"type": "array", "items": {"type": "string"}},
        "local_times": {"type": "object"},
        "next_allowed_at": {"type": ["string", "null"], "format": "date-time"},
        "packs": {"type": "array", "items": {"type": "string"}},
    },
}


@routes.get(
    "/api/v1/rules/check",
    summary="May this number (or stored lead) be called at this instant? If not, when?",
    permission=Permission.RULES_READ,
    query=(
        Param(
            "lead_id",
            "a stored lead (needs leads.read): its campaign's purpose, schedule and waivers, "
            "its DNC entries and its attempts (contact caps, cool-downs); instead of "
            "phone/purpose/region/postal/state",
            {"type": "integer"},
        ),
        Param("phone", "the number, E.164 or national with `region` (without `lead_id`)"),
        Param("purpose", "call purpose (without `lead_id`)", {"enum": list(PURPOSES)}),
        Param("at", "ISO 8601 instant with offset (default now)", {"format": "date-time"}),
        Param("region", "ISO country for a number without +"),
        Param("postal", "the callee's postal code (narrows state and zone)"),
        Param("state", "the callee's state or province (ISO 3166-2 suffix)"),
        Param(
            "consent",
            "the callee's consent (revoked: blocked)",
            {"enum": ["none", "express", "express_written", "revoked"]},
        ),
        Param("consent_at", "when it was given (ISO 8601)", {"format": "date-time"}),
        Param("ebr_since", "the callee's last purchase from the seller (EBR)", {"format": "date"}),
        Param("wireless", "is the number mobile?", {"enum": ["yes", "no", "unknown"]}),
        Param("category", "the call's NCPR category (India)", {"enum": list("12345678")}),
        Param("dnc", "DNC lists holding the number, comma-separated (us_dnc,internal)"),
        Param("ncpr", "the number's NCPR preference: 0 (fully blocked) or categories (1,3)"),
    ),
    response=DECISION,
)
async def check(request: web.Request) -> web.Response:
    q = request.query
    if q.get("lead_id"):
        return await _check_lead(request)
    decision = check_number(
        q.get("phone", ""),
        q.get("purpose", ""),
        q.get("at") or None,
        now=request.app[CLOCK].now(),
        region=q.get("region") or None,
        postal_code=q.get("postal") or None,
        state=q.get("state") or None,
        facts={name: q.get(name) for name in FACTS},
    )
    return json_response(decision.to_dict())


async def _check_lead(request: web.Request) -> web.Response:
    q = request.query
    try:
        lead_id = int(q["lead_id"])
    except ValueError:
        raise ValidationError(
            f"lead_id must be a whole number, got {q['lead_id']!r}", field="lead_id"
        ) from None
    extra = [n for n in ("phone", "purpose", "region", "postal", "state", *FACTS) if q.get(n)]
    if extra:
        raise ValidationError(
            f"lead_id takes the number, place and purpose from the lead; drop {', '.join(extra)}",
            field=extra[0],
        )
    who = principal(request)
    if not who.can(Permission.LEADS_READ):
        raise web.HTTPForbidden(reason="checking a stored lead needs leads.read")
    at = parse_instant(q.get("at") or None, now=request.app[CLOCK].now())
    _lead, _campaign, decision = await check_lead(
        request.app[POOL], lead_id, at=at, scope=who.client_id
    )
    return json_response(decision.to_dict() | {"lead_id": lead_id})


@routes.get(
    "/api/v1/rules",
    summary="Every loaded rule pack with its rules and their sources",
    permission=Permission.RULES_READ,
    response={"type": "object", "properties": {"items": {"type": "array"}}},
)
async def list_packs(request: web.Request) -> web.Response:
    return json_response({"items": load_rulebook().describe()})
