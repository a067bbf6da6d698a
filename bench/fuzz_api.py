"""Schema-driven fuzzing of the HTTP API with schemathesis, against the service's own
OpenAPI document (``/api/v1/openapi.json``).

    python bench/fuzz_api.py [--examples 60] [--json]

Runs the real application (import service included) over ``DIALER_DATABASE_URL`` (a
scratch database is created and dropped) or an embedded PostgreSQL in a temporary folder,
with an admin token, and sends every operation ``--examples`` generated requests in each
mode: positive (inputs the schema allows) and negative (inputs it forbids); operations on
one object run again on object 1 (which the generated POSTs have made by then). It counts
server errors (5xx) and schema mismatches (a response whose status, content type or body
the document does not describe). The goal is zero of both.

``fuzz(base_url, token, examples=...)`` is also what the test suite runs, with a small
budget (``tests/integration/test_fuzz_api.py``). Not a test: it prints figures (one JSON
object with ``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

SERVER_ERROR = "not_a_server_error"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


@dataclass
class Report:
    """What a fuzzing run found."""

    operations: int = 0
    requests: int = 0
    server_errors: int = 0
    mismatches: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, list[str]] = field(default_factory=dict)  # operation → messages

    def as_dict(self) -> dict[str, Any]:
        return {
            "operations": self.operations,
            "requests": self.requests,
            "server_errors": self.server_errors,
            "schema_mismatches": self.mismatches,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "failures": self.failures,
        }


def _record(report: Report, label: str, group: FailureGroup) -> None:
    for failure in group.exceptions:
        name = type(failure).__name__
        if "ServerError" in name:
            report.server_errors += 1
        else:
            report.mismatches += 1
        messages = report.failures.setdefault(label, [])
        text = f"{name}: {failure.title}"
        if text not in messages and len(messages) < 5:
            messages.append(text)


def fuzz(base_url: str, token: str, *, examples: int = 10, skip: tuple[str, ...] = ()) -> Report:
    """Fuzz every operation of the service at ``base_url`` (blocking: run it in a thread
    while the server's event loop keeps serving)."""
    document = requests.get(f"{base_url}/api/v1/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {token}"}
    report = Report()
    session = requests.Session()
    budget = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )

    def _run_operation(strategy: Any, label: str) -> None:
        @budget
        @given(case=strategy)
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=base_url, session=session, headers=headers)
            report.requests += 1
            report.statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as group:
                _record(report, label, group)

        with contextlib.suppress(Unsatisfiable):  # nothing to negate: no inputs
            run()

    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if label in skip:
            continue
        report.operations += 1
        for mode in MODES:
            _run_operation(operation.as_strategy(generation_mode=mode), label)
        if "{id}" in operation.path:  # again on an object that exists (made by a POST above)
            for mode in MODES:
                strategy = operation.as_strategy(generation_mode=mode, path_parameters={"id": 1})
                _run_operation(strategy, label)
    session.close()
    return report


def fuzz_app(pool: Any, settings: Any, clock: Any) -> Any:
    """The application as ``dialer serve`` answers the API: the import service and the
    agent bus running (without them some routes answer 503 by design), rate limits off."""
    from dialer.runtime.app import create_app
    from dialer.runtime.parts import agent_bus_part, imports_part

    settings = settings.with_overrides(api_rate_per_token=0, api_rate_per_address=0)
    return create_app(settings, pool=pool, clock=clock, background=[imports_part, agent_bus_part])


async def _serve(url: str, data_dir: Path) -> tuple[Any, Any, str, str]:
    """The application over ``url`` on a free port, and an admin token."""
    from aiohttp import web

    from dialer import db
    from dialer.auth.tokens import create_token
    from dialer.clock import SystemClock
    from dialer.config import Settings

    pool = await db.create_pool(url)
    clock = SystemClock()
    runner = web.AppRunner(fuzz_app(pool, Settings(data_dir=data_dir), clock))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with pool.acquire() as conn:
        token, _ = await create_token(conn, name="fuzz", role="admin", now=clock.now())
    return runner, pool, f"http://127.0.0.1:{port}", token


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    from scratch import scratch_database  # bench/ is on the path when run as a script

    folder = Path(tempfile.mkdtemp(prefix="dialer-fuzz-"))
    try:
        async with scratch_database("fuzz") as url:
            runner, pool, base_url, token = await _serve(url, folder / "data")
            started = time.perf_counter()
            try:
                report = await asyncio.to_thread(fuzz, base_url, token, examples=args.examples)
            finally:
                await runner.cleanup()
                await pool.close()
            elapsed = time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "examples_per_operation_and_mode": args.examples,
        "seconds": round(elapsed, 1),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        **report.as_dict(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=60)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    os.environ.setdefault("DIALER_LOG_LEVEL", "ERROR")
    figures = asyncio.run(_main(args))
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            if key != "failures":
                print(f"{key:>34}: {value}")
        for label, messages in figures["failures"].items():
            print(f"\n{label}")
            for message in messages:
                print(f"  {message}")
    return 1 if figures["server_errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
