"""Discrete-event call-centre simulator: drives ``dialer.pacing`` in virtual time."""

from dialer.sim.model import CalleeModel, CallOutcome, CallScript, PHumanSchedule, TalkDistribution
from dialer.sim.simulator import SimParams, SimResult, run_simulation

__all__ = [
    "CallOutcome",
    "CallScript",
    "CalleeModel",
    "PHumanSchedule",
    "SimParams",
    "SimResult",
    "TalkDistribution",
    "run_simulation",
]
