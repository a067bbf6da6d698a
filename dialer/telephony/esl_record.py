"""Call recordings on FreeSWITCH: ``uuid_record <uuid> start <dir>/<call id>.wav`` from the
answer (``record: all``) or from the bridge to the agent (``connected``); mod_dptools'
recording stops when the channel hangs up. The dialer reads the finished file from the same
directory (``DIALER_ESL_RECORDING_DIR``: a directory both can reach, e.g. a shared mount)
and deletes it there.
"""

from __future__ import annotations

import asyncio
import io
import logging
import wave
from pathlib import Path

from dialer.gateway import Recording
from dialer.telephony.esl_link import EslLink

log = logging.getLogger("dialer.telephony.esl")


class EslRecordings:
    """The recordings this process started, until they are taken."""

    def __init__(self, link: EslLink, directory: str) -> None:
        self.link = link
        self.directory = Path(directory)
        self.started: set[str] = set()

    def path(self, call_id: str) -> Path:
        return self.directory / f"{call_id}.wav"

    async def start(self, call_id: str) -> None:
        reply = await self.link.api(f"uuid_record {call_id} start {self.path(call_id)}")
        if reply.startswith("+OK"):
            self.started.add(call_id)
        else:
            log.warning("FreeSWITCH did not record %s: %s", call_id, reply.strip())

    async def cancel(self, call_id: str) -> None:
        """Stop recording the call and discard the file (``uuid_record <uuid> stop``)."""
        if call_id not in self.started:
            return
        self.started.discard(call_id)
        reply = await self.link.api(f"uuid_record {call_id} stop {self.path(call_id)}")
        if not reply.startswith("+OK"):
            log.warning("FreeSWITCH did not stop recording %s: %s", call_id, reply.strip())
        await asyncio.to_thread(self.path(call_id).unlink, missing_ok=True)

    async def take(self, call_id: str) -> Recording | None:
        if call_id not in self.started:
            return None
        self.started.discard(call_id)
        path = self.path(call_id)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            log.warning("cannot read the recording %s: %s", path, exc)
            return None
        await asyncio.to_thread(path.unlink, missing_ok=True)
        return Recording(data, wav_seconds(data))


def wav_seconds(data: bytes) -> float:
    """The length of a WAV file (0 when it cannot be read as one)."""

    try:
        with wave.open(io.BytesIO(data)) as audio:
            return round(audio.getnframes() / float(audio.getframerate()), 3)
    except (wave.Error, EOFError, ZeroDivisionError):
        return 0.0
