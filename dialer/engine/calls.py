"""Call state machine: from the dial to exactly one outcome.

Pure: ``transition(state, event)`` returns the next state, the outcome once it is known,
and the *effect* the runner must carry out (route the human to an agent, play the
safe-harbor message, hang up, put the agent into wrap-up, ...). The table below is the
whole behaviour; ``tests/unit/engine/test_call_states.py`` walks every pair.

::

    dialing ─ringing→ ringing
    dialing|ringing ─human→ waiting ─agent→ connecting ─bridged→ connected ─hangup→ ended(completed)
                                   │          └agent_lost→ waiting
                                   ├deadline (no agent within abandon_timeout_s)→ abandoning
                                   │          ─played|hangup→ ended(abandoned)
                                   ├play (agentless)→ messaging ─played→ ended(completed)
                                   │                                ─hangup→ ended(human)
                                   └hangup (callee gave up first)→ ended(human)
    dialing|ringing ─machine→ ended(machine)   ─fax→ ended(failed)
                    ─voicemail (a machine; the campaign drops a message)→ voicemail
                          ─played|hangup→ ended(machine, cause voicemail_left when played)
                    ─busy|no_answer|failed→ ended(same)   ─hangup→ ended(no_answer)
    any unconnected state ─timeout (gateway silent, shutdown)→ ended(unknown)

Events after ``ended`` are late duplicates and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = (
    "dialing",
    "ringing",
    "waiting",
    "connecting",
    "connected",
    "abandoning",
    "messaging",
    "voicemail",
    "ended",
)
EVENTS = (
    "ringing",
    "human",
    "machine",
    "voicemail",
    "fax",
    "busy",
    "no_answer",
    "failed",
    "hangup",
    "deadline",
    "agent",
    "bridged",
    "agent_lost",
    "play",
    "played",
    "timeout",
)
OUTCOMES = ("no_answer", "busy", "failed", "machine", "human", "abandoned", "completed", "unknown")
LIVE = frozenset(STATES) - {"ended"}

# Effects the runner carries out after a transition.
ROUTE = "route"  # a human waits: give them an agent or arm the abandon deadline
DROP = "drop"  # hang the call up (machine, fax, watchdog, message played)
SAFE_HARBOR = "safe_harbor"  # play the safe-harbor message, then hang up
MESSAGE = "message"  # agentless: play the campaign's message, then hang up
VOICEMAIL = "voicemail"  # a machine: leave the campaign's voicemail message, then hang up
BRIDGE = "bridge"  # an agent was reserved: bridge the call to them
REQUEUE = "requeue"  # the reserved agent was lost: wait for another
RELEASE_AGENT = "release_agent"  # the call ended before it reached the reserved agent
WRAP = "wrap"  # a connected call ended: its agent enters wrap-up
NONE = ""


class IllegalCallEvent(ValueError):
    """The event cannot happen to a call in this state (a gateway or engine bug)."""


@dataclass(frozen=True, slots=True)
class CallStep:
    source: str
    event: str
    target: str
    outcome: str | None = None  # set when the call ends
    effects: tuple[str, ...] = ()

    @property
    def ended(self) -> bool:
        return self.target == "ended" and self.source != "ended"


def _end(outcome: str, *effects: str) -> tuple[str, str | None, tuple[str, ...]]:
    return ("ended", outcome, effects)


_UNANSWERED = {
    "human": ("waiting", None, (ROUTE,)),
    "machine": _end("machine", DROP),
    "voicemail": ("voicemail", None, (VOICEMAIL,)),
    "fax": _end("failed", DROP),
    "busy": _end("busy"),
    "no_answer": _end("no_answer"),
    "failed": _end("failed"),
    "hangup": _end("no_answer"),
    "timeout": _end("unknown", DROP),
}

TABLE: dict[str, dict[str, tuple[str, str | None, tuple[str, ...]]]] = {
    "dialing": {"ringing": ("ringing", None, ()), **_UNANSWERED},
    "ringing": {"ringing": ("ringing", None, ()), **_UNANSWERED},
    "waiting": {
        "agent": ("connecting", None, (BRIDGE,)),
        "deadline": ("abandoning", None, (SAFE_HARBOR,)),
        "play": ("messaging", None, (MESSAGE,)),
        "hangup": _end("human"),
        "timeout": _end("unknown", DROP),
    },
    "connecting": {
        "bridged": ("connected", None, ()),
        "agent_lost": ("waiting", None, (REQUEUE,)),
        "deadline": ("connecting", None, ()),  # the bridge is under way: let it finish
        "hangup": _end("human", RELEASE_AGENT),
        "timeout": _end("unknown", DROP, RELEASE_AGENT),
    },
    "connected": {
        "hangup": _end("completed", WRAP),
        "timeout": _end("completed", DROP, WRAP),  # cut by a shutdown after talking
    },
    "abandoning": {
        "played": _end("abandoned", DROP),
        "hangup": _end("abandoned"),
        "deadline": ("abandoning", None, ()),
        "timeout": _end("abandoned", DROP),
    },
    "messaging": {
        "played": _end("completed", DROP),
        "hangup": _end("human"),
        "timeout": _end("unknown", DROP),
    },
    "voicemail": {
        "played": _end("machine", DROP),
        "hangup": _end("machine"),
        "timeout": _end("unknown", DROP),
    },
}


def transition(state: str, event: str) -> CallStep:
    """The step ``event`` makes from ``state``; ``IllegalCallEvent`` if it cannot happen."""
    if state not in STATES:
        raise IllegalCallEvent(f"unknown call state {state!r}")
    if event not in EVENTS:
        raise IllegalCallEvent(f"unknown call event {event!r}")
    if state == "ended":
        return CallStep(state, event, state)
    found = TABLE[state].get(event)
    if found is None:
        raise IllegalCallEvent(f"a call that is {state} cannot receive {event!r}")
    target, outcome, effects = found
    return CallStep(state, event, target, outcome, effects)
