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
LOOP_ERRORS = Counter(
    "dialer_loop_errors_total",
    "Exceptions a background loop caught and survived (engine, runner, agent_bus, ...)",
    ["name"],
)
for _loop in ("engine", "runner", "agent_bus", "webhooks", "imports", "scheduler"):
    LOOP_ERRORS.labels(_loop)  # exported at 0 from the start (alerts can use increase())

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
    "no_country_code, missing_phone, malformed_row, duplicate_in_file, duplicate_in_campaign, "
    "dnc, already_listed)",
    ["result"],
)
IMPORT_DURATION = Histogram(
    "dialer_import_duration_seconds",
    "Wall time of an import from start to commit (or failure)",
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 3600),
)
IMPORTS = Counter("dialer_imports_total", "Imports finished, by state", ["state"])
PRIVACY_ERASED_LEADS = Counter(
    "dialer_privacy_erased_leads_total",
    "Leads erased (personal data removed), by reason: request or retention",
    ["reason"],
)

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

# --- engine (campaign runners, agents, calls) --------------------------------------------
# Label sets by campaign are removed when the campaign's runner stops (see
# dialer.engine.series.forget_campaign).
_CALL_SECONDS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
DIALS = Counter("dialer_dials_total", "Calls originated", ["campaign", "mode"])
MANUAL_DIALS = Counter(
    "dialer_manual_dials_total",
    "Manual dials agents asked for, by result: accepted (recorded and handed to the "
    "campaign's runner), blocked (calling rules), dnc, busy (the agent could not take a call), "
    "stopping (the campaign's runner was stopping)",
    ["campaign", "result"],
)
CALL_OUTCOMES = Counter(
    "dialer_call_outcomes_total", "Calls ended, by outcome", ["campaign", "outcome"]
)
CALLS_IN_FLIGHT = Gauge(
    "dialer_calls_in_flight", "Calls on the gateway (ringing, waiting, talking)", ["campaign"]
)
# Caller IDs come from each campaign's configured pool (a bounded, admin-set list).
CALLER_ID_DIALS = Counter(
    "dialer_caller_id_dials_total",
    "Calls placed, by caller ID presented",
    ["campaign", "caller_id"],
)
CALLER_ID_ANSWERS = Counter(
    "dialer_caller_id_human_answers_total",
    "Calls a person answered, by caller ID presented (answer rate = answers / dials)",
    ["campaign", "caller_id"],
)
ROBOCALL_REJECTIONS = Counter(
    "dialer_robocall_rejections_total",
    "Calls a carrier or callee rejected as robocalls (SIP 607/608, STIR/SHAKEN), by caller ID",
    ["campaign", "caller_id"],
)
HUMAN_ANSWERS = Counter("dialer_human_answers_total", "Calls answered by a person", ["campaign"])
CONNECTS = Counter("dialer_connects_total", "Answered calls bridged to an agent", ["campaign"])
SEATS_WITHOUT_DATABASE = Counter(
    "dialer_seats_without_database_total",
    "Answered calls given to an agent from the runner's own picture while the database did"
    " not answer (the connect is written when it does)",
    ["campaign"],
)
ABANDONS = Counter(
    "dialer_abandons_total", "Live answers given the safe-harbor message (no agent)", ["campaign"]
)
OPT_OUTS = Counter(
    "dialer_opt_outs_total",
    "Callees who pressed the opt-out key during a recorded message (number put on DNC)",
    ["campaign"],
)
OPT_OUT_FAILURES = Counter(
    "dialer_opt_out_failures_total",
    "In-call opt-outs that could not be written to the DNC list (see the log)",
    ["campaign"],
)
ABANDON_RATE = Gauge(
    "dialer_abandon_rate",
    "Abandoned / live answers over the legal window (24h Ofcom, 30d FCC)",
    ["campaign", "window"],
)
AGENTS = Gauge("dialer_agents", "Agents of the campaign by state", ["campaign", "state"])
AGENT_OCCUPANCY = Gauge(
    "dialer_agent_occupancy",
    "Share of logged-in agent time spent talking (runner lifetime)",
    ["campaign"],
)
WAIT_TO_CONNECT = Histogram(
    "dialer_wait_to_connect_seconds",
    "Live answer to agent bridge (call-world seconds)",
    ["campaign"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3),
)
TALK_SECONDS = Histogram(
    "dialer_talk_seconds", "Talk time of connected calls", ["campaign"], buckets=_CALL_SECONDS
)
WRAP_SECONDS = Histogram(
    "dialer_wrap_seconds", "Agent wrap-up time after a call", ["campaign"], buckets=_CALL_SECONDS
)
DIAL_LEVEL = Gauge(
    "dialer_dial_level", "Calls in flight per available agent (last pacing decision)", ["campaign"]
)
PACER_TARGET = Gauge(
    "dialer_pacer_target_calls", "Calls the pacer asked to launch (last decision)", ["campaign"]
)
PACER_LAUNCHED = Counter(
    "dialer_pacer_launched_calls_total", "Calls launched on the pacer's word", ["campaign"]
)
PACER_REQUESTED = Counter(
    "dialer_pacer_requested_calls_total",
    "Calls the pacer asked for, before hopper shortages, blocked leads and gateway back-off "
    "(achieved share: launched / requested)",
    ["campaign"],
)
GATEWAY_ERRORS = Counter(
    "dialer_gateway_errors_total",
    "Originates the gateway refused (switch down or unreachable); the lead is not charged",
    ["campaign"],
)
GATEWAY_UP = Gauge(
    "dialer_gateway_up",
    "1 while this process's telephony gateway takes calls, 0 during an outage (back-off)",
)
# Several switches (DIALER_SWITCHES): each by its configured name.
SWITCH_UP = Gauge(
    "dialer_switch_up", "1 while a switch is in service, 0 while taken out", ["switch"]
)
SWITCH_CALLS = Gauge("dialer_switch_calls", "Calls this process has on each switch", ["switch"])
SWITCH_ORIGINATES = Counter(
    "dialer_switch_originates_total", "Calls placed through each switch", ["switch"]
)
# Recordings in S3-compatible storage (DIALER_RECORDINGS_URL; dialer.recordings.s3).
RECORDING_UPLOADS = Counter(
    "dialer_recording_uploads_total",
    "Recording uploads to object storage (failed: kept on local disk, retried)",
    ["result"],
)
RECORDINGS_PENDING = Gauge(
    "dialer_recordings_pending_upload",
    "Recordings kept on this process's local disk waiting for a retried upload",
)
RECORDING_NOTICE_FAILED = Counter(
    "dialer_recording_notice_failed_total",
    "Calls whose required recording notice could not be played: bridged without recording",
    ["campaign"],
)
SWITCH_HOMED = Counter(
    "dialer_switch_homed_originates_total",
    "Calls placed on their agent's home switch (the agent was known when dialing)",
    ["switch"],
)
VOICEMAIL_BEEPS = Counter(
    "dialer_voicemail_beeps_total",
    "Waits for an answering machine's beep before a voicemail drop (heard, timeout, failed)",
    ["campaign", "result"],
)
HOPPER_LEADS = Gauge("dialer_hopper_leads", "Leads claimed and waiting to be dialed", ["campaign"])
COMPLIANCE_DECISIONS = Counter(
    "dialer_compliance_decisions_total",
    "Calling-rule decisions before a dial (blocked: one per rule that blocked)",
    ["result", "rule"],
)
RUNNER_LEASES = Gauge("dialer_runner_leases", "Campaign runner leases held by this process")
EVENT_TO_DIAL = Histogram(
    "dialer_event_to_dial_seconds",
    "From an event (agent free, call ended) to the originate it caused (wall seconds)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
CAMPAIGN_INFO = Gauge(
    "dialer_campaign_info",
    "Campaigns run by this process (always 1)",
    ["campaign", "name", "client"],
)

# --- campaign figures from the database (dialer.stats.gauges) -----------------------------
# Every `serve` process refreshes these from the same tables, so each exports the same
# values: aggregate them with max by (...), never sum. Only running and paused campaigns
# have series; a campaign that stops, completes or is deleted loses its series.
LEADS = Gauge(
    "dialer_leads",
    "Leads of running and paused campaigns by status (new, retry, callback, completed, dnc, "
    "exhausted, paused)",
    ["campaign", "status"],
)
LEADS_DUE = Gauge(
    "dialer_leads_due",
    "Leads that may be dialed now: status new, retry or callback with their next attempt due",
    ["campaign"],
)
CAMPAIGN_STATE = Gauge(
    "dialer_campaign_state",
    "1 for each running or paused campaign, labelled with its state",
    ["campaign", "state"],
)
AGENTS_PAUSED = Gauge(
    "dialer_agents_paused",
    "Paused agents of the campaign by pause code (reason: one of the campaign's pause codes)",
    ["campaign", "reason"],
)
CAMPAIGN_FIGURES_REFRESHED = Gauge(
    "dialer_campaign_figures_refreshed_timestamp_seconds",
    "Unix time of this process's last successful refresh of the figures above",
)

# Label sets that alerts watch with increase(): created at zero at start-up, because
# increase() cannot see a series' first sample, so a first failure after a restart would
# otherwise go unnoticed (prometheus/alerts.yml, DialerImportFailed).
for _state in ("completed", "failed"):
    IMPORTS.labels(_state)
for _reason in ("request", "retention"):
    PRIVACY_ERASED_LEADS.labels(_reason)  # exported at 0 (dashboards use increase())
for _result in ("uploaded", "failed"):
    RECORDING_UPLOADS.labels(_result)

# -- Supervisor monitoring (listen / whisper / barge) ----------------------------------------
MONITOR_SESSIONS = Counter(
    "dialer_monitor_sessions_total",
    "Supervisor monitor sessions started on calls, by the mode they started in "
    "(listen, whisper, barge) and the campaign of the call",
    ["campaign", "mode"],
)

# -- Inbound calls (callbacks from callees) and blended agents (docs/inbound.md) -----------
INBOUND_CALLS = Counter(
    "dialer_inbound_calls_total",
    "Inbound calls to the campaigns' numbers by how they ended (result: agent, message,"
    " opted_out, hung_up, unrouted); campaign 'none' for a number no campaign owns",
    ["campaign", "result"],
)
INBOUND_HELD_AGENTS = Gauge(
    "dialer_inbound_held_agents",
    "Blended agents the pacer leaves free for the inbound calls it expects",
    ["campaign"],
)

# -- transfers and conferences (engine.transfer) ----------------------------------------------
TRANSFERS = Counter(
    "dialer_transfers_total",
    "Transfers and conferences by mode (blind, warm, conference) and result: completed (the "
    "callee reached the target), cancelled (warm, by the agent), failed (the target did not "
    "answer, hung up, or the call ended first), fallback (nobody took a campaign transfer in "
    "time: back to the first agent or the message), busy (the target agent was not free), "
    "blocked (calling rules or DNC refused the number)",
    ["campaign", "mode", "result"],
)
