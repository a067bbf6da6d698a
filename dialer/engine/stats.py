"""A runner's metrics: refreshed on its tick, removed when it stops."""

from __future__ import annotations

import contextlib

from dialer import metrics
from dialer.agents.states import STATES
from dialer.campaigns.model import DIAL_MODES
from dialer.engine.budget import WINDOWS
from dialer.engine.calls import OUTCOMES

_BY_CAMPAIGN = (
    metrics.CALLS_IN_FLIGHT,
    metrics.HUMAN_ANSWERS,
    metrics.CONNECTS,
    metrics.ABANDONS,
    metrics.AGENT_OCCUPANCY,
    metrics.WAIT_TO_CONNECT,
    metrics.TALK_SECONDS,
    metrics.WRAP_SECONDS,
    metrics.DIAL_LEVEL,
    metrics.PACER_TARGET,
    metrics.PACER_LAUNCHED,
    metrics.HOPPER_LEADS,
)


def forget_campaign(campaign_id: int, name: str, client_id: int) -> None:
    """Remove every series labelled with this campaign (its runner stopped here)."""
    cid = str(campaign_id)
    attempts: list[tuple[object, tuple[str, ...]]] = [(m, (cid,)) for m in _BY_CAMPAIGN]
    attempts += [(metrics.DIALS, (cid, mode)) for mode in (*DIAL_MODES, "progressive")]
    attempts += [(metrics.CALL_OUTCOMES, (cid, o)) for o in OUTCOMES]
    attempts += [(metrics.AGENTS, (cid, s)) for s in STATES]
    attempts += [(metrics.ABANDON_RATE, (cid, w)) for w in WINDOWS]
    attempts.append((metrics.CAMPAIGN_INFO, (cid, name, str(client_id))))
    for metric, labels in attempts:
        with contextlib.suppress(KeyError):
            metric.remove(*labels)  # type: ignore[attr-defined]
