"""Lead-list import benchmark: end-to-end rows/s and memory, against the bare parse rate.

    python bench/import_bench.py [--rows 1000000] [--workers N] [--json]

Generates a realistic mixed list (an Indian BPO's file: Indian numbers written every way
people write them, numbers of BD, KE, TZ, US, GB, FR, CA and AU in international forms,
US/CA/AU rows with a state and sometimes a ZIP, ~5 % unusable values, ~3 % repeats, a few
numbers on a DNC list) and imports it through the real code path (``Importer`` with its
worker pool) into a real PostgreSQL: ``DIALER_DATABASE_URL`` (a scratch database is
created and dropped) or an embedded server in a temporary folder.

Also measured, in the same run and on the same numbers: the single-core rate of bare
``phonenumbers.parse`` + ``is_valid_number`` (library defaults), and the ratio of the
end-to-end rate to it. Peak RSS is reported for the main process and for each worker.
On a shared machine the wall-clock ratio swings with the other jobs, so the CPU seconds of
each stage are printed too, and ``idle_machine_rows_per_s`` / ``idle_machine_ratio``: the
rate those CPU figures allow when the machine runs nothing else (the one PostgreSQL backend
that writes the import is serial), against the bare parse rate per CPU-second.

Not a test: it prints figures (one JSON object with ``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from figures import print_figures
from scratch import scratch_database

from dialer import db
from dialer.clock import SystemClock
from dialer.leads import imports
from dialer.leads.columns import map_columns
from dialer.leads.csvfile import inspect_file
from dialer.leads.importer import Importer, Progress
from dialer.leads.parallel import ParsePool, default_workers
from dialer.leads.pipeline import parsed_chunks
from dialer.leads.rows import LEADS, RowSpec
from dialer.migrate import migrate

CLOCK = SystemClock()
REGION = "IN"
# (region, share of rows, national-number prefixes to grow numbers from)
COUNTRIES = (
    ("IN", 0.40, ("98", "97", "96", "94", "93", "91", "90", "89", "88", "87", "86", "70", "63")),
    ("BD", 0.08, ("171", "181", "191", "161", "151", "131")),
    ("KE", 0.08, ("712", "722", "733", "701", "110", "745")),
    ("TZ", 0.05, ("754", "713", "655", "784", "621")),
    ("US", 0.14, ("212", "305", "415", "512", "602", "312", "206", "850", "915", "208")),
    ("GB", 0.08, ("7700", "7911", "7400", "20794", "161496", "1314960")),
    ("FR", 0.07, ("612", "623", "634", "1420", "4913")),
    ("CA", 0.05, ("416", "604", "514", "403", "867")),
    ("AU", 0.05, ("412", "423", "2813", "3924", "8982", "7345")),
)
US_PLACES = {
    "212": ("NY", "10001"),
    "305": ("FL", "33101"),
    "415": ("CA", "94103"),
    "512": ("TX", "78701"),
    "602": ("AZ", "85001"),
    "312": ("IL", "60601"),
    "206": ("WA", "98101"),
    "850": ("FL", "32501"),
    "915": ("TX", "79901"),
    "208": ("ID", "83201"),
}
CA_PLACES = {"416": "ON", "604": "BC", "514": "QC", "403": "AB", "867": "NU"}
INVALID = ("98765", "call me", "+44 20 1234", "n/a", "", "9.18765E+11", "12345678901234567", "-")
FIRST = ("Aarav", "Priya", "Rahul", "Fatima", "Wanjiru", "John", "Maria", "Chen", "Amélie", "Zoë")
LAST = ("Sharma", "Khan", "Otieno", "Smith", "García", "Nguyen", "Dubois", "O'Brien", "Müller")


def _stems(rng: random.Random) -> dict[str, list[str]]:
    """National-number stems (all but the last 4 digits) that make valid numbers."""
    stems: dict[str, list[str]] = {}
    for region, _, prefixes in COUNTRIES:
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        size = len(str(example.national_number)) if example else 10
        found: list[str] = []
        for _ in range(20000):
            if len(found) >= 60:
                break
            prefix = rng.choice(prefixes)
            stem = prefix + "".join(rng.choice("23456789") for _ in range(size - 4 - len(prefix)))
            if stem not in found and all(
                phonenumbers.is_valid_number(phonenumbers.parse(stem + tail, region))
                for tail in ("0000", "4821", "9999")
            ):
                found.append(stem)
        stems[region] = found
    return stems


def _write(region: str, national: str, rng: random.Random) -> str:
    """One way of writing the number, as people do in spreadsheets."""
    cc = phonenumbers.country_code_for_region(region)
    number = phonenumbers.parse(national, region)
    intl = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if region == REGION:
        return rng.choice(
            (
                intl,
                "0" + national[:5] + "-" + national[5:],
                national,
                f"+91-{national[:5]}-{national[5:]}",
                f"91 {national[:5]} {national[5:]}",
                f"0{national}",
                f"{national[:5]} {national[5:]}",
            )
        )
    return rng.choice(
        (
            intl,
            f"+{cc}{national}",
            f"00 {cc} {national}",
            "00" + intl[1:].replace(" ", "-"),
            f"+{cc} ({national[:3]}) {national[3:]}",
        )
    )


def generate(path: Path, rows: int, seed: int = 7) -> tuple[list[str], int]:
    """Write the list; return a few of its numbers (E.164) to put on a DNC list, and the
    number of DNC rows expected."""
    rng = random.Random(seed)
    stems = _stems(rng)
    regions = [c[0] for c in COUNTRIES]
    weights = [c[1] for c in COUNTRIES]
    counters = dict.fromkeys(regions, 0)
    recent: list[tuple[str, str]] = []
    dnc: list[str] = []
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            (
                "first_name",
                "last_name",
                "phone",
                "email",
                "city",
                "state",
                "zip",
                "amount_due",
                "notes",
            )
        )
        for i in range(rows):
            state = postal = ""
            roll = rng.random()
            if roll < 0.05:
                phone = rng.choice(INVALID)
            elif roll < 0.08 and recent:
                region, national = rng.choice(recent)
                phone = _write(region, national, rng)
            else:
                region = rng.choices(regions, weights)[0]
                group = stems[region]
                n = counters[region]
                counters[region] += 1
                national = group[n % len(group)] + f"{(n // len(group)) % 10000:04d}"
                phone = _write(region, national, rng)
                if len(recent) < 5000:
                    recent.append((region, national))
                elif rng.random() < 0.05:
                    recent[rng.randrange(5000)] = (region, national)
                if region == "US":
                    state, postal = US_PLACES.get(national[:3], ("", ""))
                    postal = postal if rng.random() < 0.6 else ""
                elif region == "CA":
                    state = CA_PLACES.get(national[:3], "")
                if rng.random() < 0.001:
                    dnc.append(
                        phonenumbers.format_number(
                            phonenumbers.parse(national, region),
                            phonenumbers.PhoneNumberFormat.E164,
                        )
                    )
            notes = rng.choice(("", "", 'called twice, "busy"', "prefers evening\nafter 6"))
            out.writerow(
                (
                    rng.choice(FIRST),
                    rng.choice(LAST),
                    phone,
                    f"p{i}@example.com",
                    "Pune",
                    state,
                    postal,
                    f"{rng.randrange(100000) / 100:.2f}",
                    notes,
                )
            )
    return dnc, len(dnc)


def bare_parse_rate(path: Path, limit: int) -> tuple[float, float, int]:
    """Single-core numbers/s of bare phonenumbers.parse + is_valid_number on the file's
    phone column (warm: a first pass loads the metadata)."""
    numbers: list[str] = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        phone = next(reader).index("phone")
        for row in reader:
            numbers.append(row[phone])
            if len(numbers) >= limit:
                break

    def run(values: list[str]) -> None:
        for value in values:
            try:  # noqa: SIM105 - contextlib.suppress would add its own cost to the baseline
                phonenumbers.is_valid_number(phonenumbers.parse(value, REGION))
            except phonenumbers.NumberParseException:
                pass

    run(numbers[:5000])
    started, cpu = time.perf_counter(), time.process_time()
    run(numbers)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return len(numbers) / wall, len(numbers) / cpu, len(numbers)


def _postgres_cpu_s(database: str) -> float | None:
    """CPU seconds used so far by the server processes of ``database`` (local servers)."""
    total = 0.0
    found = False
    tick = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            if not cmdline.startswith(b"postgres:") or database.encode() not in cmdline:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
        found = True
    return total if found else None


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def _parse_only(path: Path, pool: ParsePool) -> float:
    """Rows/s of the read + parallel parse stages alone (no database): what the worker pool
    gives over one core. Also starts the workers, so the import below runs on warm ones."""
    layout = inspect_file(path)
    columns = map_columns(layout.header, layout.sample, has_header=layout.has_header)
    spec = RowSpec(LEADS, columns, layout.delimiter, layout.transport, REGION)
    await pool.parse(spec, 2, b"+91 98765 43210\n")  # workers up
    rows = 0
    started = time.perf_counter()
    async for _, chunk in parsed_chunks(path, layout, spec, pool):
        rows += chunk.rows
    return rows / (time.perf_counter() - started)


async def _import(
    url: str, path: Path, dnc: list[str], workers: int, backend: str
) -> dict[str, Any]:
    conn = await db.connect(url)
    await migrate(conn)
    campaign = await conn.fetchval(
        "INSERT INTO campaigns (client_id, name, purpose, dial_mode, default_region)"
        " VALUES (1, $1, 'survey', 'predictive', $2) RETURNING id",
        f"bench-{uuid.uuid4().hex[:6]}",
        REGION,
    )
    await conn.executemany(
        "INSERT INTO dnc_entries (phone_e164, source) VALUES ($1, 'ncpr') ON CONFLICT DO NOTHING",
        [(p,) for p in dnc],
    )
    layout = inspect_file(path)
    job = await imports.create(
        conn,
        kind="leads",
        client_id=1,
        campaign_id=campaign,
        name="bench",
        file_name=path.name,
        source="cli",
        options={"default_region": REGION},
        path=path,
        layout=layout,
        created_by="bench",
        now=CLOCK.now(),
    )
    await conn.close()
    pool = await db.create_pool(url, min_size=2, max_size=4)
    parse_pool = ParsePool(workers, phone_backend=backend)
    progress: list[Progress] = []
    database = urlsplit(url).path.lstrip("/")
    try:
        parse_only = await _parse_only(path, parse_pool)
        importer = Importer(
            pool, parse_pool, CLOCK, instance_id="bench", on_progress=progress.append
        )
        pg_before = _postgres_cpu_s(database)
        started = time.perf_counter()
        cpu = os.times()
        row = await importer.run(job["id"])
        seconds = time.perf_counter() - started
        after = os.times()
        pg_after = _postgres_cpu_s(database)
        worker_rss = [_peak_rss_mb(pid) for pid in parse_pool.worker_pids()]
    finally:
        parse_pool.close()
        await pool.close()
    if row["state"] != "completed":
        raise SystemExit(f"import failed: {row['error']}")
    return {
        "row": row,
        "parse_only_rows_per_s": parse_only,
        "seconds": seconds,
        "main_cpu_s": after.user + after.system - cpu.user - cpu.system,
        "parse_cpu_s": progress[-1].parse_cpu_s if progress else None,
        "postgres_cpu_s": None if pg_before is None or pg_after is None else pg_after - pg_before,
        "worker_rss": [r for r in worker_rss if r is not None],
    }


async def _scratch(args: argparse.Namespace, path: Path, dnc: list[str]) -> dict[str, Any]:
    async with scratch_database("dialer_import_bench", migrated=False) as url:
        return await _import(url, path, dnc, args.workers, args.phone_backend)


def _idle_machine_rate(rows: int, result: dict[str, Any]) -> float | None:
    """Rows/s the measured CPU allows on this machine's cores when nothing else runs: the
    parse workers and the main process share the cores with the one PostgreSQL backend that
    writes the import, which cannot be split. A projection (the wall-clock rate on a shared
    machine depends on the other jobs); compare it with ``bare_parse_per_cpu_s``."""
    pg, parse, main = result["postgres_cpu_s"], result["parse_cpu_s"], result["main_cpu_s"]
    if pg is None or parse is None:
        return None
    cores = os.cpu_count() or 1
    return rows / max((pg + parse + main) / cores, pg, main)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument(
        "--parse-sample",
        type=int,
        default=200_000,
        help="numbers timed for the bare single-core parse rate",
    )
    parser.add_argument(
        "--phone-backend", default="auto", choices=("auto", "phonenumbers", "rphonenumbers")
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dialer-import-bench-"))
    try:
        path = folder / "leads.csv"
        started = time.perf_counter()
        dnc, _ = generate(path, args.rows)
        generated = time.perf_counter() - started
        file_mb = round(path.stat().st_size / 1e6, 1)
        bare_rate, bare_cpu_rate, sampled = bare_parse_rate(path, args.parse_sample)
        result = asyncio.run(_scratch(args, path, dnc))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    row = result["row"]
    rate = row["rows_read"] / result["seconds"]
    idle = _idle_machine_rate(row["rows_read"], result)
    figures = {
        "rows": row["rows_read"],
        "file_mb": file_mb,
        "workers": args.workers,
        "phone_backend": ParsePool(0, phone_backend=args.phone_backend).phone_backend,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "loadavg": Path("/proc/loadavg").read_text().strip(),
        "seconds": round(result["seconds"], 2),
        "rows_per_s": round(rate),
        "bare_parse_per_s_single_core": round(bare_rate),
        "bare_parse_per_cpu_s": round(bare_cpu_rate),
        "bare_parse_sample": sampled,
        "ratio": round(rate / bare_rate, 2),
        "parse_only_rows_per_s": round(result["parse_only_rows_per_s"]),
        "parse_only_ratio": round(result["parse_only_rows_per_s"] / bare_rate, 2),
        "idle_machine_rows_per_s": None if idle is None else round(idle),
        "idle_machine_ratio": None if idle is None else round(idle / bare_cpu_rate, 2),
        "cpu_s": {
            "main": round(result["main_cpu_s"], 2),
            "parse_workers": _round(result["parse_cpu_s"]),
            "postgres": _round(result["postgres_cpu_s"]),
        },
        "peak_rss_main_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_workers_mb": [round(r, 1) for r in result["worker_rss"]],
        "accepted": row["accepted"],
        "dnc": row["dnc"],
        "rejected": row["rejected"],
        "rejected_by_reason": row["rejected_by_reason"],
        "warnings": row["warnings"],
        "generate_s": round(generated, 1),
    }
    print_figures(figures, as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
