"""``dialer campaign list|create|update|show|start|pause|stop``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dialer.auth.roles import SYSTEM
from dialer.campaigns import control, model, store
from dialer.cli.common import connection, print_json, print_table, run, settings_from
from dialer.clients import resolve_client
from dialer.errors import Conflict, UsageError
from dialer.inputs import parse_json

COLUMNS = ["id", "name", "client_id", "purpose", "dial_mode", "state", "caller_id"]


def register(sub: argparse._SubParsersAction) -> None:
    campaign = sub.add_parser("campaign", help="manage campaigns")
    csub = campaign.add_subparsers(dest="campaign_command", metavar="ACTION", required=True)

    lst = csub.add_parser("list", help="list campaigns")
    lst.add_argument("--state", choices=model.STATES)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)

    create = csub.add_parser("create", help="create a campaign (state draft)")
    _field_flags(create)
    create.add_argument("--client", help="owner client (id or name); default client if omitted")
    create.set_defaults(func=cmd_create)

    update = csub.add_parser(
        "update", help="change some fields of a campaign (those given; the rest stay)"
    )
    update.add_argument("campaign", metavar="ID_OR_NAME")
    _field_flags(update)
    update.set_defaults(func=cmd_update)

    show = csub.add_parser("show", help="one campaign with every field")
    show.add_argument("campaign", metavar="ID_OR_NAME")
    show.set_defaults(func=cmd_show)

    for action in ("start", "pause", "stop"):
        p = csub.add_parser(action, help=f"{action} a campaign")
        p.add_argument("campaign", metavar="ID_OR_NAME")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_action, action=action)


# Flags of create and update → campaign fields (``--region ""`` clears a nullable field).
FLAGS: dict[str, tuple[str, dict[str, Any]]] = {
    "name": ("--name", {"metavar": "NAME", "help": "unique within the client"}),
    "purpose": ("--purpose", {"choices": model.PURPOSES}),
    "dial_mode": ("--mode", {"choices": model.DIAL_MODES}),
    "caller_id": ("--caller-id", {"metavar": "E164", "help": "E.164 number shown to callees"}),
    "default_region": (
        "--region",
        {"metavar": "CC", "help": "country for numbers without +, e.g. GB"},
    ),
    "max_attempts": ("--max-attempts", {"type": int, "metavar": "N", "help": "dials per lead"}),
    "max_lines": (
        "--max-lines",
        {"type": int, "metavar": "N", "help": "most calls in flight at once"},
    ),
    "dial_level": (
        "--dial-level",
        {"type": float, "metavar": "X", "help": "power mode: lines per agent"},
    ),
}
_CLEARABLE = ("caller_id", "default_region")


def _field_flags(parser: argparse.ArgumentParser) -> None:
    for dest, (flag, options) in FLAGS.items():
        parser.add_argument(flag, dest=dest, **options)
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="FILE",
        help="fields as a JSON object (flags override it)",
    )
    parser.add_argument("--json", action="store_true")


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if args.from_json:
        try:
            body = parse_json(args.from_json.read_bytes())
        except OSError as exc:
            raise UsageError(f"cannot read {args.from_json}: {exc.strerror}") from None
        except UsageError as exc:
            raise UsageError(f"{args.from_json}: {exc.message}") from None
        if not isinstance(body, dict):
            raise UsageError(f"{args.from_json} must hold a JSON object")
    for key in FLAGS:
        value = getattr(args, key)
        if value is not None:
            body[key] = None if key in _CLEARABLE and value == "" else value
    return body


def cmd_create(args: argparse.Namespace) -> int:
    body = _fields(args)
    if "name" not in body:
        raise UsageError("a campaign needs --name")

    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            if args.client:
                body["client_id"] = await resolve_client(conn, args.client)
            return await store.create(conn, body, SYSTEM, now=datetime.now(UTC))

    row = store.present(run(go()))
    if args.json:
        print_json(row)
    else:
        print(
            f"created campaign {row['id']} '{row['name']}' ({row['purpose']}, "
            f"{row['dial_mode']}, {row['state']})"
        )
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    body = _fields(args)
    if not body:
        flags = ", ".join(flag for flag, _ in FLAGS.values())
        raise UsageError(f"nothing to change: give at least one of {flags} or --from-json")

    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            found = await store.find(conn, args.campaign, None)
            return await store.update(conn, found["id"], body, SYSTEM, now=datetime.now(UTC))

    row = store.present(run(go()))
    if args.json:
        print_json(row)
    else:
        changed = ", ".join(f"{key}={row.get(key)}" for key in body)
        print(f"updated campaign {row['id']} '{row['name']}': {changed}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    async def go() -> list[dict[str, Any]]:
        async with connection(settings_from(args)) as conn:
            rows: list[dict[str, Any]] = []
            after = 0
            while page := await store.list_page(
                conn, None, state=args.state, after=after, limit=store.PAGE_MAX
            ):
                rows += page
                after = page[-1]["id"]
            return rows

    rows = [store.present(r) for r in run(go())]
    if args.json:
        print_json({"items": rows})
    else:
        print_table(rows, COLUMNS)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            return await store.find(conn, args.campaign, None)

    print_json(store.present(run(go())))
    return 0


def cmd_action(args: argparse.Namespace) -> int:
    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            found = await store.find(conn, args.campaign, None)
            try:
                row, _ = await control.change_state(
                    conn, found["id"], args.action, scope=None, now=datetime.now(UTC)
                )
            except Conflict as exc:
                if exc.field != "caller_id":
                    raise
                raise UsageError(
                    f"{exc.message}: dialer campaign update {args.campaign} "
                    "--caller-id +E164NUMBER",
                    field="caller_id",
                ) from None
            return row

    row = store.present(run(go()))
    if args.json:
        print_json(row)
    else:
        print(f"campaign {row['id']} '{row['name']}' is {row['state']}")
    return 0
