"""Call recordings on Asterisk: ``record`` on the channel (from the answer) or on the
agent's mixing bridge (from the connect), the file fetched from Asterisk's stored
recordings once it is finished, then deleted there.

``POST /channels/{id}/record`` / ``POST /bridges/{id}/record`` with ``name=<call id>``,
``format=wav``, ``ifExists=overwrite``; Asterisk writes
``/var/spool/asterisk/recording/<call id>.wav`` and sends ``RecordingFinished`` (with its
``duration``) when the channel or bridge goes; ``GET /recordings/stored/<name>/file`` hands
it over and ``DELETE /recordings/stored/<name>`` removes it (res_ari_recordings,
res_stasis_recording).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from dialer.gateway import Recording
from dialer.telephony.ari_link import AriLink, Message, seg

log = logging.getLogger("dialer.telephony.ari")
FINISH_WAIT_S = 10.0


class AriRecordings:
    """The recordings this process started, until they are taken."""

    def __init__(self, link: AriLink) -> None:
        self.link = link
        self.finished: dict[str, asyncio.Future[float]] = {}

    async def start(self, target: str, target_id: str, name: str) -> None:
        """Record a channel or bridge (``target``: ``channels`` / ``bridges``) as ``name``."""
        params = {"name": name, "format": "wav", "ifExists": "overwrite"}
        self.finished[name] = asyncio.get_running_loop().create_future()
        status, data = await self.link.request(
            "POST", f"/{target}/{seg(target_id)}/record", params=params
        )
        if status >= 300:
            self.finished.pop(name, None)
            log.warning("Asterisk did not record %s %s (HTTP %s: %s)", target, name, status, data)

    def on_finished(self, msg: Message) -> None:
        recording: dict[str, Any] = msg.get("recording") or {}
        done = self.finished.get(str(recording.get("name", "")))
        if done is not None and not done.done():
            done.set_result(float(recording.get("duration") or 0))

    async def cancel(self, name: str) -> None:
        """Stop a live recording and discard it (``DELETE /recordings/live/{name}``)."""
        if self.finished.pop(name, None) is None:
            return
        status, data = await self.link.request("DELETE", f"/recordings/live/{seg(name)}")
        if status >= 300:
            log.warning("Asterisk did not discard recording %s (HTTP %s: %s)", name, status, data)

    async def take(self, name: str) -> Recording | None:
        done = self.finished.pop(name, None)
        if done is None:
            return None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(done), FINISH_WAIT_S)
        duration = done.result() if done.done() else 0.0
        path = f"/recordings/stored/{seg(name)}"
        status, data = await self.link.fetch_bytes(path + "/file")
        if status != 200:
            log.warning("Asterisk has no stored recording %s (HTTP %s)", name, status)
            return None
        await self.link.request("DELETE", path)
        return Recording(data, duration)
