"""``dialer callerid show|set|pick``: a campaign's caller-ID pool, and which number a call
would present now and why."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from dialer.auth.roles import SYSTEM
from dialer.campaigns import callerids, store
from dialer.cli.common import connection, print_json, print_table, run, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("callerid", help="caller-ID pools and local presence")
    csub = cmd.add_subparsers(dest="callerid_command", metavar="ACTION", required=True)

    show = csub.add_parser("show", help="a campaign's pool, settings and today's use")
    show.add_argument("--campaign", required=True, metavar="ID_OR_NAME")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)

    put = csub.add_parser("set", help="replace a campaign's pool (audited)")
    put.add_argument("--campaign", required=True, metavar="ID_OR_NAME")
    put.add_argument("--numbers", default="", help="comma-separated E.164 numbers to present")
    put.add_argument("--retired", default="", help="comma-separated numbers kept but not used")
    put.add_argument("--local-presence", action=argparse.BooleanOptionalAction, default=False)
    put.add_argument("--daily-cap", type=int, default=None, help="calls per number per day")
    put.add_argument("--json", action="store_true")
    put.set_defaults(func=cmd_set)

    pick = csub.add_parser("pick", help="which caller ID a call to PHONE would present now")
    pick.add_argument("--campaign", required=True, metavar="ID_OR_NAME")
    pick.add_argument("--phone", required=True, help="the callee's number (E.164)")
    pick.add_argument("--json", action="store_true")
    pick.set_defaults(func=cmd_pick)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _show(pool: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(pool)
        return
    cap = pool["daily_cap"] if pool["daily_cap"] is not None else "none"
    print(f"local presence: {'on' if pool['local_presence'] else 'off'}; daily cap: {cap}")
    print_table(pool["items"], ["number", "retired", "used_today"])


def cmd_show(args: argparse.Namespace) -> int:
    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            found = await store.find(conn, args.campaign, None)
            return await callerids.get_pool(conn, found["id"], None, now=datetime.now(UTC))

    _show(run(go()), args.json)
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    items: list[dict[str, Any]] = [{"number": n} for n in _split(args.numbers)]
    items += [{"number": n, "retired": True} for n in _split(args.retired)]
    body = {"items": items, "local_presence": args.local_presence, "daily_cap": args.daily_cap}

    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            found = await store.find(conn, args.campaign, None)
            return await callerids.put_pool(conn, found["id"], body, SYSTEM, now=datetime.now(UTC))

    _show(run(go()), args.json)
    return 0


def cmd_pick(args: argparse.Namespace) -> int:
    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            found = await store.find(conn, args.campaign, None)
            return await callerids.pick_now(
                conn, found["id"], None, args.phone, now=datetime.now(UTC)
            )

    got = run(go())
    if args.json:
        print_json(got)
    else:
        print(f"{got['caller_id']}  ({got['reason']})")
    return 0
