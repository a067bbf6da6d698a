"""Recordings of ended calls: taken from the gateway and stored before the call is written.

A campaign that records (``record``: ``connected`` or ``all``) asks the switch to record its
calls (``OriginateRequest.record``). When a recorded call ends, the recorder (off the dial
path) takes the recording from the gateway (``RecordingSource.take_recording``), stores it
(``dialer.recordings``) and writes its key, download URL, length and SHA-256 with the
attempt, so ``attempt.completed`` carries them. A recording that cannot be fetched in time
is logged and the call is written without it: a recording never holds up the outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace

from dialer.engine.closing import CallRecord, RecordingInfo
from dialer.gateway import Gateway, RecordingSource
from dialer.recordings import RecordingStore, download_url, recording_key

log = logging.getLogger(__name__)
FETCH_TIMEOUT_S = 15.0


class RecordingKeeper:
    """Takes recordings from the gateway into storage (see the module docstring)."""

    def __init__(self, gateway: Gateway, storage: RecordingStore, campaign_id: int) -> None:
        self.gateway = gateway
        self.storage = storage
        self.campaign_id = campaign_id
        self.kept = 0

    async def attach(self, records: Sequence[CallRecord]) -> list[CallRecord]:
        """The records, each recorded one with its stored recording (when there is one)."""
        return list(await asyncio.gather(*(self._one(r) for r in records)))

    async def _one(self, record: CallRecord) -> CallRecord:
        if record.recording_call is None or not isinstance(self.gateway, RecordingSource):
            return record
        try:
            async with asyncio.timeout(FETCH_TIMEOUT_S):
                got = await self.gateway.take_recording(record.recording_call)
                if got is None:
                    return record
                key = recording_key(self.campaign_id, record.attempt_id)
                stored = await self.storage.put(key, got.data)
        except Exception as exc:  # a recording never holds up the outcome
            log.warning(
                "recording of attempt %s not kept: %r",
                record.attempt_id,
                exc,
                extra={"campaign_id": self.campaign_id},
            )
            return record
        self.kept += 1
        info = RecordingInfo(
            stored.key, download_url(record.attempt_id), got.duration_s, stored.sha256
        )
        return replace(record, recording=info)
