"""Reconnection delays: exponential backoff with jitter, and a log that speaks once per change.

When a switch restarts, every dialer process connected to it retries; jitter keeps them
from reconnecting in lock-step, and the cap keeps a long outage from growing the delay
without bound. The random source is injected so tests (and replays) are deterministic.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Backoff:
    """Delay before the n-th retry: ``min(cap, base * 2**n)``, scaled by a random factor in
    ``[1 - jitter, 1]``. ``reset()`` after a success."""

    base_s: float = 0.5
    cap_s: float = 30.0
    jitter: float = 0.5
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < self.base_s:
            raise ValueError("backoff needs 0 < base_s <= cap_s")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")

    def next_delay(self) -> float:
        ceiling = min(self.cap_s, self.base_s * 2 ** min(self.attempts, 32))
        self.attempts += 1
        return ceiling * (1.0 - self.jitter * self.rng.random())

    def reset(self) -> None:
        self.attempts = 0


class StateLog:
    """Logs a connection's state only when it changes (not on every retry)."""

    def __init__(self, logger: logging.Logger, **extra: Any) -> None:
        self.logger = logger
        self.extra = extra
        self.state: str | None = None

    def enter(self, state: str, level: int, message: str, *args: object) -> bool:
        """Log ``message`` if ``state`` is new; True if it was."""
        if state == self.state:
            return False
        self.state = state
        self.logger.log(level, message, *args, extra=self.extra)
        return True
