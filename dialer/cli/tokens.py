"""``dialer token create|revoke|list``: API tokens (shown once, stored hashed)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from dialer.agents import store as agents
from dialer.auth.roles import ROLES
from dialer.auth.tokens import create_token, list_tokens, revoke_token
from dialer.cli.common import connection, print_json, print_table, run, settings_from
from dialer.clients import resolve_client


def register(sub: argparse._SubParsersAction) -> None:
    token = sub.add_parser("token", help="manage API tokens")
    tsub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)

    create = tsub.add_parser("create", help="create a token (printed once)")
    create.add_argument("--name", required=True, help="who or what uses the token")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--client", help="restrict the token to one client (id or name)")
    create.add_argument("--agent", metavar="ID_OR_NAME", help="the agent (role agent)")
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.set_defaults(func=cmd_create)

    revoke = tsub.add_parser("revoke", help="revoke tokens by id, prefix or name")
    revoke.add_argument("token", metavar="ID_PREFIX_OR_NAME")
    revoke.add_argument("--json", action="store_true")
    revoke.set_defaults(func=cmd_revoke)

    lst = tsub.add_parser("list", help="list tokens (never their secret)")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)


def cmd_create(args: argparse.Namespace) -> int:
    async def go() -> tuple[str, dict]:
        async with connection(settings_from(args)) as conn:
            client_id = await resolve_client(conn, args.client) if args.client else None
            agent_id = await agents.resolve(conn, args.agent, client_id) if args.agent else None
            return await create_token(
                conn,
                name=args.name,
                role=args.role,
                client_id=client_id,
                agent_id=agent_id,
                now=datetime.now(UTC),
            )

    token, row = run(go())
    if args.json:
        print_json({"token": token, **row})
    else:
        print(token)
        print(
            f"# token {row['id']} '{row['name']}' role={row['role']}: store it now, "
            "it is not shown again"
        )
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    async def go() -> list[str]:
        async with connection(settings_from(args)) as conn:
            return await revoke_token(conn, args.token, now=datetime.now(UTC))

    names = run(go())
    if args.json:
        print_json({"revoked": names})
    else:
        print(f"revoked: {', '.join(names)}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    async def go() -> list[dict]:
        async with connection(settings_from(args)) as conn:
            return await list_tokens(conn)

    rows = run(go())
    if args.json:
        print_json({"items": rows})
    else:
        print_table(
            rows, ["id", "name", "role", "client_id", "prefix", "last_used_at", "revoked_at"]
        )
    return 0
