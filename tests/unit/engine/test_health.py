"""The gateway's health: back-off after refused originates, one probe at a time, one log
line per change of state, and ``dialer_gateway_up``."""

from __future__ import annotations

import logging
import random

import pytest
from prometheus_client import REGISTRY

from dialer.engine.health import GatewayHealth


class Ticks:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def gateway_up() -> float | None:
    return REGISTRY.get_sample_value("dialer_gateway_up")


def test_up_means_no_limit() -> None:
    health = GatewayHealth(monotonic=Ticks())
    assert health.up and health.allowance() is None
    assert gateway_up() == 1


def test_after_a_refusal_nothing_is_launched_until_the_backoff_passes_then_one_probe() -> None:
    clock = Ticks()
    health = GatewayHealth(base_s=1.0, cap_s=30.0, rng=random.Random(3), monotonic=clock)
    health.failed("switch down")
    assert not health.up and gateway_up() == 0
    assert health.allowance() == 0 and not health.may_originate()
    clock.t = health.retry_at - 0.01
    assert health.allowance() == 0 and not health.may_originate()
    clock.t = health.retry_at
    assert health.allowance() == 1
    assert health.may_originate()  # this call is the probe ...
    assert not health.may_originate()  # ... and no other reaches the switch meanwhile
    assert health.allowance() == 0
    health.succeeded()
    assert health.up and health.allowance() is None and health.failures == 0
    assert health.may_originate() and gateway_up() == 1


def _fail_probe(health: GatewayHealth, clock: Ticks) -> float:
    """Let the back-off pass, send the probe, see it refused: the next wait."""
    clock.t = health.retry_at
    assert health.may_originate()
    health.failed("still down")
    return health.retry_at - clock.t


def test_backoff_doubles_per_failed_probe_with_jitter_and_is_capped() -> None:
    def waits(seed: int) -> list[float]:
        clock = Ticks()
        health = GatewayHealth(base_s=1.0, cap_s=30.0, rng=random.Random(seed), monotonic=clock)
        health.failed("down")
        return [health.retry_at - clock.t] + [_fail_probe(health, clock) for _ in range(9)]

    seen = waits(5)
    for n, wait in enumerate(seen):
        raw = min(30.0, 2.0**n)
        assert raw * 0.5 <= wait <= raw, (n, wait)
    assert max(seen) <= 30.0 and seen[-1] >= 15.0
    # Jitter comes from the injected RNG: the same seed gives the same waits.
    assert waits(5) == seen and waits(6) != seen


def test_calls_refused_together_do_not_lengthen_the_backoff() -> None:
    """A whole batch was let through while the gateway was up and is refused at once: one
    refusal takes it down; the others say nothing new (they are not probes)."""
    clock = Ticks()
    health = GatewayHealth(base_s=1.0, cap_s=30.0, rng=random.Random(2), monotonic=clock)
    health.failed("connection refused")
    first_retry = health.retry_at
    for _ in range(49):
        health.failed("connection refused")
    assert health.failures == 1 and health.retry_at == first_retry
    assert first_retry - clock.t <= 1.0


def test_one_log_line_per_change_of_state(caplog: pytest.LogCaptureFixture) -> None:
    clock = Ticks()
    health = GatewayHealth(rng=random.Random(1), monotonic=clock)
    with caplog.at_level(logging.INFO, logger="dialer.engine.health"):
        for _ in range(50):  # a whole batch refused
            health.failed("connection refused")
        for _ in range(5):  # then failed probes
            _fail_probe(health, clock)
        clock.t = health.retry_at
        assert health.may_originate()
        health.succeeded()
        for _ in range(50):
            health.succeeded()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert "unavailable" in messages[0] and "connection refused" in messages[0]
    assert "available again" in messages[1]
    assert health.outages == 1
