"""Every Prometheus metric of the service, declared once.

Conventions: base units (seconds, bytes), ``_total`` for counters, bounded label sets
(campaign, outcome, mode, state, reason, route: never a lead id or a phone number).
Each ``dialer serve`` process exposes its own ``/metrics``; Prometheus scrapes each one
and dashboards aggregate with ``sum by (...)``.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# --- service ---------------------------------------------------------------------------
BUILD_INFO = Gauge("dialer_build_info", "Build information (always 1)", ["version"])
HTTP_REQUESTS = Counter(
    "dialer_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "dialer_http_request_duration_seconds",
    "HTTP request handling time",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DB_POOL_IN_USE = Gauge("dialer_db_pool_connections_in_use", "Pool connections checked out")
DB_POOL_SIZE = Gauge("dialer_db_pool_connections", "Pool connections open")

# --- campaigns ---------------------------------------------------------------------------
CAMPAIGN_TRANSITIONS = Counter(
    "dialer_campaign_state_changes_total",
    "Campaign state changes",
    ["campaign", "state", "reason"],
)
SCHEDULER_LEADER = Gauge(
    "dialer_scheduler_leader", "1 when this process owns the campaign scheduler"
)

# --- list imports (lead lists and DNC lists) ---------------------------------------------
IMPORT_ROWS = Counter(
    "dialer_import_rows_total",
    "Rows of completed imports by result: accepted, or the rejection reason (invalid_number, "
    "missing_phone, malformed_row, duplicate_in_file, duplicate_in_campaign, dnc, "
    "already_listed)",
    ["result"],
)
IMPORT_DURATION = Histogram(
    "dialer_import_duration_seconds",
    "Wall time of an import from start to commit (or failure)",
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 3600),
)
IMPORTS = Counter("dialer_imports_total", "Imports finished, by state", ["state"])

# --- webhooks ----------------------------------------------------------------------------
WEBHOOK_DELIVERIES = Counter(
    "dialer_webhook_deliveries_total",
    "Webhook delivery attempts by result: delivered, retry, failed_4xx (not retryable: "
    "dead-lettered at once), dead (retries exhausted)",
    ["result"],
)
WEBHOOK_DELIVERY_LATENCY = Histogram(
    "dialer_webhook_delivery_latency_seconds",
    "Time from an event's creation (its transaction) to its successful delivery",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600),
)
WEBHOOK_OUTBOX_PENDING = Gauge(
    "dialer_webhook_outbox_pending", "Outbox events not yet fanned out to subscriptions"
)
WEBHOOK_DELIVERIES_PENDING = Gauge(
    "dialer_webhook_deliveries_pending", "Webhook deliveries waiting to be sent or retried"
)
WEBHOOK_OLDEST_PENDING = Gauge(
    "dialer_webhook_oldest_pending_seconds",
    "Age of the oldest event not yet delivered (0 when nothing is pending)",
)
