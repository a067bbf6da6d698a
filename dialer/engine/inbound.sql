-- name: route
-- The campaign and lead of an inbound call from $1 (caller) to $2 (dialed): the campaign
-- that last called $1 from $2, with the lead of that call; else a campaign owning $2 (its
-- caller ID or one of its pool; running campaigns first, then the newest) and its lead with
-- that phone, if any.
WITH last AS (
    SELECT a.campaign_id, a.lead_id, 1 AS rank
    FROM attempts a JOIN campaigns c ON c.id = a.campaign_id AND c.deleted_at IS NULL
    WHERE a.caller_id = $2 AND a.phone_e164 = $1 AND a.direction = 'outbound'
    ORDER BY a.started_at DESC, a.id DESC
    LIMIT 1
), owner AS (
    SELECT c.id AS campaign_id, NULL::bigint AS lead_id, 2 AS rank
    FROM campaigns c
    WHERE c.deleted_at IS NULL
      AND (c.caller_id = $2 OR EXISTS (
          SELECT 1 FROM campaign_caller_ids p WHERE p.campaign_id = c.id AND p.number = $2))
    ORDER BY (c.state = 'running') DESC, c.id DESC
    LIMIT 1
), found AS (
    SELECT * FROM (SELECT * FROM last UNION ALL SELECT * FROM owner) x ORDER BY rank LIMIT 1
)
SELECT f.campaign_id, c.client_id, l.id, l.phone_e164, l.region, l.subdivision,
       l.postal_code, l.time_zones, l.status, l.attempts_count, l.callback_agent_id
FROM found f
JOIN campaigns c ON c.id = f.campaign_id
LEFT JOIN LATERAL (
    SELECT * FROM leads l
    WHERE (f.lead_id IS NOT NULL AND l.id = f.lead_id)
       OR (f.lead_id IS NULL AND l.campaign_id = f.campaign_id AND l.phone_e164 = $1)
    LIMIT 1
) l ON true;

-- name: start
-- An inbound call's attempt, answered now ($4). The lead ($1, may be null: a caller nobody
-- called) is marked touched now, so the agent's disposition of this call applies to it
-- (unless a runner holds it), and is not dialed while they are on the line: not before
-- 15 minutes from now (a disposition then plans it as usual).
WITH ins AS (
    INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, answered_at, answer,
                          compliance, gateway_call_id, runner, mode, direction, dialed)
    VALUES ($1, $2, $3, $4, $4, 'human', '{"inbound": true}', $5, $6, 'inbound', 'inbound',
            $7)
    RETURNING id
), touched AS (
    UPDATE leads
    SET updated_at = CASE WHEN claimed_by IS NULL THEN $4 ELSE updated_at END,
        next_attempt_at = greatest(next_attempt_at, $4 + interval '15 minutes')
    WHERE id = $1
    RETURNING id
)
SELECT id FROM ins;

-- name: close_message_only
-- An inbound call no runner of this process followed (its campaign is not dialing here):
-- it heard the callback message; closed at once.
UPDATE attempts SET ended_at = $2, outcome = $3, hangup_cause = $4
WHERE id = $1 AND ended_at IS NULL;

-- name: calls
-- A campaign's inbound calls in attempt order (keyset: after id $2), $3 per page; with
-- $4 only those started at or after that instant.
SELECT a.id, a.lead_id, a.phone_e164 AS caller, a.dialed, a.started_at, a.ended_at,
       a.outcome, a.agent_id, a.connected_at, a.talk_s, a.hangup_cause, a.disposition
FROM attempts a
WHERE a.campaign_id = $1 AND a.direction = 'inbound' AND a.id > $2
  AND ($4::timestamptz IS NULL OR a.started_at >= $4)
ORDER BY a.id
LIMIT $3;
