"""Is the telephony gateway taking calls? One answer per process, shared by its runners.

A ``GatewayError`` from ``originate`` means the switch could not even attempt the call:
Asterisk or FreeSWITCH is down, restarting, or the link to it is. Dialing on would only
churn through the lead list, so after such an error every runner of the process stops
launching for a back-off period (exponential, with jitter from an injected RNG, capped at
``cap_s``); when it has passed, exactly one call is let through as a probe. The first
originate that succeeds ends the outage. State changes are logged once each (never per
call) and exported as ``dialer_gateway_up``.

Pure bookkeeping: no I/O, and time comes from an injected monotonic function.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from dialer import metrics

log = logging.getLogger(__name__)


class GatewayHealth:
    """Up/down state of the gateway and the back-off while it is down."""

    def __init__(
        self,
        *,
        base_s: float = 1.0,
        cap_s: float = 30.0,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        name: str = "gateway",
    ) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self.rng = rng or random.Random()
        self.monotonic = monotonic
        self.name = name
        self.up = True
        self.failures = 0  # consecutive failed originates (probes included)
        self.retry_at = 0.0  # monotonic instant from which a probe may be launched
        self.probing = False  # a probe call is being originated
        self.outages = 0
        metrics.GATEWAY_UP.set(1)

    def backoff_s(self) -> float:
        """The wait after the current run of failures: ``base * 2**(n-1)``, capped, times a
        random factor in [0.5, 1] so that processes do not probe in step."""
        raw = min(self.cap_s, self.base_s * 2 ** max(0, self.failures - 1))
        return raw * (0.5 + 0.5 * self.rng.random())

    def allowance(self) -> int | None:
        """How many calls may be launched now: None (no limit) while the gateway is up,
        1 when a probe is due (the caller must then call ``probe_started``), else 0."""
        if self.up:
            return None
        if self.probing or self.monotonic() < self.retry_at:
            return 0
        return 1

    def probe_started(self) -> None:
        self.probing = True

    def probe_abandoned(self) -> None:
        """The probe was not originated after all (no lead, rules): another may go."""
        self.probing = False

    def failed(self, error: object) -> None:
        """An originate raised ``GatewayError``."""
        self.failures += 1
        self.probing = False
        self.retry_at = self.monotonic() + self.backoff_s()
        if self.up:
            self.up = False
            self.outages += 1
            metrics.GATEWAY_UP.set(0)
            log.error(
                "telephony gateway unavailable, dialing paused: %s",
                error,
                extra={"gateway": self.name, "retry_in_s": round(self.retry_at - self.monotonic())},
            )

    def succeeded(self) -> None:
        """An originate went through: the gateway takes calls."""
        self.probing = False
        if self.up:
            self.failures = 0
            return
        log.warning(
            "telephony gateway available again, dialing resumes",
            extra={"gateway": self.name, "failed_originates": self.failures},
        )
        self.up = True
        self.failures = 0
        self.retry_at = 0.0
        metrics.GATEWAY_UP.set(1)
