"""The in-call opt-out: a callee who hears a recorded message presses a key to stop the calls.

Decided once per dial (``opt_out_offers``): for each message kind the call may play
(``agentless``: the message of an agentless campaign; ``abandon``: the safe-harbor message),
the opt-out is offered when the campaign says ``always`` or a rule pack of the callee's place
requires it (``compliance.optout``; the campaign cannot turn that off).

On such a message the engine listens for the campaign's ``opt_out_key`` from the message's
start, plays the ``opt_out_prompt`` after it and waits ``LISTEN_S`` more. The key puts the
number on the client's DNC list at once (``dnc.store.add``: the leads it covers become
``dnc``, ``lead.dnc`` and ``dnc.added`` go to the outbox, the audit log notes it), is counted
(``dialer_opt_outs_total``) and is confirmed to the callee before the call ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg

from dialer import metrics
from dialer.audit import record as audit
from dialer.auth.roles import SYSTEM
from dialer.clock import Clock
from dialer.compliance import Place, RuleBook
from dialer.dnc import store as dnc
from dialer.engine.livecall import LiveCall
from dialer.engine.model import CampaignConfig, Lead
from dialer.gateway import Gateway, GatewayError
from dialer.timer import Timer

log = logging.getLogger(__name__)

OPT_OUT_PROMPT = "sound:dialer/opt-out-prompt"
"""Played when the campaign sets no ``opt_out_prompt`` (install it on the switch)."""
OPT_OUT_CONFIRMED = "sound:dialer/opt-out-confirmed"
"""Played after the key: the number will not be called again."""
DNC_SOURCE = "in_call_opt_out"
LISTEN_S = 5.0  # call seconds the key is awaited after the prompt
PLAY_WATCHDOG_S = 120.0  # a message that never reports its end
OFFERED_KINDS = ("agentless", "abandon")  # of a dial; ``callback``: engine.inbound


def opt_out_offers(
    book: RuleBook, campaign: CampaignConfig, lead: Lead, kinds: tuple[str, ...] = OFFERED_KINDS
) -> dict[str, str]:
    """Message kind → why the opt-out is offered on it (``campaign`` or a rule id)."""
    subs = (lead.subdivision,) if lead.subdivision else ()
    place = Place(lead.region, lead.subdivision, subs, lead.time_zones)
    offers: dict[str, str] = {}
    for kind in kinds:
        required, reasons = book.opt_out(place, campaign.purpose, kind)
        if required:
            offers[kind] = reasons[0].rule_id
        elif campaign.opt_out == "always":
            offers[kind] = "campaign"
    return offers


class OptOuts:
    """The recorded messages of one runner's calls, with the opt-out where it is offered."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool | None,
        clock: Clock,
        campaign: Callable[[], CampaignConfig],
        spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
    ) -> None:
        self.pool, self.clock, self.campaign, self.spawn = pool, clock, campaign, spawn

    async def message(
        self, gateway: Gateway, timer: Timer, call: LiveCall, message: str, kind: str = ""
    ) -> bool:
        """Play ``message`` (a ``kind`` of message: ``agentless``, ``abandon``, or none) and,
        where the call offers it, the opt-out. False when the callee hung up meanwhile."""
        if kind in call.opt_out:
            call.opt_out_kind = kind  # keys count from the message's start
        finished = await self._play(gateway, timer, call, message, failed=True)
        if finished and call.opt_out_kind is not None:
            finished = await self._offer(gateway, timer, call)
        return finished

    def key(self, call: LiveCall, digit: str) -> None:
        """A key the callee pressed (a ``Dtmf`` event): the opt-out when it is the one."""
        campaign = self.campaign()
        if call.opt_out_kind is None or call.opted_out or digit != campaign.opt_out_key:
            return
        call.opted_out = True
        metrics.OPT_OUTS.labels(str(campaign.id)).inc()
        self.spawn(self._store(call, campaign))
        if call.key_wait is not None and not call.key_wait.done():
            call.key_wait.set_result(None)

    async def _offer(self, gateway: Gateway, timer: Timer, call: LiveCall) -> bool:
        """The prompt, the wait for the key, the confirmation."""
        prompt = self.campaign().opt_out_prompt or OPT_OUT_PROMPT
        if not call.opted_out and not await self._play(gateway, timer, call, prompt):
            return False
        if not call.opted_out:
            call.key_wait = wait = asyncio.get_running_loop().create_future()
            handle = timer.call_later(
                LISTEN_S, lambda: None if wait.done() else wait.set_result(None)
            )
            await wait
            handle.cancel()
        if call.opted_out:
            return await self._play(gateway, timer, call, OPT_OUT_CONFIRMED)
        return True

    @staticmethod
    async def _play(
        gateway: Gateway, timer: Timer, call: LiveCall, message: str, failed: bool = False
    ) -> bool:
        """Whether the message finished (``failed`` when the switch could not play it)."""
        try:
            done = gateway.play(call.call_id, message)
            return bool(await asyncio.wait_for(done, PLAY_WATCHDOG_S / timer.speed))
        except (GatewayError, TimeoutError) as exc:
            log.info("message not played: %s", exc, extra={"call_id": call.call_id})
            return failed

    async def _store(self, call: LiveCall, campaign: CampaignConfig) -> None:
        """The number goes on the client's DNC list, as through ``POST /api/v1/dnc``."""
        kind, why = call.opt_out_kind or "", call.opt_out.get(call.opt_out_kind or "", "")
        reason = f"pressed {campaign.opt_out_key} during the {kind} message"
        now = self.clock.now()
        lead_id = call.lead.id or None  # 0: a caller calling back who is no lead
        if self.pool is None:
            return
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                entry, _created, blocked = await dnc.add(
                    conn,
                    call.lead.phone_e164,
                    client_id=campaign.client_id,
                    campaign_id=None,
                    source=DNC_SOURCE,
                    reason=reason,
                    expires_at=None,
                    now=now,
                    context={"attempt_id": call.attempt_id, "lead_id": lead_id},
                )
                details = {"attempt_id": call.attempt_id, "message": kind, "offered_by": why}
                details |= {"dnc_entry_id": entry["id"], "leads_blocked": blocked}
                await audit(conn, SYSTEM, "dnc.opt_out", "lead", lead_id, details, now=now)
        except Exception:  # the callee's request must not be lost silently
            log.exception("in-call opt-out not stored", extra={"call_id": call.call_id})
            metrics.OPT_OUT_FAILURES.labels(str(campaign.id)).inc()
