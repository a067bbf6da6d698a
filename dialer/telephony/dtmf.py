"""Keys the callee presses, from each switch's event to ``gateway.Dtmf``.

Both switches report a key once it is released, unasked, on a channel we control:

* Asterisk ARI sends ``ChannelDtmfReceived`` (``digit``, ``duration_ms``, ``channel``) to
  the application a channel is in (``tests/fakes/ari_api_docs/events.json``);
* FreeSWITCH sends the ``DTMF`` event (``DTMF-Digit``, ``DTMF-Duration`` and the channel's
  ``Unique-ID``; fired by ``switch_channel_dequeue_dtmf``) to event-socket clients that
  subscribed to it (``esl.EVENTS`` lists it).

Keys on agent legs and on calls not (or no longer) answered are ignored (``CallBook.dtmf``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialer.telephony.callbook import CallBook

ESL_EVENT = "DTMF"


def ari_dtmf(book: CallBook, msg: Mapping[str, Any]) -> None:
    """``ChannelDtmfReceived`` → ``Dtmf`` for the call whose channel it is."""
    channel = msg.get("channel") or {}
    call = book.get(str(channel.get("id", "")))
    if call is not None:
        book.dtmf(call, str(msg.get("digit") or ""))


def esl_dtmf(book: CallBook, headers: Mapping[str, str]) -> None:
    """FreeSWITCH ``DTMF`` → ``Dtmf`` for the call whose channel (``Unique-ID``) it is."""
    call = book.get(headers.get("Unique-ID", ""))
    if call is not None:
        book.dtmf(call, headers.get("DTMF-Digit", ""))
