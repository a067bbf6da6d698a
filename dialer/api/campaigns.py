"""``/api/v1/campaigns``: create, read, change, start/pause/stop and delete campaigns."""

from __future__ import annotations

from aiohttp import web

from dialer.api.paging import PAGE_PARAMS, page_of, page_response, page_schema
from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.campaigns import callerids, control, model, store
from dialer.http.jsonio import json_response, read_object
from dialer.http.keys import CLOCK, ENGINE, POOL, principal

routes = Routes("campaigns", "Calling campaigns and their lifecycle")

CAMPAIGN = {"type": "object", "description": "a campaign with every field and its state"}
ID = r"{id:\d+}"


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


@routes.post(
    "/api/v1/campaigns",
    summary="Create a campaign (state draft)",
    permission=Permission.CAMPAIGNS_WRITE,
    body=model.campaign_schema(partial=False),
    status=201,
    response=CAMPAIGN,
)
async def create_campaign(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        row = await store.create(conn, body, principal(request), now=request.app[CLOCK].now())
    return json_response(store.present(row), status=201)


@routes.get(
    "/api/v1/campaigns",
    summary="List campaigns (keyset pagination: pass the last id as `after`)",
    permission=Permission.CAMPAIGNS_READ,
    query=(
        Param("state", "only campaigns in this state", {"enum": list(model.STATES)}),
        *PAGE_PARAMS,
    ),
    response=page_schema(CAMPAIGN),
)
async def list_campaigns(request: web.Request) -> web.Response:
    page = page_of(request, max_limit=store.PAGE_MAX)
    async with request.app[POOL].acquire() as conn:
        rows = await store.list_page(
            conn,
            principal(request).client_id,
            state=request.query.get("state"),
            after=page.after,
            limit=page.limit,
        )
    return page_response(rows, page, store.present)


@routes.get(
    f"/api/v1/campaigns/{ID}",
    summary="One campaign",
    permission=Permission.CAMPAIGNS_READ,
    response=CAMPAIGN,
)
async def get_campaign(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await store.get(conn, _id(request), principal(request).client_id)
    return json_response(store.present(row))


@routes.patch(
    f"/api/v1/campaigns/{ID}",
    summary="Change some fields of a campaign",
    permission=Permission.CAMPAIGNS_WRITE,
    body=model.campaign_schema(partial=True),
    response=CAMPAIGN,
)
async def update_campaign(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        row = await store.update(
            conn, _id(request), body, principal(request), now=request.app[CLOCK].now()
        )
    return json_response(store.present(row))


@routes.delete(
    f"/api/v1/campaigns/{ID}",
    summary="Delete a campaign that is not running (its records are kept)",
    permission=Permission.CAMPAIGNS_WRITE,
    status=204,
)
async def delete_campaign(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        await store.delete(conn, _id(request), principal(request), now=request.app[CLOCK].now())
    return web.Response(status=204)


def _action(action: str, summary: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        async with request.app[POOL].acquire() as conn:
            row, _ = await control.change_state(
                conn,
                _id(request),
                action,
                scope=principal(request).client_id,
                now=request.app[CLOCK].now(),
                engine=request.app.get(ENGINE),
            )
        return json_response(store.present(row))

    handler.__name__ = f"{action}_campaign"
    routes.post(
        f"/api/v1/campaigns/{ID}/{action}",
        summary=summary,
        permission=Permission.CAMPAIGNS_WRITE,
        response=CAMPAIGN,
    )(handler)


_action("start", "Start (or resume) dialing; needs a caller_id")
_action("pause", "Pause dialing; calls in progress finish")
_action("stop", "Stop dialing; the campaign can be started again later")


# -- caller-ID pool -----------------------------------------------------------------------
POOL_RESPONSE = {
    "type": "object",
    "description": "the pool, its settings and today's use per number",
}


@routes.get(
    f"/api/v1/campaigns/{ID}/caller-ids",
    summary="The campaign's caller-ID pool (local presence, daily cap, today's use)",
    permission=Permission.CAMPAIGNS_READ,
    response=POOL_RESPONSE,
)
async def get_caller_ids(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        data = await callerids.get_pool(
            conn, _id(request), principal(request).client_id, now=request.app[CLOCK].now()
        )
    return json_response(data)


@routes.put(
    f"/api/v1/campaigns/{ID}/caller-ids",
    summary="Replace the caller-ID pool; retire a number with retired: true (audited)",
    permission=Permission.CAMPAIGNS_WRITE,
    body=callerids.POOL_SCHEMA,
    response=POOL_RESPONSE,
)
async def put_caller_ids(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        data = await callerids.put_pool(
            conn, _id(request), body, principal(request), now=request.app[CLOCK].now()
        )
    return json_response(data)


@routes.get(
    f"/api/v1/campaigns/{ID}/caller-ids/pick",
    summary="Which caller ID a call to this phone would present now, and why",
    permission=Permission.CAMPAIGNS_READ,
    query=(Param("phone", "the callee's number (E.164)", required=True),),
    response={"type": "object", "description": "{phone, caller_id, reason}"},
)
async def pick_caller_id(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        data = await callerids.pick_now(
            conn,
            _id(request),
            principal(request).client_id,
            request.query.get("phone"),
            now=request.app[CLOCK].now(),
        )
    return json_response(data)
