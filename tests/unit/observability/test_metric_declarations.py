"""Metric hygiene: every metric declared once in ``dialer/metrics.py``, with help text, a
Prometheus-style name in base units, and labels from a bounded vocabulary."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client.metrics import MetricWrapperBase

from dialer import metrics

PACKAGE = Path(metrics.__file__).parent
# Every label value must come from a bounded set: ids of campaigns and clients, enum-like
# words, rule ids from the rule packs, route patterns, histogram buckets, caller IDs (each
# campaign's configured pool, never a callee's number).
ALLOWED_LABELS = {
    "campaign", "client", "name", "outcome", "mode", "state", "reason", "window", "result",
    "rule", "status", "route", "method", "version", "caller_id", "switch",
}  # fmt: skip
UNBOUNDED = re.compile(
    r"lead|phone|number|attempt|call(?!er_id)|agent_id|token|url|email|uuid|path"
)
UNITS = re.compile(r"_(ms|millis|milliseconds|minutes|hours|days|kb|mb|percent)(_|$)")


def declared() -> dict[str, MetricWrapperBase]:
    return {
        attr: value for attr, value in vars(metrics).items() if isinstance(value, MetricWrapperBase)
    }


def test_names_help_and_units() -> None:
    names = set()
    for attr, metric in declared().items():
        (family,) = metric.describe()
        assert family.name.startswith("dialer_"), attr
        assert re.fullmatch(r"[a-z][a-z0-9_]*", family.name), attr
        assert family.documentation.strip(), f"{attr} has no help text"
        assert not UNITS.search(family.name), f"{family.name}: use base units (seconds, bytes)"
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), f"{family.name}: a duration in seconds"
        if family.type == "gauge" and "time" in family.name:
            assert family.name.endswith("_timestamp_seconds"), family.name
        assert family.name not in names, f"{family.name} declared twice"
        names.add(family.name)


def test_labels_are_bounded() -> None:
    for attr, metric in declared().items():
        labels = set(metric._labelnames)  # the declared label names
        assert labels <= ALLOWED_LABELS, f"{attr}: labels {labels - ALLOWED_LABELS}"
        assert not any(UNBOUNDED.search(label) for label in labels), attr


def test_metrics_are_only_declared_in_metrics_py() -> None:
    constructor = re.compile(r"\b(Counter|Gauge|Histogram|Summary|Info|Enum)\(\s*\"")
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "metrics.py" and constructor.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders
