"""``dialer import FILE --campaign ID_OR_NAME``: load a lead list from the command line.

Runs the same importer as an HTTP upload, in this process, on every core. On a terminal a
progress line (rows, rows/s, ETA) is drawn on stderr; at the end a summary (or, with
``--json``, one JSON object). Exit 0 when the import ran, even with rejected rows; 2 for
unusable input (no such file, not CSV, no phone column, unknown campaign), 1 when the
import failed for another reason (nothing of it was loaded).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import asyncpg

from dialer import db
from dialer.auth.roles import SYSTEM
from dialer.campaigns import store as campaigns
from dialer.cli.common import connection, print_json, run, settings_from
from dialer.clock import SystemClock
from dialer.errors import DialerError, UsageError
from dialer.leads import imports
from dialer.leads.background import settle_dead_imports
from dialer.leads.importer import Importer, Progress
from dialer.leads.parallel import ParsePool
from dialer.leads.submit import FileOptions, lead_import, split_columns


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import a lead list (CSV) into a campaign")
    p.add_argument("file", metavar="FILE", type=Path, help="CSV file with a header row")
    p.add_argument("--campaign", required=True, metavar="ID_OR_NAME")
    add_file_options(p)
    p.add_argument(
        "--alt-phone-column",
        action="append",
        default=[],
        metavar="COL",
        help="an alternate phone column (repeat for several)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_import)


def add_file_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--region", help="country of numbers without +country code (e.g. IN)")
    p.add_argument("--phone-column", metavar="COL", help="the phone column (default: detected)")
    p.add_argument("--name", help="name of the list (default: the file name)")
    p.add_argument("--errors", type=Path, metavar="OUT.csv", help="write the rejected rows here")
    p.add_argument("--workers", type=int, help="parse processes (default: one per core)")


def file_options(args: argparse.Namespace) -> FileOptions:
    path: Path = args.file
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    return FileOptions(
        name=args.name,
        file_name=path.name,
        default_region=args.region,
        phone_column=args.phone_column,
        alt_phone_columns=split_columns(getattr(args, "alt_phone_column", None)),
        source="cli",
    )


class ProgressLine:
    """``  42%  420,000 rows  31,500 rows/s  ETA 0:18`` redrawn on a terminal's stderr."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self._last = 0.0
        self._drawn = False

    def update(self, progress: Progress) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.2:
            return
        self._last = now
        share = progress.bytes_read / progress.bytes_total if progress.bytes_total else 0
        rate = progress.rows_per_s
        eta = progress.eta_s
        text = f"\r  {share:4.0%}  {progress.rows:,} rows"
        if rate:
            text += f"  {rate:,.0f} rows/s"
        if eta is not None:
            text += f"  ETA {int(eta) // 60}:{int(eta) % 60:02d}"
        self.stream.write(text.ljust(60))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


async def run_import(
    args: argparse.Namespace,
    create: Callable[[asyncpg.Connection], Awaitable[dict[str, Any]]],
) -> tuple[dict[str, Any], BaseException | None]:
    """Record the import with ``create`` (checks the file), run it here; (record, failure)."""
    settings = settings_from(args)
    async with connection(settings) as conn:
        job = await create(conn)
    url = await db.database_url(settings, quiet=True)
    pool = await db.create_pool(url, min_size=1, max_size=3)
    await settle_dead_imports(pool, SystemClock())  # imports whose process was killed
    parse_pool = ParsePool(args.workers)
    line = ProgressLine(sys.stderr)
    importer = Importer(
        pool, parse_pool, SystemClock(), instance_id=settings.instance_id, on_progress=line.update
    )
    try:
        row = await importer.run(job["id"])
        if args.errors is not None:
            async with pool.acquire() as conn:
                await write_report(conn, row["id"], args.errors)
    finally:
        line.close()
        parse_pool.close()
        await pool.close()
    return row, importer.last_error


async def write_report(conn: asyncpg.Connection, import_id: int, path: Path) -> None:
    try:
        with open(path, "wb") as out:
            async for piece in imports.report_csv(conn, import_id):
                out.write(piece)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def summary(row: dict[str, Any]) -> dict[str, Any]:
    shown = imports.present(row)
    return {
        "import_id": row["id"],
        "list_id": row["list_id"],
        "state": row["state"],
        "rows": row["rows_read"],
        "accepted": row["accepted"],
        "rejected": row["rejected"],
        "rejected_by_reason": row["rejected_by_reason"],
        "dnc": row["dnc"],
        "warnings": row["warnings"],
        "seconds": shown["seconds"],
        "rows_per_s": shown["rows_per_s"],
        "error": row["error"],
    }


def report(args: argparse.Namespace, row: dict[str, Any], failure: BaseException | None) -> int:
    """Print the outcome; the exit code."""
    data = summary(row)
    if row["state"] != "completed":
        if args.json:
            print_json(data)
        message = row["error"] or "the import failed"
        if isinstance(failure, UsageError):
            raise UsageError(message)
        raise DialerError(message)
    if args.json:
        print_json(data)
        return 0
    rate = f" ({data['rows_per_s']:,.0f} rows/s)" if data["rows_per_s"] else ""
    print(f"import {row['id']}: {data['rows']:,} rows in {data['seconds'] or 0:.1f} s{rate}")
    print(f"  accepted  {data['accepted']:>12,}")
    if data["dnc"]:
        print(f"  dnc       {data['dnc']:>12,}  (stored with status dnc, never dialed)")
    reasons = ", ".join(f"{k} {v:,}" for k, v in data["rejected_by_reason"].items())
    print(f"  rejected  {data['rejected']:>12,}" + (f"  ({reasons})" if reasons else ""))
    if data["warnings"]:
        print("  warnings  " + ", ".join(f"{k} {v:,}" for k, v in data["warnings"].items()))
    if data["rejected"] and args.errors is None:
        print(f"  rejected rows: GET /api/v1/imports/{row['id']}/errors.csv or --errors FILE")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    options = file_options(args)

    async def create(conn: asyncpg.Connection) -> dict[str, Any]:
        campaign = await campaigns.find(conn, args.campaign, None)
        return await lead_import(
            conn, args.file.resolve(), campaign["id"], options, SYSTEM, now=datetime.now(UTC)
        )

    row, failure = run(run_import(args, create))
    return report(args, row, failure)
