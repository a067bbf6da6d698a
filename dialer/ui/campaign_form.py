"""The campaign form: HTML inputs ↔ the campaign body the API takes.

This module only converts text to JSON values (numbers, durations, weekly hours, local
date-times) and back; every rule is checked by ``dialer.campaigns`` exactly as for the API,
and its ``ValidationError.field`` says next to which input the message goes. Input names
are the API's field names (``retry_policy.busy``, ``schedule.mon``, ``shift.timezone``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer.campaigns import model
from dialer.compliance.windows import DAY_KEYS, WeeklyWindows
from dialer.ui.filters import duration

DAY_NAMES = dict(zip(DAY_KEYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))
TEXT_FIELDS = (
    "name",
    "caller_id",
    "default_region",
    "safe_harbor_message",
    "recording_announcement",
    "voicemail_message",
    "opt_out_prompt",
    "category",
)
NUMBER_FIELDS = (
    "max_attempts",
    "dial_level",
    "max_lines",
    "ring_timeout_s",
    "abandon_timeout_s",
    "recording_retention_days",
    "voicemail_beep_timeout_s",
)
# sent only when chosen
CHOICE_FIELDS = ("record", "recording_consent", "alt_phone_policy", "opt_out", "opt_out_key")
NULLABLE = {
    "caller_id",
    "default_region",
    "safe_harbor_message",
    "max_lines",
    "recording_announcement",
    "voicemail_message",
    "recording_retention_days",
    "opt_out_prompt",
    "category",
}
# Where the form's unit differs from the API's, the range message is said in the form's unit.
MESSAGES = {
    "max_abandon_rate": "Must be more than 0 % and at most 3 % (the legal limit).",
    "retry_policy": "Must be between 1 minute and 30 days.",
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.I)
_UNIT = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("", "m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}
_WHERE = re.compile(r"^\w+\[\d+\]:\s*")
_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
_RANGE = re.compile(r"\s*(?:-|\u2013|\u2014|\bto\b)\s*")  # hyphen, en dash, em dash, "to"


@dataclass
class CampaignForm:
    """What the form shows: input values as text, and messages per input name."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def error_for(self, name: str) -> str | None:
        return self.errors.get(name)

    def add_error(self, api_field: str | None, message: str) -> None:
        """Attach a domain error to the input it concerns, else its group, else the form."""
        head = (api_field or "").split(".")[0]
        if api_field in self.values:
            target = api_field
        elif head in ("schedule", "shift", "retry_policy"):
            target = head
        else:
            target = "_form"
        self.errors[target] = MESSAGES.get(head) or _sentence(api_field, message)

    def keep(self, form: Mapping[str, str]) -> None:
        """Show what was typed (checkboxes absent from a form are unticked)."""
        for name in self.values:
            self.values[name] = form.get(name, "")


def _sentence(api_field: str | None, message: str) -> str:
    """``caller_id must be …`` → ``Must be …`` (the label already names the field)."""
    if api_field and message.startswith(api_field + " "):
        message = message[len(api_field) + 1 :]
    return message[:1].upper() + message[1:]


# ---- campaign → form -------------------------------------------------------------------


def _days_text(windows: Mapping[str, Any] | None, day: str) -> str:
    if not windows:
        return ""
    return ", ".join(f"{a}-{b}" for a, b in windows.get(day, []))


def _local(moment: datetime | None, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def values_from_campaign(row: Mapping[str, Any] | None) -> dict[str, str]:
    """Input values for an existing campaign, or the defaults for a new one (``None``)."""
    data: dict[str, Any] = dict(row) if row else {n: f.default for n, f in model.FIELDS.items()}
    values: dict[str, str] = {}
    for name in ("name", "purpose", "dial_mode", *CHOICE_FIELDS, *TEXT_FIELDS, *NUMBER_FIELDS):
        value = data.get(name)
        values[name] = (
            "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
        )
    rate = data.get("max_abandon_rate")
    values["max_abandon_rate"] = "" if rate is None else f"{rate * 100:g}"
    values["amd"] = "on" if data.get("amd") else ""
    own_retry = data.get("retry_policy") or {}
    for outcome in model.RETRY_OUTCOMES:
        values[f"retry_policy.{outcome}"] = (
            duration(own_retry[outcome]) if outcome in own_retry else ""
        )
    schedule, shift = data.get("schedule"), data.get("shift") or {}
    for day in DAY_KEYS:
        values[f"schedule.{day}"] = _days_text(schedule, day)
        values[f"shift.{day}"] = _days_text(shift.get("windows"), day)
    values["shift.timezone"] = shift.get("timezone", "")
    zone = _zone(values["shift.timezone"])
    values["starts_at"] = _local(data.get("starts_at"), zone)
    values["ends_at"] = _local(data.get("ends_at"), zone)
    values["waived_rules"] = ", ".join(data.get("waived_rules") or [])
    values["waiver_reason"] = ""
    values["client_id"] = str(data.get("client_id") or "")
    return values


# ---- form → campaign body ----------------------------------------------------------------


def _number(text: str) -> int | float | str:
    """``"5"`` → 5, ``"2.5"`` → 2.5; anything else is passed on for the model to reject."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse_duration(text: str) -> int:
    """``15m``, ``2h``, ``3d``, ``90s`` → seconds; a bare number is minutes."""
    match = _DURATION.match(text)
    if not match or match.group(2).lower() not in _UNIT:
        raise ValueError("write a duration such as 15m, 2h or 3d")
    return round(float(match.group(1)) * _UNIT[match.group(2).lower()])


def _clock(text: str) -> str:
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError("write hours like 09:00-17:00, separated by commas")
    return f"{int(match.group(1)):02d}:{match.group(2) or '00'}"


def parse_hours(text: str, day: str) -> list[list[str]]:
    """``9-12, 13:00-17:30`` → ``[["09:00", "12:00"], ["13:00", "17:30"]]``, checked by
    ``WeeklyWindows`` (the parser the API uses); ``ValueError`` says what to fix."""
    pairs: list[list[str]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        bounds = _RANGE.split(part)
        if len(bounds) != 2:
            raise ValueError("write hours like 09:00-17:00, separated by commas")
        pairs.append([_clock(bounds[0]), _clock(bounds[1])])
    try:
        WeeklyWindows.from_json({day: pairs})
    except ValueError as exc:
        raise ValueError(_WHERE.sub("", str(exc))) from None
    return pairs


def _week(form: Mapping[str, str], prefix: str, errors: dict[str, str]) -> dict[str, Any] | None:
    week: dict[str, Any] = {}
    for day in DAY_KEYS:
        text = form.get(f"{prefix}.{day}", "").strip()
        if not text:
            continue
        try:
            week[day] = parse_hours(text, day)
        except ValueError as exc:
            errors[f"{prefix}.{day}"] = _sentence(None, str(exc))
    return week or None


def _instant(text: str, zone: tzinfo) -> str | None:
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=zone).isoformat()
    except ValueError:
        return text  # the model says what is wrong with it


def body_from_form(
    form: Mapping[str, str], *, may_waive: bool, choose_client: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """The API body for the submitted form, and conversion errors by input name."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {}
    for name in ("name", "purpose", "dial_mode", *TEXT_FIELDS):
        text = form.get(name, "").strip()
        body[name] = None if not text and name in NULLABLE else text
    body.update({n: form[n].strip() for n in CHOICE_FIELDS if form.get(n, "").strip()})
    for name in NUMBER_FIELDS:
        text = form.get(name, "").strip()
        if text:
            body[name] = _number(text)
        elif name in NULLABLE:
            body[name] = None
    rate = form.get("max_abandon_rate", "").strip().rstrip("%").strip()
    if rate:
        number = _number(rate)
        body["max_abandon_rate"] = number / 100 if not isinstance(number, str) else number
    body["amd"] = form.get("amd") == "on"
    retry: dict[str, int] = {}
    for outcome in model.RETRY_OUTCOMES:
        text = form.get(f"retry_policy.{outcome}", "").strip()
        if text:
            try:
                retry[outcome] = parse_duration(text)
            except ValueError as exc:
                errors[f"retry_policy.{outcome}"] = _sentence(None, str(exc))
    body["retry_policy"] = retry
    body["schedule"] = _week(form, "schedule", errors)
    zone_name = form.get("shift.timezone", "").strip()
    hours = _week(form, "shift", errors)
    body["shift"] = {"timezone": zone_name, "windows": hours} if hours else None
    if hours and not zone_name:
        errors["shift.timezone"] = "Choose the time zone the operating hours are in."
    zone = _zone(zone_name)
    body["starts_at"] = _instant(form.get("starts_at", ""), zone)
    body["ends_at"] = _instant(form.get("ends_at", ""), zone)
    if may_waive:
        body["waived_rules"] = [r for r in re.split(r"[\s,]+", form.get("waived_rules", "")) if r]
        if form.get("waiver_reason", "").strip():
            body["waiver_reason"] = form["waiver_reason"].strip()
    client_text = form.get("client_id", "").strip()
    if choose_client and client_text.isdigit() and len(client_text) < 19:
        body["client_id"] = int(form["client_id"])
    return body, errors
