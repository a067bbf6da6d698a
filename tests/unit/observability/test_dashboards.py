"""The Grafana files are loadable and only read metrics the service declares.

Grafana cannot run here, so the dashboards are checked structurally: valid JSON with the
fields Grafana's provisioning needs, unique panel ids, panels inside the 24-column grid,
every query on the data-source variable, the campaign variable where panels filter by
campaign, and every metric name a query reads declared in ``dialer/metrics.py`` (or made by
Prometheus/prometheus_client). That the names are really *exported* by a running service
is checked by tests/integration/test_metrics_demo.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from prometheus_client import REGISTRY

from dialer import metrics
from tests.unit.observability.artifacts import (
    DASHBOARDS,
    PROMETHEUS_OWN,
    ROOT,
    alert_queries,
    dashboard_queries,
    dashboards,
    panels,
)
from tests.unit.observability.promql import exposed_names, sample_names

BOARDS = dashboards()
TITLES = {
    "Dialer / Campaign overview",
    "Dialer / Agents",
    "Dialer / Pacing",
    "Dialer / Compliance & CRM",
    "Dialer / Service",
}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def declared_families() -> list[tuple[str, str]]:
    """(name, type) of every family ``dialer/metrics.py`` and prometheus_client's default
    collectors register (a labelled metric with no series yet is listed too)."""
    families = [(f.name, f.type) for f in REGISTRY.collect()]
    assert any(name.startswith("dialer_") for name, _ in families), metrics.__name__
    return families


def declared_names() -> set[str]:
    """Every sample name those families are scraped as (the exposition's suffix rules)."""
    return exposed_names(declared_families())


def test_the_five_dashboards_exist() -> None:
    assert {b["title"] for b in BOARDS.values()} == TITLES
    assert len({b["uid"] for b in BOARDS.values()}) == len(BOARDS)


@pytest.mark.parametrize("file", sorted(BOARDS))
def test_dashboard_structure(file: str) -> None:
    board = BOARDS[file]
    assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 36
    assert re.fullmatch(r"[a-z0-9-]{1,40}", board["uid"])
    assert "dialer" in board["tags"]
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {file}"
    assert all(isinstance(i, int) and i > 0 for i in ids)
    for panel in panels(board):
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["w"] > 0 and grid["h"] > 0, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel.get("description"), panel["id"]
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE and target["expr"].strip()


def _overlap(a: dict[str, int], b: dict[str, int]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


@pytest.mark.parametrize("file", sorted(BOARDS))
def test_panels_do_not_overlap(file: str) -> None:
    grids = [p["gridPos"] for p in panels(BOARDS[file])]
    for i, a in enumerate(grids):
        for b in grids[i + 1 :]:
            assert not _overlap(a, b), (a, b)


def _variables(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in board["templating"]["list"]}


@pytest.mark.parametrize("file", sorted(BOARDS))
def test_datasource_and_campaign_variables(file: str) -> None:
    board = BOARDS[file]
    variables = _variables(board)
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    text = str(board["panels"])
    used = set(re.findall(r"\$\{?([A-Za-z_]\w*)", text)) - {"__rate_interval", "__range"}
    assert used <= set(variables), f"undefined variables {used - set(variables)} in {file}"
    if "campaign" in variables:
        campaign = variables["campaign"]
        assert campaign["type"] == "query" and campaign["datasource"] == DATASOURCE
        assert campaign["includeAll"] and campaign["allValue"] == ".+"
        assert "dialer_campaign_info" in str(campaign["query"])


def test_campaign_dashboards_filter_by_campaign() -> None:
    for board in BOARDS.values():
        if board["title"] in ("Dialer / Campaign overview", "Dialer / Agents", "Dialer / Pacing"):
            assert "campaign" in _variables(board), board["title"]


def test_the_campaign_variable_shows_names_and_keeps_ids() -> None:
    """The regex turns Grafana's query_result lines into text=name, value=campaign id."""
    var = _variables(BOARDS["campaign-overview.json"])["campaign"]
    pattern = var["regex"].strip("/").replace("(?<", "(?P<")
    for line in (
        '{campaign="12", name="Spring sale"} 1 1767625200000',
        '{campaign="12",name="Spring sale"} 1 1767625200000',
    ):
        m = re.search(pattern, line)
        assert m is not None and m["value"] == "12" and m["text"] == "Spring sale"


def test_every_query_reads_only_declared_metrics() -> None:
    declared = declared_names() | PROMETHEUS_OWN
    missing = {
        (name, q.where)
        for q in (*dashboard_queries(), *alert_queries())
        for name in q.names
        if name not in declared
    }
    assert not missing, sorted(missing)


def test_every_dialer_metric_is_on_a_dashboard() -> None:
    """No metric is declared that nobody can see (the wall shows everything we export)."""
    shown = {name for q in dashboard_queries() for name in q.names}
    unseen = {
        name
        for name, kind in declared_families()
        if name.startswith("dialer_") and not sample_names(name, kind) & shown
    }
    assert not unseen, sorted(unseen)


def test_provisioning_points_at_the_dashboards() -> None:
    provider = (ROOT / "grafana/provisioning/dashboards/dialer.yaml").read_text()
    assert "type: file" in provider and "path:" in provider
    compose = (ROOT / "docker-compose.yml").read_text()
    path = re.search(r"path:\s*(\S+)", provider)
    assert path is not None
    assert f"./grafana/dashboards:{path.group(1)}" in compose  # the files are mounted there
    source = (ROOT / "grafana/provisioning/datasources/prometheus.yaml").read_text()
    assert "type: prometheus" in source and "uid: prometheus" in source
    assert DASHBOARDS.is_dir()
