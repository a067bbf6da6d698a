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
    assert health.allowance() == 0
    clock.t = health.retry_at - 0.01
    assert health.allowance() == 0
    clock.t = health.retry_at
    assert health.allowance() == 1
    health.probe_started()
    assert health.allowance() == 0  # one probe at a time, across every runner
    health.probe_abandoned()  # e.g. no lead was due: another may go
    assert health.allowance() == 1
    health.probe_started()
    health.succeeded()
    assert health.up and health.allowance() is None and health.failures == 0
    assert gateway_up() == 1


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    clock = Ticks()
    health = GatewayHealth(base_s=1.0, cap_s=30.0, rng=random.Random(5), monotonic=clock)
    waits = []
    for _ in range(10):
        health.failed("down")
        waits.append(health.retry_at - clock.t)
        clock.t = health.retry_at
    for n, wait in enumerate(waits):
        raw = min(30.0, 2.0**n)
        assert raw * 0.5 <= wait <= raw, (n, wait)
    assert max(waits) <= 30.0 and waits[-1] >= 15.0
    # Jitter comes from the injected RNG: the same seed gives the same waits.
    again = GatewayHealth(base_s=1.0, cap_s=30.0, rng=random.Random(5), monotonic=Ticks())
    first = [again.backoff_s() for _ in range(1)]
    assert first[0] == pytest.approx(waits[0])


def test_one_log_line_per_change_of_state(caplog: pytest.LogCaptureFixture) -> None:
    clock = Ticks()
    health = GatewayHealth(rng=random.Random(1), monotonic=clock)
    with caplog.at_level(logging.INFO, logger="dialer.engine.health"):
        for _ in range(50):  # a whole batch refused, then failed probes
            health.failed("connection refused")
        health.succeeded()
        for _ in range(50):
            health.succeeded()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert "unavailable" in messages[0] and "connection refused" in messages[0]
    assert "available again" in messages[1]
    assert health.outages == 1
