"""``dialer user create|list|disable|reset-password|totp``: people who sign in to the console.

Passwords are read from standard input (``--password-stdin``), never from the command line
(where other users of the machine could see them in the process list)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from dialer.auth import users
from dialer.auth.roles import SYSTEM, USER_ROLES
from dialer.cli.common import connection, print_json, print_table, run, settings_from
from dialer.clients import resolve_client
from dialer.errors import UsageError
from dialer.secrets import secret_box


def register(sub: argparse._SubParsersAction) -> None:
    user = sub.add_parser("user", help="manage people who sign in to the console")
    usub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    create = usub.add_parser("create", help="create a user (prints its id)")
    create.add_argument("--name", required=True, help="the user name people sign in with")
    create.add_argument("--role", required=True, choices=USER_ROLES)
    create.add_argument("--client", help="restrict the user to one client (id or name)")
    create.add_argument("--agent", help="agent id or name (role agent; default: a new agent)")
    create.add_argument("--password-stdin", action="store_true", required=True,
                        help="read the password from standard input")  # fmt: skip
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.set_defaults(func=cmd_create)

    lst = usub.add_parser("list", help="list users")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)

    disable = usub.add_parser("disable", help="disable a user; its sessions end at once")
    disable.add_argument("user", metavar="ID_OR_NAME")
    disable.add_argument("--json", action="store_true")
    disable.set_defaults(func=cmd_disable)

    reset = usub.add_parser("reset-password", help="set a new password (lifts a lock-out)")
    reset.add_argument("user", metavar="ID_OR_NAME")
    reset.add_argument("--password-stdin", action="store_true", required=True,
                       help="read the new password from standard input")  # fmt: skip
    reset.add_argument("--json", action="store_true")
    reset.set_defaults(func=cmd_reset)

    totp = usub.add_parser("totp", help="give a user a TOTP second factor (shown once)")
    totp.add_argument("user", metavar="ID_OR_NAME")
    totp.add_argument("--json", action="store_true")
    totp.set_defaults(func=cmd_totp)


def _password() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise UsageError("give the password on standard input (echo ... | dialer user ...)")
    return line


def cmd_create(args: argparse.Namespace) -> int:
    password = _password()

    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            body: dict[str, Any] = {"name": args.name, "role": args.role, "password": password}
            if args.client:
                body["client_id"] = await resolve_client(conn, args.client)
            if args.agent:
                body["agent"] = args.agent
            return await users.create_user(conn, body, SYSTEM, now=datetime.now(UTC))

    row = run(go())
    if args.json:
        print_json({"id": row["id"], "name": row["name"], "role": row["role"],
                    "client_id": row["client_id"], "agent_id": row["agent_id"]})  # fmt: skip
    else:
        agent = f" as agent {row['agent_id']}" if row["agent_id"] else ""
        print(f"user {row['id']} '{row['name']}' role={row['role']}{agent}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    async def go() -> list[dict[str, Any]]:
        async with connection(settings_from(args)) as conn:
            return await users.list_users(conn, None)

    rows = run(go())
    if args.json:
        print_json({"items": rows})
    else:
        print_table(rows, ["id", "name", "role", "client_id", "agent_id", "totp", "disabled_at"])
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            user_id = await users.find_user(conn, args.user, None)
            return await users.disable_user(conn, user_id, SYSTEM, now=datetime.now(UTC))

    row = run(go())
    if args.json:
        print_json(row)
    else:
        print(f"user {row['id']} '{row['name']}' disabled; its sessions have ended")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    password = _password()

    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            user_id = await users.find_user(conn, args.user, None)
            return await users.reset_password(
                conn, user_id, password, SYSTEM, now=datetime.now(UTC)
            )

    row = run(go())
    if args.json:
        print_json(row)
    else:
        print(f"user {row['id']} '{row['name']}': password changed, sessions ended")
    return 0


def cmd_totp(args: argparse.Namespace) -> int:
    settings = settings_from(args)

    async def go() -> dict[str, str]:
        async with connection(settings) as conn:
            user_id = await users.find_user(conn, args.user, None)
            box = secret_box(settings)
            return await users.set_up_totp(conn, user_id, SYSTEM, box, now=datetime.now(UTC))

    row = run(go())
    if args.json:
        print_json(row)
    else:
        print(row["uri"])
        print(
            f"# secret {row['secret']}: add it to an authenticator app now, it is not shown again"
        )
    return 0
