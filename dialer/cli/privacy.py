"""``dialer lead erase|export|retention``: privacy requests from the command line.

``lead erase --id ID`` or ``--phone NUMBER --client C`` erases a person (docs/privacy.md);
``--no-suppress`` leaves no hashed suppression. ``lead export --phone NUMBER --client C``
prints everything held about them (subject access) as JSON. ``lead retention --client C
--days N`` (or ``--off``) sets how long the client's leads and attempts are kept.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from dialer.auth.roles import SYSTEM
from dialer.cli.common import connection, print_json, run, settings_from
from dialer.clients import resolve_client
from dialer.errors import UsageError
from dialer.privacy import erase, export, retention
from dialer.privacy.people import e164_of
from dialer.recordings import recordings_storage


def register(sub: argparse._SubParsersAction) -> None:
    lead = sub.add_parser("lead", help="privacy requests: erase a person, export their data")
    lsub = lead.add_subparsers(dest="lead_command", metavar="ACTION", required=True)

    era = lsub.add_parser("erase", help="erase a person's personal data (by lead or number)")
    era.add_argument("--id", type=int, help="the lead's id")
    era.add_argument("--phone", help="the person's number (every lead of --client)")
    era.add_argument("--client", help="client id or name (with --phone)")
    era.add_argument("--region", help="country of a number without +country code")
    era.add_argument(
        "--no-suppress",
        action="store_true",
        help="keep no hashed suppression (the person may be imported again)",
    )
    era.add_argument("--json", action="store_true")
    era.set_defaults(func=cmd_erase)

    exp = lsub.add_parser("export", help="everything held about a person, as JSON (SAR)")
    exp.add_argument("--phone", required=True, help="the person's number")
    exp.add_argument("--client", required=True, help="client id or name")
    exp.add_argument("--region", help="country of a number without +country code")
    exp.set_defaults(func=cmd_export)

    ret = lsub.add_parser("retention", help="show or set a client's lead retention in days")
    ret.add_argument("--client", required=True, help="client id or name")
    days = ret.add_mutually_exclusive_group()
    days.add_argument("--days", type=int, help="erase leads and attempts older than this")
    days.add_argument("--off", action="store_true", help="keep leads until erased")
    ret.add_argument("--json", action="store_true")
    ret.set_defaults(func=cmd_retention)


def cmd_erase(args: argparse.Namespace) -> int:
    if (args.id is None) == (args.phone is None):
        raise UsageError("give --id ID, or --phone NUMBER with --client C")
    if args.phone is not None and not args.client:
        raise UsageError("--phone needs --client (whose leads to erase)")
    phone = e164_of(args.phone, args.region) if args.phone is not None else None
    settings = settings_from(args)

    async def go() -> erase.Erasure:
        now = datetime.now(UTC)
        async with connection(settings) as conn:
            if phone is None:
                done = await erase.erase_lead(
                    conn, args.id, who=SYSTEM, now=now, suppress=not args.no_suppress
                )
            else:
                client_id = await resolve_client(conn, args.client)
                done = await erase.erase_phone(
                    conn, phone, client_id, who=SYSTEM, now=now, suppress=not args.no_suppress
                )
        await erase.delete_files(recordings_storage(settings), done)
        return done

    done = run(go())
    if args.json:
        print_json(done.summary())
    else:
        print(
            f"erased {len(done.leads)} lead(s): {done.attempts} attempt(s) anonymised, "
            f"{done.recordings} recording(s) deleted"
            + (", number suppressed" if done.suppressed else "")
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    phone = e164_of(args.phone, args.region)
    settings = settings_from(args)

    async def go() -> dict[str, object]:
        async with connection(settings) as conn:
            client_id = await resolve_client(conn, args.client)
            return await export.subject_access(
                conn, phone, client_id, who=SYSTEM, now=datetime.now(UTC)
            )

    print_json(run(go()))
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    if args.days is not None:
        retention.parse_days({"lead_retention_days": args.days})
    settings = settings_from(args)

    async def go() -> dict[str, object]:
        async with connection(settings) as conn:
            client_id = await resolve_client(conn, args.client)
            if args.days is None and not args.off:
                return await retention.get_retention(conn, client_id, SYSTEM)
            return await retention.set_retention(
                conn, client_id, args.days, SYSTEM, now=datetime.now(UTC)
            )

    row = run(go())
    if args.json:
        print_json(row)
    else:
        days = row["lead_retention_days"]
        print(
            f"client {row['client_id']}: "
            + (f"leads kept {days} days" if days else "leads kept until erased")
        )
    return 0
