"""A runner's picture of its campaign's agents, kept current from the agent bus.

The ``agents`` table is the truth; this view follows it (bus messages, periodic reloads)
so the runner can count agents by state for the pacer and pick a free agent without a
query. Picking is only a proposal: the connect itself is a compare-and-set in the
database, and an agent another campaign took first is simply marked busy here.

Also integrates agent time for occupancy: talk seconds over logged-in seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dialer.agents.states import BUSY, LOGGED_IN, STATES


@dataclass(slots=True)
class AgentSlot:
    id: int
    name: str
    endpoint: str | None
    state: str
    since_t: float
    attempt_id: int | None = None
    campaign_id: int | None = None
    reason: str | None = None
    lead_id: int | None = None
    simulated: bool = False
    reserving: bool = False  # a connect or preview is being attempted
    blended: bool = False  # takes inbound calls too (``engine.inbound``)
    # 'pause'/'logout' asked for: after the call, or *held* while free (``agents.holds``)
    pending: str | None = None

    @property
    def holding(self) -> bool:
        """Free, with a pause or logout held: takes a call only when nobody else can."""
        return self.state == "available" and self.pending is not None and not self.reserving


@dataclass(frozen=True, slots=True)
class Change:
    """An agent of this campaign moved from ``old`` to ``new`` after ``elapsed`` seconds."""

    agent_id: int
    old: str
    new: str
    elapsed: float
    campaign_id: int | None


@dataclass
class AgentView:
    campaign_id: int
    agents: dict[int, AgentSlot] = field(default_factory=dict)
    talk_s: float = 0.0
    logged_in_s: float = 0.0
    _last_t: float | None = None
    _logged_in: int = 0  # agents logged in now
    _talking: int = 0  # agents on a call of this campaign now
    # agents this runner seated without the database (``seating``): until that connect is
    # written, the table's older state must not overwrite the picture
    pinned: set[int] = field(default_factory=set)

    # -- loading and following ----------------------------------------------------------
    def load(self, rows: Iterable[dict[str, Any]], t: float) -> list[Change]:
        """Replace the view with the table's rows; returns the changes it noticed."""
        changes = []
        seen = set()
        for row in rows:
            seen.add(row["id"])
            change = self.load_one(row, t)
            if change:
                changes.append(change)
        for gone in set(self.agents) - seen - self.pinned:
            self.remove(gone, t)
        return changes

    def load_one(self, row: dict[str, Any], t: float) -> Change | None:
        """Refresh (or add) one agent from its row."""
        slot = self.agents.get(row["id"])
        if row["id"] in self.pinned:
            return None
        if slot is None:
            self.integrate(t)
            slot = self.agents[row["id"]] = _slot(row, t)
            self._count(slot, +1)
            return None
        slot.name, slot.endpoint = row["name"], row["endpoint"]
        slot.blended = bool(row.get("blended", slot.blended))
        return self._move(slot, row["state"], t, row)

    def remove(self, agent_id: int, t: float) -> None:
        slot = self.agents.get(agent_id)
        if slot is not None:
            self.integrate(t)
            self._count(slot, -1)
            del self.agents[agent_id]

    def apply(self, message: dict[str, Any], t: float) -> Change | None:
        """Follow one bus message about an agent of this campaign (others are ignored)."""
        slot = self.agents.get(message.get("agent", -1))
        if slot is None or message.get("event") != "state" or slot.id in self.pinned:
            return None
        if message.get("deleted"):
            self.remove(slot.id, t)
            return Change(slot.id, slot.state, "offline", t - slot.since_t, slot.campaign_id)
        return self._move(slot, message["state"], t, message)

    def pin(self, agent_id: int) -> None:
        """Keep this agent as the runner has them until ``unpin`` (see ``pinned``)."""
        self.pinned.add(agent_id)

    def unpin(self, agent_id: int) -> None:
        self.pinned.discard(agent_id)

    def mark(self, agent_id: int, state: str, t: float, **data: Any) -> Change | None:
        """Record a change this runner made itself (the bus echo will agree)."""
        slot = self.agents.get(agent_id)
        if slot is None:
            return None
        return self._move(slot, state, t, {**data, "reason": data.get("reason")})

    def _move(self, slot: AgentSlot, state: str, t: float, data: dict[str, Any]) -> Change | None:
        self.integrate(t)
        self._count(slot, -1)
        slot.attempt_id = data.get("attempt", data.get("attempt_id"))
        slot.lead_id = data.get("lead", data.get("preview_lead_id"))
        slot.reason = data.get("reason", slot.reason)
        for key in ("pending", "pending_action"):  # a runner's own marks leave it as is
            if key in data:
                slot.pending = data[key]
        change = None
        if state != slot.state:
            change = Change(slot.id, slot.state, state, t - slot.since_t, slot.campaign_id)
            slot.state, slot.since_t, slot.reserving = state, t, False
        slot.campaign_id = data.get("campaign", data.get("campaign_id"))
        self._count(slot, +1)
        return change

    def _count(self, slot: AgentSlot, sign: int) -> None:
        if slot.state in LOGGED_IN:
            self._logged_in += sign
            if slot.state == "on_call" and slot.campaign_id == self.campaign_id:
                self._talking += sign

    # -- choosing -------------------------------------------------------------------------
    def pick(self, *, blended: bool = False) -> AgentSlot | None:
        """The agent available the longest (and not being given a call already), agents
        holding a pause only when no other is free; ``blended``: only agents who take
        inbound calls."""
        best = None
        for slot in self.agents.values():
            if (
                slot.state == "available"
                and not slot.reserving
                and (slot.blended or not blended)
                and (best is None or (slot.holding, slot.since_t) < (best.holding, best.since_t))
            ):
                best = slot
        return best

    def available(self) -> list[AgentSlot]:
        """Free agents to dial for (previews, their callbacks): not those holding a pause."""
        return [
            s
            for s in self.agents.values()
            if s.state == "available" and not s.reserving and s.pending is None
        ]

    def pausing(self) -> tuple[int, int]:
        """(free agents holding a pause, agents on a call or in wrap-up with a pause or
        logout pending): the pacer counts the first as not free, the second as not due."""
        held = busy = 0
        for slot in self.agents.values():
            if slot.holding:
                held += 1
            elif slot.pending is not None and (slot.state in BUSY or slot.reserving):
                busy += 1
        return held, busy

    # -- counting -------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Agents by state; an agent being given a call counts as on_call already."""
        found = dict.fromkeys(STATES, 0)
        for slot in self.agents.values():
            state = "on_call" if slot.reserving and slot.state == "available" else slot.state
            found[state] += 1
        return found

    def elapsed(self, state: str, t: float) -> tuple[float, ...]:
        return tuple(t - s.since_t for s in self.agents.values() if s.state == state)

    def integrate(self, t: float) -> None:
        """Add agent time since the last call to the occupancy totals (O(1))."""
        if self._last_t is not None and t > self._last_t:
            dt = t - self._last_t
            self.logged_in_s += dt * self._logged_in
            self.talk_s += dt * self._talking
        self._last_t = t

    def occupancy(self) -> float:
        return self.talk_s / self.logged_in_s if self.logged_in_s else 0.0


def _slot(row: dict[str, Any], t: float) -> AgentSlot:
    return AgentSlot(
        id=row["id"],
        name=row["name"],
        endpoint=row["endpoint"],
        state=row["state"],
        since_t=t,
        attempt_id=row.get("attempt_id"),
        campaign_id=row.get("campaign_id"),
        lead_id=row.get("preview_lead_id"),
        simulated=bool(row.get("simulated")),
        blended=bool(row.get("blended")),
        pending=row.get("pending_action"),
    )
