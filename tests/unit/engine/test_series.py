"""A runner's series: counters at zero from the start, the info series follows a rename,
and every series of the campaign goes when its runner stops."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client import REGISTRY

from dialer import metrics
from dialer.engine import series
from dialer.engine.calls import OUTCOMES
from tests.unit.engine.test_callflow import campaign

CID = 987_001


def value(metric: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(metric, labels)


def test_counters_exist_at_zero_when_a_runner_starts() -> None:
    c = campaign(id=CID, name="Spring", dial_mode="predictive")
    series.start_campaign(c)
    cid = str(CID)
    for name in (
        "dialer_abandons_total",
        "dialer_connects_total",
        "dialer_human_answers_total",
        "dialer_pacer_launched_calls_total",
        "dialer_pacer_requested_calls_total",
        "dialer_gateway_errors_total",
    ):
        assert value(name, campaign=cid) == 0.0, name
    for outcome in OUTCOMES:
        assert value("dialer_call_outcomes_total", campaign=cid, outcome=outcome) == 0.0
    for mode in ("predictive", "progressive"):  # its mode and the legal fallback
        assert value("dialer_dials_total", campaign=cid, mode=mode) == 0.0
    assert value("dialer_campaign_info", campaign=cid, name="Spring", client="1") == 1.0
    series.forget_campaign(CID)


def test_a_rename_replaces_the_info_series() -> None:
    old = campaign(id=CID + 1, name="Spring")
    series.start_campaign(old)
    new = replace(old, name="Spring sale")
    series.campaign_changed(old, new)
    cid = str(CID + 1)
    assert value("dialer_campaign_info", campaign=cid, name="Spring", client="1") is None
    assert value("dialer_campaign_info", campaign=cid, name="Spring sale", client="1") == 1.0
    series.campaign_changed(new, replace(new, dial_mode="agentless"))
    assert value("dialer_dials_total", campaign=cid, mode="agentless") == 0.0
    series.forget_campaign(CID + 1)


def test_every_runner_series_goes_when_its_runner_stops_but_the_state_change_stays() -> None:
    c = campaign(id=CID + 2)
    other = campaign(id=CID + 3)
    cid = str(CID + 2)
    series.start_campaign(c)
    series.start_campaign(other)
    metrics.CAMPAIGN_TRANSITIONS.labels(cid, "running", "manual").inc()
    metrics.CAMPAIGN_TRANSITIONS.labels(cid, "paused", "schedule").inc()
    metrics.AGENTS.labels(cid, "available").set(3)
    metrics.TALK_SECONDS.labels(cid).observe(12.0)
    metrics.ABANDON_RATE.labels(cid, "24h").set(0.01)
    series.forget_campaign(CID + 2)
    leftover = {
        family.name
        for family in REGISTRY.collect()
        for sample in family.samples
        if sample.labels.get("campaign") == cid
    }
    # The pause that stopped the runner must still reach the next scrape.
    assert leftover == {"dialer_campaign_state_changes"}
    paused = value(
        "dialer_campaign_state_changes_total", campaign=cid, state="paused", reason="schedule"
    )
    assert paused == 1.0
    # Another campaign's series stay.
    assert value("dialer_connects_total", campaign=str(CID + 3)) == 0.0
    series.forget_campaign(CID + 3)
