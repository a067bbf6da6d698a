"""``dialer serve`` and ``dialer migrate``."""

from __future__ import annotations

import argparse

from dialer import db
from dialer.cli.common import print_json, run, settings_from
from dialer.logs import configure_logging
from dialer.migrate import migrate
from dialer.runtime import serve


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the HTTP API, scheduler and dialing engine")
    p.add_argument("--host", help="bind address (default DIALER_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default DIALER_PORT or 8080)")
    p.set_defaults(func=cmd_serve)

    m = sub.add_parser("migrate", help="apply pending database migrations")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_migrate)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if overrides:
        settings = settings.with_overrides(**overrides)
    configure_logging(settings.log_level, settings.log_format)
    run(serve(settings))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = settings_from(args)

    async def go() -> list[str]:
        conn = await db.connect(await db.database_url(settings))
        try:
            return await migrate(conn)
        finally:
            await conn.close()

    applied = run(go())
    if args.json:
        print_json({"applied": applied})
    else:
        print("\n".join(f"applied {name}" for name in applied) or "database is up to date")
    return 0
