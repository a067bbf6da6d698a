-- Campaign figures for reports, the console and the CSV export. Read-only.
-- Windows are half-open: [from, to). Attempts are counted by started_at
-- (attempts_campaign_started_idx); legal abandon windows by answered_at
-- (attempts_campaign_answered_idx), exactly as the engine's abandon budget counts them.

-- name: window
-- One scan of the window's attempts: the totals (kind 'all'), and counts by outcome
-- (kind 'outcome') and by dial mode (kind 'mode').
SELECT CASE WHEN GROUPING(outcome) = 0 THEN 'outcome'
            WHEN GROUPING(mode) = 0 THEN 'mode' ELSE 'all' END AS kind,
       outcome, mode,
       count(*) AS dials,
       count(*) FILTER (WHERE ended_at IS NOT NULL) AS ended,
       count(*) FILTER (WHERE ended_at IS NULL) AS in_progress,
       count(*) FILTER (WHERE answer = 'human') AS human_answers,
       count(*) FILTER (WHERE answer = 'machine') AS machine_answers,
       count(*) FILTER (WHERE connected_at IS NOT NULL) AS connects,
       count(*) FILTER (WHERE outcome = 'abandoned') AS abandons,
       avg(wait_s) FILTER (WHERE connected_at IS NOT NULL) AS wait_avg_s,
       max(wait_s) FILTER (WHERE connected_at IS NOT NULL) AS wait_max_s,
       avg(talk_s) FILTER (WHERE connected_at IS NOT NULL AND talk_s IS NOT NULL) AS talk_avg_s,
       coalesce(sum(talk_s), 0) AS talk_total_s,
       min(started_at) AS first_dial_at,
       max(started_at) AS last_dial_at
FROM attempts
WHERE campaign_id = $1 AND started_at >= $2 AND started_at < $3 AND direction = 'outbound'
GROUP BY GROUPING SETS ((outcome), (mode), ());

-- name: inbound
-- The window's inbound calls (callbacks from callees, docs/inbound.md): all, given to an
-- agent, that heard the callback message to its end, and from a caller matched to a lead.
SELECT count(*) AS calls,
       count(*) FILTER (WHERE connected_at IS NOT NULL) AS to_agent,
       count(*) FILTER (WHERE connected_at IS NULL AND outcome = 'completed') AS message,
       count(*) FILTER (WHERE lead_id IS NOT NULL) AS matched
FROM attempts
WHERE campaign_id = $1 AND started_at >= $2 AND started_at < $3 AND direction = 'inbound';

-- name: legal_windows
-- Live answers and abandons answered in (since, $2] for each `since` of $3, in one scan
-- from the earliest ($4): the engine's abandon budget. Windows without answers are absent.
SELECT w.i, count(*) AS human_answers, count(*) FILTER (WHERE a.outcome = 'abandoned') AS abandons
FROM attempts a
CROSS JOIN LATERAL unnest($3::timestamptz[]) WITH ORDINALITY AS w(since, i)
WHERE a.campaign_id = $1 AND a.answer = 'human' AND a.direction = 'outbound'
  AND a.answered_at > $4 AND a.answered_at <= $2 AND a.answered_at > w.since
GROUP BY w.i;

-- name: agent_time
-- Agent time in [$2, $3) of each campaign's agents (ids $1) from agent_state_log: seconds
-- logged in (any state but offline) and seconds on a call of that campaign. Each agent's
-- state at $2 is its last change before it. For the report and the campaign list alike.
WITH ag AS (
    SELECT campaign_id, agent_id FROM agent_campaigns WHERE campaign_id = ANY($1::bigint[])
), changes AS (
    SELECT ag.campaign_id, l.agent_id, l.id, l.state, l.attempt_id, l.at
    FROM ag
    CROSS JOIN LATERAL (
        (SELECT x.agent_id, x.id, x.state, x.attempt_id, x.at
         FROM agent_state_log x
         WHERE x.agent_id = ag.agent_id AND x.at <= $2
         ORDER BY x.at DESC, x.id DESC
         LIMIT 1)
        UNION ALL
        (SELECT x.agent_id, x.id, x.state, x.attempt_id, x.at
         FROM agent_state_log x
         WHERE x.agent_id = ag.agent_id AND x.at > $2 AND x.at < $3)
    ) l
), spans AS (
    SELECT campaign_id, state, attempt_id,
           greatest(at, $2) AS t0,
           least(coalesce(lead(at) OVER (PARTITION BY campaign_id, agent_id ORDER BY at, id),
                          $3), $3) AS t1
    FROM changes
)
SELECT s.campaign_id,
       coalesce(sum(extract(epoch FROM s.t1 - s.t0))
                FILTER (WHERE s.state <> 'offline'), 0)::float8 AS logged_in_s,
       coalesce(sum(extract(epoch FROM s.t1 - s.t0))
                FILTER (WHERE s.state = 'on_call' AND a.campaign_id = s.campaign_id), 0)::float8
           AS talk_s
FROM spans s
LEFT JOIN attempts a ON a.id = s.attempt_id
WHERE s.t1 > s.t0
GROUP BY s.campaign_id;

-- name: blocked
-- Leads the calling rules deferred (one compliance.blocked outbox event each), by rule;
-- the row with by_rule = 0 is the number of deferrals. Outbox events are kept for the
-- webhook retention (30 days by default).
SELECT coalesce(r.rule_id, 'unknown') AS rule_id, GROUPING(r.rule_id) AS total,
       count(DISTINCT o.id) AS n
FROM webhook_outbox o
LEFT JOIN LATERAL jsonb_array_elements_text(
    CASE WHEN jsonb_typeof(o.payload -> 'rule_ids') = 'array'
         THEN o.payload -> 'rule_ids' ELSE '[]'::jsonb END) AS r(rule_id) ON true
WHERE o.type = 'compliance.blocked' AND o.campaign_id = $1
  AND o.created_at >= $2 AND o.created_at < $3
GROUP BY GROUPING SETS ((r.rule_id), ());

-- name: leads
-- List penetration: leads by status and by attempts made (leads_campaign_status_idx).
SELECT status, attempts_count, count(*) AS n
FROM leads
WHERE campaign_id = $1
GROUP BY status, attempts_count;

-- name: export_attempts
-- Every attempt of the window, oldest first, for the CSV export (read through a cursor).
SELECT a.id, a.lead_id, a.phone_e164, a.started_at, a.answered_at, a.connected_at,
       a.ended_at, a.outcome, a.answer, a.disposition, a.agent_id, a.mode, a.ring_s,
       a.wait_s, a.talk_s, a.hangup_cause,
       (a.compliance ->> 'allowed')::boolean AS compliance_allowed,
       a.compliance -> 'rule_ids' AS compliance_rules,
       a.compliance -> 'packs' AS compliance_packs,
       a.compliance -> 'waived_rules' AS compliance_waived,
       a.caller_id,
       CASE WHEN a.recording_deleted_at IS NULL THEN a.recording_url END AS recording_url
FROM attempts a
WHERE a.campaign_id = $1 AND a.started_at >= $2 AND a.started_at < $3
ORDER BY a.started_at, a.id;

-- name: active_campaigns
-- The campaigns whose figures are exported as metrics: running and paused ones.
SELECT id, state FROM campaigns
WHERE state IN ('running', 'paused') AND deleted_at IS NULL
ORDER BY id;

-- name: active_leads
-- Leads of those campaigns by status (leads_campaign_status_idx).
SELECT campaign_id, status, count(*) AS n
FROM leads
WHERE campaign_id = ANY($1::bigint[])
GROUP BY campaign_id, status;

-- name: due_leads
-- Leads of those campaigns that may be dialed now ($2) (leads_dialable_idx).
SELECT campaign_id, count(*) AS n
FROM leads
WHERE campaign_id = ANY($1::bigint[]) AND status IN ('new', 'retry', 'callback')
  AND next_attempt_at <= $2
GROUP BY campaign_id;

-- name: paused_agents
-- Paused agents of those campaigns by pause code (agent_campaigns_campaign_idx).
SELECT ac.campaign_id, coalesce(a.state_reason, 'pause') AS reason, count(*) AS n
FROM agent_campaigns ac JOIN agents a ON a.id = ac.agent_id
WHERE ac.campaign_id = ANY($1::bigint[]) AND a.state = 'paused' AND a.deleted_at IS NULL
GROUP BY ac.campaign_id, 2;

-- name: pause_code_sets
-- The pause codes those campaigns define (campaigns without any use the defaults).
SELECT campaign_id, code FROM campaign_pause_codes WHERE campaign_id = ANY($1::bigint[]);
