"""Is the telephony gateway taking calls? One answer per process, shared by its runners.

A ``GatewayUnavailable`` from ``originate`` means the switch could not even attempt the
call: Asterisk or FreeSWITCH is down, restarting, or the link to it is (a refusal of one
call, e.g. a bad dial string, is that call's ``failed`` outcome and says nothing here).
Dialing on would only churn through the lead list, so after such an error every runner of
the process stops launching for a back-off period (exponential, with jitter from an
injected RNG, capped at ``cap_s``; it doubles per failed probe, not per refused call); when
it has passed, exactly one call is let through as a probe, at the originate itself
(``may_originate``). The first
originate that succeeds ends the outage. State changes are logged once each (never per
call) and exported as ``dialer_gateway_up``.

Pure bookkeeping: no I/O, and time comes from an injected monotonic function.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from dialer import metrics
from dialer.backoff import Backoff

log = logging.getLogger(__name__)


class GatewayHealth:
    """Up/down state of the gateway and the back-off while it is down."""

    def __init__(
        self,
        *,
        base_s: float = 1.0,
        cap_s: float = 30.0,
        rng: random.Random | None = None,
        monotonic: Callable[[], float],
        name: str = "gateway",
    ) -> None:
        self.backoff = Backoff(base_s=base_s, cap_s=cap_s, jitter=0.5, rng=rng or random.Random())
        self.monotonic = monotonic
        self.name = name
        self.up = True
        self.failures = 0  # the outage's first refusal plus its failed probes
        self.retry_at = 0.0  # monotonic instant from which a probe may be launched
        self.probing = False  # the probe call is being originated
        self.outages = 0
        metrics.GATEWAY_UP.set(1)

    def allowance(self) -> int | None:
        """How many calls may be launched now: None (no limit) while the gateway is up,
        1 when a probe is due, else 0. Advisory: ``may_originate`` decides, per call."""
        if self.up:
            return None
        if self.probing or self.monotonic() < self.retry_at:
            return 0
        return 1

    def may_originate(self) -> bool:
        """Asked right before each originate (nothing awaits between the two). While the
        gateway is down, the first call after the back-off becomes *the* probe and goes;
        every other call is refused here, so one call at a time reaches a switch that is
        down, whichever runner or agent launched it."""
        if self.up:
            return True
        if self.probing or self.monotonic() < self.retry_at:
            return False
        self.probing = True
        return True

    def failed(self, error: object) -> None:
        """An originate that ``may_originate`` let through raised ``GatewayUnavailable``.

        The first one takes the gateway down; while it is down only the probe reaches the
        switch, so a later failure is the probe's (the back-off doubles). Calls let through
        before the outage was seen and failing after it do not lengthen the back-off."""
        if self.up:
            self.up = False
            self.outages += 1
            self.failures = 1
            self.backoff.reset()
            self.retry_at = self.monotonic() + self.backoff.next_delay()
            metrics.GATEWAY_UP.set(0)
            log.error(
                "telephony gateway unavailable, dialing paused: %s",
                error,
                extra={"gateway": self.name, "retry_in_s": round(self.retry_at - self.monotonic())},
            )
        elif self.probing:
            self.probing = False
            self.failures += 1
            self.retry_at = self.monotonic() + self.backoff.next_delay()

    def succeeded(self) -> None:
        """An originate went through: the gateway takes calls."""
        self.probing = False
        if self.up:
            return
        log.warning(
            "telephony gateway available again, dialing resumes",
            extra={"gateway": self.name, "failed_probes": self.failures - 1},
        )
        self.up = True
        self.failures = 0
        self.retry_at = 0.0
        metrics.GATEWAY_UP.set(1)
