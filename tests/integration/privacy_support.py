"""Shared by the privacy tests (no tests here): an app with a data directory and the
background imports, a person planted everywhere the dialer keeps personal data, and the
search of every text, JSON, array and bytea column of every table and of every file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from dialer.http.keys import IMPORTS, RECORDINGS
from dialer.outbox import enqueue
from tests.integration.conftest import Api
from tests.integration.test_stats_support import add_attempt


@dataclass
class Person:
    name: str
    e164: str
    raw: str
    policy: str

    @property
    def needles(self) -> list[str]:
        digits = self.e164.lstrip("+")
        return [self.name, self.e164, self.raw, digits, digits[1:], self.policy]


async def upload(api: Api, campaign_id: int, text: str, as_: str = "manager") -> dict[str, Any]:
    form = aiohttp.FormData()
    form.add_field("file", text.encode(), filename="people.csv", content_type="text/csv")
    status, body = await api.call(
        "POST", f"/api/v1/campaigns/{campaign_id}/lists", as_=as_, data=form
    )
    assert status == 202, body
    await api.client.app[IMPORTS].wait_idle(timeout=120)  # type: ignore[index]
    status, done = await api.call("GET", f"/api/v1/imports/{body['id']}", as_="admin")
    assert status == 200 and done["state"] == "completed", done
    return done  # type: ignore[no-any-return]


async def plant(api: Api, campaign_id: int, client_id: int, person: Person) -> int:
    """The person in a list file (with a duplicate row: the raw form lands in the error
    report), called twice (notes, a recording file), in webhook events (one undelivered),
    in an audit entry, a DNC entry of the client, a cached API answer and a console flash."""
    text = (
        "name,phone,policy_no,alt,consent,consent_source\n"
        f"{person.name},{person.raw},{person.policy},,express_written,form of {person.name}\n"
        f"{person.name},{person.raw},{person.policy},,express_written,form of {person.name}\n"
    )
    done = await upload(api, campaign_id, text)
    assert done["rejected_by_reason"] == {"duplicate_in_file": 1}
    lead_id: int = await api.pool.fetchval(
        "SELECT id FROM leads WHERE campaign_id = $1 AND phone_e164 = $2", campaign_id, person.e164
    )
    now = api.clock.now()
    storage = api.client.app[RECORDINGS]  # type: ignore[index]
    async with api.pool.acquire() as conn:
        first = await add_attempt(conn, campaign_id, lead_id, now, outcome="no_answer")
        second = await add_attempt(
            conn,
            campaign_id,
            lead_id,
            now,
            outcome="completed",
            answer="human",
            connected=True,
            wait_s=0.5,
            talk_s=75.0,
            disposition="sale",
        )
        key = f"{campaign_id}/{second}.wav"
        stored = await storage.put(key, b"RIFF" + person.name.encode() + person.e164.encode())
        await conn.execute(
            "UPDATE attempts SET notes = $2, recording_key = $3, recording_url = $4,"
            " recording_sha256 = $5, recording_s = 75 WHERE id = $1",
            second,
            f"{person.name} asked about {person.policy}",
            key,
            f"/api/v1/attempts/{second}/recording",
            stored.sha256,
        )
        subscription = await conn.fetchval(
            "INSERT INTO webhook_subscriptions (client_id, url, events, secret_ciphertext)"
            " VALUES ($1, 'https://crm.example/hook', '{*}', '\\x00') RETURNING id",
            client_id,
        )
        for n, attempt in enumerate((first, second)):
            await enqueue(
                conn,
                "lead.disposition",
                client_id=client_id,
                campaign_id=campaign_id,
                lead_id=lead_id,
                now=now,
                data={
                    "lead_id": lead_id,
                    "attempt_id": attempt,
                    "phone": person.e164,
                    "fields": {"name": person.name},
                    "notes": person.policy,
                },
            )
            outbox = await conn.fetchval("SELECT max(id) FROM webhook_outbox")
            await conn.execute(
                "INSERT INTO webhook_deliveries (subscription_id, outbox_id, lead_id, state,"
                " next_attempt_at, started_at, created_at, last_error)"
                " VALUES ($1, $2, $3, $4, $5, $5, $5, $6)",
                subscription,
                outbox,
                lead_id,
                "delivered" if n == 0 else "pending",
                now,
                f"echo {person.e164}",
            )
        await conn.execute(
            "INSERT INTO audit_log (at, actor, action, object_type, object_id, details)"
            " VALUES ($1, 'test', 'note', 'lead', $2, $3)",
            now,
            lead_id,
            {"phone": person.e164, "said": f"call {person.name}"},
        )
    status, _ = await api.call(
        "POST",
        "/api/v1/dnc",
        as_="manager",
        json={"phone": person.e164, "scope": "client", "client_id": client_id},
    )
    assert status in (200, 201), _
    status, _ = await api.call(
        "PATCH",
        f"/api/v1/leads/{lead_id}",
        as_="manager",
        headers={"Idempotency-Key": f"k-{lead_id}"},
        json={"priority": 5},
    )
    assert status == 200  # the answer (with the number and fields) is cached for replays
    return lead_id


async def traces(pool: asyncpg.Pool, needles: list[str]) -> list[str]:
    """``table.column`` for every column of every table holding one of ``needles``."""
    columns = await pool.fetch(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
        " JOIN information_schema.tables t ON t.table_schema = c.table_schema"
        "  AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'"
        " WHERE c.table_schema = 'public' AND c.data_type IN ('text', 'character varying',"
        " 'character', 'json', 'jsonb', 'bytea', 'ARRAY', 'USER-DEFINED')"
    )
    found = []
    for col in columns:
        ident = f'"{col["table_name"]}"."{col["column_name"]}"'
        if col["data_type"] == "bytea":
            test = f"position(convert_to(n, 'UTF8') IN \"{col['column_name']}\") > 0"
        else:
            test = f"lower(\"{col['column_name']}\"::text) LIKE '%' || lower(n) || '%'"
        hit = await pool.fetchval(
            f'SELECT EXISTS (SELECT 1 FROM "{col["table_name"]}", unnest($1::text[]) AS n'
            f" WHERE {test})",
            needles,
        )
        if hit:
            found.append(ident)
    return found


def file_traces(root: Path, needles: list[str]) -> list[str]:
    """Files under ``root`` (the database's own directory aside) holding one of ``needles``."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and "pg" not in path.relative_to(root).parts[:1]:
            data = path.read_bytes().lower()
            if any(n.lower().encode() in data for n in needles):
                found.append(str(path))
    return found
