"""A runner's metric series: created at zero when it starts, kept current, removed when it
stops.

Counters of a campaign exist from the runner's start (at 0), so dashboards show 0 rather
than "No data" and ``increase()`` sees the first event (it cannot see a series' first
sample). The info series follows the campaign's name. When the runner stops here, every
series labelled with its campaign goes, ``dialer_campaign_state_changes_total`` included.
"""

from __future__ import annotations

import contextlib
from typing import Any

from dialer import metrics
from dialer.engine.calls import OUTCOMES
from dialer.engine.model import CampaignConfig
from dialer.engine.pacers import AHEAD_MODES
from dialer.gateway import MONITOR_MODES

MANUAL_RESULTS = ("accepted", "blocked", "dnc", "busy")  # dialer_manual_dials_total{result}
# dialer_transfers_total{mode,result}
TRANSFER_MODES = ("blind", "warm", "conference")
TRANSFER_RESULTS = ("requested", "completed", "cancelled", "failed", "fallback", "busy", "blocked")

# Counters labelled by campaign only: created at zero on start.
_COUNTERS = (
    metrics.HUMAN_ANSWERS,
    metrics.CONNECTS,
    metrics.SEATS_WITHOUT_DATABASE,
    metrics.ABANDONS,
    metrics.OPT_OUTS,
    metrics.OPT_OUT_FAILURES,
    metrics.PACER_LAUNCHED,
    metrics.PACER_REQUESTED,
    metrics.GATEWAY_ERRORS,
    metrics.RECORDING_NOTICE_FAILED,
)
# Every metric with a campaign label that a runner writes. Not the campaign store's
# dialer_campaign_state_changes_total: the pause or stop that ends a runner is counted just
# before the runner goes, and removing the series then would hide it from the next scrape.
_BY_CAMPAIGN = (
    *_COUNTERS,
    metrics.CALLS_IN_FLIGHT,
    metrics.AGENT_OCCUPANCY,
    metrics.WAIT_TO_CONNECT,
    metrics.TALK_SECONDS,
    metrics.WRAP_SECONDS,
    metrics.DIAL_LEVEL,
    metrics.PACER_TARGET,
    metrics.HOPPER_LEADS,
    metrics.DIALS,
    metrics.CALL_OUTCOMES,
    metrics.ROBOCALL_REJECTIONS,
    metrics.CALLER_ID_DIALS,
    metrics.CALLER_ID_ANSWERS,
    metrics.AGENTS,
    metrics.ABANDON_RATE,
    metrics.CAMPAIGN_INFO,
    metrics.MANUAL_DIALS,  # counted where the request was taken; created here at zero
    metrics.VOICEMAIL_BEEPS,
    metrics.MONITOR_SESSIONS,  # counted where the request was taken; created here at zero
    metrics.INBOUND_CALLS,  # callbacks (engine.inbound); created here at zero
    metrics.INBOUND_HELD_AGENTS,
    metrics.TRANSFERS,  # created at zero by engine.transfer
)
INBOUND_RESULTS = ("agent", "message", "opted_out", "hung_up")


def dial_modes(campaign: CampaignConfig) -> tuple[str, ...]:
    """The ``mode`` labels a campaign's dials can carry (its mode, and the progressive
    fallback of modes that dial ahead of their agents)."""
    if campaign.dial_mode in AHEAD_MODES:
        return (campaign.dial_mode, "progressive")
    return (campaign.dial_mode,)


def start_campaign(campaign: CampaignConfig, pool: tuple[str, ...] = ()) -> None:
    """Create the campaign's counter series at zero and its info series."""
    cid = str(campaign.id)
    for counter in _COUNTERS:
        counter.labels(cid)
    for mode in dial_modes(campaign):
        metrics.DIALS.labels(cid, mode)
    for outcome in OUTCOMES:
        metrics.CALL_OUTCOMES.labels(cid, outcome)
    for result in MANUAL_RESULTS:
        metrics.MANUAL_DIALS.labels(cid, result)
    for result in ("heard", "timeout", "failed"):
        metrics.VOICEMAIL_BEEPS.labels(cid, result)
    for mode in MONITOR_MODES:
        metrics.MONITOR_SESSIONS.labels(cid, mode)
    for result in INBOUND_RESULTS:
        metrics.INBOUND_CALLS.labels(cid, result)
    caller_ids(campaign, pool)
    _info(campaign).set(1)


def caller_ids(campaign: CampaignConfig, pool: tuple[str, ...] = ()) -> None:
    """The per-caller-ID series of the campaign's numbers (its caller_id and pool), at zero."""
    cid = str(campaign.id)
    for number in dict.fromkeys((*campaign.caller_numbers, *pool)):
        for counter in (
            metrics.CALLER_ID_DIALS,
            metrics.CALLER_ID_ANSWERS,
            metrics.ROBOCALL_REJECTIONS,
        ):
            counter.labels(cid, number)


def campaign_changed(old: CampaignConfig, new: CampaignConfig) -> None:
    """The campaign row was re-read: follow a rename (or a new dial mode)."""
    if (old.name, old.client_id) != (new.name, new.client_id):
        with contextlib.suppress(KeyError):
            metrics.CAMPAIGN_INFO.remove(str(old.id), old.name, str(old.client_id))
        _info(new).set(1)
    if old.dial_mode != new.dial_mode:
        for mode in dial_modes(new):
            metrics.DIALS.labels(str(new.id), mode)
    if old.caller_numbers != new.caller_numbers:
        caller_ids(new)


def _info(campaign: CampaignConfig) -> Any:
    return metrics.CAMPAIGN_INFO.labels(str(campaign.id), campaign.name, str(campaign.client_id))


def forget_campaign(campaign_id: int) -> None:
    """Remove every series labelled with this campaign (its runner stopped here)."""
    cid = str(campaign_id)
    for metric in _BY_CAMPAIGN:
        for labels in _label_sets(metric):
            if labels.get("campaign") == cid:
                with contextlib.suppress(KeyError):
                    metric.remove(*(labels[name] for name in metric._labelnames))


def _label_sets(metric: Any) -> list[dict[str, str]]:
    """The label sets a metric has series for (read through its public ``collect``)."""
    seen: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    names = set(metric._labelnames)
    for family in metric.collect():
        for sample in family.samples:
            labels = {k: v for k, v in sample.labels.items() if k in names}
            if len(labels) == len(names):
                seen.setdefault(tuple(sorted(labels.items())), labels)
    return list(seen.values())
