"""Token buckets (dialer.api.ratelimit.Buckets): never more than burst + rate x time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dialer.api.ratelimit import Buckets


def test_a_full_bucket_gives_its_burst_then_waits() -> None:
    b = Buckets(rate=2.0, burst=3)
    assert [b.take("k", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.take("k", 0.0) == 0.5
    assert b.take("k", 0.5) == 0.0


def test_rate_zero_is_no_limit() -> None:
    b = Buckets(rate=0.0, burst=1)
    assert all(b.take("k", 0.0) == 0.0 for _ in range(1000))


@given(
    st.floats(0.1, 100.0),
    st.integers(1, 50),
    st.lists(st.floats(0.0, 5.0), min_size=1, max_size=200),
)
def test_granted_requests_never_exceed_burst_plus_refill(
    rate: float, burst: int, gaps: list[float]
) -> None:
    b = Buckets(rate=rate, burst=burst)
    now = 0.0
    granted = 0
    for gap in gaps:
        now += gap
        granted += b.take("k", now) == 0.0
    assert granted <= burst + rate * now + 1e-6


def test_many_addresses_do_not_grow_the_table_without_bound() -> None:
    from dialer.api import ratelimit

    b = Buckets(rate=0.001, burst=2)
    for i in range(3 * ratelimit.MAX_KEYS):
        b.take(f"10.0.{i}", float(i) * 1e-6)
        assert len(b.levels) <= ratelimit.MAX_KEYS
    b.take("10.0.0.0", 1.0)  # a forgotten key starts full again
    assert b.take("10.0.0.0", 1.0) == 0.0
