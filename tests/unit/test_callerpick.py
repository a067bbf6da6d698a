"""Caller-ID picking (pure): local presence tiers, the daily cap, rotation, retirement."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dialer.campaigns.callerpick import PoolNumber, Where, pick, where_of

MIAMI = PoolNumber("+13055550100", Where("305", "FL", "US"))
TAMPA = PoolNumber("+18135550100", Where("813", "FL", "US"))
SF = PoolNumber("+14155550100", Where("415", "CA", "US"))
POOL = [MIAMI, TAMPA, SF]


def test_where_of_reads_area_state_and_country() -> None:
    assert where_of("+13055550100") == Where("305", "FL", "US")
    assert where_of("+442079460000").region == "GB"


def test_tiers_rotation_cap_and_default() -> None:
    def who(callee: Where, **kw: object) -> str | None:
        args: dict[str, object] = {
            "default": "+16505550100",
            "local_presence": True,
            "daily_cap": None,
            "used_today": {},
        }
        args.update(kw)
        return pick(POOL, callee, **args).caller_id  # type: ignore[arg-type]

    assert who(Where("813", "FL", "US")) == TAMPA.number
    assert who(Where("954", "FL", "US"), used_today={MIAMI.number: 5}) == TAMPA.number
    assert who(Where("305", "FL", "US"), daily_cap=5, used_today={MIAMI.number: 5}) in (
        TAMPA.number
    )
    assert who(Where(None, None, "GB"), local_presence=False, used_today={MIAMI.number: 1}) == (
        TAMPA.number
    )
    capped = {p.number: 3 for p in POOL}
    assert who(Where("305", "FL", "US"), daily_cap=3, used_today=capped) == "+16505550100"
    assert pick([], Where("305", "FL", "US"), default=None, local_presence=True,
                daily_cap=None, used_today={}).reason.startswith("campaign caller_id")  # fmt: skip


@given(
    st.lists(st.booleans(), min_size=3, max_size=3),
    st.dictionaries(st.sampled_from([p.number for p in POOL]), st.integers(0, 10)),
    st.one_of(st.none(), st.integers(1, 10)),
    st.booleans(),
    st.sampled_from([Where("305", "FL", "US"), Where("212", "NY", "US"), Where(None, None, "GB")]),
)
def test_a_pick_is_never_retired_nor_over_its_cap(
    retired: list[bool], used: dict[str, int], cap: int | None, local: bool, callee: Where
) -> None:
    pool = [PoolNumber(p.number, p.where, r) for p, r in zip(POOL, retired, strict=True)]
    got = pick(pool, callee, default="+16505550100", local_presence=local, daily_cap=cap,
               used_today=used)  # fmt: skip
    chosen = next((p for p in pool if p.number == got.caller_id), None)
    if chosen is None:  # the default: only when no pool number is usable
        assert all(p.retired or (cap is not None and used.get(p.number, 0) >= cap) for p in pool)
    else:
        assert not chosen.retired
        assert cap is None or used.get(chosen.number, 0) < cap
    assert got.reason
