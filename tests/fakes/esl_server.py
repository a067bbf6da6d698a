"""A fake FreeSWITCH event socket (inbound mode) over a real TCP socket.

Speaks mod_event_socket's framing: ``Content-Type: auth/request`` on connect, ``auth``,
``event plain <names> CUSTOM <subclasses>``, ``api`` (→ ``api/response`` with a
``Content-Length`` body), ``bgapi`` with a ``Job-UUID`` header (→ ``command/reply`` then a
``BACKGROUND_JOB`` event whose body is ``+OK <uuid>`` or ``-ERR <CAUSE>``), and events as
``text/event-plain`` with URL-encoded header values, each channel event carrying the
channel's variables as ``variable_*``. ``text/rude-rejection`` when refusing.

The ``api`` commands the dialer uses are implemented: ``originate`` (only through
``bgapi``), ``uuid_kill``, ``uuid_bridge``, ``uuid_broadcast``, ``uuid_getvar``, ``uuid_answer``,
``show channels as json``. Calls follow ``scenarios.script_for``; the ``dialer_amd XML
dialer`` extension runs a mod_amd that fires ``CUSTOM mod_amd::info`` with
``variable_amd_result``.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.ari_recordings import wav
from tests.fakes.calls import FakeSwitchBase, Leg, ts
from tests.fakes.esl_conference import ConferenceMixin
from tests.fakes.esl_eavesdrop import EavesdropMixin
from tests.fakes.esl_inbound import EslInboundMixin
from tests.fakes.esl_wire import channel_headers, frame, read_command, serialize_event, show_row
from tests.fakes.fs_causes import FS_CAUSES, FS_NAMES, fs_cause_for_sip, q850
from tests.fakes.scenarios import agent_script, script_for

AMD_EXTENSION = "dialer_amd XML dialer"
ORIGINATE_SYNTAX = (
    "<call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] "
    "[<cid_num>] [<timeout_sec>]"
)


def fs_words(text: str) -> list[str]:
    """``switch_separate_string`` with a blank: spaces split, except inside single quotes
    or after a backslash (src/switch_utils.c)."""
    words, word, quoted, escaped = [], "", False, False
    for char in text:
        if escaped:
            word, escaped = word + char, False
        elif char == "\\":
            word, escaped = word + char, True
        elif char == "'":
            word, quoted = word + char, not quoted
        elif char == " " and not quoted:
            if word:
                words.append(word)
            word = ""
        else:
            word += char
    return [*words, word] if word else words


@dataclass(eq=False)
class Client:
    writer: asyncio.StreamWriter
    authed: bool = False
    names: set[str] = field(default_factory=set)
    subclasses: set[str] = field(default_factory=set)

    def wants(self, name: str, subclass: str) -> bool:
        if not self.authed:
            return False
        if "ALL" in self.names:
            return True
        if name == "CUSTOM":
            return "CUSTOM" in self.names and subclass in self.subclasses
        return name in self.names


class FakeFreeSwitch(EavesdropMixin, EslInboundMixin, ConferenceMixin, FakeSwitchBase):
    """mod_event_socket on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        *,
        password: str = "ClueCon-test",
        time_scale: float = 0.01,
        sounds: frozenset[str] = frozenset({"dialer/safe-harbor.wav"}),
    ) -> None:
        super().__init__(time_scale=time_scale)
        self.password = password
        self.sounds = sounds
        self.core_uuid = str(uuid.uuid4())
        self.clients: set[Client] = set()
        self.refuse = False  # answer connections with text/rude-rejection (an ACL)
        self.amd_module = True  # mod_amd loaded
        self.avmd_module = True  # mod_avmd loaded (else: "-ERR avmd Command not found!")
        self.job_delay_s = 0.0  # real seconds before a background job starts
        self.jobs: dict[str, str] = {}  # channel uuid → the Job-UUID that created it
        self.recording_paths: dict[str, tuple[str, float]] = {}  # uuid → (file, started)
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._seq = 0
        self.port = 0
        self.init_eavesdrop()
        self.conference_init()

    # -- server lifecycle -----------------------------------------------------------------
    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self.notify()

    async def stop(self) -> None:
        """FreeSWITCH goes down: channels vanish, sockets close."""
        self.wipe()
        await self.drop_connections()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def drop_connections(self) -> None:
        for client in list(self.clients):
            client.writer.close()
        self.clients.clear()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        self.notify()

    # -- the socket -----------------------------------------------------------------------
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refuse:
            writer.write(frame("text/rude-rejection", "Access Denied, go away.\n").encode())
            writer.close()
            return
        client = Client(writer)
        self.clients.add(client)
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        writer.write(b"Content-Type: auth/request\n\n")
        try:
            while not writer.is_closing():
                line, headers = await read_command(reader)
                self._command(client, line, headers)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.clients.discard(client)
            self._handlers.discard(handler)
            writer.close()
            self.notify()

    def _reply(self, client: Client, text: str) -> None:
        client.writer.write(f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode())

    def _command(self, client: Client, line: str, headers: dict[str, str]) -> None:
        self.requests.append(("auth ****" if line.startswith("auth ") else line, headers))
        if line.startswith("auth "):
            if line[5:] == self.password:
                client.authed = True
                self.connections += 1
                self._reply(client, "+OK accepted")
                self.notify()
            else:
                self._reply(client, "-ERR invalid")
                client.writer.close()
        elif not client.authed:
            self._reply(client, "-ERR invalid")
        elif line.startswith("event "):
            self._subscribe(client, line.split()[1:])
        elif line.startswith("api "):
            client.writer.write(frame("api/response", self.api(line[4:])).encode())
        elif line.startswith("bgapi "):
            job = headers.get("Job-UUID") or str(uuid.uuid4())
            client.writer.write(
                f"Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job}\n"
                f"Job-UUID: {job}\n\n".encode()
            )
            loop = asyncio.get_running_loop()
            loop.call_later(self.job_delay_s, self._background, job, line[6:])
        elif line == "exit":
            self._reply(client, "+OK bye")
            client.writer.close()
        else:
            self._reply(client, "-ERR command not found")

    def _subscribe(self, client: Client, words: list[str]) -> None:
        if not words or words[0] not in ("plain", "json", "xml"):
            self._reply(client, "-ERR invalid")
            return
        custom = False
        for word in words[1:]:
            if custom:
                client.subclasses.add(word)
            elif word == "CUSTOM":
                custom = True
                client.names.add(word)
            else:
                client.names.add(word)
        self._reply(client, f"+OK event listener enabled {words[0]}")

    def emit(self, name: str, headers: list[tuple[str, str]], body: str = "") -> None:
        subclass = dict(headers).get("Event-Subclass", "")
        self._seq += 1
        base = [
            ("Event-Name", name),
            ("Core-UUID", self.core_uuid),
            ("FreeSWITCH-Hostname", "fs-test"),
            ("FreeSWITCH-Switchname", "fs-test"),
            ("FreeSWITCH-IPv4", "127.0.0.1"),
            ("Event-Date-Local", time.strftime("%Y-%m-%d %H:%M:%S")),
            ("Event-Date-GMT", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())),
            ("Event-Date-Timestamp", str(int(time.time() * 1e6))),
            ("Event-Calling-File", "switch_channel.c"),
            ("Event-Sequence", str(self._seq)),
        ]
        event = base + headers
        self.sent.append((name, dict(event), body))
        data = frame("text/event-plain", serialize_event(event, body)).encode()
        for client in list(self.clients):
            if client.wants(name, subclass) and not client.writer.is_closing():
                client.writer.write(data)

    def emit_channel(self, name: str, leg: Leg, *extra: tuple[str, str]) -> None:
        self.emit(name, channel_headers(leg) + list(extra))

    # -- api ------------------------------------------------------------------------------
    def api(self, command: str, job: str | None = None) -> str:
        name, _, arg = command.partition(" ")
        args = arg.split()
        if name == "originate":
            return "-ERR originate here only runs through bgapi\n" if job is None else ""
        if name == "show" and arg.strip() == "channels as json":
            return show_json(self)
        leg = self.legs.get(args[0]) if args else None
        if (reply := self.conference_api(name, leg, args)) is not None:
            return reply
        if name == "uuid_record":
            return self._record(leg, args)
        if name == "uuid_recv_dtmf":
            return self.recv_dtmf(args)
        if name == "uuid_answer":
            return self.uuid_answer(leg)
        if name == "avmd" and self.avmd_module:
            return self._avmd(leg, args)
        if name in ("uuid_kill", "uuid_getvar", "uuid_broadcast", "uuid_bridge") and not leg:
            return "-ERR Invalid uuid\n" if name == "uuid_bridge" else "-ERR No such channel!\n"
        assert leg is not None or name not in ("uuid_kill", "uuid_getvar")
        if name == "uuid_kill" and leg is not None:
            cause = FS_CAUSES.get(args[1], 16) if len(args) > 1 else 16
            leg.variables["sip_hangup_disposition"] = "send_bye"
            asyncio.get_running_loop().call_soon(self.end, leg, cause)
            return "+OK\n"
        if name == "uuid_getvar" and leg is not None:
            return leg.variables.get(args[1], "_undef_") if len(args) > 1 else "-ERR No variable\n"
        if name == "uuid_broadcast" and leg is not None:
            return self._broadcast(leg, args[1])
        if name == "uuid_bridge" and leg is not None:
            return self._bridge(leg, args[1])
        return f"-ERR {name} Command not found!\n"

    def _record(self, leg: Leg | None, args: list[str]) -> str:
        """``uuid_record <uuid> start <path>`` (mod_commands): the file is written when the
        channel hangs up."""
        if leg is None:
            return "-ERR Cannot locate session!\n"
        if len(args) < 3 or args[1] not in ("start", "stop"):
            return "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>]\n"
        if args[1] == "start":
            self.recording_paths[leg.id] = (args[2], asyncio.get_running_loop().time())
        elif leg.id in self.recording_paths:  # stop: the file is closed where it is
            path, started = self.recording_paths.pop(leg.id)
            seconds = (asyncio.get_running_loop().time() - started) / self.time_scale
            Path(path).write_bytes(wav(min(seconds, 30.0) / 100))
        return "+OK Success\n"

    def _avmd(self, leg: Leg | None, args: list[str]) -> str:
        """``avmd <uuid> start|stop`` (mod_avmd.c avmd_api_main): ``+OK``, or ``-USAGE``
        for an unknown session or command. When a beep is heard: ``CUSTOM avmd::beep``
        with ``Beep-Status: stop``, ``Unique-ID``, ``call-command: avmd``, ``frequency``."""
        usage = "-USAGE: <uuid> <command>\n"
        if leg is None or len(args) != 2 or args[1] not in ("start", "stop"):
            return usage
        if args[1] == "stop":
            leg.variables.pop("avmd_running", None)
            return "+OK\n"
        if "avmd_running" in leg.variables:
            return ""  # "Cannot run 2 at once on the same channel!" (logged only)
        leg.variables["avmd_running"] = "true"
        beep = leg.script.beep_s

        def heard() -> None:
            if leg.variables.pop("avmd_running", None) is None:
                return  # stopped meanwhile
            leg.variables["avmd_detect"] = "TRUE"
            self.emit(  # a bare event, not the channel's headers (switch_event_create_subclass)
                "CUSTOM",
                [
                    ("Event-Subclass", "avmd::beep"),
                    ("Beep-Status", "stop"),
                    ("Unique-ID", leg.id),
                    ("call-command", "avmd"),
                    ("frequency", "1000.000000"),
                    ("variance", "0.000010"),
                ],
            )

        if beep is not None:
            self.at(leg, beep, heard)
        return "+OK\n"

    def _background(self, job: str, command: str) -> None:
        name, _, arg = command.partition(" ")
        result = self._originate(arg, job) if name == "originate" else self.api(command)
        if result:
            self.job_done(job, command, result)

    def job_done(self, job: str, command: str, result: str) -> None:
        name, _, arg = command.partition(" ")
        headers = [("Job-UUID", job), ("Job-Command", name), ("Job-Command-Arg", arg)]
        self.emit("BACKGROUND_JOB", headers, result)

    def _originate(self, arg: str, job: str) -> str:
        if not 2 <= len(fs_words(arg)) <= 7:  # mod_commands originate_function
            return f"-USAGE: {ORIGINATE_SYNTAX}\n"
        variables: dict[str, str] = {}
        if arg.startswith("{"):
            block, _, arg = arg[1:].partition("}")
            for item in block.replace("\\,", "\x00").split(","):
                key, _, value = item.partition("=")
                variables[key] = value.replace("\x00", ",").strip("'")
        dial, _, target = arg.partition(" ")
        if not dial.startswith(("sofia/", "user/", "loopback/")):
            return "-ERR CHAN_NOT_IMPLEMENTED\n"
        uid = variables.get("origination_uuid") or str(uuid.uuid4())
        if uid in self.legs:
            return "-ERR DESTINATION_OUT_OF_ORDER\n"
        callee = dial.startswith("sofia/gateway/")
        leg = Leg(
            id=uid,
            name=dial if not callee else "sofia/external/" + dial.rsplit("/", 1)[-1],
            app=variables.get("dialer_app", ""),
            app_args=target.strip(),
            endpoint=dial,
            caller=variables.get("origination_caller_id_number", ""),
            script=script_for(dial) if callee else agent_script(dial),
            variables=variables,
            timeout_s=float(variables.get("originate_timeout", "60")),
            callee=callee,
            created=ts(),
        )
        self.legs[uid] = leg
        self.jobs[uid] = job
        self.emit_channel("CHANNEL_CREATE", leg)
        self.dial(leg)
        return ""

    def _broadcast(self, leg: Leg, path: str) -> str:
        self.played.append((leg.id, path))
        self.emit_channel(
            "CHANNEL_EXECUTE", leg, ("Application", "playback"), ("Application-Data", path)
        )
        found = path in self.sounds
        if found:
            self.emit_channel("PLAYBACK_START", leg, ("Playback-File-Path", path))

        def finished() -> None:
            if found:
                self.emit_channel(
                    "PLAYBACK_STOP", leg, ("Playback-File-Path", path), ("Playback-Status", "done")
                )
            response = "FILE PLAYED" if found else "FILE NOT FOUND"
            leg.variables["current_application_response"] = response
            self.emit_channel(
                "CHANNEL_EXECUTE_COMPLETE",
                leg,
                ("Application", "playback"),
                ("Application-Data", path),
                ("Application-Response", response),
            )

        self.at(leg, self.play_s if found else 0.0, finished)
        return "+OK Message sent\n"

    def _bridge(self, leg: Leg, other_id: str) -> str:
        other = self.legs.get(other_id)
        if other is None or not (leg.answered and other.answered):
            return "-ERR Invalid uuid\n"
        leg.bridge, other.bridge = other.id, leg.id
        self.emit_channel("CHANNEL_BRIDGE", leg, ("Other-Leg-Unique-ID", other.id))
        for callee in (leg, other):
            if callee.callee:
                self.at(callee, callee.script.talk_s, functools.partial(self.end, callee, 16))
        self.notify()
        return f"+OK {other.id}\n"

    # -- what the switch does -------------------------------------------------------------
    def on_ring(self, leg: Leg) -> None:
        """SIP 180 → CHANNEL_PROGRESS; 183 with early media → CHANNEL_PROGRESS_MEDIA."""
        self.emit_channel(
            "CHANNEL_PROGRESS_MEDIA" if leg.script.early_media else "CHANNEL_PROGRESS", leg
        )

    def on_answer(self, leg: Leg) -> None:
        self.emit_channel("CHANNEL_ANSWER", leg)
        if leg.id in self.jobs:
            self.job_done(self.jobs.pop(leg.id), "originate", f"+OK {leg.id}\n")
        if self.conference_target(leg):
            pass
        elif leg.app_args == "&park()":
            leg.app_name = "park"
        elif leg.app_args.startswith("&eavesdrop("):
            self.start_eavesdrop(leg)
        elif leg.app_args == AMD_EXTENSION:
            leg.app_name = "mod_amd"
            if self.amd_module:
                self.at(leg, leg.script.amd_s, lambda: self._amd_done(leg))
            else:  # "Invalid Application mod_amd": switch_core_session.c hangs the call up
                self.at(leg, 0.0, lambda: self.end(leg, FS_CAUSES["DESTINATION_OUT_OF_ORDER"]))
        else:  # no such extension
            self.at(leg, 0.0, lambda: self.end(leg, 3))
        if leg.app_name != "eavesdrop":
            self.emit_channel("CHANNEL_EXECUTE", leg, ("Application", leg.app_name))

    def on_dtmf(self, leg: Leg, digit: str, duration_ms: int) -> None:
        """``DTMF`` with the channel's headers, ``DTMF-Digit`` and ``DTMF-Duration`` in
        samples at 8 kHz (as a captured event shows: adzap/larynx spec/fixtures/dtmf.rb,
        fired by switch_channel_dequeue_dtmf); sent to clients subscribed to DTMF."""
        self.emit_channel(
            "DTMF", leg, ("DTMF-Digit", digit), ("DTMF-Duration", str(duration_ms * 8))
        )

    def _amd_done(self, leg: Leg) -> None:
        if leg.script.amd == "HANGUP":
            self.end(leg, 16)
            return
        result = "NOT_SURE" if leg.script.amd == "NOTSURE" else leg.script.amd
        leg.variables.update(amd_result=result, amd_cause=leg.script.amd_cause.split("-")[0])
        self.emit_channel("CUSTOM", leg, ("Event-Subclass", "mod_amd::info"))
        leg.app_name = "park"

    def on_end(self, leg: Leg, cause: int, sip: int | None = None) -> None:
        name = fs_cause_for_sip(sip) if sip is not None else FS_NAMES.get(cause, "NORMAL_CLEARING")
        leg.variables.setdefault(
            "sip_hangup_disposition", "recv_bye" if leg.answered else "recv_refuse"
        )
        if sip is not None:
            leg.variables["sip_term_status"] = str(sip)
        if leg.id in self.recording_paths:
            path, started = self.recording_paths.pop(leg.id)
            seconds = (asyncio.get_running_loop().time() - started) / self.time_scale
            Path(path).write_bytes(wav(min(seconds, 30.0) / 100))
        leg.variables.update(hangup_cause=name, hangup_cause_q850=str(q850(FS_CAUSES[name])))
        leg.state = "Down"
        self.end_eavesdrops(leg)
        self.leave_room(leg)
        partner = self.legs.get(leg.bridge or "")
        if partner is not None:
            partner.bridge = None
        self.emit_channel("CHANNEL_HANGUP", leg, ("Hangup-Cause", name))
        self.emit_channel("CHANNEL_HANGUP_COMPLETE", leg, ("Hangup-Cause", name))
        self.emit_channel("CHANNEL_DESTROY", leg)
        if leg.id in self.jobs:
            self.job_done(self.jobs.pop(leg.id), "originate", f"-ERR {name}\n")

    # -- test helpers ---------------------------------------------------------------------
    def add_stray(self, uid: str, *, app_var: str) -> Leg:
        """A live channel nobody in the dialer knows (left over from a crashed process)."""
        leg = Leg(
            id=uid,
            name="sofia/external/+15550109999",
            app=app_var,
            app_args="&park()",
            endpoint="sofia/gateway/trunk/+15550109999",
            caller="+15550000000",
            script=script_for("+15550109999"),
            variables={"dialer_app": app_var},
            timeout_s=60.0,
            callee=True,
            created=ts(),
            state="Up",
            answered=True,
            app_name="park",
        )
        self.legs[uid] = leg
        return leg


def show_json(fake: FakeFreeSwitch) -> str:
    import json

    rows = [show_row(leg, fake) for leg in fake.legs.values()]
    if not rows:
        return '{"row_count": 0}\n'
    return json.dumps({"row_count": len(rows), "rows": rows}, separators=(",", ":"))
