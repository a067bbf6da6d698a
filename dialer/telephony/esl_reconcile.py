"""Reconciling with FreeSWITCH after every (re)connection: ``show channels as json``.

Calls FreeSWITCH no longer has end (lost); an agent leg that vanished is gone; a hangup asked
for while disconnected is carried out; an answer missed meanwhile is caught up (reading
``amd_result`` with ``uuid_getvar``); channels tagged with this process's ``dialer_app``
that nobody here knows are hung up.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from dialer.gateway import AnswerKind, GatewayError
from dialer.telephony.callbook import SwitchCall

if TYPE_CHECKING:
    from dialer.telephony.esl import EslGateway

log = logging.getLogger("dialer.telephony.esl")
AMD_KINDS: dict[str, AnswerKind] = {
    "HUMAN": "human",
    "NOT_SURE": "human",
    "NOTSURE": "human",
    "MACHINE": "machine",
    "FAX": "fax",
}


async def reconcile(gw: EslGateway) -> None:
    """Make our calls agree with the switch (as ``ari_reconcile.reconcile`` does)."""
    text = await gw.link.api("show channels as json")
    try:
        rows = json.loads(text).get("rows") or []
    except ValueError:
        raise GatewayError(f"unreadable channel list: {text[:80]!r}") from None
    present: dict[str, dict[str, Any]] = {row["uuid"]: row for row in rows}
    for call in list(gw.book.calls.values()):
        row = present.get(call.call_id)
        if row is None:
            gw.book.lose(call)
            gw._callee_gone(call, 0)
            continue
        if call.agent_leg in gw.legs and call.agent_leg not in present:
            gw._agent_gone(call.agent_leg, 0)
        if call.hangup_requested:
            gw.tasks.spawn(gw.kill_channel(call.call_id))
        else:
            await _catch_up(gw, call, row)
    known = set(gw.book.calls) | set(gw.legs) | gw.monitor_channels() | set(gw._xlegs())
    for uid in [u for u in present if u not in known]:
        owner = await gw.link.api(f"uuid_getvar {uid} dialer_app")
        if owner.strip() == gw.config.app:
            log.info("hanging up a stray channel", extra={"channel": uid})
            await gw.kill_channel(uid)


async def _catch_up(gw: EslGateway, call: SwitchCall, row: dict[str, Any]) -> None:
    callstate = row.get("callstate", "")
    call.stage = call.stage or "channel"
    if callstate in ("RINGING", "EARLY"):
        gw.book.ring(call)
    elif callstate in ("ACTIVE", "HELD") and call.answered is None:
        call.up = True
        if not call.request.amd:
            gw.book.answer(call, "human")
            return
        result = (await gw.link.api(f"uuid_getvar {call.call_id} amd_result")).strip()
        if result.upper() in AMD_KINDS and not call.ended:
            gw.book.answer(call, AMD_KINDS[result.upper()])
