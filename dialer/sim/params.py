"""What a simulated shift is given (``SimParams``) and what it reports (``SimResult``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dialer.sim.floor import Breaks
from dialer.sim.model import CalleeModel


@dataclass(frozen=True, slots=True)
class SimParams:
    """One simulated shift. Defaults are the reference scenario of the pacing benchmark."""

    agents: int = 20
    callee: CalleeModel = field(default_factory=CalleeModel)
    wrap_s: float = 10.0
    duration_s: float = 8 * 3600.0
    seed: int = 1
    max_wait_s: float = 2.0
    max_lines: int | None = None
    tick_s: float = 1.0
    breaks: Breaks | None = None
    max_abandon_rate: float = 0.03

    def __post_init__(self) -> None:
        if self.agents < 1:
            raise ValueError("a simulation needs at least one agent")
        if self.wrap_s < 0 or self.duration_s <= 0 or self.max_wait_s < 0 or self.tick_s <= 0:
            raise ValueError("wrap_s, max_wait_s >= 0 and duration_s, tick_s > 0 required")
        if self.max_lines is not None and self.max_lines < 1:
            raise ValueError("max_lines must be at least 1")


@dataclass(frozen=True, slots=True)
class SimResult:
    """Outcome counts and the two figures that matter: occupancy and abandon rate.

    Every dial ends in one of ``human_answers`` (then ``connected``, ``abandoned`` or
    ``hung_up`` while waiting), ``machine_answers``, ``busy``, ``failed``, ``no_answer``
    (answers as the dialer classed them). ``window_rates`` is the window's abandon rate
    (abandons / human answers since the start) at the end of every minute of the shift;
    ``agent_time_s`` the floor's agent-seconds by state inside the shift.
    """

    agents: int
    duration_s: float
    seed: int
    dials: int
    human_answers: int
    machine_answers: int
    busy: int
    failed: int
    no_answer: int
    connected: int
    abandoned: int
    hung_up: int
    occupancy: float
    abandon_rate: float
    mean_wait_s: float
    talk_time_s: float
    max_in_flight: int
    max_waiting: int
    amd_humans_dropped: int = 0
    amd_machines_to_agents: int = 0
    staffed_s: float = 0.0
    max_window_rate: float = 0.0
    agent_time_s: dict[str, float] = field(default_factory=dict)
    window_rates: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of every field."""
        return asdict(self)
