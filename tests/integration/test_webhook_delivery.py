"""Outbox → fan-out → signed delivery, against real local receivers that fail on purpose.

Workers are driven step by step (``run_once``) under a FakeClock; only the tests of the
running loop wait, with timeouts, for deliveries to arrive.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY

from dialer.campaigns import store as campaigns
from dialer.config import Secret, Settings, parse_networks
from dialer.outbox import EVENT_TYPES, enqueue, subscribes_to
from dialer.runtime import create_app
from dialer.runtime.parts import webhooks_part
from dialer.secrets import SecretBox, secret_box
from dialer.webhooks import signing
from dialer.webhooks.destinations import BlockedNetworks
from dialer.webhooks.retry import RetryPolicy
from dialer.webhooks.sender import new_session
from dialer.webhooks.worker import DeliveryWorker
from tests.fakes.receiver import Receiver
from tests.integration.conftest import Api, serving

SETTINGS = Settings(secret_key=Secret("delivery-tests-master-key-0123"))
FAST = RetryPolicy(base_s=10, factor=2, max_delay_s=60, max_age_s=300, jitter=0)


@pytest.fixture(scope="module")
async def api(pool: asyncpg.Pool) -> AsyncIterator[Api]:
    async with serving(pool, SETTINGS, ["admin", "crm"]) as helper:
        yield helper


@pytest.fixture(autouse=True)
async def only_this_tests_subscriptions(api: Api) -> None:
    """Each test starts with no live subscription and nothing left to dispatch."""
    await api.pool.execute(
        "UPDATE webhook_subscriptions SET active = false, deleted_at = now()"
        " WHERE deleted_at IS NULL;"
        "UPDATE webhook_deliveries SET state = 'cancelled' WHERE state = 'pending';"
        "UPDATE webhook_outbox SET dispatched_at = now() WHERE dispatched_at IS NULL"
    )


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
        yield s


def _worker(api: Api, session: aiohttp.ClientSession, name: str = "w1", **kw: Any) -> Any:
    kw.setdefault("policy", FAST)
    return DeliveryWorker(
        api.pool,
        api.clock,
        secret_box(SETTINGS),
        session=session,
        instance_id=name,
        rng=random.Random(0),
        **kw,
    )


async def _receiver(api: Api, **kw: Any) -> Receiver:
    receiver = Receiver("receiver-secret-0123456789", now=lambda: api.clock.now().timestamp(), **kw)
    await receiver.start()
    return receiver


async def _subscribe(api: Api, receiver: Receiver, **fields: Any) -> int:
    body = {"url": receiver.url, "events": ["*"], "secret": receiver.secret, **fields}
    status, sub = await api.call("POST", "/api/v1/webhooks", as_="crm", json=body)
    assert status == 201, sub
    return int(sub["id"])


async def _emit(
    api: Api, event_type: str = "lead.disposition", *, client_id: int = 1, **kw: Any
) -> str:
    data = kw.pop("data", {"n": kw.get("lead_id")})
    async with api.pool.acquire() as conn, conn.transaction():
        event_id: UUID = await enqueue(
            conn, event_type, client_id=client_id, data=data, now=api.clock.now(), **kw
        )
    return str(event_id)


async def _delivery(api: Api, event_id: str) -> asyncpg.Record:
    return await api.pool.fetchrow(
        "SELECT d.* FROM webhook_deliveries d JOIN webhook_outbox o ON o.id = d.outbox_id"
        " WHERE o.event_id = $1",
        UUID(event_id),
    )


def _count(result: str) -> float:
    return REGISTRY.get_sample_value("dialer_webhook_deliveries_total", {"result": result}) or 0.0


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_event_and_its_change_commit_or_roll_back_together(api: Api) -> None:
    status, c = await api.call(
        "POST",
        "/api/v1/campaigns",
        as_="admin",
        json={"name": "outbox-tx", "purpose": "survey", "caller_id": "+14155550100"},
    )
    assert status == 201, c

    class Abort(Exception):
        pass

    async with api.pool.acquire() as conn:
        with pytest.raises(Abort):
            async with conn.transaction():
                await campaigns.transition(conn, c["id"], "start", scope=None, now=api.clock.now())
                raise Abort
        assert await conn.fetchval("SELECT state FROM campaigns WHERE id = $1", c["id"]) == "draft"
        assert not await conn.fetchval(
            "SELECT count(*) FROM webhook_outbox WHERE campaign_id = $1", c["id"]
        )
        await campaigns.transition(conn, c["id"], "start", scope=None, now=api.clock.now())
        events = await conn.fetch("SELECT * FROM webhook_outbox WHERE campaign_id = $1", c["id"])
    assert [(e["type"], e["payload"]["from"], e["payload"]["to"]) for e in events] == [
        ("campaign.state_changed", "draft", "running")
    ]


async def test_signed_delivery_end_to_end(api: Api, session: aiohttp.ClientSession) -> None:
    receiver = await _receiver(api)
    try:
        sub = await _subscribe(api, receiver, events=["campaign.state_changed"])
        status, c = await api.call(
            "POST",
            "/api/v1/campaigns",
            as_="admin",
            json={"name": "e2e", "purpose": "survey", "caller_id": "+14155550100"},
        )
        assert status == 201
        status, _ = await api.call("POST", f"/api/v1/campaigns/{c['id']}/start", as_="admin")
        assert status == 200
        delivered_before = _count("delivered")
        api.clock.advance(2)
        assert await _worker(api, session).run_once() == 1
    finally:
        await receiver.close()
    (event,) = receiver.events.values()  # signature verified by the receiver
    assert event["type"] == "campaign.state_changed" and event["version"] == 1
    assert event["data"]["campaign_id"] == c["id"] and event["data"]["to"] == "running"
    assert event["client_id"] == 1
    arrival = receiver.arrivals[0]
    assert arrival.headers["X-Dialer-Event-Id"] == event["id"]
    assert arrival.headers["X-Dialer-Event-Type"] == "campaign.state_changed"
    assert arrival.headers["Content-Type"] == "application/json"
    assert _count("delivered") == delivered_before + 1

    status, page = await api.call("GET", f"/api/v1/webhooks/{sub}/deliveries", as_="admin")
    (d,) = page["items"]
    assert (d["state"], d["attempts"], d["last_status"]) == ("delivered", 1, 200)
    assert d["event_id"] == event["id"] and d["in_flight"] is False


async def test_fan_out_follows_client_and_event_lists(
    api: Api, session: aiohttp.ClientSession
) -> None:
    async with api.pool.acquire() as conn:
        other = await conn.fetchval("INSERT INTO clients (name) VALUES ('fan-out') RETURNING id")
    receiver = await _receiver(api)
    try:
        subs = {
            "client1-dnc": (await _subscribe(api, receiver, events=["lead.dnc"], client_id=1), 1),
            "all-star": (await _subscribe(api, receiver), None),
            "other-star": (await _subscribe(api, receiver, client_id=other), other),
            "all-blocked": (
                await _subscribe(api, receiver, events=["compliance.blocked"]),
                None,
            ),
        }
        lists = {
            "client1-dnc": ["lead.dnc"],
            "all-star": ["*"],
            "other-star": ["*"],
            "all-blocked": ["compliance.blocked"],
        }
        emitted = [
            (await _emit(api, t, client_id=owner), t, owner)
            for t in EVENT_TYPES
            for owner in (1, other)
        ]
        await _worker(api, session).dispatch()
        for name, (sub_id, client) in subs.items():
            got = {
                str(r["event_id"])
                for r in await api.pool.fetch(
                    "SELECT o.event_id FROM webhook_deliveries d"
                    " JOIN webhook_outbox o ON o.id = d.outbox_id WHERE d.subscription_id = $1",
                    sub_id,
                )
            }
            expected = {
                eid
                for eid, t, owner in emitted
                if (client is None or client == owner) and subscribes_to(lists[name], t)
            }
            assert got == expected, name
    finally:
        await receiver.close()


async def test_retries_back_off_then_dead_letter_then_replay(
    api: Api, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    failing = True
    tried_at: list[float] = []

    async def respond(event: dict[str, Any]) -> int:
        tried_at.append(api.clock.now().timestamp())
        return 503 if failing else 200

    receiver = await _receiver(api, respond=respond)
    dead_before = _count("dead")
    try:
        sub = await _subscribe(api, receiver, events=["lead.dnc"])
        event_id = await _emit(api, "lead.dnc", lead_id=77, data={"lead_id": 77})
        worker = _worker(api, session)
        assert await worker.run_once() == 1
        for expected_wait in (10, 20, 40, 60, 60, 60):
            row = await _delivery(api, event_id)
            assert row["state"] == "pending" and row["last_status"] == 503
            assert row["next_attempt_at"] == api.clock.now() + timedelta(seconds=expected_wait)
            api.clock.advance(expected_wait - 1)
            assert await worker.run_once() == 0  # not due yet: nothing is sent
            api.clock.advance(1)
            assert await worker.run_once() == 1
        row = await _delivery(api, event_id)
        assert (row["state"], row["attempts"]) == ("dead", 7)
        assert "503" in row["last_error"] and "gave up" in row["last_error"]
        assert [b - a for a, b in itertools.pairwise(tried_at)] == [10, 20, 40, 60, 60, 60]
        assert _count("dead") == dead_before + 1
        assert not receiver.events

        status, page = await api.call(
            "GET", f"/api/v1/webhooks/{sub}/deliveries?state=dead", as_="crm"
        )
        (dead,) = page["items"]
        assert dead["event_id"] == event_id
        api.clock.advance(3600)
        assert await worker.run_once() == 0  # a dead letter is never retried on its own

        failing = False
        status, replayed = await api.call(
            "POST", f"/api/v1/webhooks/deliveries/{dead['id']}/replay", as_="crm"
        )
        assert status == 200 and replayed["state"] == "pending"
        assert await worker.run_once() == 1
    finally:
        await receiver.close()
    assert list(receiver.events) == [event_id]
    row = await _delivery(api, event_id)
    assert (row["state"], row["attempts"], row["replays"]) == ("delivered", 1, 1)
    for record in caplog.records:
        assert receiver.secret not in str(record.__dict__)


async def test_4xx_is_final_but_408_and_429_are_retried(
    api: Api, session: aiohttp.ClientSession
) -> None:
    answers = {"a": 404, "b": 408}

    async def respond(event: dict[str, Any]) -> web.Response | int:
        kind = event["data"]["kind"]
        if kind == "c":
            return web.Response(status=429, headers={"Retry-After": "120"})
        return answers[kind]

    receiver = await _receiver(api, respond=respond)
    failed_before = _count("failed_4xx")
    try:
        await _subscribe(api, receiver)
        ids = {k: await _emit(api, data={"kind": k}) for k in ("a", "b", "c")}
        assert await _worker(api, session).run_once() == 3
    finally:
        await receiver.close()
    a, b, c = [await _delivery(api, ids[k]) for k in ("a", "b", "c")]
    assert (a["state"], a["last_status"]) == ("dead", 404)
    assert _count("failed_4xx") == failed_before + 1
    assert (b["state"], b["next_attempt_at"]) == (
        "pending",
        api.clock.now() + timedelta(seconds=10),
    )
    assert (c["state"], c["next_attempt_at"]) == (
        "pending",
        api.clock.now() + timedelta(seconds=120),
    )


async def test_unreachable_endpoint_is_retried(api: Api, session: aiohttp.ClientSession) -> None:
    receiver = await _receiver(api)
    await receiver.close()  # the CRM is down
    await _subscribe(api, receiver)
    event_id = await _emit(api)
    assert await _worker(api, session).run_once() == 1
    row = await _delivery(api, event_id)
    assert row["state"] == "pending" and row["last_status"] is None
    assert "connection" in row["last_error"]


async def test_events_of_a_lead_arrive_in_order_despite_failures(
    api: Api, session: aiohttp.ClientSession
) -> None:
    tries = itertools.count()

    async def respond(event: dict[str, Any]) -> int:
        return 500 if next(tries) % 3 == 0 else 200

    receiver = await _receiver(api, respond=respond)
    try:
        await _subscribe(api, receiver)
        created: dict[int, list[str]] = {lead: [] for lead in (1, 2, 3)}
        for step in range(5):
            for lead in created:
                created[lead].append(await _emit(api, lead_id=lead, data={"step": step}))
        worker = _worker(api, session, policy=RetryPolicy(jitter=0))
        for _ in range(100):
            await worker.run_once()
            if len(receiver.events) == 15:
                break
            api.clock.advance(60)
    finally:
        await receiver.close()
    assert receiver.duplicates == 0 and len(receiver.events) == 15
    for lead, ids in created.items():
        applied = [e for e in receiver.order if e in ids]
        assert applied == ids, lead
        # Not even a failed try of a later event came before an earlier one succeeded.
        tried = [a.event_id for a in receiver.arrivals if a.event_id in ids]
        assert [i for i, _ in itertools.groupby(tried)] == ids


async def test_two_workers_never_send_the_same_event(
    api: Api, session: aiohttp.ClientSession
) -> None:
    total = 40
    entered = itertools.count(1)
    everyone_in = asyncio.Event()

    async def respond(event: dict[str, Any]) -> int:
        # Hold every request until all are in flight at once: both workers send together.
        if next(entered) >= total:
            everyone_in.set()
        try:
            async with asyncio.timeout(10):
                await everyone_in.wait()
        except TimeoutError:
            return 500
        return 200

    receiver = await _receiver(api, respond=respond)
    try:
        await _subscribe(api, receiver)
        ids = {await _emit(api, lead_id=1000 + i) for i in range(total)}
        one = _worker(api, session, "one", per_subscription=total // 2)
        two = _worker(api, session, "two", per_subscription=total // 2)
        await one.dispatch()
        sent = await asyncio.gather(one.run_once(), two.run_once())
    finally:
        await receiver.close()
    assert sent == [total // 2, total // 2]
    assert all(a.status == 200 for a in receiver.arrivals)  # all were in flight together
    assert sorted(a.event_id for a in receiver.arrivals) == sorted(ids)  # each exactly once
    assert set(receiver.events) == ids and receiver.duplicates == 0


async def test_claims_skip_rows_locked_by_another_worker(
    api: Api, session: aiohttp.ClientSession
) -> None:
    receiver = await _receiver(api)
    try:
        await _subscribe(api, receiver)
        locked, free = await _emit(api), await _emit(api)
        worker = _worker(api, session)
        await worker.dispatch()
        async with api.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT 1 FROM webhook_deliveries WHERE id = $1 FOR UPDATE",
                (await _delivery(api, locked))["id"],
            )
            jobs = await worker.claim()  # does not wait for the lock
            assert [j.event_id for j in jobs] == [free]
        await asyncio.gather(*(worker.deliver(j) for j in jobs))
    finally:
        await receiver.close()
    assert list(receiver.events) == [free]


async def test_a_dead_workers_claim_expires_and_its_late_result_is_ignored(
    api: Api, session: aiohttp.ClientSession
) -> None:
    receiver = await _receiver(api)
    try:
        await _subscribe(api, receiver)
        event_id = await _emit(api)
        stalled = _worker(api, session, "stalled", lease_s=60)
        await stalled.dispatch()
        (job,) = await stalled.claim()
        rescuer = _worker(api, session, "rescuer")
        assert await rescuer.run_once() == 0  # claimed and not expired: left alone
        api.clock.advance(61)
        assert await rescuer.run_once() == 1
        row = await _delivery(api, event_id)
        assert (row["state"], row["attempts"]) == ("delivered", 2)
        await stalled.deliver(job)  # the stalled worker wakes up and sends anyway
    finally:
        await receiver.close()
    assert receiver.duplicates == 1  # the receiver's event-id check absorbs it
    row = await _delivery(api, event_id)
    assert (row["state"], row["attempts"]) == ("delivered", 2)  # its result was fenced off


async def test_an_unreadable_secret_is_not_counted_as_an_attempt(
    api: Api, session: aiohttp.ClientSession
) -> None:
    receiver = await _receiver(api)
    try:
        sub = await _subscribe(api, receiver)
        foreign = SecretBox("some-other-deployment-key").encrypt(receiver.secret)
        await api.pool.execute(
            "UPDATE webhook_subscriptions SET secret_ciphertext = $2 WHERE id = $1", sub, foreign
        )
        event_id = await _emit(api)
        assert await _worker(api, session).run_once() == 1
    finally:
        await receiver.close()
    assert not receiver.arrivals
    row = await _delivery(api, event_id)
    assert (row["state"], row["attempts"]) == ("pending", 0)
    assert "DIALER_SECRET_KEY" in row["last_error"]
    assert row["next_attempt_at"] == api.clock.now() + timedelta(seconds=60)


async def test_a_slow_endpoint_holds_back_only_its_own_deliveries(api: Api) -> None:
    gate = asyncio.Event()
    entered = 0

    async def stall(event: dict[str, Any]) -> int:
        nonlocal entered
        entered += 1
        await gate.wait()
        return 200

    slow = await _receiver(api, respond=stall)
    fast = await _receiver(api)
    async with aiohttp.ClientSession() as http:
        worker = _worker(api, http, per_subscription=3, max_in_flight=8, poll_interval_s=0.02)
        try:
            async with api.pool.acquire() as conn:
                other = await conn.fetchval(
                    "INSERT INTO clients (name) VALUES ('slow-one') RETURNING id"
                )
            slow_sub = await _subscribe(api, slow, client_id=other)
            await _subscribe(api, fast, client_id=1)
            for i in range(20):
                await _emit(api, client_id=other, lead_id=5000 + i)
                await _emit(api, client_id=1, lead_id=6000 + i)
            worker.start()
            await _until(lambda: len(fast.events) == 20)  # while the slow one hangs
            await _until(lambda: entered == 3)
            assert not slow.events
            assert worker.in_flight[slow_sub] == 3  # at most 3 at once to one subscription
            gate.set()
            await _until(lambda: len(slow.events) == 20)
        finally:
            gate.set()
            await worker.stop(timeout_s=5)
            await slow.close()
            await fast.close()
    assert slow.duplicates == 0 and fast.duplicates == 0


async def test_shutdown_gives_unfinished_claims_back(api: Api) -> None:
    gate = asyncio.Event()

    async def hang(event: dict[str, Any]) -> int:
        await gate.wait()
        return 200

    receiver = await _receiver(api, respond=hang)
    async with aiohttp.ClientSession() as http:
        worker = _worker(api, http, poll_interval_s=0.02)
        try:
            await _subscribe(api, receiver)
            event_id = await _emit(api)
            worker.start()
            await _until(lambda: len(worker.in_flight) == 1)
            await worker.stop(timeout_s=0.05)
        finally:
            gate.set()
            await receiver.close()
    row = await _delivery(api, event_id)
    assert (row["state"], row["attempts"], row["claimed_by"]) == ("pending", 0, None)
    assert row["next_attempt_at"] <= api.clock.now()  # due again at once, for any process


async def test_backlog_gauges_and_retention(api: Api, session: aiohttp.ClientSession) -> None:
    async def unavailable(event: dict[str, Any]) -> int:
        return 503

    receiver = await _receiver(api, respond=unavailable)
    try:
        await _subscribe(api, receiver)
        old = await _emit(api)
        worker = _worker(api, session)
        await worker.run_once()
        api.clock.advance(30)
        await _emit(api)  # not dispatched yet
        await worker.housekeeping(force=True)
        gauge = REGISTRY.get_sample_value
        assert gauge("dialer_webhook_outbox_pending", {}) == 1
        assert gauge("dialer_webhook_deliveries_pending", {}) == 1
        assert gauge("dialer_webhook_oldest_pending_seconds", {}) == 30
        # Delivered long ago: dropped after the retention period, with its event.
        await api.pool.execute(
            "UPDATE webhook_deliveries d SET state = 'delivered', finished_at = $2"
            " FROM webhook_outbox o WHERE o.id = d.outbox_id AND o.event_id = $1",
            UUID(old),
            api.clock.now() - timedelta(days=31),
        )
        await api.pool.execute(
            "UPDATE webhook_outbox SET dispatched_at = $2 WHERE event_id = $1",
            UUID(old),
            api.clock.now() - timedelta(days=31),
        )
        await worker.housekeeping(force=True)
    finally:
        await receiver.close()
    assert await _delivery(api, old) is None
    assert not await api.pool.fetchval(
        "SELECT count(*) FROM webhook_outbox WHERE event_id = $1", UUID(old)
    )


# --- destination policy (DIALER_WEBHOOK_BLOCKED_NETWORKS) -------------------------------

LOOPBACK = parse_networks("127.0.0.0/8,::1/128")


async def test_a_name_resolving_into_a_blocked_network_is_never_sent(api: Api) -> None:
    receiver = await _receiver(api)
    blocked = BlockedNetworks(LOOPBACK)
    guarded = new_session(blocked=blocked)
    try:
        # A name is accepted at subscription time; it is checked each time it is resolved.
        await _subscribe(api, receiver, url=receiver.url.replace("127.0.0.1", "localhost"))
        event_id = await _emit(api)
        assert await _worker(api, guarded, blocked=blocked).run_once() == 1
        assert not receiver.arrivals  # nothing reached the receiver
        row = await _delivery(api, event_id)
        assert (row["state"], row["attempts"], row["last_status"]) == ("pending", 1, None)
        assert "is in a blocked network (127.0.0.0/8" in row["last_error"]
        assert "localhost" in row["last_error"]
        # Retried like a connection error: once the admin changes the policy, it goes out.
        assert row["next_attempt_at"] == api.clock.now() + timedelta(seconds=10)
        api.clock.advance(10)
        async with new_session() as default:
            assert await _worker(api, default).run_once() == 1
    finally:
        await guarded.close()
        await receiver.close()
    assert list(receiver.events) == [event_id]
    row = await _delivery(api, event_id)
    assert (row["state"], row["attempts"]) == ("delivered", 2)


async def test_an_ip_literal_in_a_blocked_network_is_never_sent(
    api: Api, session: aiohttp.ClientSession
) -> None:
    receiver = await _receiver(api)
    try:
        await _subscribe(api, receiver)  # 127.0.0.1: allowed when it was created
        event_id = await _emit(api)
        worker = _worker(api, session, blocked=BlockedNetworks(LOOPBACK))
        assert await worker.run_once() == 1
    finally:
        await receiver.close()
    assert not receiver.arrivals
    row = await _delivery(api, event_id)
    assert row["state"] == "pending" and row["last_status"] is None
    assert row["last_error"] == "destination 127.0.0.1 is in a blocked network (127.0.0.0/8)"


async def test_the_default_policy_delivers_to_local_receivers(api: Api) -> None:
    receiver = await _receiver(api)
    try:
        await _subscribe(api, receiver)
        await _subscribe(api, receiver, url=receiver.url.replace("127.0.0.1", "localhost"))
        event_id = await _emit(api)
        async with new_session() as default:  # the session `dialer serve` uses
            assert await _worker(api, default).run_once() == 2
    finally:
        await receiver.close()
    assert [a.event_id for a in receiver.arrivals] == [event_id, event_id]
    assert all(a.status == 200 for a in receiver.arrivals)


async def test_the_setting_reaches_subscriptions_test_sends_and_the_worker(api: Api) -> None:
    settings = SETTINGS.with_overrides(webhook_blocked_networks=LOOPBACK)
    app = create_app(settings, pool=api.pool, clock=api.clock, background=[webhooks_part])
    strict = Api(TestClient(TestServer(app)), api.pool, api.clock, dict(api.tokens))
    await strict.client.start_server()
    receiver = await _receiver(api)
    try:
        body = {"url": receiver.url, "events": ["*"], "secret": receiver.secret}
        status, err = await strict.call("POST", "/api/v1/webhooks", as_="crm", json=body)
        assert (status, err["field"]) == (400, "url")
        assert "blocked network (127.0.0.0/8)" in err["error"]

        body["url"] = receiver.url.replace("127.0.0.1", "localhost")
        status, sub = await strict.call("POST", "/api/v1/webhooks", as_="crm", json=body)
        assert status == 201, sub
        status, result = await strict.call("POST", f"/api/v1/webhooks/{sub['id']}/test", as_="crm")
        assert status == 200 and result["delivered"] is False
        assert "is in a blocked network (127.0.0.0/8" in result["error"]

        event_id = await _emit(api)  # the app's own worker picks it up
        row: Any = None

        async def refused() -> bool:
            nonlocal row
            row = await _delivery(api, event_id)
            # (attempts counts from the claim; last_error comes with the result)
            return row is not None and row["attempts"] == 1 and row["last_error"] is not None

        async with asyncio.timeout(10):
            while not await refused():
                await asyncio.sleep(0.02)
    finally:
        await strict.client.close()  # stops the worker
        await receiver.close()
    assert not receiver.arrivals
    assert row["state"] == "pending" and "blocked network" in row["last_error"]


# --- editing and secret rotation ------------------------------------------------------


async def _patch(api: Api, sub: int, **fields: Any) -> dict[str, Any]:
    status, got = await api.call("PATCH", f"/api/v1/webhooks/{sub}", as_="crm", json=fields)
    assert status == 200, got
    return dict(got)


async def _drain(worker: DeliveryWorker) -> int:
    """Run the worker until nothing is due; return how many deliveries it attempted."""
    total = 0
    while sent := await worker.run_once():
        total += sent
    return total


async def test_a_paused_subscription_gets_nothing_until_resumed_then_everything_in_order(
    api: Api, session: aiohttp.ClientSession
) -> None:
    receiver = await _receiver(api)
    other = await _receiver(api)
    try:
        paused = await _subscribe(api, receiver)
        await _subscribe(api, other)  # an active neighbour is not held back
        await _patch(api, paused, active=False)
        ids = [await _emit(api, lead_id=7100, data={"step": step}) for step in range(3)]
        worker = _worker(api, session)
        assert await _drain(worker) == 3  # the neighbour's three only (one lead: in turn)
        assert not receiver.arrivals and len(other.events) == 3
        rows = [
            await api.pool.fetchrow(
                "SELECT d.* FROM webhook_deliveries d JOIN webhook_outbox o ON o.id = d.outbox_id"
                " WHERE o.event_id = $1 AND d.subscription_id = $2",
                UUID(i),
                paused,
            )
            for i in ids
        ]
        assert [r["state"] for r in rows] == ["pending"] * 3  # held, not dropped
        await worker.housekeeping(force=True)
        assert REGISTRY.get_sample_value("dialer_webhook_deliveries_pending", {}) == 0

        api.clock.advance(2 * 24 * 3600)  # paused longer than the 24-hour retry window
        assert await worker.run_once() == 0
        assert not receiver.arrivals
        await _patch(api, paused, active=True)
        windows = await api.pool.fetch(
            "SELECT started_at FROM webhook_deliveries WHERE subscription_id = $1", paused
        )
        assert [r["started_at"] for r in windows] == [api.clock.now()] * 3  # a fresh window
        assert await _drain(worker) == 3
    finally:
        await receiver.close()
        await other.close()
    assert receiver.order == ids and receiver.duplicates == 0  # every one, in order


async def test_a_new_url_and_event_list_apply_to_what_is_sent_next(
    api: Api, session: aiohttp.ClientSession
) -> None:
    first = await _receiver(api)
    second = await _receiver(api)
    try:
        sub = await _subscribe(api, first, events=["lead.disposition"])
        await _patch(api, sub, active=False)
        held = await _emit(api, "lead.disposition")
        worker = _worker(api, session)
        assert await worker.run_once() == 0  # fanned out and held
        await _patch(api, sub, url=second.url, events=["lead.dnc"], active=True)
        dnc = await _emit(api, "lead.dnc")
        await _emit(api, "lead.disposition")  # no longer subscribed to
        assert await worker.run_once() == 2
    finally:
        await first.close()
        await second.close()
    assert not first.arrivals
    assert set(second.events) == {held, dnc}  # the held delivery went to the new URL


async def test_rotation_signs_with_both_secrets_during_the_grace_period_then_the_new_one(
    api: Api, session: aiohttp.ClientSession
) -> None:
    receiver = await _receiver(api)  # verifies with the old secret
    old = receiver.secret
    try:
        sub = await _subscribe(api, receiver)
        status, rotated = await api.call(
            "POST", f"/api/v1/webhooks/{sub}/rotate-secret", as_="crm", json={"grace_hours": 2}
        )
        assert status == 200
        new = rotated["secret"]
        worker = _worker(api, session)
        during = await _emit(api)
        assert await worker.run_once() == 1
        assert list(receiver.events) == [during]  # the old secret still verifies
        arrival = receiver.arrivals[-1]
        header = arrival.headers[signing.SIGNATURE_HEADER]
        signing.verify(new, header, arrival.body, now=api.clock.now().timestamp())
        assert header.count("v1=") == 2

        api.clock.advance(2 * 3600 - 1)
        assert await worker.run_once() == 0
        last = await _emit(api)
        assert await worker.run_once() == 1  # one second before the end: still both
        assert receiver.arrivals[-1].headers[signing.SIGNATURE_HEADER].count("v1=") == 2

        api.clock.advance(1)  # the grace period is over
        receiver.secret = new  # the CRM switched its verifier
        after = await _emit(api)
        assert await worker.run_once() == 1
        arrival = receiver.arrivals[-1]
        header = arrival.headers[signing.SIGNATURE_HEADER]
        assert header.count("v1=") == 1 and arrival.status == 200
        with pytest.raises(signing.SignatureError):
            signing.verify(old, header, arrival.body, now=api.clock.now().timestamp())
    finally:
        await receiver.close()
    assert list(receiver.events) == [during, last, after]


async def test_after_a_rotation_with_no_grace_the_old_secret_fails_at_once(
    api: Api, session: aiohttp.ClientSession
) -> None:
    receiver = await _receiver(api)
    try:
        sub = await _subscribe(api, receiver)
        status, _ = await api.call(
            "POST", f"/api/v1/webhooks/{sub}/rotate-secret", as_="crm", json={"grace_hours": 0}
        )
        assert status == 200
        event_id = await _emit(api)
        assert await _worker(api, session).run_once() == 1
    finally:
        await receiver.close()
    assert not receiver.events and receiver.arrivals[0].status == 401
    assert (await _delivery(api, event_id))["last_status"] == 401
