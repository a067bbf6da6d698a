"""The abandon budget: both legal windows, live calls counted, reload races over-count."""

from __future__ import annotations

from dialer.engine.budget import AbandonTally


def test_a_fresh_campaign_is_not_at_its_limit() -> None:
    budget = AbandonTally(0.03)
    assert not budget.at_limit()
    assert budget.rate("24h") == 0.0


def test_one_abandon_puts_a_young_campaign_at_its_limit_until_enough_answers() -> None:
    budget = AbandonTally(0.03)
    for _ in range(10):
        budget.human_answered()
    budget.abandoned()
    assert budget.at_limit()
    for _ in range(23):  # 1 / 33 ≈ 3.03 %: still at the limit
        budget.human_answered()
    assert budget.at_limit()
    budget.human_answered()  # 1 / 34 < 3 %: back under
    assert not budget.at_limit()


def test_the_24h_window_binds_when_the_30_day_rate_is_fine() -> None:
    budget = AbandonTally(0.03)
    budget.finish_reload({"24h": (20, 1), "30d": (1000, 1)})
    assert budget.binding_window() == "24h"
    assert budget.at_limit()
    assert budget.window_counts() == (20, 1)
    assert budget.rate("30d") == 0.001


def test_live_calls_count_before_they_are_written_and_not_twice_after() -> None:
    budget = AbandonTally(0.03)
    budget.finish_reload({"24h": (100, 2), "30d": (100, 2)})
    budget.human_answered()
    budget.abandoned()
    assert budget.counts("24h") == (101, 3)
    assert not budget.at_limit()  # 3 / 101 < 3 %
    budget.written(human=True, abandoned=True)
    assert budget.counts("24h") == (101, 3)
    assert (budget.live_humans, budget.live_abandoned) == (0, 0)
    budget.abandoned()  # 4 / 101: over
    assert budget.at_limit()


def test_a_reload_racing_a_write_over_counts_never_under_counts() -> None:
    budget = AbandonTally(0.03)
    budget.human_answered()
    budget.abandoned()
    budget.begin_reload()
    budget.written(human=True, abandoned=True)  # committed while the count query ran
    budget.finish_reload({"24h": (1, 1), "30d": (1, 1)})  # the query saw it too
    humans, abandoned = budget.counts("24h")
    assert abandoned >= 1 and humans >= 1


def test_machines_do_not_count_as_live_answers() -> None:
    budget = AbandonTally(0.03)
    budget.written(human=False, abandoned=False)
    assert budget.counts("30d") == (0, 0)
