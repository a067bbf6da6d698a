"""The metric-name extractor the dashboard and alert checks rely on."""

from __future__ import annotations

import pytest

from tests.unit.observability.promql import (
    PromQLError,
    metric_names,
    sample_names,
    variable_names,
)


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('up{job="dialer"} == 0', {"up"}),
        ("rate(dialer_dials_total[5m])", {"dialer_dials_total"}),
        (
            'sum by (campaign) (rate(dialer_dials_total{campaign=~"$campaign"}[$__rate_interval]))'
            " * 60",
            {"dialer_dials_total"},
        ),
        (
            "histogram_quantile(0.99, sum by (le) (rate(dialer_event_to_dial_seconds_bucket[5m])))",
            {"dialer_event_to_dial_seconds_bucket"},
        ),
        ("sum(rate(x_sum[5m])) / sum(rate(x_count[5m]))", {"x_sum", "x_count"}),
        ("sum without (instance, job) (a) and on (campaign) b", {"a", "b"}),
        ("a * on (campaign) group_left (name) b unless ignoring (state) c", {"a", "b", "c"}),
        ("max(a) by (campaign) > bool 0.025 <= 3e-2", {"a"}),
        ("topk(10, sum by (rule) (increase(c_total[$__range])))", {"c_total"}),
        ("time() - max(t_seconds) > 120 offset 5m", {"t_seconds"}),
        ('{__name__="dialer_leads", status="new"}', {"dialer_leads"}),
        ('absent(up{job="dialer"})', {"up"}),
        ("deriv(a[15m:1m]) # a comment naming not_a_metric", {"a"}),
        ('a{name="sum by (x) (y)"}', {"a"}),  # strings are not expressions
        ("vector(1) + scalar(b)", {"b"}),
    ],
)
def test_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_an_unknown_word_counts_as_a_metric_so_mistakes_fail_loudly() -> None:
    assert metric_names("sum by (campaign) (dialer_dails_total)") == {"dialer_dails_total"}


@pytest.mark.parametrize("expr", ['{__name__=~"dialer_.*"}', 'a{job="x"', "rate(a[5m)", "a{b=c}"])
def test_unreadable_expressions_raise(expr: str) -> None:
    with pytest.raises(PromQLError):
        metric_names(expr)


def test_grafana_variable_queries() -> None:
    assert variable_names("label_values(dialer_campaign_info, campaign)") == {
        "dialer_campaign_info"
    }
    assert variable_names(
        "query_result(max by (campaign, name) (last_over_time(dialer_campaign_info[$__range])))"
    ) == {"dialer_campaign_info"}
    assert variable_names("label_values(campaign)") == set()
    with pytest.raises(PromQLError):
        variable_names("metrics(dialer_.*)")


def test_sample_names_follow_prometheus_client() -> None:
    assert sample_names("dialer_dials", "counter") == {"dialer_dials_total", "dialer_dials_created"}
    assert sample_names("h_seconds", "histogram") == {
        "h_seconds_bucket",
        "h_seconds_sum",
        "h_seconds_count",
        "h_seconds_created",
    }
    assert sample_names("dialer_leads", "gauge") == {"dialer_leads"}
