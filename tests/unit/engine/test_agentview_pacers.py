"""A runner's view of its agents, and the legal fallback of the pacers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from dialer.compliance.windows import DAY_KEYS
from dialer.engine.agentview import AgentView
from dialer.engine.pacers import (
    PaceControl,
    PaceDecision,
    pacing_state,
    shared_calls,
    shift_left,
)
from dialer.pacing.base import PacingState
from tests.unit.engine.test_callflow import campaign


def _row(agent_id: int, state: str, **kw: Any) -> dict[str, Any]:
    return {"id": agent_id, "name": f"a{agent_id}", "endpoint": None, "state": state, **kw}


def _msg(agent_id: int, state: str, **kw: Any) -> dict[str, Any]:
    return {"event": "state", "agent": agent_id, "state": state, **kw}


def test_the_agent_free_the_longest_is_picked_first() -> None:
    view = AgentView(1)
    view.load([_row(1, "on_call"), _row(2, "available"), _row(3, "paused")], 0.0)
    view.apply(_msg(1, "available"), 5.0)
    assert view.pick().id == 2  # type: ignore[union-attr]
    view.agents[2].reserving = True  # being given a call already
    assert view.pick().id == 1  # type: ignore[union-attr]
    assert view.counts()["on_call"] == 1 and view.counts()["available"] == 1


def test_changes_report_the_time_spent_in_the_old_state() -> None:
    view = AgentView(1)
    view.load([_row(1, "available")], 0.0)
    assert view.apply(_msg(1, "on_call", campaign=1, attempt=9), 2.0) is not None
    change = view.apply(_msg(1, "wrap_up", campaign=1, attempt=9), 32.0)
    assert change is not None and (change.old, change.elapsed, change.campaign_id) == (
        "on_call",
        30.0,
        1,
    )
    assert view.apply(_msg(99, "available"), 33.0) is None  # not this campaign's agent
    assert view.apply({"event": "dial", "agent": 1}, 33.0) is None


def test_occupancy_is_talk_time_of_this_campaign_over_logged_in_time() -> None:
    view = AgentView(1)
    view.load([_row(1, "available"), _row(2, "available"), _row(3, "offline")], 0.0)
    view.apply(_msg(1, "on_call", campaign=1), 0.0)
    view.apply(_msg(2, "on_call", campaign=7), 0.0)  # on another campaign's call
    view.apply(_msg(1, "wrap_up", campaign=1), 60.0)
    view.apply(_msg(2, "available"), 60.0)
    view.integrate(100.0)
    # 60 s of talk here, over 2 agents logged in for 100 s.
    assert view.occupancy() == pytest.approx(60 / 200)


def test_a_deleted_agent_leaves_the_view() -> None:
    view = AgentView(1)
    view.load([_row(1, "available")], 0.0)
    change = view.apply(_msg(1, "offline", deleted=True), 1.0)
    assert change is not None and change.new == "offline" and not view.agents


def test_reload_drops_agents_no_longer_assigned() -> None:
    view = AgentView(1)
    view.load([_row(1, "available"), _row(2, "available")], 0.0)
    view.load([_row(2, "paused")], 1.0)
    assert set(view.agents) == {2} and view.agents[2].state == "paused"


def _state(**kw: Any) -> PacingState:
    fields: dict[str, Any] = {
        "t": 100.0,
        "agents_logged_in": 10,
        "agents_available": 4,
        "agents_on_call": 6,
        "agents_wrap_up": 0,
        "calls_in_flight": 0,
    }
    fields.update(kw)
    return PacingState(**fields)


@pytest.mark.parametrize("mode", ["power", "predictive"])
def test_at_the_abandon_limit_modes_that_dial_ahead_fall_back_to_progressive(mode: str) -> None:
    control = PaceControl(campaign(dial_mode=mode, dial_level=3.0))
    decision = control.decide(_state(), at_limit=True)
    assert decision.mode == "progressive" and decision.calls == 4


def test_power_mode_dials_its_lines_per_free_agent_when_under_the_limit() -> None:
    control = PaceControl(campaign(dial_mode="power", dial_level=3.0))
    state = _state(calls_in_flight=2, window_human_answers=100, window_abandoned=1)
    decision = control.decide(state, at_limit=False)
    assert (decision.mode, decision.calls) == ("power", 10)


@pytest.mark.parametrize(("humans", "abandoned"), [(0, 0), (33, 0), (99, 2), (500, 15)])
def test_power_mode_dials_progressively_while_the_window_cannot_absorb_an_abandon(
    humans: int, abandoned: int
) -> None:
    """A new campaign, or one whose window is one abandon from 3 %, risks no abandon."""
    control = PaceControl(campaign(dial_mode="power", dial_level=3.0))
    state = _state(calls_in_flight=1, window_human_answers=humans, window_abandoned=abandoned)
    decision = control.decide(state, at_limit=False)
    assert (decision.mode, decision.calls) == ("progressive", 3)


def test_power_mode_dials_ahead_once_the_window_can_absorb_one_more_abandon() -> None:
    control = PaceControl(campaign(dial_mode="power", dial_level=3.0))
    state = _state(window_human_answers=34, window_abandoned=0)  # 1 / 34 <= 3 %
    assert control.decide(state, at_limit=False) == PaceDecision(12, "power")


def test_progressive_is_never_changed_and_respects_the_line_cap() -> None:
    control = PaceControl(campaign(dial_mode="progressive", max_lines=3))
    assert control.decide(_state(max_lines=3), at_limit=True).calls == 3


def test_a_changed_dial_level_rebuilds_the_pacer() -> None:
    control = PaceControl(campaign(dial_mode="power", dial_level=2.0))
    before = control.main
    control.update(campaign(dial_mode="power", dial_level=2.0))
    assert control.main is before
    control.update(campaign(dial_mode="power", dial_level=4.0))
    assert control.main is not before
    state = _state(window_human_answers=200, window_abandoned=0)
    assert control.decide(state, at_limit=False).calls == 16


@pytest.mark.parametrize(
    ("mine", "others", "expected"),
    [
        ({1, 2, 3}, [], 0),
        ({1, 2, 3}, [({3, 4}, 5)], 5),  # shares agent 3: its 5 calls compete for ours
        ({1, 2, 3}, [({4, 5}, 5)], 0),  # no agent in common
        ({1, 2, 3}, [({1}, 2), ({2, 9}, 3), ({7}, 4)], 5),
        ({1, 2}, [({1, 2}, 0)], 0),
        (set(), [({1}, 3)], 0),
    ],
)
def test_other_campaigns_calls_count_only_where_they_share_agents(
    mine: set[int], others: list[tuple[set[int], int]], expected: int
) -> None:
    assert shared_calls(mine, others) == expected


def test_a_power_campaign_leaves_free_agents_to_the_calls_of_a_campaign_sharing_them() -> None:
    control = PaceControl(campaign(dial_mode="power", dial_level=3.0))
    state = PacingState(
        t=0.0,
        agents_logged_in=4,
        agents_available=4,
        agents_on_call=0,
        agents_wrap_up=0,
        calls_in_flight=0,
        window_human_answers=0,  # a new campaign: the guard holds it to progressive
        shared_calls_in_flight=3,
    )
    decision = control.decide(state, at_limit=False)
    assert decision == PaceDecision(1, "progressive")  # 4 free, 3 wanted by the other


_NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York


def _runner(cid: int, agents: list[tuple[int, str]], in_flight: int, waiting: int = 0) -> Any:
    view = AgentView(cid)
    view.load([_row(a, s) for a, s in agents], 0.0)
    runner = SimpleNamespace(
        view=view,
        flow=SimpleNamespace(in_flight=lambda: in_flight, humans_waiting=lambda: waiting),
        launcher=SimpleNamespace(pending=0),
        inherited=0,
        budget=SimpleNamespace(window_counts=lambda: (100, 1)),
        timer=SimpleNamespace(now=lambda: 5.0),
        config=campaign(),
        clock=SimpleNamespace(now=lambda: _NOW),
        peers={},
        shared_elsewhere=0,
    )
    runner.busy = lambda: in_flight + waiting
    return runner


def test_the_engine_shows_each_pacer_the_calls_of_campaigns_sharing_its_agents() -> None:
    a = _runner(1, [(1, "available"), (2, "available"), (3, "on_call")], in_flight=1)
    b = _runner(2, [(2, "available"), (4, "available")], in_flight=2, waiting=1)
    c = _runner(3, [(9, "available")], in_flight=7)  # no agent in common with a
    a.peers = b.peers = c.peers = {1: a, 2: b, 3: c}
    sa, sb = pacing_state(a), pacing_state(b)
    assert (sa.agents_available, sa.calls_in_flight, sa.shared_calls_in_flight) == (2, 1, 3)
    assert (sb.calls_in_flight, sb.calls_waiting, sb.shared_calls_in_flight) == (2, 1, 1)
    assert pacing_state(c).shared_calls_in_flight == 0
    c.shared_elsewhere = 4  # another process's calls on c's agents (read by its upkeep)
    assert pacing_state(c).shared_calls_in_flight == 4


@pytest.mark.parametrize(
    ("ends_in_s", "windows", "expected"),
    [
        (None, None, None),  # nothing known: the pacer keeps its whole-day cushion
        (5400.0, None, 5400.0),  # the campaign's ends_at
        (None, {"mon": [["09:00", "17:00"]]}, 7 * 3600.0),  # the shift closes at 17:00
        (3600.0, {"mon": [["09:00", "17:00"]]}, 3600.0),  # the nearer of the two
        (None, {"mon": [["09:00", "24:00"]], "tue": [["00:00", "02:00"]]}, 16 * 3600.0),
        (None, {d: [["00:00", "24:00"]] for d in DAY_KEYS}, None),  # never closes
        # outside the shift (a person runs it there): no known end, the whole-day cushion
        (None, {"mon": [["11:00", "17:00"]]}, None),
    ],
)
def test_the_runner_tells_its_pacer_how_long_the_shift_has_left(
    ends_in_s: float | None, windows: dict[str, Any] | None, expected: float | None
) -> None:
    runner = _runner(1, [(1, "available")], in_flight=0)
    ends_at = None if ends_in_s is None else _NOW + timedelta(seconds=ends_in_s)
    shift = None if windows is None else {"timezone": "America/New_York", "windows": windows}
    runner.config = campaign(ends_at=ends_at, shift=shift)
    assert pacing_state(runner).shift_left_s == expected


def test_a_campaign_row_brings_its_end_and_shift_to_the_runner() -> None:
    shift = {"timezone": "Europe/Paris", "windows": {"mon": [["09:00", "18:00"]]}}
    config = campaign(ends_at=_NOW + timedelta(hours=1), shift=shift)
    assert shift_left(config, _NOW) == 3600.0  # 16:00 in Paris: the end comes first
    assert shift_left(campaign(shift={"timezone": "Nowhere/Bad"}), _NOW) is None


# Pending pauses as the pacer sees them: (agents with their state and pending action) →
# (agents_available, agents_pausing, the agent picked for a connecting call).
PENDING_TABLE: list[tuple[list[tuple[int, str, str | None]], int, int, int | None]] = [
    ([(1, "available", None), (2, "available", None)], 2, 0, 1),
    # a free agent holding a pause: neither free nor due, picked only when nobody else is
    ([(1, "available", "pause"), (2, "available", None)], 1, 0, 2),
    ([(1, "available", "pause")], 0, 0, 1),
    ([(1, "available", "logout"), (2, "available", "pause")], 0, 0, 1),
    # busy agents who pause after their call: due, but not for a call
    ([(1, "on_call", "pause"), (2, "wrap_up", "logout"), (3, "on_call", None)], 0, 2, None),
    ([(1, "wrap_up", None), (2, "available", None), (3, "paused", None)], 1, 0, 2),
]


@pytest.mark.parametrize(("agents", "free", "pausing", "picked"), PENDING_TABLE)
def test_the_pacer_counts_pending_pauses(
    agents: list[tuple[int, str, str | None]], free: int, pausing: int, picked: int | None
) -> None:
    runner = _runner(1, [], in_flight=0)
    runner.view.load([_row(a, s, pending_action=p) for a, s, p in agents], 0.0)
    state = pacing_state(runner)
    assert (state.agents_available, state.agents_pausing) == (free, pausing)
    slot = runner.view.pick()
    assert (slot.id if slot else None) == picked
    assert all(s.pending is None for s in runner.view.available())


def test_the_view_follows_pending_actions_from_the_bus() -> None:
    view = AgentView(1)
    view.load([_row(1, "available"), _row(2, "available")], 0.0)
    view.apply(_msg(1, "available", pending="pause"), 1.0)  # held: calls ring for it
    assert view.pausing() == (1, 0) and view.pick().id == 2  # type: ignore[union-attr]
    view.mark(1, "on_call", 2.0, campaign=1)  # a call connected to it anyway
    assert view.agents[1].pending == "pause" and view.pausing() == (0, 1)
    view.apply(_msg(1, "paused", pending=None), 3.0)  # after the call: the pause
    assert view.pausing() == (0, 0)
    view.apply(_msg(2, "available", pending="pause"), 4.0)
    view.apply(_msg(2, "available", pending=None), 5.0)  # ready: the hold is cancelled
    assert view.pausing() == (0, 0) and [s.id for s in view.available()] == [2]


def test_a_campaigns_shift_is_read_once_when_its_settings_load() -> None:
    shift = {"timezone": "Europe/Paris", "windows": {"mon": [["09:00", "18:00"]]}}
    config = campaign(shift=shift)
    assert config.shift_hours is not None and str(config.shift_hours.zone) == "Europe/Paris"
    assert campaign(shift={"timezone": "Nowhere/Bad"}).shift_hours is None  # unknown end
    assert campaign().shift_hours is None
