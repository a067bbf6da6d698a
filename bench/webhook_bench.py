"""Webhook delivery benchmark: throughput, commit-to-delivery latency, and completeness
and per-lead order when the receiver fails on purpose.

    python bench/webhook_bench.py [--events 50000] [--leads 5000] [--json]

Runs against ``DIALER_DATABASE_URL`` (a scratch database is created and dropped) or an
embedded PostgreSQL in a temporary folder. A local aiohttp receiver (the reference
receiver: verifies every signature, applies each event id once) runs in the same process
as the delivery workers, so the figures are conservative. Phases:

1. drain: ``--events`` events are committed first, then the workers start; deliveries/s
   until every event is delivered.
2. latency: workers running, events committed one per transaction at ``--rate`` per second;
   p50/p99/max from commit to the receiver accepting the event.
3. failures: ``--events`` events while the receiver answers 500 to ``--fail-rate`` of the
   requests at random; every event must arrive exactly once (by event id) and in creation
   order per lead. Retries use a short backoff (``--retry-base`` seconds) so the phase
   ends in minutes; the production schedule starts at 10 s.

Not a test: it prints figures (one JSON object with ``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.fakes: the receiver

from scratch import scratch_database

from dialer import db
from dialer.auth.roles import SYSTEM
from dialer.clock import SystemClock
from dialer.outbox import enqueue
from dialer.secrets import SecretBox
from dialer.webhooks import subscriptions
from dialer.webhooks.retry import RetryPolicy
from dialer.webhooks.sender import new_session
from dialer.webhooks.worker import DeliveryWorker
from tests.fakes.receiver import Receiver

CLOCK = SystemClock()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Bench:
    def __init__(self, pool: asyncpg.Pool, args: argparse.Namespace) -> None:
        self.pool = pool
        self.args = args
        self.box = SecretBox(secrets.token_urlsafe(32))
        self.commits: dict[str, float] = {}  # event id -> monotonic time after commit
        self.lead_events: dict[int, list[str]] = {}

    async def subscribe(self, receiver: Receiver) -> int:
        async with self.pool.acquire() as conn:
            for row in await subscriptions.list_subscriptions(conn, None, limit=500):
                await subscriptions.delete_subscription(conn, row["id"], SYSTEM, now=CLOCK.now())
            row, _ = await subscriptions.create_subscription(
                conn,
                {"url": receiver.url, "events": ["*"], "secret": receiver.secret},
                SYSTEM,
                self.box,
                now=CLOCK.now(),
            )
        return int(row["id"])

    def workers(self, policy: RetryPolicy) -> list[DeliveryWorker]:
        return [
            DeliveryWorker(
                self.pool,
                CLOCK,
                self.box,
                session=new_session(limit=self.args.per_subscription),
                instance_id=f"bench-{n}",
                rng=random.Random(n),
                policy=policy,
                per_subscription=self.args.per_subscription,
            )
            for n in range(self.args.workers)
        ]

    async def produce(self, count: int, *, per_tx: int, lead_base: int, rate: float = 0) -> None:
        """Commit ``count`` events round-robin over the leads, ``per_tx`` per transaction."""
        leads = self.args.leads
        producers = 4 if rate == 0 else 1

        async def producer(part: int) -> None:
            mine = [i for i in range(count) if (i % leads) % producers == part]
            started = time.monotonic()
            for chunk_start in range(0, len(mine), per_tx):
                chunk = mine[chunk_start : chunk_start + per_tx]
                if rate:
                    due = started + chunk_start / rate
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                made: list[tuple[str, int]] = []
                async with self.pool.acquire() as conn, conn.transaction():
                    for i in chunk:
                        lead = lead_base + i % leads
                        event_id = await enqueue(
                            conn,
                            "attempt.completed",
                            client_id=1,
                            lead_id=lead,
                            now=CLOCK.now(),
                            data={"lead_id": lead, "seq": i, "outcome": "no_answer"},
                        )
                        made.append((str(event_id), lead))
                committed = time.monotonic()
                for event_id, lead in made:
                    self.commits[event_id] = committed
                    self.lead_events.setdefault(lead, []).append(event_id)

        await asyncio.gather(*(producer(p) for p in range(producers)))

    async def run_phase(
        self,
        name: str,
        *,
        count: int,
        respond: Callable[[dict[str, Any]], Awaitable[web.Response | int]] | None,
        policy: RetryPolicy,
        produce_first: bool,
        rate: float = 0,
        lead_base: int = 0,
    ) -> tuple[Receiver, float]:
        receiver = Receiver(secrets.token_urlsafe(24), respond=respond)
        await receiver.start()
        await self.subscribe(receiver)
        workers = self.workers(policy)
        self.commits.clear()
        self.lead_events.clear()
        if produce_first:
            await self.produce(count, per_tx=100, lead_base=lead_base)
        started = time.monotonic()
        for w in workers:
            w.start()
        if not produce_first:
            await self.produce(count, per_tx=1 if rate else 100, lead_base=lead_base, rate=rate)
        deadline = time.monotonic() + self.args.timeout
        while len(receiver.events) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        for w in workers:
            await w.stop()
            await w.session.close()
        await receiver.close()
        print(f"  {name}: {len(receiver.events)}/{count} in {elapsed:.1f} s", file=sys.stderr)
        return receiver, elapsed

    def latencies(self, receiver: Receiver) -> list[float]:
        first_ok: dict[str, float] = {}
        for a in receiver.arrivals:
            if a.event_id and 200 <= a.status < 300 and a.event_id not in first_ok:
                first_ok[a.event_id] = a.at
        return [first_ok[e] - t for e, t in self.commits.items() if e in first_ok]

    def in_order(self, receiver: Receiver) -> bool:
        position = {e: i for i, e in enumerate(receiver.order)}
        for events in self.lead_events.values():
            seen = [position[e] for e in events if e in position]
            if seen != sorted(seen) or len(seen) != len(events):
                return False
        return True


async def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    pool = await db.create_pool(url, min_size=2, max_size=args.pool_size)
    bench = Bench(pool, args)
    fast_retries = RetryPolicy(base_s=args.retry_base, max_delay_s=args.retry_base * 16)
    try:
        receiver, elapsed = await bench.run_phase(
            "drain", count=args.events, respond=None, policy=RetryPolicy(), produce_first=True
        )
        drain = {
            "events": args.events,
            "delivered": len(receiver.events),
            "seconds": round(elapsed, 2),
            "deliveries_per_s": round(len(receiver.events) / elapsed, 1),
        }

        receiver, _ = await bench.run_phase(
            "latency",
            count=args.latency_events,
            respond=None,
            policy=RetryPolicy(),
            produce_first=False,
            rate=args.rate,
            lead_base=10_000_000,
        )
        lat = bench.latencies(receiver)
        latency = {
            "events": args.latency_events,
            "rate_per_s": args.rate,
            "p50_ms": round(_percentile(lat, 0.50) * 1000, 1),
            "p99_ms": round(_percentile(lat, 0.99) * 1000, 1),
            "max_ms": round(max(lat, default=0) * 1000, 1),
        }

        chaos = random.Random(7)

        async def flaky(event: dict[str, Any]) -> int:
            return 500 if chaos.random() < args.fail_rate else 200

        receiver, elapsed = await bench.run_phase(
            "failures",
            count=args.events,
            respond=flaky,
            policy=fast_retries,
            produce_first=False,
            lead_base=20_000_000,
        )
        dead = await pool.fetchval("SELECT count(*) FROM webhook_deliveries WHERE state = 'dead'")
        failed = sum(1 for a in receiver.arrivals if a.status >= 500)
        lat = bench.latencies(receiver)
        failures = {
            "events": args.events,
            "fail_rate": args.fail_rate,
            "requests": len(receiver.arrivals),
            "failed_requests": failed,
            "every_event_arrived": set(receiver.events) == set(bench.commits),
            "duplicates_received": receiver.duplicates,
            "in_order_per_lead": bench.in_order(receiver),
            "dead_letters": dead,
            "seconds": round(elapsed, 2),
            "deliveries_per_s": round(len(receiver.events) / elapsed, 1),
            # Includes the wait behind the backlog and behind earlier events of the lead.
            "p99_commit_to_delivery_ms": round(_percentile(lat, 0.99) * 1000, 1),
            "retry_base_s": args.retry_base,
        }
    finally:
        await pool.close()
    return {
        "config": {
            "events": args.events,
            "leads": args.leads,
            "workers": args.workers,
            "per_subscription": args.per_subscription,
            "pool_size": args.pool_size,
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        "drain": drain,
        "latency": latency,
        "failures": failures,
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    async with scratch_database("webhook_bench") as url:
        return await run(args, url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--leads", type=int, default=5_000)
    parser.add_argument("--latency-events", type=int, default=3_000)
    parser.add_argument("--rate", type=float, default=300.0, help="latency phase events/s")
    parser.add_argument("--fail-rate", type=float, default=0.3)
    parser.add_argument("--retry-base", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=2, help="delivery workers (processes)")
    parser.add_argument("--per-subscription", type=int, default=8)
    parser.add_argument("--pool-size", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=900.0, help="per phase, seconds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps(result))
    else:
        for section, values in result.items():
            print(f"{section}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    ok = result["failures"]["every_event_arrived"] and result["failures"]["in_order_per_lead"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
