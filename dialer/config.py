"""Settings: read once from ``DIALER_*`` environment variables into one frozen object.

Every setting has a default that makes the service run on a fresh machine: an embedded
PostgreSQL in the data directory, the simulated gateway, the API on 127.0.0.1:8080.
An invalid value raises ``ConfigError`` naming the variable; the CLI turns it into one
line on stderr and exit code 2.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, TypeVar

from dialer.errors import ConfigError
from dialer.settingvalues import (
    DEFAULT_WEBHOOK_BLOCKED_NETWORKS,
    ari_url,
    http_url,
    parse_networks,
    s3_url,
    template,
)
from dialer.switchspec import parse_switches

PREFIX = "DIALER_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("json", "text")
GATEWAYS = ("sim", "ari", "esl")

T = TypeVar("T")


def _int(lo: int, hi: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"must be an integer between {lo} and {hi}") from None
        if not lo <= value <= hi:
            raise ValueError(f"must be an integer between {lo} and {hi}")
        return value

    return parse


def _float(lo: float, hi: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"must be a number between {lo:g} and {hi:g}") from None
        if not lo <= value <= hi:
            raise ValueError(f"must be a number between {lo:g} and {hi:g}")
        return value

    return parse


def _choice(options: tuple[str, ...], *, upper: bool = False) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().upper() if upper else raw.strip().lower()
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return parse


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _database_url(raw: str) -> str | None:
    value = raw.strip()
    if not value:
        return None
    if not value.startswith(("postgres://", "postgresql://")):
        raise ValueError("must be a postgresql:// URL")
    return value


def _text(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def _opt_text(raw: str) -> str | None:
    return raw.strip() or None


class Secret:
    """A credential from the environment. ``reveal()`` gives the value; ``repr`` and ``str``
    show a mask, so settings can be printed or logged without leaking it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _secret(raw: str) -> Secret | None:
    return Secret(raw) if raw.strip() else None


def _name(raw: str) -> str:
    value = raw.strip()
    if not value or not all(c.isascii() and (c.isalnum() or c in "-_") for c in value):
        raise ValueError("must be letters, digits, '-' or '_'")
    return value


def _setting(default: Any, parse: Callable[[str], Any], help: str, *, secret: bool = False) -> Any:
    """Declare a setting: its default, its parser and one line of documentation; a
    ``secret`` one's value is never repeated in an error."""
    return field(default=default, metadata={"parse": parse, "help": help, "secret": secret})


def _default_instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Settings:
    """All runtime settings. Build with ``Settings.from_env()``; never mutate."""

    database_url: str | None = _setting(
        None, _database_url, "PostgreSQL URL; unset = embedded PostgreSQL in the data directory"
    )
    data_dir: Path = _setting(
        Path(".dialer"),
        lambda raw: Path(_text(raw)),
        "where embedded PostgreSQL, keys, uploads live",
    )
    host: str = _setting("127.0.0.1", _text, "address the HTTP server binds")
    port: int = _setting(8080, _int(0, 65535), "port the HTTP server binds (0 = any free port)")
    log_level: str = _setting(
        "INFO", _choice(LOG_LEVELS, upper=True), "DEBUG, INFO, WARNING, ERROR"
    )
    log_format: str = _setting("json", _choice(LOG_FORMATS), "json (one object per line) or text")
    pool_min_size: int = _setting(2, _int(1, 100), "minimum connections in the asyncpg pool")
    pool_max_size: int = _setting(20, _int(1, 500), "maximum connections in the asyncpg pool")
    auto_migrate: bool = _setting(True, _bool, "apply pending migrations when `serve` starts")
    gateway: str = _setting("sim", _choice(GATEWAYS), "telephony gateway: sim, ari or esl")
    sim_agents: int = _setting(0, _int(0, 10_000), "simulated agents per running campaign")
    sim_speed: float = _setting(1.0, _float(0.01, 1000.0), "speed-up factor of simulated time")
    instance_id: str = _setting(
        "", _text, "name of this process in leases and logs (default host:pid)"
    )
    lease_ttl_s: float = _setting(
        15.0, _float(2.0, 300.0), "seconds a runner lease lives unrenewed"
    )
    secret_key: Secret | None = _setting(
        None, _secret, "key for encrypting secrets at rest; unset = generated in the data dir"
    )
    phone_backend: str = _setting(
        "auto",
        _choice(("auto", "phonenumbers", "rphonenumbers")),
        "phone parser: auto (rphonenumbers from dialer[fast] when installed), phonenumbers, "
        "rphonenumbers",
    )
    recordings_dir: Path | None = _setting(
        None,
        lambda raw: Path(_text(raw)),
        "where call recordings are stored (default: the data directory's recordings/)",
    )
    recordings_url: str | None = _setting(
        None,
        s3_url,
        "s3://bucket/prefix: recordings in S3-compatible storage, spooled in "
        "DIALER_RECORDINGS_DIR until uploaded (docs/recordings.md); unset = local directory",
    )
    s3_endpoint_url: str | None = _setting(
        None, http_url, "S3 endpoint of MinIO, Ceph, ... (unset = AWS)"
    )
    s3_region: str | None = _setting(None, _opt_text, "S3 region (unset = the AWS default)")
    s3_access_key_id: Secret | None = _setting(
        None, _secret, "S3 access key (unset = AWS default chain: env, profile, role)", secret=True
    )
    s3_secret_access_key: Secret | None = _setting(
        None, _secret, "S3 secret key (never logged)", secret=True
    )
    max_upload_bytes: int = _setting(
        2 * 1024**3, _int(1024, 1024**4), "largest lead-list upload accepted over HTTP"
    )
    shutdown_timeout_s: float = _setting(
        10.0, _float(0.0, 600.0), "seconds to finish in-flight work on SIGTERM"
    )
    ari_url: str | None = _setting(
        None, ari_url, "Asterisk ARI base URL, e.g. http://127.0.0.1:8088/ari (gateway ari)"
    )
    ari_user: str | None = _setting(None, _opt_text, "ARI user from ari.conf (gateway ari)")
    ari_password: Secret | None = _setting(None, _secret, "ARI password (never logged)")
    ari_app: str = _setting(
        "dialer", _name, "Stasis application name; one per process sharing an Asterisk"
    )
    esl_host: str = _setting("127.0.0.1", _text, "FreeSWITCH event socket host (gateway esl)")
    esl_port: int = _setting(8021, _int(1, 65535), "FreeSWITCH event socket port")
    esl_password: Secret | None = _setting(
        None, _secret, "FreeSWITCH event socket password (never logged)"
    )
    esl_app: str = _setting(
        "dialer", _name, "tag on this process's FreeSWITCH channels; one per process"
    )
    switches: tuple[dict[str, Any], ...] = _setting(
        (),
        lambda raw: parse_switches(raw, Secret),
        "several switches as a JSON list (name, gateway, weight, agents, and the gateway's "
        "url/user/password/app or host/port/password/app); see docs/switches.md",
        secret=True,
    )
    esl_recording_dir: str = _setting(
        "/var/lib/freeswitch/recordings/dialer",
        _text,
        "where FreeSWITCH writes call recordings; the dialer reads them there (a shared mount)",
    )
    trunk_template: str | None = _setting(
        None,
        template("number", "digits"),
        "callee dial string; default PJSIP/{number}@trunk (ari), "
        "sofia/gateway/trunk/{number} (esl)",
    )
    agent_endpoint_template: str | None = _setting(
        None,
        template("endpoint", "agent_id"),
        "agent dial string when the agent's endpoint is not one; default PJSIP/{endpoint} (ari), "
        "user/{endpoint} (esl)",
    )
    safe_harbor_sound: str | None = _setting(
        None,
        _opt_text,
        "recording played to abandoned calls; default sound:dialer/safe-harbor (ari), "
        "dialer/safe-harbor.wav (esl)",
    )
    api_rate_per_token: float = _setting(
        50.0, _float(0.0, 1e6), "API requests a second one token may make (0 = no limit)"
    )
    api_burst_per_token: int = _setting(
        1000, _int(1, 10**9), "API requests one token may make at once before the rate applies"
    )
    api_rate_per_address: float = _setting(
        200.0, _float(0.0, 1e6), "API requests a second from one client address (0 = no limit)"
    )
    api_burst_per_address: int = _setting(
        2000, _int(1, 10**9), "API requests from one address at once before the rate applies"
    )
    webhook_blocked_networks: tuple[IPv4Network | IPv6Network, ...] = _setting(
        DEFAULT_WEBHOOK_BLOCKED_NETWORKS,
        parse_networks,
        "CIDRs webhooks may not be sent to; default link-local (cloud metadata), unspecified, "
        "multicast; empty = none",
    )
    require_2fa: str = _setting(
        "none",
        _choice(("none", "admin")),
        "admin: administrators must sign in to the console with a TOTP code as well",
    )

    def __post_init__(self) -> None:
        if not self.instance_id:
            object.__setattr__(self, "instance_id", _default_instance_id())
        if self.pool_min_size > self.pool_max_size:
            raise ConfigError(
                "DIALER_POOL_MIN_SIZE must not exceed DIALER_POOL_MAX_SIZE", field="pool_min_size"
            )
        _check_gateway(self)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every ``DIALER_*`` variable; raise ``ConfigError`` naming the first bad one."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = PREFIX + f.name.upper()
            raw = env.get(name)
            if raw is None:
                continue
            try:
                values[f.name] = f.metadata["parse"](raw)
            except ValueError as exc:
                got = "" if f.metadata.get("secret") else f" (got {raw!r})"
                raise ConfigError(f"{name} {exc}{got}", field=name) from None
        return cls(**values)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields replaced (CLI flags over environment)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


_GATEWAY_NEEDS = {"ari": ("ari_url", "ari_user", "ari_password"), "esl": ("esl_password",)}


def _check_gateway(settings: Settings) -> None:
    """A real switch needs its address and credentials before anything starts."""
    for name in _GATEWAY_NEEDS.get(settings.gateway, ()):
        if getattr(settings, name) is None:
            var = PREFIX + name.upper()
            raise ConfigError(
                f"{var} is required when DIALER_GATEWAY={settings.gateway}", field=var
            )


KNOWN_EXTRA = {"DIALER_TEST_DATABASE_URL"}


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """``DIALER_*`` variables that no setting reads (most likely typos)."""
    env = os.environ if environ is None else environ
    known = {PREFIX + f.name.upper() for f in fields(Settings)} | KNOWN_EXTRA
    return sorted(k for k in env if k.startswith(PREFIX) and k not in known)


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, help) for every setting: the README's configuration table."""
    rows = []
    for f in fields(Settings):
        default = "" if f.default is None else str(f.default)
        rows.append((PREFIX + f.name.upper(), default, f.metadata["help"]))
    return rows


def load_settings() -> Settings:
    """Settings from the process environment, warning once about unknown variables."""
    settings = Settings.from_env()
    for name in unknown_variables():
        print(f"dialer: warning: {name} is not a known setting (ignored)", file=sys.stderr)
    return settings
