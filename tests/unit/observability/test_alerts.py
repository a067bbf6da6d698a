"""The alert rules: valid for Prometheus, unit-tested with ``promtool test rules``, every
alert tested and documented with a runbook entry.

``promtool`` comes with Debian's ``prometheus`` package (``.ci/run`` installs it); where it
is absent the promtool tests skip and say so.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.unit.observability.artifacts import (
    ALERT_TESTS,
    ALERTS,
    PROMETHEUS,
    ROOT,
    alert_rules,
    read_rules,
)

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not found: install Debian's `prometheus` package (apt-get install "
    "prometheus) to check and unit-test the alert rules",
)
RUNBOOK = ROOT / "docs" / "observability.md"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120
    )


@needs_promtool
def test_promtool_check_rules() -> None:
    done = _promtool("check", "rules", ALERTS.name)
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"SUCCESS: (\d+) rules found", done.stdout)
    assert found is not None, done.stdout
    # The rule reader used by the metric-name checks sees every rule promtool sees.
    assert int(found.group(1)) == len(alert_rules())


@needs_promtool
def test_promtool_test_rules() -> None:
    done = _promtool("test", "rules", ALERT_TESTS.name)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_check_config() -> None:
    done = _promtool("check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_required_alerts_exist() -> None:
    names = {r["alert"] for r in alert_rules()}
    assert {
        "DialerAbandonRateApproaching",
        "DialerAbandonRateOverLimit",
        "DialerCampaignNotDialing",
        "DialerWebhookBacklogGrowing",
        "DialerWebhookEventsDelayed",
        "DialerRunnerLeaseLost",
        "DialerProcessDown",
        "DialerImportFailed",
    } <= names


def test_thresholds_are_the_legal_ones() -> None:
    rules = {r["alert"]: r for r in alert_rules()}
    assert "> 0.025" in rules["DialerAbandonRateApproaching"]["expr"]
    assert "> 0.03" in rules["DialerAbandonRateOverLimit"]["expr"]
    assert 'up{job="dialer"}' in rules["DialerProcessDown"]["expr"]


def test_every_alert_is_tested_and_has_a_runbook_entry() -> None:
    tests = ALERT_TESTS.read_text()
    anchors = {
        re.sub(r"[^a-z0-9]", "", line.lstrip("#").strip().lower())
        for line in RUNBOOK.read_text().splitlines()
        if line.startswith("#")
    }
    for rule in alert_rules():
        name = rule["alert"]
        assert f"alertname: {name}\n" in tests, f"{name} has no promtool test"
        assert rule.get("severity") in ("warning", "critical"), name
        assert rule.get("runbook") == f"docs/observability.md#{name.lower()}", name
        assert name.lower() in anchors, f"docs/observability.md has no section {name}"


NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
NUMBERS += ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen")


def test_the_guide_counts_the_alert_rules_right() -> None:
    count = len(alert_rules())
    intro = RUNBOOK.read_text().split("\n\n", 2)[1]
    said = re.search(r"(\w+) alert rules", intro)
    assert said is not None and said.group(1) == NUMBERS[count], (said, count)


def test_the_guide_says_how_to_scrape_another_port() -> None:
    guide = RUNBOOK.read_text()
    assert "DIALER_PORT" in guide and "static_configs" in guide
    assert "DIALER_PORT" in (PROMETHEUS / "prometheus.yml").read_text()


def test_the_rule_reader() -> None:
    text = """
groups:
  - name: g
    rules:
      # - alert: Commented
      - alert: A
        expr: |
          sum(a)
            > 1
        for: 5m
        labels:
          severity: critical
      - record: "job:b:sum"
        expr: 'sum(b)'
"""
    assert read_rules(text) == [
        {"alert": "A", "expr": "sum(a)\n> 1", "for": "5m", "severity": "critical"},
        {"record": "job:b:sum", "expr": "sum(b)"},
    ]
