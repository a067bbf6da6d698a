"""The engine's value types: a campaign's dialing settings and a lead in the hopper."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dialer.campaigns.model import retry_policy
from dialer.campaigns.timetable import ShiftHours, read_shift
from dialer.compliance import LeadInfo
from dialer.compliance.windows import WeeklyWindows
from dialer.engine.retry import retry_delay

DEFAULT_SAFE_HARBOR = (
    "Sorry we missed you: this was a call from us and no one was free to take it. "
    "We will not call you again today."
)
AGENTLESS_DEFAULT_LINES = 10


def _get(row: Any, key: str, default: Any) -> Any:
    """A column added by a later migration (absent from older queries' rows)."""
    try:
        value = row[key]
    except KeyError:
        return default
    return default if value is None else value


@dataclass(frozen=True, slots=True)
class CampaignConfig:
    """What a runner needs of its campaign row (reloaded to pick up changes)."""

    id: int
    client_id: int
    name: str
    state: str
    purpose: str
    dial_mode: str
    caller_id: str | None
    max_abandon_rate: float
    max_attempts: int
    retry_policy: dict[str, int]
    dial_level: float
    max_lines: int | None
    ring_timeout_s: float
    abandon_timeout_s: float
    amd: bool
    safe_harbor_message: str
    schedule: WeeklyWindows | None
    waived_rules: frozenset[str]
    alt_phone_policy: str = "on_bad_number"
    record: str = "off"
    voicemail_message: str | None = None
    voicemail_beep_timeout_s: float = 10.0
    recording_consent: str = "where_required"
    recording_announcement: str | None = None
    local_presence: bool = False
    caller_id_daily_cap: int | None = None
    opt_out: str = "where_required"
    opt_out_prompt: str | None = None
    opt_out_key: str = "9"
    category: str | None = None
    transfer_wait_s: float = 60.0
    ends_at: datetime | None = None
    shift: Mapping[str, Any] | None = field(default=None, hash=False)  # {timezone, windows}
    # the shift read once (None: no shift, or one that cannot be read: no known end)
    shift_hours: ShiftHours | None = field(default=None, hash=False, compare=False, init=False)

    def __post_init__(self) -> None:
        hours = None
        if self.shift:
            try:
                hours = read_shift(self.shift)
            except (KeyError, TypeError, ValueError):
                hours = None
        object.__setattr__(self, "shift_hours", hours)

    @classmethod
    def from_row(cls, row: Any) -> CampaignConfig:
        schedule = row["schedule"]
        return cls(
            id=row["id"],
            client_id=row["client_id"],
            name=row["name"],
            state=row["state"],
            purpose=row["purpose"],
            dial_mode=row["dial_mode"],
            caller_id=row["caller_id"],
            max_abandon_rate=float(row["max_abandon_rate"]),
            max_attempts=int(row["max_attempts"]),
            retry_policy=retry_policy(row["retry_policy"]),
            dial_level=float(row["dial_level"]),
            max_lines=row["max_lines"],
            ring_timeout_s=float(max(15, row["ring_timeout_s"])),
            abandon_timeout_s=float(min(2.0, row["abandon_timeout_s"])),
            amd=bool(row["amd"]),
            safe_harbor_message=row["safe_harbor_message"] or DEFAULT_SAFE_HARBOR,
            schedule=WeeklyWindows.from_json(schedule) if schedule else None,
            waived_rules=frozenset(row["waived_rules"] or ()),
            alt_phone_policy=_get(row, "alt_phone_policy", "on_bad_number"),
            record=_get(row, "record", "off"),
            voicemail_message=_get(row, "voicemail_message", None),
            voicemail_beep_timeout_s=float(_get(row, "voicemail_beep_timeout_s", 10.0)),
            recording_consent=_get(row, "recording_consent", "where_required"),
            recording_announcement=_get(row, "recording_announcement", None),
            local_presence=bool(_get(row, "local_presence", False)),
            caller_id_daily_cap=_get(row, "caller_id_daily_cap", None),
            opt_out=_get(row, "opt_out", "where_required"),
            opt_out_prompt=_get(row, "opt_out_prompt", None),
            opt_out_key=_get(row, "opt_out_key", "9"),
            category=_get(row, "category", None),
            transfer_wait_s=float(_get(row, "transfer_wait_s", 60)),
            ends_at=_get(row, "ends_at", None),
            shift=_get(row, "shift", None),
        )

    @property
    def caller_numbers(self) -> tuple[str, ...]:
        """Every caller ID the campaign may present."""
        return (self.caller_id,) if self.caller_id else ()

    @property
    def lines(self) -> int | None:
        """The line cap; agentless campaigns always have one."""
        if self.dial_mode == "agentless":
            return self.max_lines or AGENTLESS_DEFAULT_LINES
        return self.max_lines

    def unknown_delay(self) -> timedelta:
        """How far a dialed lead is pushed out until its call's outcome is recorded."""
        return retry_delay("unknown", self.retry_policy)


@dataclass(frozen=True, slots=True)
class Lead:
    """A claimed lead, as the runner carries it from the hopper to the dial."""

    id: int
    phone_e164: str
    region: str | None
    subdivision: str | None
    postal_code: str | None
    time_zones: tuple[str, ...]
    status: str
    attempts_count: int
    callback_agent_id: int | None
    claimed_t: float = 0.0

    @classmethod
    def from_row(cls, row: Any, claimed_t: float) -> Lead:
        return cls(
            id=row["id"],
            phone_e164=row["phone_e164"],
            region=row["region"],
            subdivision=row["subdivision"],
            postal_code=row["postal_code"],
            time_zones=tuple(row["time_zones"] or ()),
            status=row["status"],
            attempts_count=row["attempts_count"],
            callback_agent_id=row["callback_agent_id"],
            claimed_t=claimed_t,
        )

    def info(self, dnc_sources: tuple[str, ...] = ()) -> LeadInfo:
        """The lead as the calling rules see it."""
        return LeadInfo(
            phone_e164=self.phone_e164,
            region=self.region,
            subdivision=self.subdivision,
            time_zones=self.time_zones,
            postal_code=self.postal_code,
            dnc=bool(dnc_sources),
            dnc_sources=dnc_sources,
        )


@dataclass(frozen=True)
class RunnerOptions:
    """Timings of a runner (wall seconds)."""

    lease_ttl_s: float = 15.0
    tick_s: float = 0.25
    claim_ttl_s: float = 60.0
    config_every_s: float = 2.0
    budget_every_s: float = 60.0
    agents_every_s: float = 10.0
    shared_every_s: float = 2.0  # other processes' calls on shared agents (shared_elsewhere)
    complete_every_s: float = 30.0
    orphans_every_s: float = 5.0  # calls another live process still held at the start
    shutdown_timeout_s: float = 10.0
    hopper_min: int = 20
    max_batch: int = 50  # calls per launch batch (one statement)
    parallel_batches: int = 4  # batches being placed at once (each holds a connection)
    recordings: Any = None  # where call recordings are stored (dialer.recordings); None: off
