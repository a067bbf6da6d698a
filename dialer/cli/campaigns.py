"""``dialer campaign list|create|show|start|pause|stop``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dialer.auth.roles import SYSTEM
from dialer.campaigns import control, model, store
from dialer.cli.common import connection, print_json, print_table, run, settings_from
from dialer.clients import resolve_client
from dialer.errors import UsageError
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
    create.add_argument("--name", help="unique within the client")
    create.add_argument("--purpose", choices=model.PURPOSES)
    create.add_argument("--mode", dest="dial_mode", choices=model.DIAL_MODES)
    create.add_argument("--caller-id", help="E.164 number shown to callees")
    create.add_argument("--region", dest="default_region", help="country for numbers without +")
    create.add_argument("--client", help="owner client (id or name); default client if omitted")
    create.add_argument(
        "--from-json",
        type=Path,
        metavar="FILE",
        help="every field as a JSON object (flags override it)",
    )
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=cmd_create)

    show = csub.add_parser("show", help="one campaign with every field")
    show.add_argument("campaign", metavar="ID_OR_NAME")
    show.set_defaults(func=cmd_show)

    for action in ("start", "pause", "stop"):
        p = csub.add_parser(action, help=f"{action} a campaign")
        p.add_argument("campaign", metavar="ID_OR_NAME")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_action, action=action)


def _body(args: argparse.Namespace) -> dict[str, Any]:
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
    for key in ("name", "purpose", "dial_mode", "caller_id", "default_region"):
        value = getattr(args, key)
        if value is not None:
            body[key] = value
    if "name" not in body:
        raise UsageError("a campaign needs --name")
    return body


def cmd_create(args: argparse.Namespace) -> int:
    body = _body(args)

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
            row, _ = await control.change_state(
                conn, found["id"], args.action, scope=None, now=datetime.now(UTC)
            )
            return row

    row = store.present(run(go()))
    if args.json:
        print_json(row)
    else:
        print(f"campaign {row['id']} '{row['name']}' is {row['state']}")
    return 0
