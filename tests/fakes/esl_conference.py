"""The fake FreeSWITCH's transfer and conference commands, as mod_commands and
mod_conference behave: ``uuid_transfer <uuid> [-bleg|-both] <dest> [inline]`` (``-both``
moves the channel and its bridged partner; neither is hung up), ``conference:<room>`` and
``park`` destinations, ``originate ... &conference(<room>)`` (the leg joins when answered),
music on hold by ``uuid_broadcast <uuid> local_stream://moh aleg`` until ``uuid_break``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.fakes.calls import Leg

USAGE = "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n"


class ConferenceMixin:
    """Mixed into ``FakeFreeSwitch`` (uses its legs and events)."""

    legs: dict[str, Leg]

    if TYPE_CHECKING:

        def emit_channel(self, name: str, leg: Leg, *extra: tuple[str, str]) -> None: ...

        def notify(self) -> None: ...

    def conference_init(self) -> None:
        self.rooms: dict[str, set[str]] = {}  # conference name → member channel uuids
        self.moh: set[str] = set()  # channels hearing music on hold

    def conference_api(self, name: str, leg: Leg | None, args: list[str]) -> str | None:
        """The reply to a command of this mixin, or None (not one of them)."""
        moh = len(args) > 1 and args[1].startswith("local_stream://")
        if name == "uuid_broadcast" and leg is not None and moh:
            self.moh.add(leg.id)
            self.emit_channel("CHANNEL_EXECUTE", leg, ("Application", "playback"))
            self.notify()
            return "+OK Message sent\n"
        if name not in ("uuid_transfer", "uuid_break"):
            return None
        if leg is None:
            return "-ERR No such channel!\n"
        if name == "uuid_break":
            self.moh.discard(leg.id)
            self.notify()
            return "+OK\n"
        words = args[1:]
        both = bool(words) and words[0] == "-both"
        if words and words[0] in ("-both", "-bleg"):
            words = words[1:]
        if not words:
            return USAGE
        moving = [leg]
        partner = self.legs.get(leg.bridge or "")
        if both and partner is not None:
            moving.append(partner)
        for channel in moving:
            self._move(channel, words[0])
        self.notify()
        return "+OK\n"

    def _move(self, leg: Leg, dest: str) -> None:
        partner = self.legs.get(leg.bridge or "")
        if partner is not None and partner.bridge == leg.id:
            partner.bridge = None
        leg.bridge = None
        self.leave_room(leg)
        if dest.startswith("conference:"):
            self.join_room(leg, dest.split(":", 1)[1].split("@")[0])
        else:
            leg.app_name = dest
            self.emit_channel("CHANNEL_EXECUTE", leg, ("Application", dest))

    def join_room(self, leg: Leg, room: str) -> None:
        self.rooms.setdefault(room, set()).add(leg.id)
        leg.app_name = "conference"
        self.emit_channel("CHANNEL_EXECUTE", leg, ("Application", "conference"))

    def leave_room(self, leg: Leg) -> None:
        for members in self.rooms.values():
            members.discard(leg.id)
        self.moh.discard(leg.id)

    def conference_target(self, leg: Leg) -> bool:
        """``&conference(<room>)`` as an originate's target: join it on answer."""
        target = leg.app_args
        if not (target.startswith("&conference(") and target.endswith(")")):
            return False
        self.join_room(leg, target[len("&conference(") : -1])
        return True
