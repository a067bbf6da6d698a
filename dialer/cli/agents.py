"""``dialer agent dial``: place a manual dial for an agent from the command line;
``dialer agent blended``: let an agent take inbound calls too (docs/inbound.md);
``dialer agent pause|ready|logout``: the desktop's state actions (a pause asked while calls
ring that count on a free agent is *held*: the line says until when, docs/engine.md).

The same path as ``POST /api/v1/agents/{id}/dial``: the number is normalised, the calling
rules and the DNC list decide, and the runner of the campaign (in whichever ``dialer serve``
holds its lease) places the call for that agent only. A refusal prints the rules' reasons
and exits 2.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from dialer.agents import store as agents
from dialer.auth.roles import Principal
from dialer.campaigns import store as campaigns
from dialer.campaigns.codes import check_pause_code
from dialer.cli.common import connection, print_dial, print_json, run, settings_from
from dialer.engine import manual

CLI = Principal(None, "cli", "admin")


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("agent", help="act for an agent (pause, ready, logout, manual dial)")
    asub = cmd.add_subparsers(dest="agent_command", metavar="ACTION", required=True)
    dial = asub.add_parser("dial", help="dial PHONE for the agent (signed in, available or paused)")
    dial.add_argument("--agent", required=True, metavar="ID_OR_NAME")
    dial.add_argument("--phone", required=True, help="the number, in any usual format")
    dial.add_argument("--campaign", required=True, metavar="ID_OR_NAME")
    dial.add_argument("--lead", type=int, default=None, help="the lead to call (its number)")
    dial.add_argument("--json", action="store_true")
    dial.set_defaults(func=cmd_dial)
    blend = asub.add_parser(
        "blended", help="let the agent take inbound calls (callbacks) too, or stop it"
    )
    blend.add_argument("--agent", required=True, metavar="ID_OR_NAME")
    blend.add_argument("state", choices=("on", "off"))
    blend.add_argument("--json", action="store_true")
    blend.set_defaults(func=cmd_blended)
    for action, text in (
        ("pause", "pause the agent (after their call; held while calls ring for them)"),
        ("ready", "make the agent available again (cancels a pending or held pause)"),
        ("logout", "log the agent out (after their call; held while calls ring for them)"),
    ):
        state = asub.add_parser(action, help=text)
        state.add_argument("--agent", required=True, metavar="ID_OR_NAME")
        if action != "ready":
            state.add_argument("--reason", default=None, help="pause code / logout reason")
        state.add_argument("--json", action="store_true")
        state.set_defaults(func=cmd_state, action=action)


def cmd_state(args: argparse.Namespace) -> int:
    """``dialer agent pause|ready|logout --agent A`` (as ``POST /api/v1/agents/{id}/...``)."""
    reason = getattr(args, "reason", None)

    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            agent_id = await agents.resolve(conn, args.agent, None)
            if args.action == "pause":
                await check_pause_code(conn, agent_id, reason)
            row, _ = await agents.act(
                conn, agent_id, args.action, scope=None, now=datetime.now(UTC), reason=reason
            )
            return agents.present(row)

    got = run(go())
    if args.json:
        print_json(got)
    else:
        print(state_line(got))
    return 0


def state_line(agent: dict[str, Any]) -> str:
    """One line saying where the agent is, and what waits (held: until when)."""
    who = f"agent {agent['id']} ({agent['name']})"
    pending, why = agent.get("pending_action"), agent.get("pending_reason")
    what = "the pause" if pending == "pause" else "the logout"
    if why:
        what += f" ({why})"
    until = agent.get("pending_until")
    if pending and until is not None:
        return (
            f"{who} stays available: {what} is held until {until:%H:%M:%S} UTC while calls "
            "ring that count on them (sooner once those calls are gone)"
        )
    if pending:
        return f"{who} is {agent['state']}: {what} applies when the call is over"
    reason = f" ({agent['state_reason']})" if agent.get("state_reason") else ""
    return f"{who} is {agent['state']}{reason}"


def cmd_blended(args: argparse.Namespace) -> int:
    """``dialer agent blended --agent A on|off`` (as ``PATCH /api/v1/agents/{id}``)."""

    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            agent_id = await agents.resolve(conn, args.agent, None)
            body = {"blended": args.state == "on"}
            got = await agents.update(conn, agent_id, body, CLI, now=datetime.now(UTC))
            return agents.present(got)

    got = run(go())
    if args.json:
        print_json(got)
    else:
        took = "inbound and outbound calls" if got["blended"] else "outbound calls only"
        print(f"agent {got['id']} ({got['name']}) takes {took}")
    return 0


def cmd_dial(args: argparse.Namespace) -> int:
    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            agent_id = await agents.resolve(conn, args.agent, None)
            campaign = await campaigns.find(conn, args.campaign, None)
            body: dict[str, Any] = {"phone": args.phone, "campaign_id": campaign["id"]}
            if args.lead is not None:
                body["lead_id"] = args.lead
            req = manual.parse(agent_id, body)
            try:
                return await manual.request_dial(conn, req, who=CLI, now=datetime.now(UTC))
            except manual.Refused as exc:
                return {"refused": exc.to_dict()}

    got = run(go())
    line = (
        ""
        if "refused" in got
        else (f"attempt {got['attempt_id']}: dialing {got['phone']} (lead {got['lead_id']})")
    )
    return print_dial(got, args.json, line)
