-- The per-agent report: time in each state and calls over a window [$2, $3). Read-only.

-- name: report_agents
-- The agents the report covers: the caller's client's ($1, NULL = all) agents, those
-- working campaign $2 when it is given; deleted agents only when their state changed in
-- the window [$3, $4).
SELECT a.id, a.name, a.client_id
FROM agents a
WHERE ($1::bigint IS NULL OR a.client_id = $1)
  AND ($2::bigint IS NULL
       OR EXISTS (SELECT 1 FROM agent_campaigns ac
                  WHERE ac.agent_id = a.id AND ac.campaign_id = $2))
  AND (a.deleted_at IS NULL
       OR EXISTS (SELECT 1 FROM agent_state_log x
                  WHERE x.agent_id = a.id AND x.at >= $3 AND x.at < $4))
ORDER BY a.id;

-- name: state_seconds
-- Seconds each agent ($1) spent in each state (and reason: the pause code) in [$2, $3),
-- from agent_state_log; an agent's state at $2 is its last change before it. With a
-- campaign ($4), time on a call or in wrap-up counts only for that campaign's calls.
WITH changes AS (
    SELECT l.agent_id, l.id, l.state, l.reason, l.attempt_id, l.at
    FROM unnest($1::bigint[]) AS ag(agent_id)
    CROSS JOIN LATERAL (
        (SELECT x.agent_id, x.id, x.state, x.reason, x.attempt_id, x.at
         FROM agent_state_log x
         WHERE x.agent_id = ag.agent_id AND x.at <= $2
         ORDER BY x.at DESC, x.id DESC
         LIMIT 1)
        UNION ALL
        (SELECT x.agent_id, x.id, x.state, x.reason, x.attempt_id, x.at
         FROM agent_state_log x
         WHERE x.agent_id = ag.agent_id AND x.at > $2 AND x.at < $3)
    ) l
), spans AS (
    SELECT agent_id, state, reason, attempt_id,
           greatest(at, $2) AS t0,
           least(coalesce(lead(at) OVER (PARTITION BY agent_id ORDER BY at, id), $3), $3) AS t1
    FROM changes
)
-- Time on a call is talk only while the call is connected (its attempt's connected_at to
-- ended_at, as attempts.talk_s): the rest of it, an agent held for a call not yet answered
-- (a lead previewed, a guaranteed or manual call ringing), is reported as 'dialing'.
SELECT s.agent_id, v.state,
       CASE WHEN s.state = 'paused' THEN coalesce(s.reason, 'pause') END AS reason,
       sum(v.seconds)::float8 AS seconds
FROM spans s
LEFT JOIN attempts a ON a.id = s.attempt_id
CROSS JOIN LATERAL (
    SELECT extract(epoch FROM s.t1 - s.t0) AS total,
           CASE WHEN s.state = 'on_call' AND a.connected_at IS NOT NULL THEN greatest(0,
                extract(epoch FROM least(s.t1, coalesce(a.ended_at, s.t1))
                                   - greatest(s.t0, a.connected_at)))
                WHEN s.state = 'on_call' THEN 0 END AS talk
) t
CROSS JOIN LATERAL (
    VALUES (s.state, coalesce(t.talk, t.total)),
           ('dialing', CASE WHEN s.state = 'on_call' THEN t.total - t.talk ELSE 0 END)
) v(state, seconds)
WHERE s.t1 > s.t0 AND s.state <> 'offline' AND v.seconds > 0
  AND ($4::bigint IS NULL OR s.state NOT IN ('on_call', 'wrap_up') OR a.campaign_id = $4)
GROUP BY s.agent_id, v.state, 3;

-- name: agent_calls
-- Calls connected to each agent ($1) among the attempts of campaigns $4 started in
-- [$2, $3) (attempts_campaign_started_idx), by disposition (NULL: none set yet).
SELECT agent_id, disposition, count(*) AS calls
FROM attempts
WHERE campaign_id = ANY($4::bigint[]) AND started_at >= $2 AND started_at < $3
  AND agent_id = ANY($1::bigint[]) AND connected_at IS NOT NULL
GROUP BY agent_id, disposition;

-- name: scope_campaigns
-- The campaigns of the caller's client ($1, NULL = all), deleted ones included (their
-- calls were made).
SELECT id FROM campaigns WHERE $1::bigint IS NULL OR client_id = $1;
