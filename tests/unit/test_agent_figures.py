"""The agent report's arithmetic: time by state and pause code, calls by disposition,
connects per logged-in hour."""

from __future__ import annotations

from typing import Any

import pytest

from dialer.stats.agents import agent_figures, report_csv

AGENT = {"id": 7, "name": "Ann"}


@pytest.mark.parametrize(
    ("spans", "calls", "expected"),
    [
        ([], [], {"calls": 0, "logged_in_s": 0.0, "connects_per_hour": None,
                  "pause_by_code": {}, "dispositions": {}}),
        ([("available", None, 1800.0), ("on_call", None, 1500.0), ("wrap_up", None, 300.0)],
         [("SALE", 2), ("NI", 1), (None, 1)],
         {"calls": 4, "wait_s": 1800.0, "talk_s": 1500.0, "wrap_up_s": 300.0,
          "logged_in_s": 3600.0, "connects_per_hour": 4.0,
          "dispositions": {"NI": 1, "SALE": 2}}),
        ([("paused", "BREAK", 60.0), ("paused", None, 30.0), ("paused", "BREAK", 0.5)], [],
         {"pause_s": 90.5, "pause_by_code": {"BREAK": 60.5, "pause": 30.0},
          "logged_in_s": 90.5, "connects_per_hour": 0.0}),
        ([("offline", None, 999.0), ("available", None, 1.0004)], [],
         {"wait_s": 1.0, "logged_in_s": 1.0}),
        ([("dialing", None, 12.0), ("on_call", None, 48.0)], [(None, 1)],
         {"talk_s": 48.0, "dialing_s": 12.0, "logged_in_s": 60.0, "connects_per_hour": 60.0}),
    ],
)  # fmt: skip
def test_figures(
    spans: list[tuple[str, str | None, float]],
    calls: list[tuple[str | None, int]],
    expected: dict[str, Any],
) -> None:
    line = agent_figures(AGENT, spans, calls)
    assert {k: line[k] for k in expected} == expected
    assert line["agent_id"] == 7 and line["name"] == "Ann"


def test_csv_neutralises_formulas_in_names_and_codes() -> None:
    line = agent_figures({"id": 1, "name": "@SUM(A1)"}, [("paused", "-X", 5.0)], [("+D", 1)])
    text = report_csv({"agents": [line]})
    header, row = text.splitlines()
    assert "pause_s:-X" in header and "disposition:+D" in header
    assert row.startswith("1,'@SUM(A1),1,")
