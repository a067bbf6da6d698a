"""Configuration of the switch adapters, from the settings or given directly (tests, tools).

``DIALER_*`` settings say where the switch is and how to log in; everything else has a
default that matches the dialplans in docs/asterisk.md and docs/freeswitch.md. Passwords
stay ``Secret`` (masked when shown) until the moment they are sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dialer.config import Secret, Settings
from dialer.errors import ConfigError
from dialer.telephony.dialstrings import DEFAULTS, SwitchStrings


@dataclass(frozen=True)
class AriConfig:
    """Where Asterisk is, who we are to it, and how the adapter behaves."""

    url: str
    user: str
    password: Secret
    app: str = "dialer"
    strings: SwitchStrings = field(default_factory=lambda: DEFAULTS["ari"])
    amd_context: str = "dialer-amd"
    beep_context: str = "dialer-beep"  # WaitForSilence before a voicemail drop (ari_amd)
    amd_timeout_s: float = 15.0
    agent_answer_timeout_s: int = 15
    connect_timeout_s: float = 10.0
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> AriConfig:
        if not (settings.ari_url and settings.ari_user and settings.ari_password):
            raise ConfigError(
                "DIALER_GATEWAY=ari needs DIALER_ARI_URL, DIALER_ARI_USER and DIALER_ARI_PASSWORD",
                field="DIALER_ARI_URL",
            )
        return cls(
            url=settings.ari_url,
            user=settings.ari_user,
            password=settings.ari_password,
            app=settings.ari_app,
            strings=SwitchStrings.from_settings(settings, "ari"),
        )


@dataclass(frozen=True)
class EslConfig:
    """Where FreeSWITCH's event socket is, and how the adapter behaves."""

    password: Secret
    host: str = "127.0.0.1"
    port: int = 8021
    app: str = "dialer"
    strings: SwitchStrings = field(default_factory=lambda: DEFAULTS["esl"])
    amd_target: str = "dialer_amd XML dialer"
    amd_timeout_s: float = 15.0
    agent_answer_timeout_s: int = 15
    connect_timeout_s: float = 10.0
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    recording_dir: str = "/var/lib/freeswitch/recordings/dialer"

    @classmethod
    def from_settings(cls, settings: Settings) -> EslConfig:
        if settings.esl_password is None:
            raise ConfigError(
                "DIALER_GATEWAY=esl needs DIALER_ESL_PASSWORD", field="DIALER_ESL_PASSWORD"
            )
        return cls(
            password=settings.esl_password,
            host=settings.esl_host,
            port=settings.esl_port,
            app=settings.esl_app,
            strings=SwitchStrings.from_settings(settings, "esl"),
            recording_dir=settings.esl_recording_dir,
        )
