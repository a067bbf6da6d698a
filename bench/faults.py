"""Fault harness: what a predictive campaign loses when the parts around the service fail.

    python bench/faults.py [--json] [--faults pg_restart,kill9,proxy,slow_webhook,uploads_full]
                           [--outage-s 20] [--agents 20] [--speed 10]

Starts its own PostgreSQL (the embedded pgserver, in a temporary folder), puts a TCP proxy
in front of it (``tests/fakes/pgproxy.py``), runs two ``dialer serve`` processes through
the proxy with simulated agents, a webhook receiver in this process subscribed to every
event, and one predictive campaign. Then injects, in turn:

* ``pg_restart``: PostgreSQL stopped (``pg_ctl stop -m fast``) for ``--outage-s``, started;
* ``kill9``: ``kill -9`` of the process running the campaign, restarted at once;
* ``proxy``: every connection through the proxy dropped and new ones refused for
  ``--outage-s`` (a network cut between service and database);
* ``slow_webhook``: the receiver answers after 8 s for ``--outage-s``;
* ``uploads_full``: a 1 MB tmpfs mounted on one process's ``uploads/`` (needs root), a
  3 MB list uploaded (expected: 507, nothing kept), unmounted.

Per fault it reports attempts closed ``unknown``, attempts of before the fault still open
at the end, connected people dialed again, double dials (overlapping attempts of one
lead), the abandon rate before, during and after, seconds until dialing resumed, and
webhook deliveries not delivered. Goals: 0 lost, 0 redialed, 0 double dials, no window
over 3 %, resume < 30 s. Not a test: it prints figures (one JSON object with ``--json``).

The abandon rate is read the way the law reads it, on every window: at the end of every
minute of the run, the rolling 24-hour (Ofcom) and 30-day (TCPA) rates (abandoned over
live answers by ``answered_at``, what the engine's budget counts), and each minute's own
rate. Per fault: the largest of each before the fault and from the fault on, how many
evaluations were over 3 %, and the minutes from the fault on one by one; at the end the
whole run minute by minute, and whether any 24 h or 30 d evaluation was over the limit.
(The run is shorter than a day, so both rolling windows cover it from its start; a
minute holds few answers, so its own rate is noisy and not a legal figure.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FAULTS = ("pg_restart", "kill9", "proxy", "slow_webhook", "uploads_full")
WARMUP_S = 20.0  # dialing before each fault
SETTLE_S = 30.0  # after the fault, before its figures are read
LIMIT = 0.03  # the abandon limit every window is held to


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """Counts the events it is sent; ``delay_s`` makes it a slow CRM."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.delay_s = 0.0
        self.url = ""
        self._runner: Any = None

    async def start(self) -> None:
        from aiohttp import web

        async def handle(request: web.Request) -> web.Response:
            body = await request.json()
            if self.delay_s:
                await asyncio.sleep(self.delay_s)  # the slow receiver itself
            self.ids.add(body["id"])
            return web.Response(status=204)

        app = web.Application()
        app.router.add_post("/hook", handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        port = _free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        await self._runner.cleanup()


class Service:
    """Two ``dialer serve`` processes through the proxy."""

    def __init__(self, url: str, folder: Path, agents: int, speed: float) -> None:
        self.url, self.folder, self.agents, self.speed = url, folder, agents, speed
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.secret_key = secrets.token_urlsafe(32)
        self.ports: dict[str, int] = {}

    def start(self, name: str) -> None:
        port = self.ports.setdefault(name, _free_port())
        data = self.folder / name
        data.mkdir(exist_ok=True)
        env = {
            **os.environ,
            "DIALER_DATABASE_URL": self.url,
            "DIALER_PORT": str(port),
            "DIALER_INSTANCE_ID": name,
            "DIALER_DATA_DIR": str(data),
            "DIALER_SIM_AGENTS": str(self.agents),
            "DIALER_SIM_SPEED": str(self.speed),
            "DIALER_LOG_LEVEL": "WARNING",
            "DIALER_SHUTDOWN_TIMEOUT_S": "5",
            "DIALER_SECRET_KEY": self.secret_key,  # one key for every process (webhooks)
        }
        log = (self.folder / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "dialer", "serve"], env=env, stdout=log, stderr=log, cwd=ROOT
        )

    async def kill9(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.procs[name].wait)

    async def stop(self) -> None:
        """SIGTERM, and wait in a thread: the proxy they shut down through runs here."""
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                await asyncio.to_thread(proc.wait, 60)
            except subprocess.TimeoutExpired:
                proc.kill()


class Harness:
    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args, self.folder = args, folder
        self.receiver = Receiver()
        self.results: dict[str, Any] = {}

    async def setup(self) -> None:
        import pgserver

        from dialer import db
        from dialer.migrate import migrate
        from tests.fakes.pgproxy import PgProxy

        self.pg = pgserver.get_server(self.folder / "pg", cleanup_mode="stop")
        direct_url = self.pg.get_uri()
        conn = await db.connect(direct_url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        self.direct = await db.create_pool(direct_url, min_size=1, max_size=4)
        self.proxy = PgProxy(direct_url)
        proxied = await self.proxy.start()
        await self.receiver.start()
        self.campaign = await self._campaign()
        self.service = Service(proxied, self.folder, self.args.agents, self.args.speed)
        self.service.start("a")
        self.service.start("b")
        await self._subscribe()

    async def _campaign(self) -> int:
        from dialer.auth.roles import SYSTEM
        from dialer.campaigns import store
        from dialer.engine.demo import insert_leads

        now = datetime.now().astimezone()
        async with self.direct.acquire() as conn:
            row = await store.create(
                conn,
                {
                    "name": "faults",
                    "caller_id": "+14155550100",
                    "dial_mode": "predictive",
                    "waived_rules": ["us.hours"],
                    "waiver_reason": "fault harness runs around the clock",
                },
                SYSTEM,
                now=now,
            )
            leads = [(f"+1415{n:07d}", {"name": str(n)}) for n in range(self.args.leads)]
            await insert_leads(conn, row["id"], leads, now=now)
            await store.transition(conn, row["id"], "start", scope=None, now=now)
        return int(row["id"])

    async def _subscribe(self) -> None:
        import aiohttp

        from dialer.auth.tokens import create_token

        async with self.direct.acquire() as conn:
            self.token, _ = await create_token(
                conn, name="faults", role="admin", now=datetime.now().astimezone()
            )
        base = f"http://127.0.0.1:{self.service.ports['a']}"
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.token}"}) as s:
            await _until(lambda: _reachable(s, base), 60)
            async with s.post(
                f"{base}/api/v1/webhooks", json={"url": self.receiver.url, "events": ["*"]}
            ) as resp:
                assert resp.status == 201, await resp.text()

    # --- the faults ------------------------------------------------------------------
    async def pg_restart(self) -> None:
        from pgserver._commands import pg_ctl

        await asyncio.to_thread(
            pg_ctl, ["-w", "-m", "fast", "stop"], pgdata=self.pg.pgdata, user=self.pg.system_user
        )
        await asyncio.sleep(self.args.outage_s)  # the outage itself
        await asyncio.to_thread(self.pg.ensure_postgres_running)

    async def kill9(self) -> None:
        holder = await self.direct.fetchval(
            "SELECT owner FROM leases WHERE name = $1", f"campaign:{self.campaign}"
        )
        name = holder if holder in self.service.procs else "a"
        await self.service.kill9(name)
        self.service.start(name)

    async def proxy_cut(self) -> None:
        self.proxy.refuse = True
        self.proxy.drop()
        await asyncio.sleep(self.args.outage_s)
        self.proxy.refuse = False

    async def slow_webhook(self) -> None:
        self.receiver.delay_s = 8.0
        await asyncio.sleep(self.args.outage_s)
        self.receiver.delay_s = 0.0

    async def uploads_full(self) -> dict[str, Any]:
        import aiohttp

        uploads = self.folder / "a" / "uploads"
        uploads.mkdir(parents=True, exist_ok=True)
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(uploads)], capture_output=True
        )
        if mounted.returncode != 0:
            return {"skipped": mounted.stderr.decode().strip() or "mount failed"}
        try:
            body = b"name,phone\n" + b"".join(
                b"P%d,+1628555%04d\n" % (n, n % 10000) for n in range(150_000)
            )
            url = (
                f"http://127.0.0.1:{self.service.ports['a']}/api/v1/campaigns/{self.campaign}/lists"
            )
            headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "text/csv"}
            async with aiohttp.ClientSession() as s, s.post(url, data=body, headers=headers) as r:
                status, answer = r.status, await r.text()
            left = [p.name for p in uploads.iterdir()]
        finally:
            subprocess.run(["umount", str(uploads)], check=False)
        return {"upload_bytes": len(body), "status": status, "answer": answer[:200], "left": left}

    # --- figures ---------------------------------------------------------------------
    async def run(self, name: str, inject: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        await asyncio.sleep(self.args.warmup_s)  # dialing at its pace before the fault
        t0 = await self.direct.fetchval("SELECT now()")
        before = await self._rates(None, t0)
        extra = await inject()
        t1 = await self._now()
        resumed = await _until(lambda: self._dialed_since(t1), 120)
        resume_s = None if resumed is None else (resumed - t1).total_seconds()
        await asyncio.sleep(self.args.settle_s)
        t2 = await self._now()
        q = self.direct
        cid = self.campaign
        figures = {
            "closed_unknown": await q.fetchval(
                "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND outcome = 'unknown'"
                " AND ended_at >= $2",
                cid,
                t0,
            ),
            "open_from_before": await q.fetchval(
                "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND ended_at IS NULL"
                " AND started_at < $2",
                cid,
                t0,
            ),
            "connected_redialed": await q.fetchval(_REDIALED, cid, t0),
            "double_dials": await q.fetchval(_OVERLAPS, cid),
            "abandon_before": before,
            "abandon_during_and_after": await self._rates(t0, t2),
            "abandon_total": await self._rates(None, t2),
            "windows": _split(await self._windows(t2), t0),
            "resume_s": None if resume_s is None else round(max(resume_s, 0.0), 1),
            "dials_after": await q.fetchval(
                "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND started_at >= $2",
                cid,
                t1,
            ),
        }
        if isinstance(extra, dict):
            figures.update(extra)
        return figures

    async def _now(self) -> datetime:
        return await _until(lambda: self.direct.fetchval("SELECT now()"), 120)  # type: ignore[return-value]

    async def _dialed_since(self, t: datetime) -> datetime | None:
        started: datetime | None = await self.direct.fetchval(
            "SELECT min(started_at) FROM attempts WHERE campaign_id = $1 AND started_at > $2",
            self.campaign,
            t,
        )
        return started

    async def _rates(self, since: datetime | None, until: datetime) -> dict[str, Any]:
        row = await self.direct.fetchrow(
            "SELECT count(*) FILTER (WHERE answer = 'human') AS humans,"
            " count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned,"
            " count(*) AS dials FROM attempts WHERE campaign_id = $1"
            " AND started_at >= coalesce($2::timestamptz, '-infinity') AND started_at < $3",
            self.campaign,
            since,
            until,
        )
        rate = row["abandoned"] / row["humans"] if row["humans"] else 0.0
        return {**dict(row), "rate": round(rate, 4)}

    async def _windows(self, until: datetime) -> list[dict[str, Any]]:
        """Minute by minute: the minute's own rate and the rolling 24 h and 30 d rates at its
        end (see the module docstring)."""
        rows = await self.direct.fetch(_WINDOWS, self.campaign, until)
        out = []
        for r in rows:
            out.append(
                {
                    "minute_end": r["e"],
                    "humans_1m": r["h1"],
                    "abandoned_1m": r["a1"],
                    "rate_1m": _rate(r["a1"], r["h1"]),
                    "rate_24h": _rate(r["a24"], r["h24"]),
                    "rate_30d": _rate(r["a30"], r["h30"]),
                    "humans_24h": r["h24"],
                }
            )
        return out

    async def webhooks(self) -> dict[str, Any]:
        """After the last fault: wait for deliveries to drain, then compare."""
        pending = await _until(
            lambda: self.direct.fetchval(
                "SELECT count(*) = 0 FROM webhook_deliveries WHERE state = 'pending'"
            ),
            180,
        )
        row = await self.direct.fetchrow(
            "SELECT count(*) AS events, count(*) FILTER (WHERE d.state = 'delivered') AS delivered,"
            " count(*) FILTER (WHERE d.state = 'dead') AS dead,"
            " count(*) FILTER (WHERE d.state = 'pending') AS pending"
            " FROM webhook_deliveries d"
        )
        return {**dict(row), "received": len(self.receiver.ids), "drained": bool(pending)}

    async def close(self) -> None:
        await self.service.stop()
        await self.receiver.stop()
        await self.direct.close()
        await self.proxy.close()
        self.pg.cleanup()


_REDIALED = """
SELECT count(DISTINCT a.lead_id) FROM attempts a JOIN attempts b
  ON b.lead_id = a.lead_id AND b.started_at > a.started_at
WHERE a.campaign_id = $1 AND a.connected_at IS NOT NULL AND b.started_at >= $2
"""
_WINDOWS = """
WITH h AS (
    SELECT answered_at AS t, outcome = 'abandoned' AS ab FROM attempts
    WHERE campaign_id = $1 AND answer = 'human' AND answered_at IS NOT NULL AND answered_at <= $2
), ends AS (
    SELECT least(e, $2) AS e
    FROM generate_series(date_trunc('minute', (SELECT min(t) FROM h)) + interval '1 minute',
                         date_trunc('minute', $2::timestamptz) + interval '1 minute',
                         interval '1 minute') AS e
)
SELECT e,
       count(t) FILTER (WHERE t > e - interval '1 minute') AS h1,
       count(t) FILTER (WHERE t > e - interval '1 minute' AND ab) AS a1,
       count(t) FILTER (WHERE t > e - interval '24 hours') AS h24,
       count(t) FILTER (WHERE t > e - interval '24 hours' AND ab) AS a24,
       count(t) AS h30,
       count(t) FILTER (WHERE ab) AS a30
FROM ends LEFT JOIN h ON h.t <= e AND h.t > e - interval '30 days'
GROUP BY e ORDER BY e
"""
_OVERLAPS = """
SELECT count(*) FROM attempts a JOIN attempts b
  ON a.lead_id = b.lead_id AND a.id < b.id
 AND b.started_at < coalesce(a.ended_at, 'infinity')
 AND a.started_at < coalesce(b.ended_at, 'infinity')
WHERE a.campaign_id = $1
"""


def _rate(abandoned: int, humans: int) -> float:
    return round(abandoned / humans, 4) if humans else 0.0


def _worst(minutes: list[dict[str, Any]]) -> dict[str, Any]:
    """The largest rate of each window over these minutes, and evaluations over the limit."""
    out: dict[str, Any] = {"minutes": len(minutes)}
    for window in ("24h", "30d", "1m"):
        rates = [m[f"rate_{window}"] for m in minutes]
        out[f"max_{window}"] = max(rates, default=0.0)
        out[f"over_{window}"] = sum(r > LIMIT for r in rates)
    return out


def _split(minutes: list[dict[str, Any]], t0: datetime) -> dict[str, Any]:
    """Every window before the fault and from it on; the minutes from it on, one by one."""
    before = [m for m in minutes if m["minute_end"] <= t0]
    after = [m for m in minutes if m["minute_end"] > t0]
    return {
        "before": _worst(before),
        "from_fault": _worst(after),
        "by_minute": [
            [str(m["minute_end"].time())[:8], m["humans_1m"], m["abandoned_1m"]]
            + [m[f"rate_{w}"] for w in ("1m", "24h", "30d")]
            for m in after
        ],
    }


async def _reachable(session: Any, base: str) -> bool:
    try:
        async with session.get(f"{base}/healthz") as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


async def _until(check: Callable[[], Awaitable[Any]], timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if value := await check():
                return value
        await asyncio.sleep(0.5)
    return None


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="dialer-faults-"))
    os.chmod(folder, 0o755)  # pgserver's own user must reach its data directory
    harness = Harness(args, folder)
    injections = {
        "pg_restart": harness.pg_restart,
        "kill9": harness.kill9,
        "proxy": harness.proxy_cut,
        "slow_webhook": harness.slow_webhook,
        "uploads_full": harness.uploads_full,
    }
    started = time.monotonic()
    try:
        await harness.setup()
        for name in args.faults:
            harness.results[name] = await harness.run(name, injections[name])
            print(f"{name}: {json.dumps(harness.results[name], default=str)}", file=sys.stderr)
        harness.results["webhooks"] = await harness.webhooks()
        whole = await harness._windows(await harness._now())
        harness.results["windows"] = {
            "whole_run": _worst(whole),
            "over_limit_24h_or_30d": any(
                m["rate_24h"] > LIMIT or m["rate_30d"] > LIMIT for m in whole
            ),
            "by_minute": _split(whole, datetime.min.replace(tzinfo=UTC))["by_minute"],
        }
    finally:
        await harness.close()
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "outage_s": args.outage_s,
        "agents": args.agents,
        "speed": args.speed,
        "seconds": round(time.monotonic() - started),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "faults": harness.results,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--outage-s", type=float, default=20.0)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--warmup-s", type=float, default=WARMUP_S)
    parser.add_argument("--settle-s", type=float, default=SETTLE_S)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    args.faults = [f for f in args.faults.split(",") if f]
    unknown = set(args.faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown fault(s) {sorted(unknown)}: choose from {', '.join(FAULTS)}")
    figures = asyncio.run(_main(args))
    if args.json:
        print(json.dumps(figures, default=str))
    else:
        for name, result in figures.pop("faults").items():
            print(f"{name}:")
            for key, value in result.items():
                print(f"  {key:>26}: {value}")
        for key, value in figures.items():
            print(f"{key:>28}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
