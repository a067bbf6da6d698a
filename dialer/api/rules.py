"""``/api/v1/rules``: the loaded calling-rule packs, and one decision for a number."""

from __future__ import annotations

from aiohttp import web

from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.compliance import load_rulebook
from dialer.compliance.check import PURPOSES, check_number
from dialer.http.jsonio import json_response
from dialer.http.keys import CLOCK

routes = Routes("rules", "Calling rules: packs per jurisdiction and decisions")

DECISION = {
    "type": "object",
    "properties": {
        "allowed": {"type": "boolean"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "rule_ids": {"type": "array", "items": {"type": "string"}},
        "time_zones": {"type": "array", "items": {"type": "string"}},
        "local_times": {"type": "object"},
        "next_allowed_at": {"type": ["string", "null"], "format": "date-time"},
        "packs": {"type": "array", "items": {"type": "string"}},
    },
}


@routes.get(
    "/api/v1/rules/check",
    summary="May this number be called for this purpose at this instant? If not, when?",
    permission=Permission.RULES_READ,
    query=(
        Param("phone", "the number, E.164 or national with `region`", required=True),
        Param("purpose", "call purpose", {"enum": list(PURPOSES)}, required=True),
        Param("at", "ISO 8601 instant with offset (default now)", {"format": "date-time"}),
        Param("region", "ISO country for a number without +"),
        Param("postal", "the callee's postal code (narrows state and zone)"),
        Param("state", "the callee's state or province (ISO 3166-2 suffix)"),
    ),
    response=DECISION,
)
async def check(request: web.Request) -> web.Response:
    q = request.query
    decision = check_number(
        q.get("phone", ""),
        q.get("purpose", ""),
        q.get("at") or None,
        now=request.app[CLOCK].now(),
        region=q.get("region") or None,
        postal_code=q.get("postal") or None,
        state=q.get("state") or None,
    )
    return json_response(decision.to_dict())


@routes.get(
    "/api/v1/rules",
    summary="Every loaded rule pack with its rules and their sources",
    permission=Permission.RULES_READ,
    response={"type": "object", "properties": {"items": {"type": "array"}}},
)
async def list_packs(request: web.Request) -> web.Response:
    return json_response({"items": load_rulebook().describe()})
