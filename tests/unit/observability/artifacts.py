"""The observability files of the repository and what they read: Grafana dashboards
(panel targets and variable queries) and Prometheus alert rules. Shared by the structural
unit tests and the integration test that scrapes a running demo."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.unit.observability.promql import metric_names, variable_names

ROOT = Path(__file__).resolve().parents[3]
DASHBOARDS = ROOT / "grafana" / "dashboards"
PROMETHEUS = ROOT / "prometheus"
ALERTS = PROMETHEUS / "alerts.yml"
ALERT_TESTS = PROMETHEUS / "alerts_test.yml"
# Series Prometheus makes itself rather than scraping them.
PROMETHEUS_OWN = frozenset({"up"})


@dataclass(frozen=True)
class Query:
    where: str  # "dashboard 'x' panel 3 target A", "alert DialerX"
    expr: str
    names: frozenset[str]


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside collapsed rows included."""
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def _variable_query(var: dict[str, Any]) -> str:
    query = var.get("query")
    if isinstance(query, dict):
        return str(query.get("query", ""))
    return str(query or var.get("definition", ""))


def dashboard_queries() -> Iterator[Query]:
    for file, board in dashboards().items():
        for panel in panels(board):
            for target in panel.get("targets", []):
                where = f"{file} panel {panel['id']} ({panel['title']}) target {target['refId']}"
                expr = target["expr"]
                yield Query(where, expr, frozenset(metric_names(expr)))
        for var in board.get("templating", {}).get("list", []):
            if var.get("type") == "query":
                expr = _variable_query(var)
                yield Query(f"{file} variable {var['name']}", expr, frozenset(variable_names(expr)))


_KEY = re.compile(r"^(?P<indent>\s*)(?P<dash>- )?(?P<key>[a-z_]+):\s*(?P<value>.*?)\s*$")


def read_rules(text: str) -> list[dict[str, str]]:
    """The rules of a Prometheus rule file, as ``{alert|record, expr, for, severity,
    runbook}``: a reader for the YAML subset our rule file uses (plain and quoted scalars,
    ``|`` and ``>-`` block scalars), because PyYAML is not a dependency. The unit tests
    check its count against ``promtool check rules``.
    """
    rules: list[dict[str, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _KEY.match(lines[i])
        i += 1
        if m is None or lines[i - 1].lstrip().startswith("#"):
            continue
        key, value = m["key"], m["value"]
        if value in ("|", "|-", ">", ">-"):
            block, indent = [], len(m["indent"]) + (2 if m["dash"] else 0)
            while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > indent):
                block.append(lines[i].strip())
                i += 1
            value = ("\n" if value.startswith("|") else " ").join(block).strip()
        elif value[:1] in "\"'":
            value = value[1:-1]
        if key in ("alert", "record"):
            rules.append({key: value})
        elif rules and key in ("expr", "for", "severity", "runbook"):
            rules[-1][key] = value
    return rules


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def alert_rules() -> list[dict[str, str]]:
    return read_rules(ALERTS.read_text())


def alert_queries() -> Iterator[Query]:
    for rule in alert_rules():
        name = rule.get("alert") or rule.get("record")
        yield Query(f"alert {name}", rule["expr"], frozenset(metric_names(rule["expr"])))


def referenced() -> dict[str, list[str]]:
    """Every metric name any panel, variable or alert reads -> where it is read."""
    found: dict[str, list[str]] = {}
    for query in (*dashboard_queries(), *alert_queries()):
        for name in query.names:
            found.setdefault(name, []).append(query.where)
    return found
