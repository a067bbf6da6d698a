"""``dialer dnc import|add|remove|check``: do-not-call lists from the command line.

``dnc import FILE --source tps`` loads a national registry file (or any list of numbers)
with the same importer as lead lists; leads the new entries cover become ``dnc``.
Without ``--client`` or ``--campaign`` entries are global (they apply to every client).
``--mode replace`` (a registry's monthly full file) also removes the entries of that source
and scope that the file no longer holds; leads they made ``dnc`` stay ``dnc``.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from dialer.auth.roles import SYSTEM
from dialer.campaigns import store as campaigns
from dialer.cli.common import connection, print_json, print_table, run, settings_from
from dialer.cli.imports import add_file_options, file_options, report, run_import, summary
from dialer.clients import resolve_client
from dialer.dnc import store
from dialer.dnc.lookup import dnc_sources
from dialer.dnc.registry import registries_listing
from dialer.errors import UsageError
from dialer.instants import parse_instant
from dialer.leads import phones
from dialer.leads.submit import DNC_MODES, DncOptions, check_mode, dnc_import

COLUMNS = ["id", "phone_e164", "scope", "client_id", "campaign_id", "source", "reason"]


def _scope_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", default=None, help="list name: internal (default), tps, us_dnc ...")
    p.add_argument("--client", help="a client's list (id or name)")
    p.add_argument("--campaign", metavar="ID_OR_NAME", help="a campaign's list")
    p.add_argument("--reason", help="reason stored with the entries")


def register(sub: argparse._SubParsersAction) -> None:
    dnc = sub.add_parser("dnc", help="do-not-call lists")
    dsub = dnc.add_subparsers(dest="dnc_command", metavar="ACTION", required=True)

    imp = dsub.add_parser("import", help="load a DNC list or registry file (CSV of numbers)")
    imp.add_argument("file", metavar="FILE", type=Path)
    _scope_args(imp)
    imp.add_argument("--expires-at", help="entries lapse at this ISO 8601 instant")
    imp.add_argument(
        "--mode",
        choices=DNC_MODES,
        default="add",
        help="replace: also remove this source's entries of this scope that the file no "
        "longer holds (a registry's full monthly file; refused for internal and crm)",
    )
    add_file_options(imp)
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(func=cmd_import)

    add = dsub.add_parser("add", help="add one number")
    add.add_argument("phone")
    _scope_args(add)
    add.add_argument("--region", help="country of a number without +country code")
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=cmd_add)

    rem = dsub.add_parser("remove", help="remove a number's entries (of a source/scope)")
    rem.add_argument("phone")
    _scope_args(rem)
    rem.add_argument("--region", help="country of a number without +country code")
    rem.add_argument("--json", action="store_true")
    rem.set_defaults(func=cmd_remove)

    chk = dsub.add_parser("check", help="which entries block a number (for a campaign)")
    chk.add_argument("phone")
    chk.add_argument("--campaign", metavar="ID_OR_NAME")
    chk.add_argument("--region", help="country of a number without +country code")
    chk.add_argument("--json", action="store_true")
    chk.set_defaults(func=cmd_check)


async def _ids(conn: asyncpg.Connection, args: argparse.Namespace) -> tuple[int | None, int | None]:
    client_id = await resolve_client(conn, args.client) if args.client else None
    campaign_id = None
    if args.campaign:
        campaign_id = (await campaigns.find(conn, args.campaign, None))["id"]
    return client_id, campaign_id


def cmd_import(args: argparse.Namespace) -> int:
    options = file_options(args)
    source = store.check_source(args.source)
    mode = check_mode(args.mode, source)

    async def create(conn: asyncpg.Connection) -> dict[str, Any]:
        client_id, campaign_id = await _ids(conn, args)
        dnc = DncOptions(
            list_source=source,
            reason=args.reason,
            expires_at=parse_instant(args.expires_at, "--expires-at"),
            client_id=client_id,
            campaign_id=campaign_id,
            mode=mode,
        )
        return await dnc_import(
            conn, args.file.resolve(), options, dnc, SYSTEM, now=datetime.now(UTC)
        )

    row, failure = run(run_import(args, create))
    if row["state"] != "completed":
        return report(args, row, failure)  # raises: the list was left as it was
    options = row["options"]
    refresh = {k: options.get(k, 0) for k in ("kept", "added", "removed")}
    if args.json:
        print_json({**summary(row), "mode": mode, **refresh})
        return 0
    code = report(args, row, failure)
    if mode == "replace":
        print(f"  kept      {refresh['kept']:>12,}  (on the list already and in the file)")
        print(f"  added     {refresh['added']:>12,}")
        removed = refresh["removed"]
        print(f"  removed   {removed:>12,}  (no longer in the file; leads they blocked stay dnc)")
    return code


def _number(phone: str, region: str | None, source: str | None) -> str:
    try:
        code = phones.check_region(region) or store.REGISTRIES.get(source or "")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    number = phones.normalise_number(phone, code)
    if isinstance(number, phones.Rejection):
        raise UsageError(f"{phone!r} is not a usable number: {number.detail}")
    return number.e164


async def _campaign_region(conn: asyncpg.Connection, args: argparse.Namespace) -> str | None:
    """``--region``, else the region of ``--campaign``."""
    if args.region or not args.campaign:
        return args.region
    return (await campaigns.find(conn, args.campaign, None)).get("default_region")


def cmd_add(args: argparse.Namespace) -> int:
    source = store.check_source(args.source)

    async def go() -> tuple[str, dict[str, Any], bool, int]:
        async with connection(settings_from(args)) as conn:
            phone = _number(args.phone, await _campaign_region(conn, args), source)
            client_id, campaign_id = await _ids(conn, args)
            client_id, campaign_id = await store.resolve_scope(
                conn, SYSTEM, client_id=client_id, campaign_id=campaign_id
            )
            entry, created, blocked = await store.add(
                conn,
                phone,
                client_id=client_id,
                campaign_id=campaign_id,
                source=source,
                reason=args.reason,
                expires_at=None,
                now=datetime.now(UTC),
            )
            return phone, entry, created, blocked

    phone, entry, created, blocked = run(go())
    if args.json:
        print_json({**store.present(entry), "created": created, "leads_blocked": blocked})
    else:
        what = "added" if created else "already listed:"
        print(
            f"{what} {phone} ({store.present(entry)['scope']}, {source}); {blocked} lead(s) now dnc"
        )
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    source = args.source and store.check_source(args.source)

    async def go() -> tuple[str, int]:
        async with connection(settings_from(args)) as conn:
            phone = _number(args.phone, await _campaign_region(conn, args), source)
            _, campaign_id = await _ids(conn, args)
            deleted = await store.remove_matching(
                conn, phone, SYSTEM, source=source, campaign_id=campaign_id
            )
            return phone, deleted

    phone, deleted = run(go())
    if args.json:
        print_json({"phone_e164": phone, "deleted": deleted})
    else:
        print(f"removed {deleted} entr{'y' if deleted == 1 else 'ies'} of {phone}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    async def go() -> tuple[str, list[dict[str, Any]], list[str], list[str]]:
        async with connection(settings_from(args)) as conn:
            phone = _number(args.phone, await _campaign_region(conn, args), None)
            entries = await store.list_page(conn, None, phone=phone, limit=store.PAGE_MAX)
            listed = await registries_listing(conn, phone)
            blocking: list[str] = []
            if args.campaign:
                campaign = await campaigns.find(conn, args.campaign, None)
                found = await dnc_sources(
                    conn,
                    [phone],
                    client_id=campaign["client_id"],
                    campaign_id=campaign["id"],
                    now=datetime.now(UTC),
                )
                blocking = found.get(phone, [])
            return phone, entries, listed, blocking

    phone, entries, listed, blocking = run(go())
    rows = [store.present(e) for e in entries]
    if args.json:
        print_json(
            {
                "phone_e164": phone,
                "entries": rows,
                "registries": listed,
                "blocks_campaign": bool(blocking),
            }
        )
    else:
        print_table(rows, COLUMNS)
        if listed:
            print(
                f"{phone} is on the national registr{'y' if len(listed) == 1 else 'ies'} "
                + ", ".join(listed)
            )
        if args.campaign:
            print(f"{phone} is {'BLOCKED' if blocking else 'not blocked'} for {args.campaign}")
    return 0
