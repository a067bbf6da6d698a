"""Phone backends at scale: parity of rphonenumbers with phonenumbers, and both parse rates.

    python bench/phone_parity_bench.py [--numbers 1000000] [--workers N] [--json]

Generates ``--numbers`` cases (``dialer.leads.parity.generate``: the rule packs' countries
and every supported region, written every way, with extensions, too short/long, garbage),
compares every field a lead keeps under both backends (in worker processes, chunk by chunk),
and times ``normalise_number`` single-core on each backend over the first ``--rate-sample``
cases. Also reports the cases where the two libraries themselves disagree (the per-country
fallback covers them). Not a test: it prints figures (one JSON object with ``--json``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from figures import print_figures

from dialer.leads import numbers, parity, phones

CHUNK = 20_000


def _check(seed: int, count: int) -> tuple[int, int, list[str], dict[int, int]]:
    cases = list(parity.generate(count, seed=seed))
    bad = parity.compare(cases)
    examples = [f"{t!r} {r}: {a} != {b}" for t, r, a, b in bad[:5]]
    return len(cases), len(bad), examples, parity.raw_disagreements(cases)


def _rate(backend: str, cases: list[tuple[str, str | None]]) -> float:
    with numbers.using(backend):
        for text, region in cases[:2000]:
            phones.normalise_number(text, region)
        started = time.process_time()
        for text, region in cases:
            phones.normalise_number(text, region)
        return len(cases) / (time.process_time() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rate-sample", type=int, default=200_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    compared, mismatches, examples, raw = 0, 0, [], Counter[int]()
    seeds = range(100, 100 + (args.numbers + CHUNK - 1) // CHUNK)
    with ProcessPoolExecutor(args.workers) as pool:
        for count, bad, found, disagree in pool.map(_check, seeds, [CHUNK] * len(seeds)):
            compared += count
            mismatches += bad
            examples += found
            raw.update(disagree)
    seconds = time.perf_counter() - started
    sample = list(parity.generate(args.rate_sample, seed=7))
    slow, fast = _rate(numbers.PHONENUMBERS, sample), _rate(numbers.RPHONENUMBERS, sample)
    fast_module = numbers._import_fast()
    figures = {
        "numbers_compared": compared,
        "mismatches": mismatches,
        "mismatch_examples": examples[:10],
        "library_disagreements_by_country_code": dict(raw),
        "fallback_country_codes": sorted(numbers.active().fallback_codes),
        "versions": numbers.version_pair(fast_module) if fast_module else None,
        "compare_seconds": round(seconds, 1),
        "normalise_per_cpu_s_phonenumbers": round(slow),
        "normalise_per_cpu_s_rphonenumbers": round(fast),
        "speedup": round(fast / slow, 2),
        "loadavg": Path("/proc/loadavg").read_text().strip(),
    }
    print_figures(figures, as_json=args.json)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
