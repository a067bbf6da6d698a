-- name: insert_session
-- A session acts as a token ($2) or a user signed in with a password ($6).
INSERT INTO ui_sessions (session_hash, token_id, csrf_token, created_at, last_seen_at, expires_at,
                         user_id)
VALUES ($1, $2, $3, $4, $4, $5, $6)
RETURNING id;

-- name: load_session
SELECT s.id, s.csrf_token, s.flash, s.created_at, s.last_seen_at, s.expires_at,
       t.id AS token_id, u.id AS user_id,
       coalesce(t.name, u.name) AS name, coalesce(t.role, u.role) AS role,
       coalesce(t.client_id, u.client_id) AS client_id,
       coalesce(t.agent_id, u.agent_id) AS agent_id,
       coalesce(t.revoked_at, u.disabled_at) AS revoked_at,
       c.name AS client_name
FROM ui_sessions s
LEFT JOIN api_tokens t ON t.id = s.token_id
LEFT JOIN users u ON u.id = s.user_id
LEFT JOIN clients c ON c.id = coalesce(t.client_id, u.client_id)
WHERE s.session_hash = $1;

-- name: touch_session
UPDATE ui_sessions SET last_seen_at = $2, expires_at = $3
WHERE id = $1;

-- name: session_alive
-- Whether a signed-in session still stands: not signed out, not expired, its token not
-- revoked (its user not disabled).
SELECT EXISTS (
    SELECT 1 FROM ui_sessions s
    LEFT JOIN api_tokens t ON t.id = s.token_id
    LEFT JOIN users u ON u.id = s.user_id
    WHERE s.id = $1 AND s.expires_at > $2
      AND coalesce(t.revoked_at, u.disabled_at) IS NULL
);

-- name: delete_session
DELETE FROM ui_sessions WHERE id = $1;

-- name: purge_expired
DELETE FROM ui_sessions WHERE expires_at <= $1;

-- name: push_flash
UPDATE ui_sessions SET flash = flash || $2::jsonb WHERE id = $1;

-- name: drop_flash
-- Remove the first $2 messages (those shown); any queued meanwhile stay for the next page.
UPDATE ui_sessions
SET flash = coalesce(
    (SELECT jsonb_agg(m.msg ORDER BY m.n) FROM jsonb_array_elements(flash) WITH ORDINALITY AS m (msg, n)
     WHERE m.n > $2),
    '[]')
WHERE id = $1;

-- name: recent_imports
-- The latest imports of one kind (of one campaign), newest first, visible as the imports
-- API shows them: a client's tokens see that client's imports (global DNC ones: no client).
SELECT * FROM imports
WHERE kind = $1
  AND ($2::bigint IS NULL OR client_id = $2)
  AND ($3::bigint IS NULL OR campaign_id = $3)
ORDER BY id DESC
LIMIT $4;

-- name: held_until
-- When the leads the calling rules hold today are next called: the earliest rescheduled
-- instant still ahead (compliance.blocked events carry it as next_attempt_at).
SELECT min((o.payload ->> 'next_attempt_at')::timestamptz)
FROM webhook_outbox o
WHERE o.type = 'compliance.blocked' AND o.campaign_id = $1 AND o.created_at >= $2
  AND (o.payload ->> 'next_attempt_at')::timestamptz > $3;

-- name: board_agents
-- The supervisor board: every agent of campaign $1 with its state, pause code, current
-- call and the calls connected to it in this campaign since $2 (the campaign's day start).
SELECT a.id, a.name, a.state, a.state_reason, a.state_changed_at, a.pending_action,
       a.pending_until,
       a.simulated, a.attempt_id, t.phone_e164, t.campaign_id AS call_campaign_id,
       coalesce(t.connected_at, t.started_at) AS call_since, coalesce(c.calls, 0) AS calls_today
FROM agents a
JOIN agent_campaigns ac ON ac.agent_id = a.id AND ac.campaign_id = $1
LEFT JOIN attempts t ON t.id = a.attempt_id
LEFT JOIN (
    SELECT agent_id, count(*) AS calls
    FROM attempts
    WHERE campaign_id = $1 AND started_at >= $2 AND connected_at IS NOT NULL
    GROUP BY agent_id
) c ON c.agent_id = a.id
WHERE a.deleted_at IS NULL
ORDER BY lower(a.name), a.id;

-- name: visible_campaigns
-- Campaigns the caller's client ($1, NULL = all) may report on, for a picker.
SELECT id, name FROM campaigns
WHERE deleted_at IS NULL AND ($1::bigint IS NULL OR client_id = $1)
ORDER BY lower(name), id;
