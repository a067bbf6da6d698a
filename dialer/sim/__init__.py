"""Discrete-event call-centre simulator: drives ``dialer.pacing`` in virtual time."""

from dialer.sim.floor import Breaks
from dialer.sim.model import CalleeModel, CallOutcome, CallScript, PHumanSchedule, TalkDistribution
from dialer.sim.simulator import SimParams, SimResult, run_floor, run_simulation

__all__ = [
    "Breaks",
    "CallOutcome",
    "CallScript",
    "CalleeModel",
    "PHumanSchedule",
    "SimParams",
    "SimResult",
    "TalkDistribution",
    "run_floor",
    "run_simulation",
]
