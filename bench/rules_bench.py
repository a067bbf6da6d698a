"""Benchmark the calling-rules engine: decisions/s and resolve_place calls/s on one core.

    .venv/bin/python bench/rules_bench.py [--json] [--decisions N] [--numbers N] [--seed S]

Decisions: a mixed set of numbers (US states incl. two-zone area codes, Canada, France and
its overseas departments, Australia incl. mobiles without a postcode, UK, India,
Bangladesh, Kenya, Tanzania, countries on the global default), all four purposes, instants
spread over 2026-2027 (about half of them outside calling hours, so ``next_allowed_at`` is
searched), and an attempt history for one decision in five. Caches are warmed on a separate
sample of the same distribution first. resolve_place: already-parsed random valid numbers,
first pass (memo cold) and steady state. Rates are per CPU-second of this one thread.
Goals: >= 50,000 decisions/s, >= 100,000 resolve_place/s for parsed numbers.
This prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers

from dialer.compliance import PURPOSES, ContactRecord, LeadInfo, decide, resolve_place
from dialer.compliance.geodata import nanp_table

REGIONS = ["FR", "GP", "AU", "GB", "IN", "BD", "KE", "TZ", "DE", "BR", "MX", "JP", "ZA", "NG"]
START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 2 * 365 * 86400


def _pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to cpu {cpu}"
    return "not pinned"


def _random_numbers(rnd: random.Random, count: int) -> list[phonenumbers.PhoneNumber]:
    """Valid numbers: half NANP (real area codes), half from REGIONS (mobile and fixed)."""
    npas = [a.npa for a in nanp_table().values() if a.region in ("US", "CA") and a.zones]
    kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
    templates = []
    for region in REGIONS:
        for kind in kinds:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                templates.append(example)
    numbers: list[phonenumbers.PhoneNumber] = []
    while len(numbers) < count:
        if rnd.random() < 0.5:
            text = f"+1{rnd.choice(npas)}{rnd.randint(200, 999)}{rnd.randint(0, 9999):04d}"
        else:
            base = rnd.choice(templates)
            digits = str(base.national_number)
            tail = "".join(str(rnd.randint(0, 9)) for _ in range(len(digits) - 3))
            text = f"+{base.country_code}{digits[: len(digits) - len(tail)]}{tail}"
        number = phonenumbers.parse(text)
        if phonenumbers.is_valid_number(number):
            numbers.append(number)
    return numbers


def _history(rnd: random.Random, at: datetime, purpose: str) -> tuple[ContactRecord, ...]:
    if rnd.random() >= 0.2:
        return ()
    return tuple(
        ContactRecord(
            at_utc=at - timedelta(seconds=rnd.randint(600, 20 * 86400)),
            outcome=rnd.choice(("no_answer", "busy", "machine", "human", "completed")),
            same_campaign=rnd.random() < 0.8,
            purpose=purpose,
            conversation=rnd.random() < 0.1,
            abandoned=rnd.random() < 0.03,
        )
        for _ in range(rnd.randint(1, 8))
    )


Case = tuple[LeadInfo, str, datetime, tuple[ContactRecord, ...]]


def _cases(rnd: random.Random, leads: Sequence[LeadInfo], count: int) -> list[Case]:
    cases = []
    for _ in range(count):
        lead = rnd.choice(leads)
        purpose = rnd.choice(PURPOSES)
        at = START + timedelta(seconds=rnd.randrange(SPAN_SECONDS))
        cases.append((lead, purpose, at, _history(rnd, at, purpose)))
    return cases


def _leads(rnd: random.Random, numbers: Sequence[phonenumbers.PhoneNumber]) -> list[LeadInfo]:
    leads = []
    for number in numbers:
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        postal = None
        if e164.startswith("+61") and rnd.random() < 0.5:
            postal = rnd.choice(("2000", "3000", "4000", "5000", "6000", "0800", "7000"))
        leads.append(LeadInfo.from_phone(e164, postal_code=postal))
    return leads


def _rate(func: Callable[[], int]) -> tuple[float, int]:
    """Calls per CPU-second of this (single-threaded) process, so that other load on the
    machine does not count against us."""
    began = time.process_time()
    count = func()
    return count / (time.process_time() - began), count


def run(decisions: int, numbers: int, seed: int, *, pin: bool = False) -> dict[str, Any]:
    rnd = random.Random(seed)
    pinned = _pin_one_core() if pin else "one thread, CPU time"
    parsed = _random_numbers(rnd, numbers)

    def place_pass() -> int:
        for number in parsed:
            resolve_place(number)
        return len(parsed)

    place_cold, _ = _rate(place_pass)
    place_warm, _ = _rate(place_pass)
    strings = [phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) for n in parsed]

    def string_pass() -> int:
        for text in strings:
            resolve_place(text)
        return len(strings)

    place_strings, _ = _rate(string_pass)

    leads = _leads(rnd, parsed[:2000])
    warm = _cases(rnd, leads, max(decisions // 2, 1000))
    cases = _cases(rnd, leads, decisions)
    for lead, purpose, at, history in warm:
        decide(lead, purpose, at, history)
    blocked = 0

    def decide_pass() -> int:
        nonlocal blocked
        for lead, purpose, at, history in cases:
            blocked += not decide(lead, purpose, at, history).allowed
        return len(cases)

    decide_rate, count = _rate(decide_pass)
    return {
        "decisions_per_s": round(decide_rate),
        "decisions": count,
        "blocked_share": round(blocked / count, 3),
        "with_history_share": round(sum(1 for c in cases if c[3]) / count, 3),
        "resolve_place_per_s_parsed_cold": round(place_cold),
        "resolve_place_per_s_parsed_warm": round(place_warm),
        "resolve_place_per_s_from_string": round(place_strings),
        "numbers": len(parsed),
        "python": platform.python_version(),
        "cpu": pinned,
        "goals": {"decisions_per_s": 50_000, "resolve_place_per_s_parsed": 100_000},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--pin", action="store_true", help="pin the process to one CPU")
    args = parser.parse_args(argv)
    result = run(args.decisions, args.numbers, args.seed, pin=args.pin)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"decide:        {result['decisions_per_s']:>10,} decisions/s "
              f"({result['decisions']:,} decisions, {result['blocked_share']:.0%} blocked, "
              f"{result['with_history_share']:.0%} with history)")  # fmt: skip
        print(
            f"resolve_place: {result['resolve_place_per_s_parsed_cold']:>10,} /s parsed, cold memo"
        )
        print(f"               {result['resolve_place_per_s_parsed_warm']:>10,} /s parsed, warm")
        print(f"               {result['resolve_place_per_s_from_string']:>10,} /s from E.164 text")
        print(f"({result['numbers']:,} numbers; Python {result['python']}; {result['cpu']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
