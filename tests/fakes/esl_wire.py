"""mod_event_socket's text formats, as the fake FreeSWITCH writes them.

* a frame: ``Content-Type`` (and ``Content-Length`` when there is a body), an empty line,
  the body;
* an event (``switch_event_serialize``): ``Name: value`` lines with values URL-encoded
  (``SWITCH_URL_UNSAFE`` plus control and non-ASCII bytes), then ``Content-Length`` and
  the event body, or an empty line;
* a channel's headers: its state, caller profile and every variable as ``variable_<name>``;
* a row of ``show channels as json`` (every column a string).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.calls import Leg

URL_UNSAFE = set('\r\n #%&+:;<=>?@[\\]^`{|}"')
CALLSTATE = {"Down": "DOWN", "Ringing": "RINGING", "Up": "ACTIVE"}
ANSWER_STATE = {"Down": "early", "Ringing": "ringing", "Up": "answered"}


def fs_encode(value: str) -> str:
    out = []
    for ch in value:
        if ch in URL_UNSAFE or not " " <= ch <= "~":
            out.append("".join(f"%{b:02X}" for b in ch.encode()))
        else:
            out.append(ch)
    return "".join(out)


def serialize_event(headers: list[tuple[str, str]], body: str = "") -> str:
    text = "".join(f"{name}: {fs_encode(value) or '_undef_'}\n" for name, value in headers)
    if body:
        return text + f"Content-Length: {len(body.encode())}\n\n{body}"
    return text + "\n"


def frame(content_type: str, body: str) -> str:
    return f"Content-Type: {content_type}\nContent-Length: {len(body.encode())}\n\n{body}"


async def read_command(reader: asyncio.StreamReader) -> tuple[str, dict[str, str]]:
    """A client's command: its first line and any ``Name: value`` lines under it."""
    lines: list[str] = []
    while True:
        raw = await reader.readline()
        if not raw:
            raise ConnectionError("client left")
        line = raw.decode().rstrip("\r\n")
        if not line:
            if lines:
                break
            continue
        lines.append(line)
    headers = dict(line.partition(": ")[::2] for line in lines[1:])
    return lines[0], headers


def channel_headers(leg: Leg) -> list[tuple[str, str]]:
    number = leg.endpoint.rsplit("/", 1)[-1]
    direction = "inbound" if leg.inbound else "outbound"
    headers = [
        ("Channel-State", "CS_EXECUTE" if leg.answered else "CS_ROUTING"),
        ("Channel-Call-State", CALLSTATE.get(leg.state, "DOWN")),
        ("Channel-Name", leg.name),
        ("Unique-ID", leg.id),
        ("Call-Direction", direction),
        ("Presence-Call-Direction", direction),
        ("Channel-HIT-Dialplan", "false"),
        ("Channel-Call-UUID", leg.id),
        ("Answer-State", ANSWER_STATE.get(leg.state, "hangup")),
        ("Caller-Direction", direction),
        ("Caller-Caller-ID-Number", leg.caller),
        ("Caller-Destination-Number", number),
        ("Caller-Unique-ID", leg.id),
        ("Caller-Context", "default"),
        ("Caller-Channel-Name", leg.name),
    ]
    headers += [(f"variable_{k}", v) for k, v in leg.variables.items()]
    return headers


def show_row(leg: Leg, fake: Any) -> dict[str, str]:
    number = leg.endpoint.rsplit("/", 1)[-1]
    return {
        "uuid": leg.id,
        "direction": "outbound",
        "created": leg.created,
        "created_epoch": "0",
        "name": leg.name,
        "state": "CS_EXECUTE" if leg.answered else "CS_ROUTING",
        "cid_name": "",
        "cid_num": leg.caller,
        "ip_addr": "",
        "dest": number,
        "application": leg.app_name,
        "application_data": "",
        "dialplan": "XML",
        "context": "default",
        "read_codec": "PCMU",
        "read_rate": "8000",
        "read_bit_rate": "64000",
        "write_codec": "PCMU",
        "write_rate": "8000",
        "write_bit_rate": "64000",
        "secure": "",
        "hostname": "fs-test",
        "presence_id": "",
        "presence_data": "",
        "accountcode": "",
        "callstate": CALLSTATE.get(leg.state, "DOWN"),
        "callee_name": "",
        "callee_num": number,
        "callee_direction": "",
        "call_uuid": leg.id,
        "sent_callee_name": "",
        "sent_callee_num": "",
        "initial_cid_name": "",
        "initial_cid_num": leg.caller,
        "initial_ip_addr": "",
        "initial_dest": number,
        "initial_dialplan": "XML",
        "initial_context": "default",
    }
