"""What the rules of the callee's place say about a call once it is answered.

Decided once per dial (``call_conduct``), from the rule packs' conduct tables
(``compliance.conduct``) and the campaign's settings:

- the recording notice: a recorded call (``record`` connected/all) plays the campaign's
  ``recording_announcement`` before the agent is bridged when the campaign says ``always``
  or the callee's place needs every party's consent (``recording_consent`` in a pack);
- a notice that could not be played (the file is missing on the switch, the switch refused
  it, it timed out) where it was required: the call is still bridged to its agent, but not
  recorded (``bridge_leg``): a recording the law needs consent for is never made without
  the announcement. Counted in ``dialer_recording_notice_failed_total`` and logged;
- the voicemail drop: after the machine's beep (``await_beep``, at most the campaign's
  ``voicemail_beep_timeout_s``); skipped (the machine is hung up on, the attempt's ``hangup_cause``
  says which rule) where a pack's ``voicemail_drop`` forbids it for the campaign's purpose.
"""

from __future__ import annotations

import asyncio
import logging

from dialer import metrics
from dialer.compliance import RuleBook
from dialer.engine.livecall import LiveCall
from dialer.engine.model import CampaignConfig, Lead
from dialer.gateway import AgentLeg, BeepListener, Gateway, GatewayError

log = logging.getLogger(__name__)

RECORDING_NOTICE = "sound:dialer/recording-notice"
"""Played when the campaign sets no ``recording_announcement`` (install it on the switch)."""
VOICEMAIL_BARRED = "voicemail_barred"
"""Prefix of ``hangup_cause`` for a machine left no message because the rules forbid it."""


def call_conduct(
    book: RuleBook, campaign: CampaignConfig, lead: Lead
) -> tuple[str | None, str | None]:
    """(why the recording notice plays: ``campaign`` or a rule id, or None;
    the rule id that bars a voicemail drop, or None)."""
    subs = (lead.subdivision,) if lead.subdivision else ()
    rules = book.conduct(lead.region, subs, campaign.purpose)
    notice: str | None = None
    if campaign.record != "off":
        if campaign.recording_consent == "always":
            notice = "campaign"
        elif rules.recording_consent is not None:
            notice = rules.recording_consent.rule_id
    barred = None
    if campaign.voicemail_message and rules.voicemail_barred is not None:
        barred = rules.voicemail_barred.rule_id
    return notice, barred


async def play_notice(
    gateway: Gateway, call: LiveCall, campaign: CampaignConfig, timeout_s: float
) -> bool:
    """Play the recording notice to the callee (``call.notice_played`` says whether it
    did); False when the call is no longer being connected (the callee hung up)."""
    message = campaign.recording_announcement or RECORDING_NOTICE
    try:
        call.notice_played = bool(
            await asyncio.wait_for(gateway.play(call.call_id, message), timeout_s)
        )
    except (GatewayError, TimeoutError) as exc:
        log.warning("recording notice not played: %s", exc, extra={"call_id": call.call_id})
    return call.state == "connecting"


def bridge_leg(call: LiveCall, agent_id: int, endpoint: str | None, campaign_id: int) -> AgentLeg:
    """The agent leg to bridge ``call`` to: unrecorded when its required notice did not
    play (see the module docstring)."""
    if call.notice and not call.notice_played and call.record != "off":
        call.unrecorded = True
        metrics.RECORDING_NOTICE_FAILED.labels(str(campaign_id)).inc()
        log.warning(
            "recording notice required (%s) but not played: bridged without recording",
            call.notice,
            extra={"call_id": call.call_id, "campaign_id": campaign_id},
        )
    return AgentLeg(agent_id, endpoint, record=not call.unrecorded)


async def await_beep(
    gateway: Gateway, call: LiveCall, campaign: CampaignConfig, speed: float
) -> None:
    """Before a voicemail drop: wait (at most the campaign's ``voicemail_beep_timeout_s``)
    for the machine's beep, so the message is recorded whole; the message follows either
    way. Gateways that cannot listen for a beep play at once."""
    timeout = campaign.voicemail_beep_timeout_s
    if timeout <= 0 or not isinstance(gateway, BeepListener):
        return
    try:
        waiting = gateway.wait_for_beep(call.call_id, timeout)
        heard = await asyncio.wait_for(waiting, (timeout + 10.0) / speed)
        result = "heard" if heard else "timeout"
    except (GatewayError, TimeoutError) as exc:
        log.warning("beep not awaited: %s", exc, extra={"call_id": call.call_id})
        result = "failed"
    metrics.VOICEMAIL_BEEPS.labels(str(campaign.id), result).inc()


def voicemail_step(call: LiveCall) -> tuple[str, str | None]:
    """The state-machine event for a machine answer on a campaign that drops voicemail:
    ``voicemail``, or ``machine`` with the cause saying which rule forbade the drop."""
    if call.voicemail_barred is not None:
        return "machine", f"{VOICEMAIL_BARRED}: {call.voicemail_barred}"
    return "voicemail", None
