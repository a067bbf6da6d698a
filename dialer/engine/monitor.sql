-- Supervisor monitoring (dialer.engine.monitor): the call_monitors table.

-- name: monitor_call
-- The call (attempt $1) a supervisor asks to monitor, with its client; live when open and
-- connected to an agent.
SELECT t.id, t.campaign_id, t.agent_id, t.gateway_call_id, t.ended_at, t.connected_at,
       t.runner, c.client_id
FROM attempts t JOIN campaigns c ON c.id = t.campaign_id
WHERE t.id = $1;

-- name: insert_monitor
INSERT INTO call_monitors (attempt_id, campaign_id, agent_id, mode, modes, endpoint, actor,
                           user_id, session, instance, started_at)
VALUES ($1, $2, $3, $4, ARRAY[$4], $5, $6, $7, $8, $9, $10)
RETURNING id;

-- name: get_monitor
SELECT m.*, c.client_id, t.ended_at AS call_ended_at
FROM call_monitors m
JOIN campaigns c ON c.id = m.campaign_id
JOIN attempts t ON t.id = m.attempt_id
WHERE m.id = $1;

-- name: set_monitor_mode
UPDATE call_monitors SET mode = $2, modes = modes || $2::text
WHERE id = $1 AND ended_at IS NULL;

-- name: end_monitor
-- Idempotent: the first end (stop, the call's end, the supervisor hanging up) is kept.
UPDATE call_monitors SET ended_at = $2, end_reason = $3
WHERE id = $1 AND ended_at IS NULL;

-- name: end_monitor_session
UPDATE call_monitors SET ended_at = $2, end_reason = $3
WHERE session = $1 AND instance = $4 AND ended_at IS NULL;

-- name: live_monitors
-- Monitors up now on calls still open, for campaign $1 (NULL = all) and client $2 (NULL = all).
SELECT m.*, c.client_id, t.ended_at AS call_ended_at
FROM call_monitors m
JOIN campaigns c ON c.id = m.campaign_id
JOIN attempts t ON t.id = m.attempt_id
WHERE m.ended_at IS NULL AND t.ended_at IS NULL
  AND ($1::bigint IS NULL OR m.campaign_id = $1)
  AND ($2::bigint IS NULL OR c.client_id = $2)
ORDER BY m.id;

-- name: live_calls
-- Calls connected to an agent now (campaign $1 / client $2, NULL = all).
SELECT t.id, t.campaign_id, t.agent_id, g.name AS agent_name, t.phone_e164, t.connected_at
FROM attempts t
JOIN campaigns c ON c.id = t.campaign_id
LEFT JOIN agents g ON g.id = t.agent_id
WHERE t.ended_at IS NULL AND t.connected_at IS NOT NULL
  AND ($1::bigint IS NULL OR t.campaign_id = $1)
  AND ($2::bigint IS NULL OR c.client_id = $2)
ORDER BY t.connected_at, t.id;
