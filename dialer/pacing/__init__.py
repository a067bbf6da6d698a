"""Pure pacing algorithms: how many calls to launch now (no I/O, no clock of their own).

``make_pacer`` builds one by dial-mode name; the engine and the simulator feed it the
events and states defined in ``dialer.pacing.base``.
"""

from __future__ import annotations

import math
from typing import Any

from dialer.pacing.base import (
    Abandoned,
    AnsweredHuman,
    AnsweredMachine,
    CallEnded,
    Connected,
    Dialed,
    Pacer,
    PacingEvent,
    PacingState,
    Unanswered,
    WrapEnded,
)
from dialer.pacing.budget import GuardedPacer, guard_launch, window_can_absorb
from dialer.pacing.fixed import ProgressivePacer, RatioPacer
from dialer.pacing.predictive import PredictivePacer
from dialer.pacing.vicidial import VicidialPacer

MODES = ("progressive", "ratio", "power", "vicidial", "predictive")

__all__ = [
    "MODES",
    "Abandoned",
    "AnsweredHuman",
    "AnsweredMachine",
    "CallEnded",
    "Connected",
    "Dialed",
    "GuardedPacer",
    "Pacer",
    "PacingEvent",
    "PacingState",
    "PredictivePacer",
    "ProgressivePacer",
    "RatioPacer",
    "Unanswered",
    "VicidialPacer",
    "WrapEnded",
    "guard_launch",
    "make_pacer",
    "window_can_absorb",
]


def make_pacer(
    mode: str,
    *,
    ratio: float | None = None,
    max_abandon_rate: float = 0.03,
    max_lines: int | None = None,
    **tuning: Any,
) -> Pacer:
    """Build the pacer for a dial mode.

    ``mode``: ``progressive``, ``ratio`` / ``power`` (need ``ratio`` >= 1), ``vicidial``
    (VICIdial's ADAPT_* model; ``tuning`` may set ``method``, ``max_level``…) or
    ``predictive`` (ours; ``tuning`` passes through to ``PredictivePacer``). A mode given
    as ``ratio:2.5`` carries its ratio. Raises ``ValueError`` for an unknown mode, a bad
    ratio, a bad limit or tuning the pacer does not know.
    """
    name = mode.strip().lower()
    if ":" in name:
        name, _, value = name.partition(":")
        if ratio is not None:
            raise ValueError(f"dial mode {mode!r} carries a ratio; do not pass ratio= as well")
        try:
            ratio = float(value)
        except ValueError:
            raise ValueError(f"bad ratio in dial mode {mode!r}") from None
    if not 0.0 < max_abandon_rate < 1.0:
        raise ValueError(f"max_abandon_rate must be within (0, 1), got {max_abandon_rate}")
    if max_lines is not None and max_lines < 0:
        raise ValueError(f"max_lines must not be negative, got {max_lines}")
    try:
        if name == "progressive":
            _no_tuning(name, tuning)
            return ProgressivePacer(max_lines=max_lines)
        if name in ("ratio", "power"):
            _no_tuning(name, tuning)
            if ratio is None or not math.isfinite(ratio) or ratio < 1.0:
                raise ValueError(f"dial mode {name!r} needs a ratio >= 1.0, got {ratio!r}")
            return RatioPacer(ratio, max_lines=max_lines)
        if name == "vicidial":
            return VicidialPacer(
                dropped_percentage=100.0 * max_abandon_rate, max_lines=max_lines, **tuning
            )
        if name == "predictive":
            return PredictivePacer(max_abandon_rate=max_abandon_rate, max_lines=max_lines, **tuning)
    except TypeError as exc:  # unknown tuning keyword
        raise ValueError(f"bad tuning for dial mode {name!r}: {exc}") from None
    raise ValueError(f"unknown dial mode {mode!r}; expected one of {', '.join(MODES)}")


def _no_tuning(name: str, tuning: dict[str, Any]) -> None:
    if tuning:
        raise ValueError(f"dial mode {name!r} takes no tuning, got {sorted(tuning)}")
