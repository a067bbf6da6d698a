"""Dial strings and media: how a phone number, an agent and a message become switch syntax.

Operators describe their trunk and their agents' phones with templates
(``DIALER_TRUNK_TEMPLATE``, ``DIALER_AGENT_ENDPOINT_TEMPLATE``); each switch has its own
defaults. A message the engine wants played is either a sound the switch can play (used as
is) or text, which no switch here can speak: then the configured recording
(``DIALER_SAFE_HARBOR_SOUND``) is played instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialer.config import Settings
from dialer.gateway import AgentLeg


@dataclass(frozen=True, slots=True)
class SwitchStrings:
    """The templates and the default recording for one switch."""

    trunk: str
    agent: str
    sound: str

    @classmethod
    def from_settings(cls, settings: Settings, kind: str) -> SwitchStrings:
        default = DEFAULTS[kind]
        return cls(
            trunk=settings.trunk_template or default.trunk,
            agent=settings.agent_endpoint_template or default.agent,
            sound=settings.safe_harbor_sound or default.sound,
        )

    def callee(self, phone_e164: str) -> str:
        """``{number}`` is the E.164 number (``+15551234567``), ``{digits}`` without ``+``."""
        return self.trunk.format(number=phone_e164, digits=phone_e164.lstrip("+"))

    def agent_leg(self, agent: AgentLeg) -> str:
        """The agent's endpoint when it is a full dial string (``PJSIP/1001``), else the
        template with ``{endpoint}`` (the stored endpoint, or ``agent<id>``) and ``{agent_id}``."""
        if agent.endpoint and "/" in agent.endpoint:
            return agent.endpoint
        return self.agent.format(
            endpoint=agent.endpoint or f"agent{agent.agent_id}", agent_id=agent.agent_id
        )


DEFAULTS = {
    "ari": SwitchStrings("PJSIP/{number}@trunk", "PJSIP/{endpoint}", "sound:dialer/safe-harbor"),
    "esl": SwitchStrings(
        "sofia/gateway/trunk/{number}", "user/{endpoint}", "dialer/safe-harbor.wav"
    ),
}

ARI_MEDIA_SCHEMES = ("sound:", "recording:", "number:", "digits:", "characters:", "tone:")
ESL_MEDIA_PREFIXES = ("/", "$${", "say:", "tone_stream://", "silence_stream://", "http")
AUDIO_SUFFIXES = (".wav", ".mp3", ".gsm", ".ulaw", ".alaw", ".sln", ".g722", ".ogg")


def ari_media(message: str | None, default: str) -> str:
    """An ARI media URI for ``message``: itself when it is one, else ``default``."""
    if message and message.strip().startswith(ARI_MEDIA_SCHEMES):
        return message.strip()
    return default


def esl_media(message: str | None, default: str) -> str:
    """A FreeSWITCH playable path for ``message``: itself when it is one, an ARI sound URI
    as its file under ``sound_prefix`` (``sound:dialer/x`` → ``dialer/x.wav``), else
    ``default``."""
    text = (message or "").strip()
    if text.startswith("sound:") and " " not in text and len(text) > 6:
        return text[6:] + ".wav"
    if (
        text
        and " " not in text
        and (text.startswith(ESL_MEDIA_PREFIXES) or text.endswith(AUDIO_SUFFIXES))
    ):
        return text
    return default
