"""``dialer call transfer|conference|complete|cancel|leave``: live call control from the
command line, the same path as ``POST /api/v1/calls/{id}/transfer`` and friends
(``engine.transferask``): checked and written here, carried out by the runner holding the
call. A number the calling rules or the DNC list refuse prints the reasons and exits 2."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from dialer.agents import store as agents
from dialer.campaigns import store as campaigns
from dialer.cli.agents import CLI
from dialer.cli.common import connection, print_dial, print_json, run, settings_from
from dialer.engine import transferask
from dialer.engine.manual import Refused
from dialer.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("call", help="transfer or conference a live call")
    csub = cmd.add_subparsers(dest="call_command", metavar="ACTION", required=True)
    for name, text in (
        ("transfer", "hand the call to an agent, a campaign or a number (blind or warm)"),
        ("conference", "add an agent, a campaign's agent or a number to the call"),
    ):
        p = csub.add_parser(name, help=text)
        p.add_argument("--call", required=True, type=int, help="the call (attempt) id")
        target = p.add_mutually_exclusive_group(required=True)
        target.add_argument("--to-agent", metavar="ID_OR_NAME")
        target.add_argument("--to-campaign", metavar="ID_OR_NAME")
        target.add_argument("--to-phone", metavar="NUMBER")
        if name == "transfer":
            p.add_argument("--mode", choices=transferask.MODES, default="blind")
        p.add_argument("--notes", help="for the target agent (their screen pop)")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_ask, conference=name == "conference")
    for op, text in (
        ("complete", "complete a warm transfer"),
        ("cancel", "cancel a warm transfer"),
        ("leave", "the agent leaves a conference"),
    ):
        p = csub.add_parser(op, help=text)
        p.add_argument("--call", required=True, type=int, help="the call (attempt) id")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_control, op=op)


def cmd_ask(args: argparse.Namespace) -> int:
    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            if args.to_agent is not None:
                to: dict[str, Any] = {"agent_id": await agents.resolve(conn, args.to_agent, None)}
            elif args.to_campaign is not None:
                to = {"campaign_id": (await campaigns.find(conn, args.to_campaign, None))["id"]}
            else:
                to = {"phone": args.to_phone}
            body: dict[str, Any] = {"to": to, "notes": args.notes}
            if not args.conference:
                body["mode"] = args.mode
            try:
                return await transferask.request(
                    conn,
                    args.call,
                    body,
                    who=CLI,
                    now=datetime.now(UTC),
                    conference=args.conference,
                )
            except Refused as exc:
                return {"refused": exc.to_dict()}

    got = run(go())
    line = (
        ""
        if "refused" in got
        else (f"call {got['call_id']}: {got['leg']} leg {got['leg_id']} asked for ({got['to']})")
    )
    return print_dial(got, args.json, line)


def cmd_control(args: argparse.Namespace) -> int:
    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            return await transferask.control(
                conn, args.call, args.op, who=CLI, now=datetime.now(UTC)
            )

    if args.call <= 0:
        raise UsageError("--call must be a call id", field="call")
    got = run(go())
    if args.json:
        print_json(got)
    else:
        print(f"call {got['call_id']}: {args.op} asked for (leg {got['leg_id']})")
    return 0
