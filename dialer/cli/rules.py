"""``dialer check`` and ``dialer rules list|show``: ask the calling rules from the command line.

``check`` decides for one number at one instant (default: now) without a database, so
contact caps are not counted; ``check --lead ID`` decides for a stored lead with its
campaign's purpose, schedule and waivers, its DNC entries and its contact history (caps and
cool-downs, each with when it lapses). ``rules`` shows what the loaded rule packs say. The CLI is a
composition root: it is the one place that reads the real clock for the compliance engine.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from dialer.cli.common import connection, run, settings_from
from dialer.compliance import PURPOSES, Decision, check_number, load_rulebook
from dialer.compliance.check import FACTS, parse_instant
from dialer.compliance.rulebook import Pack
from dialer.engine.gate import check_lead
from dialer.errors import UsageError, ValidationError


def register(subparsers: Any) -> None:
    """Add ``check`` and ``rules`` (``list``, ``show``) to the ``dialer`` command."""
    check = subparsers.add_parser(
        "check",
        help="may this number (or lead) be called now (or at --at)? prints the decision",
    )
    check.add_argument("--phone", help="phone number, E.164 or national")
    check.add_argument("--purpose", help=f"one of {', '.join(PURPOSES)}")
    check.add_argument(
        "--lead", type=int, help="a stored lead's id: its campaign, DNC entries and attempts"
    )
    check.add_argument("--at", help="ISO 8601 instant with offset (default: now)")
    check.add_argument("--region", help="default region for national numbers (e.g. US)")
    check.add_argument("--postal", help="callee's postal code (narrows time zones)")
    check.add_argument("--state", help="callee's state/province (ISO 3166-2 suffix)")
    check.add_argument(
        "--consent",
        choices=("none", "express", "express_written", "revoked"),
        help="the callee's consent (revoked: blocked)",
    )
    check.add_argument("--consent-at", help="when the consent was given (ISO 8601)")
    check.add_argument("--ebr-since", help="the callee's last purchase from the seller (EBR)")
    check.add_argument("--wireless", choices=("yes", "no", "unknown"), help="is it mobile?")
    check.add_argument("--category", help="the call's NCPR category 1-8 (India)")
    check.add_argument("--dnc", help="DNC lists holding the number (us_dnc,internal)")
    check.add_argument("--ncpr", help="the number's NCPR preference: 0 or categories (1,3)")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(func=cmd_check)

    rules = subparsers.add_parser("rules", help="show the loaded calling-rule packs")
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="SUBCOMMAND")
    listing = rules_sub.add_parser("list", help="list the rule packs")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(func=cmd_rules_list)
    show = rules_sub.add_parser("show", help="show one pack's rules and sources")
    show.add_argument("jurisdiction", help="pack id or jurisdiction: us-fl, US-FL, FR, '*'")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(func=cmd_rules_show)
    rules.set_defaults(func=_rules_help(rules))


def _rules_help(parser: argparse.ArgumentParser) -> Any:
    def handler(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return handler


# check_number's field names → this command's flags, so an error names what to change.
_FLAGS = {
    "phone": "--phone",
    "purpose": "--purpose",
    "at": "--at",
    "region": "--region",
    "postal_code": "--postal",
    "state": "--state",
    **{name: "--" + name.replace("_", "-") for name in FACTS},
}


def _check_lead(args: argparse.Namespace) -> tuple[str, Decision]:
    names = ("phone", "purpose", "region", "postal", "state", *FACTS)
    extra = [f"--{n.replace('_', '-')}" for n in names if getattr(args, n)]
    if extra:
        raise UsageError(
            f"--lead takes the number, place and purpose from the lead; drop {', '.join(extra)}",
            field="lead",
        )
    try:
        at = parse_instant(args.at, now=datetime.now(UTC))
    except ValidationError as exc:
        raise UsageError(f"{exc.field}: {exc.message}", field=exc.field) from None

    async def go() -> tuple[str, Decision]:
        async with connection(settings_from(args)) as conn:
            lead, campaign, decision = await check_lead(conn, args.lead, at=at)
        return f"lead {lead.id} {lead.phone_e164} (campaign {campaign.id})", decision

    return run(go())


def cmd_check(args: argparse.Namespace) -> int:
    if args.lead is not None:
        label, decision = _check_lead(args)
        if args.json:
            print(json.dumps(decision.to_dict() | {"lead_id": args.lead}, ensure_ascii=False))
        else:
            print(_human_decision(label, decision))
        return 0
    if not args.phone or not args.purpose:
        raise UsageError("give --phone and --purpose, or --lead ID", field="phone")
    try:
        decision = check_number(
            args.phone,
            args.purpose,
            args.at,
            now=datetime.now(UTC),
            region=args.region,
            postal_code=args.postal,
            state=args.state,
            facts={name: getattr(args, name) for name in FACTS},
        )
    except ValidationError as exc:
        flag = _FLAGS.get(exc.field or "", "--phone")
        raise UsageError(f"{exc.field}: {exc.message} ({flag})", field=exc.field) from None
    if args.json:
        print(json.dumps(decision.to_dict(), ensure_ascii=False))
    else:
        print(_human_decision(args.phone, decision))
    return 0


def _human_decision(phone: str, decision: Decision) -> str:
    place = decision.region or "?"
    if decision.subdivisions:
        place += "-" + "/".join(decision.subdivisions)
    verdict = "ALLOWED" if decision.allowed else "BLOCKED"
    lines = [
        f"{verdict}  {phone} ({place})  {decision.purpose}  at {_iso(decision.at_utc)}",
    ]
    for reason in decision.reasons:
        lapses = f" (lapses {_iso(reason.until)})" if reason.until else ""
        lines.append(f"  - {reason}{lapses}")
    for zone, local in decision.local_times.items():
        lines.append(f"  local: {zone} {local}")
    if not decision.allowed:
        when = _iso(decision.next_allowed_at) if decision.next_allowed_at else "none within 14 days"
        lines.append(f"  next allowed: {when}")
    lines.append(f"  packs: {', '.join(decision.rules_applied)}")
    return "\n".join(lines)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment else "-"


def cmd_rules_list(args: argparse.Namespace) -> int:
    book = load_rulebook()
    if args.json:
        packs = [
            {k: v for k, v in p.describe().items() if k != "rules"}
            | {"rules": [r.id for r in p.rules]}
            for p in book.packs
        ]
        print(json.dumps({"packs": packs, "max_lookback_days": book.max_lookback.days}))
        return 0
    print(f"{'pack':<9} {'jurisdiction':<12} {'purposes':<52} rules")
    for pack in book.packs:
        purposes = ",".join(sorted(pack.purposes))
        print(f"{pack.id:<9} {pack.jurisdiction:<12} {purposes:<52} {len(pack.rules)}")
    return 0


def cmd_rules_show(args: argparse.Namespace) -> int:
    pack = load_rulebook().pack(args.jurisdiction)
    if pack is None:
        known = ", ".join(p.id for p in load_rulebook().packs)
        raise UsageError(f"no rule pack {args.jurisdiction!r} (known: {known})")
    if args.json:
        print(json.dumps(pack.describe(), ensure_ascii=False))
    else:
        print(_human_pack(pack))
    return 0


def _human_pack(pack: Pack) -> str:
    info = pack.describe()
    lines = [f"{pack.id}: {pack.name}", f"  jurisdiction: {pack.jurisdiction}"]
    if pack.also_countries:
        lines.append(f"  also applies to: {', '.join(pack.also_countries)}")
    lines.append(f"  purposes: {', '.join(sorted(pack.purposes))}")
    if pack.notes:
        lines.append("  notes: " + " ".join(pack.notes.split()))
    if info["dnc"]:
        exempt = ", ".join(info["dnc"]["consent_exempt_purposes"]) or "none"
        lines.append(f"  DNC: exempt with consent: {exempt}")
    for rule in info["rules"]:
        lines.append(f"  [{rule['id']}] {rule['summary']}")
        lines.append(
            f"      purposes: {', '.join(rule['purposes'])}; confidence: {rule['confidence']}"
        )
        lines.append(f"      source: {rule['source']}")
    return "\n".join(lines)
