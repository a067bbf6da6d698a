"""A disposition's action decides the lead's next step (pure table and property tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.campaigns.codes import DEFAULT_DISPOSITIONS, Disposition, parse_dispositions
from dialer.engine.retry import after_disposition

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def plan(action: str | None, code: str = "X", **kw: object):  # type: ignore[no-untyped-def]
    args = {
        "dnc": False, "callback_at": None, "callback_agent_id": 7, "attempts_count": 1,
        "max_attempts": 3, "policy": {"no_answer": 3600}, "now": NOW, "action": action,
    } | kw  # fmt: skip
    return after_disposition(code, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("action", "kw", "status", "at"),
    [
        ("complete", {}, "completed", None),
        ("dnc", {}, "dnc", None),
        ("retry", {"retry_after_s": 600}, "retry", NOW + timedelta(seconds=600)),
        ("retry", {"retry_after_s": 600, "attempts_count": 3}, "exhausted", None),
        ("retry", {}, "retry", NOW + timedelta(seconds=3600)),  # the policy's delay
        ("callback", {"retry_after_s": 7200}, "callback", NOW + timedelta(hours=2)),
        ("callback", {"callback_at": NOW + timedelta(days=2)}, "callback",
         NOW + timedelta(days=2)),
        ("complete", {"dnc": True}, "dnc", None),  # the callee asked: always DNC
    ],
)  # fmt: skip
def test_action_table(action: str, kw: dict, status: str, at: datetime | None) -> None:
    got = plan(action, **kw)
    assert got.status == status and got.next_attempt_at == at


def test_default_set_keeps_todays_outcomes() -> None:
    by_code = {d.code: d.action for d in DEFAULT_DISPOSITIONS}
    for code in ("no_answer", "busy", "machine"):
        assert plan(by_code[code], code).status == "retry"
    for code in ("sale", "not_interested", "wrong_number", "other"):
        assert plan(by_code[code], code).status == "completed"
    assert plan(by_code["do_not_call"], "do_not_call").status == "dnc"


_codes = st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True)


@given(st.lists(_codes, min_size=1, max_size=20, unique_by=str.lower))
def test_valid_lists_round_trip(codes: list[str]) -> None:
    items = [{"code": c, "label": c.title(), "action": "complete"} for c in codes]
    parsed = parse_dispositions({"items": items})
    assert parsed == [Disposition(c, c.title(), "complete") for c in codes]
