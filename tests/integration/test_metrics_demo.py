"""A running ``dialer demo`` exports every metric the dashboards and alerts read.

The demo runs as a real process (simulated agents and gateway, sped up) on a test
database. The test subscribes a local CRM receiver to webhooks and uploads a small lead
list through the API, so deliveries and imports happen too; then it scrapes ``/metrics``
over HTTP, parses it with ``prometheus_client.parser`` and checks that every metric name a
Grafana panel, a dashboard variable or an alert rule reads has samples, and that the core
counters moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from tests.unit.observability.artifacts import PROMETHEUS_OWN, referenced
from tests.unit.observability.promql import exposed_names

pytestmark = pytest.mark.slow
LIST = "phone,name\n+14155550001,Ann\n+14155550002,Bob\nnot a number,Cy\n+14155550001,Ann again\n"


@dataclass
class Demo:
    proc: asyncio.subprocess.Process
    base: str = ""
    token: str = ""
    campaign_id: int = 0
    stderr: list[str] = field(default_factory=list)


@dataclass
class Scrape:
    samples: dict[str, float]  # sample name -> sum of its values over all label sets
    families: dict[str, str]  # family name -> type


async def _read_stderr(demo: Demo, ready: asyncio.Event) -> None:
    assert demo.proc.stderr is not None
    async for raw in demo.proc.stderr:
        line = raw.decode(errors="replace").rstrip()
        demo.stderr.append(line)
        if m := re.search(r"dialer demo: campaign (\d+)", line):
            demo.campaign_id = int(m.group(1))
        if m := re.search(r"token, admin: (dlr_\S+)\)", line):
            demo.token = m.group(1)
        if m := re.search(r"metrics\s+(http://\S+)/metrics", line):
            demo.base = m.group(1)
            ready.set()


async def _listening(base: str) -> None:
    """Wait until the demo's server answers (it prints its address before listening)."""
    async with aiohttp.ClientSession() as session:
        while True:
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with session.get(f"{base}/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def running_demo(url: str, data_dir: Path) -> AsyncIterator[Demo]:
    env = {
        **os.environ,
        "DIALER_DATABASE_URL": url,
        "DIALER_DATA_DIR": str(data_dir),
        "DIALER_PORT": "0",
    }
    env.pop("DIALER_LOG_LEVEL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "dialer", "demo", "--duration", "180", "--speed", "50"),
        *("--agents", "8", "--leads", "600", "--json"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    demo, ready = Demo(proc), asyncio.Event()
    reader = asyncio.create_task(_read_stderr(demo, ready))
    summary = asyncio.create_task(proc.stdout.read())
    try:
        async with asyncio.timeout(60):
            await ready.wait()
            await _listening(demo.base)
        yield demo
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)  # graceful, as Ctrl-C
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 60)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await asyncio.gather(reader, summary, return_exceptions=True)


@contextlib.asynccontextmanager
async def crm_receiver() -> AsyncIterator[tuple[str, list[str]]]:
    """A CRM endpoint that accepts every webhook; yields its URL and the event types."""
    received: list[str] = []

    async def accept(request: web.Request) -> web.Response:
        received.append(request.headers.get("X-Dialer-Event-Type", "?"))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/events", accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/events", received
    finally:
        await runner.cleanup()


async def scrape(session: aiohttp.ClientSession, base: str) -> Scrape:
    async with session.get(f"{base}/metrics") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        text = await resp.text()
    samples: dict[str, float] = {}
    families: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for sample in family.samples:
            samples[sample.name] = samples.get(sample.name, 0.0) + sample.value
    return Scrape(samples, families)


MOVED = (
    "dialer_dials_total",
    "dialer_call_outcomes_total",
    "dialer_human_answers_total",
    "dialer_connects_total",
    "dialer_pacer_launched_calls_total",
    "dialer_compliance_decisions_total",
    "dialer_wait_to_connect_seconds_count",
    "dialer_talk_seconds_count",
    "dialer_wrap_seconds_count",
    "dialer_event_to_dial_seconds_count",
    "dialer_webhook_deliveries_total",
    "dialer_webhook_delivery_latency_seconds_count",
    "dialer_import_rows_total",
    "dialer_import_duration_seconds_count",
    "dialer_http_requests_total",
    "dialer_runner_leases",
    "dialer_leads",
    "dialer_campaign_state",
    "dialer_campaign_info",
)


def _not_moved(s: Scrape) -> list[str]:
    return [name for name in MOVED if s.samples.get(name, 0.0) <= 0]


async def test_every_metric_read_by_dashboards_and_alerts_is_exported(
    fresh_db_url: str, tmp_path: Path
) -> None:
    wanted = referenced()
    async with (
        crm_receiver() as (crm_url, received),
        running_demo(fresh_db_url, tmp_path) as demo,
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {demo.token}"}) as session,
    ):
        assert demo.token and demo.campaign_id, demo.stderr
        async with session.post(
            f"{demo.base}/api/v1/webhooks", json={"url": crm_url, "events": ["*"]}
        ) as resp:
            assert resp.status == 201, await resp.text()
        async with session.post(
            f"{demo.base}/api/v1/campaigns/{demo.campaign_id}/lists",
            data=LIST.encode(),
            params={"file_name": "extra.csv", "default_region": "US"},
            headers={"Content-Type": "text/csv"},
        ) as resp:
            assert resp.status == 202, await resp.text()

        deadline = time.monotonic() + 120
        latest = await scrape(session, demo.base)
        while _not_moved(latest):
            assert time.monotonic() < deadline, (
                f"counters that never moved: {_not_moved(latest)}\n" + "\n".join(demo.stderr[-20:])
            )
            await asyncio.sleep(0.5)
            latest = await scrape(session, demo.base)

        exposed = exposed_names(latest.families.items())
        undeclared = {n: w for n, w in wanted.items() if n not in exposed | PROMETHEUS_OWN}
        assert not undeclared, undeclared
        empty = {
            name: where
            for name, where in wanted.items()
            if name not in {*latest.samples, *PROMETHEUS_OWN}
        }
        assert not empty, empty
        assert received, "the CRM receiver got no webhook"
        # A few figures read as the dashboards read them.
        assert latest.samples["dialer_dials_total"] >= latest.samples["dialer_connects_total"]
        assert latest.samples["process_resident_memory_bytes"] > 0
        assert latest.families["dialer_dials"] == "counter"
        assert latest.families["dialer_event_to_dial_seconds"] == "histogram"
    assert demo.proc.returncode == 0, "\n".join(demo.stderr[-30:])
