"""``/api/v1/campaigns/{id}/leads`` and ``/api/v1/leads/{id}``: read, hold, change and push
leads (CRMs push one lead or a batch as JSON, normalised like a list file)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dialer.api.paging import PAGE_PARAMS, page_of, page_response, page_schema
from dialer.api.params import query_int
from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.campaigns import store as campaigns
from dialer.errors import ValidationError
from dialer.http.jsonio import error_response, json_response, read_json, read_object
from dialer.http.keys import CLOCK, POOL, principal
from dialer.leads import phones, push, store

routes = Routes("leads", "Leads of a campaign: list, read, hold, change, push from a CRM")

ID = r"{id:\d+}"
_WHEN = {"type": ["string", "null"], "format": "date-time"}
CONSENT_PROPERTIES: dict[str, Any] = {
    "consent": {
        "enum": ["none", "express", "express_written", "revoked"],
        "description": "revoked: the rules block the number from this instant (its next dial)",
    },
    "consent_at": _WHEN | {"description": "when consent was given (default: now)"},
    "consent_source": {"type": ["string", "null"], "description": "how/where it was given"},
    "consent_revoked_at": _WHEN | {"description": "when it was revoked (default: now)"},
    "ebr_purchase_at": _WHEN | {"description": "last purchase from the client (EBR 18 months)"},
    "ebr_inquiry_at": _WHEN | {"description": "last inquiry to the client (EBR 3 months)"},
}
LEAD = {
    "type": "object",
    "description": "a lead: phone_e164, alt_phones, region, subdivision, postal_code, "
    "time_zones, fields, status, priority, attempts_count, next_attempt_at, list_id, list_row, "
    "consent, consent_at, consent_source, consent_revoked_at, ebr_purchase_at, ebr_inquiry_at",
}
LEAD_INPUT = {
    "type": "object",
    "required": ["phone"],
    "properties": {
        "phone": {"type": "string", "description": "as written; E.164 or national"},
        "fields": {"type": "object"},
        "priority": {"type": "integer"},
        "state": {"type": "string", "description": "state/province (narrows time zones)"},
        "postal_code": {"type": "string"},
        "alt_phones": {"type": "array", "items": {"type": "string"}},
        "default_region": {"type": "string", "description": "overrides the campaign's"},
        **CONSENT_PROPERTIES,
    },
}
PATCH = {
    "type": "object",
    "properties": {
        "fields": {"type": "object", "description": "merged; a null value removes the key"},
        "priority": {"type": "integer"},
        "status": {"enum": ["paused", "new", "retry"]},
        "subdivision": {"type": ["string", "null"]},
        "postal_code": {"type": ["string", "null"]},
        **CONSENT_PROPERTIES,
    },
}
_REJECT_STATUS = {
    phones.MISSING_PHONE: 400,
    phones.INVALID_NUMBER: 400,
    phones.NO_COUNTRY_CODE: 400,
    phones.MALFORMED_ROW: 400,
    phones.DUPLICATE_IN_CAMPAIGN: 409,
    phones.ERASED: 409,
}


@routes.get(
    f"/api/v1/campaigns/{ID}/leads",
    summary="List a campaign's leads (keyset pagination: pass the last id as `after`)",
    permission=Permission.LEADS_READ,
    query=(
        Param("status", "only leads in this status", {"enum": list(store.STATUSES)}),
        Param("list_id", "only leads of this list", {"type": "integer"}),
        *PAGE_PARAMS,
    ),
    response=page_schema(LEAD),
)
async def list_leads(request: web.Request) -> web.Response:
    campaign_id = int(request.match_info["id"])
    page = page_of(request, max_limit=store.PAGE_MAX)
    list_id = query_int(request, "list_id", default=0, lo=0) or None
    async with request.app[POOL].acquire() as conn:
        await campaigns.get(conn, campaign_id, principal(request).client_id)
        rows = await store.list_page(
            conn,
            campaign_id,
            status=request.query.get("status") or None,
            list_id=list_id,
            after=page.after,
            limit=page.limit,
        )
    return page_response(rows, page, store.present)


@routes.get(
    f"/api/v1/leads/{ID}", summary="One lead", permission=Permission.LEADS_READ, response=LEAD
)
async def get_lead(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await store.get(conn, int(request.match_info["id"]), principal(request).client_id)
    return json_response(store.present(row))


@routes.patch(
    f"/api/v1/leads/{ID}",
    summary="Change a lead: fields (merge), priority, hold (paused) / release, address, "
    "consent (consent=revoked records a revocation, honoured before the next dial)",
    permission=Permission.LEADS_WRITE,
    body=PATCH,
    response=LEAD,
)
async def patch_lead(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        row = await store.patch(
            conn,
            int(request.match_info["id"]),
            body,
            principal(request).client_id,
            who=principal(request),
            now=request.app[CLOCK].now(),
        )
    return json_response(store.present(row))


def _items(body: Any) -> tuple[list[Any], bool]:
    """(items, single): one lead object, ``{"leads": [...]}`` or a JSON array."""
    if isinstance(body, list):
        return body, False
    if isinstance(body, dict) and "leads" in body and "phone" not in body:
        if set(body) != {"leads"} or not isinstance(body["leads"], list):
            raise ValidationError('a batch is {"leads": [lead, ...]}', field="leads")
        return body["leads"], False
    if isinstance(body, dict):
        return [body], True
    raise ValidationError('send a lead object, {"leads": [...]} or an array', field="body")


@routes.post(
    f"/api/v1/campaigns/{ID}/leads",
    summary="Push one lead (201, or 400/409 with its reason) or a batch (200, every item's "
    "outcome)",
    permission=Permission.LEADS_WRITE,
    body={"oneOf": [LEAD_INPUT, {"type": "object", "properties": {"leads": {"type": "array"}}}]},
    status=201,
    response=LEAD,
)
async def push_leads(request: web.Request) -> web.Response:
    items, single = _items(await read_json(request))
    if not items:
        raise ValidationError("no leads in the request", field="leads")
    async with request.app[POOL].acquire() as conn:
        campaign = await campaigns.get(
            conn, int(request.match_info["id"]), principal(request).client_id
        )
        outcome = await push.push(conn, campaign, items, now=request.app[CLOCK].now())
    if single:
        return _single(outcome["items"][0])
    for item in outcome["items"]:
        item.pop("lead", None)
    return json_response(outcome)


def _single(result: dict[str, Any]) -> web.Response:
    if "lead" in result:
        return json_response(store.present(result["lead"]), status=201)
    extra: dict[str, Any] = {"reason": result["reason"], "detail": result["detail"]}
    if result.get("lead_id") is not None:
        extra["lead_id"] = result["lead_id"]
    message = f"{result['reason']}: {result['detail']}"
    return error_response(
        _REJECT_STATUS.get(result["reason"], 400),
        message,
        field=result.get("field") or "phone",
        **extra,
    )
