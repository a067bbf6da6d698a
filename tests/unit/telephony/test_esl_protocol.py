"""The event-socket wire format: frames, URL-encoded events, and the originate line."""

from __future__ import annotations

import asyncio

import pytest

from dialer.gateway import OriginateRequest
from dialer.telephony.esl_commands import channel_vars, fs_value, originate_command
from dialer.telephony.esl_link import parse_event, read_frame
from tests.fakes.esl_wire import frame, serialize_event


def reader_of(data: str) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data.encode())
    reader.feed_eof()
    return reader


async def test_frames_are_split_by_content_length() -> None:
    job = "Content-Type: command/reply\nReply-Text: +OK Job-UUID: 7f\nJob-UUID: 7f\n\n"
    reader = reader_of(job + frame("api/response", "+OK\n") + "\n")
    assert await read_frame(reader) == (
        {"Content-Type": "command/reply", "Reply-Text": "+OK Job-UUID: 7f", "Job-UUID": "7f"},
        "",
    )
    assert await read_frame(reader) == (
        {"Content-Type": "api/response", "Content-Length": "4"},
        "+OK\n",
    )
    with pytest.raises(ConnectionError):
        await read_frame(reader)


async def test_events_are_url_decoded_and_keep_their_own_body() -> None:
    event = serialize_event(
        [
            ("Event-Name", "BACKGROUND_JOB"),
            ("Job-UUID", "7f"),
            ("Job-Command-Arg", "{dialer_campaign_id='7\\, east'}sofia/gateway/t/+1555 &park()"),
            ("Event-Date-Local", "2026-05-01 12:00:00"),
        ],
        "-ERR USER_BUSY\n",
    )
    assert "Event-Date-Local: 2026-05-01%2012%3A00%3A00\n" in event
    headers, body = await read_frame(reader_of(frame("text/event-plain", event)))
    assert headers["Content-Type"] == "text/event-plain"
    parsed, own_body = parse_event(body)
    assert parsed["Event-Date-Local"] == "2026-05-01 12:00:00"
    assert parsed["Job-Command-Arg"].startswith("{dialer_campaign_id='7\\, east'}")
    assert own_body == "-ERR USER_BUSY\n"


def test_channel_variables_cannot_break_out_of_the_originate_block() -> None:
    assert fs_value("7, east") == "'7\\, east'"
    assert fs_value("a}b{c'd\"e") == "abcde"
    request = OriginateRequest(
        "c-1", "+15550100000", "+15550009999", 15.0, variables=(("lead id", "9}x"),)
    )
    line = originate_command(
        channel_vars(request, "dialer"), "sofia/gateway/trunk/+15550100000", "&park()"
    )
    assert line == (
        "originate {ignore_early_media=true,dialer_app=dialer,dialer_call_id=c-1,"
        "dialer_amd=1,dialer_lead_id=9x}sofia/gateway/trunk/+15550100000 &park()"
    )
