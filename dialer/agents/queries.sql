-- name: get_agent
SELECT a.*,
       coalesce(array_agg(ac.campaign_id ORDER BY ac.campaign_id)
                FILTER (WHERE ac.campaign_id IS NOT NULL), '{}') AS campaigns
FROM agents a
LEFT JOIN agent_campaigns ac ON ac.agent_id = a.id
WHERE a.id = $1 AND a.deleted_at IS NULL AND ($2::bigint IS NULL OR a.client_id = $2)
GROUP BY a.id;

-- name: find_agents
SELECT id, client_id, name FROM agents
WHERE (id::text = $1 OR lower(name) = lower($1)) AND deleted_at IS NULL
  AND ($2::bigint IS NULL OR client_id = $2)
ORDER BY id;

-- name: get_agent_for_update
SELECT * FROM agents
WHERE id = $1 AND deleted_at IS NULL AND ($2::bigint IS NULL OR client_id = $2)
FOR UPDATE;

-- name: list_agents
SELECT a.*,
       coalesce(array_agg(ac.campaign_id ORDER BY ac.campaign_id)
                FILTER (WHERE ac.campaign_id IS NOT NULL), '{}') AS campaigns
FROM agents a
LEFT JOIN agent_campaigns ac ON ac.agent_id = a.id
WHERE a.deleted_at IS NULL
  AND ($1::bigint IS NULL OR a.client_id = $1)
  AND ($2::text IS NULL OR a.state = $2)
  AND ($3::bigint IS NULL OR EXISTS (
        SELECT 1 FROM agent_campaigns x WHERE x.agent_id = a.id AND x.campaign_id = $3))
  AND a.id > $4
GROUP BY a.id
ORDER BY a.id
LIMIT $5;

-- name: insert_agent
INSERT INTO agents (client_id, name, endpoint, simulated, created_at, state_changed_at, blended)
VALUES ($1, $2, $3, $4, $5, $5, $6)
RETURNING id;

-- name: update_agent
UPDATE agents SET name = coalesce($2, name), endpoint = CASE WHEN $3 THEN $4 ELSE endpoint END
WHERE id = $1;

-- name: set_blended
UPDATE agents SET blended = $2 WHERE id = $1;

-- name: client_campaigns
SELECT id FROM campaigns WHERE id = ANY($1::bigint[]) AND client_id = $2 AND deleted_at IS NULL;

-- name: clear_campaigns
DELETE FROM agent_campaigns WHERE agent_id = $1;

-- name: add_campaigns
INSERT INTO agent_campaigns (agent_id, campaign_id)
SELECT $1, unnest($2::bigint[])
ON CONFLICT DO NOTHING;

-- name: announce_change
SELECT pg_notify('dialer_agents', json_build_object(
    'event', $2::text, 'agent', id, 'client', client_id, 'state', state,
    'lead', $3::bigint, 'deleted', deleted_at IS NOT NULL)::text)
FROM agents WHERE id = $1;

-- name: set_state
UPDATE agents
SET state = $2, state_reason = $3, pending_action = $4, pending_reason = $5,
    state_changed_at = $6, attempt_id = $7, campaign_id = $8, preview_lead_id = $9,
    pending_until = $10,
    logged_in_at = CASE WHEN $2 = 'offline' THEN NULL ELSE coalesce(logged_in_at, $6) END
WHERE id = $1
RETURNING *;

-- name: soft_delete
UPDATE agents SET deleted_at = $2, state = 'offline', state_changed_at = $2,
    attempt_id = NULL, campaign_id = NULL, preview_lead_id = NULL, pending_action = NULL,
    pending_until = NULL
WHERE id = $1;

-- name: reserve_agent
-- Give a call or a preview to an available agent; $7: not to one holding a pause
-- (dialer.agents.holds: a preview or an owned callback), whatever the runner's picture says.
UPDATE agents
SET state = 'on_call', state_reason = $3, state_changed_at = $2, attempt_id = $4,
    campaign_id = $5, preview_lead_id = $6
WHERE id = $1 AND state = 'available' AND deleted_at IS NULL
  AND (pending_action IS NULL OR NOT $7::boolean)
RETURNING id;

-- name: campaign_agents
SELECT a.id, a.name, a.endpoint, a.state, a.state_changed_at, a.attempt_id, a.campaign_id,
       a.preview_lead_id, a.simulated, a.blended, a.pending_action
FROM agents a JOIN agent_campaigns ac ON ac.agent_id = a.id
WHERE ac.campaign_id = $1 AND a.deleted_at IS NULL;

-- name: agent_in_campaign
SELECT a.id, a.name, a.endpoint, a.state, a.state_changed_at, a.attempt_id, a.campaign_id,
       a.preview_lead_id, a.simulated, a.blended, a.pending_action
FROM agents a JOIN agent_campaigns ac ON ac.agent_id = a.id
WHERE a.id = $1 AND ac.campaign_id = $2 AND a.deleted_at IS NULL;

-- name: screen_call
-- What an agent's screen shows when a call is connected: the lead and its campaign.
SELECT a.id AS call_id, a.campaign_id, a.started_at, a.direction, l.id, l.phone_e164, l.fields,
       l.region,
       l.subdivision, l.time_zones, l.status, l.attempts_count, l.last_outcome,
       l.last_disposition, c.name AS campaign_name,
       a.parent_attempt_id AS transferred_from, a.leg AS transfer_leg,
       a.leg_notes AS transfer_notes, pa.name AS transferred_by
FROM attempts a JOIN leads l ON l.id = a.lead_id JOIN campaigns c ON c.id = a.campaign_id
LEFT JOIN attempts p ON p.id = a.parent_attempt_id
LEFT JOIN agents pa ON pa.id = p.agent_id
WHERE a.id = $1;

-- name: screen_lead
SELECT l.id, l.campaign_id, l.phone_e164, l.fields, l.region, l.subdivision, l.time_zones,
       l.status, l.attempts_count, l.last_outcome, l.last_disposition, c.name AS campaign_name
FROM leads l JOIN campaigns c ON c.id = l.campaign_id
WHERE l.id = $1;

-- name: hold_lock
-- Decide one free agent's pause at a time per campaign (agent $2's campaigns, in order;
-- transaction-scoped advisory locks, $1 = holds.HOLD_LOCK): the hold check that follows,
-- a statement of its own, sees the pauses decided before it.
SELECT count(pg_advisory_xact_lock($1, (ac.campaign_id % 2147483648)::int))
FROM (SELECT campaign_id FROM agent_campaigns WHERE agent_id = $2 ORDER BY campaign_id) ac;

-- name: hold_check
-- Should a pause or logout agent $1 asks for while available be held? Yes if one of the
-- campaigns they serve has more calls ringing for no agent than other free agents (the rule
-- is dialer_calls_outnumber_agents, migration 0023), for as long as a call placed now may
-- still need an agent there: its ring timeout plus the abandon wait (the longest of those
-- campaigns).
SELECT max(c.ring_timeout_s + least(c.abandon_timeout_s, 2.0)) AS hold_s
FROM agent_campaigns ac JOIN campaigns c ON c.id = ac.campaign_id
WHERE ac.agent_id = $1 AND dialer_calls_outnumber_agents(c.id, $1);

-- name: holds_due
-- Held pauses to apply now ($1: now), locked: the deadline passed, or none of the agent's
-- campaigns has more such calls than other free agents any more (the rule of hold_check).
-- $2: only agents of this campaign (null: all); $3: agents to leave alone (a runner is
-- giving them a call).
SELECT a.id FROM agents a
WHERE a.state = 'available' AND a.pending_action IS NOT NULL AND a.deleted_at IS NULL
  AND ($2::bigint IS NULL OR EXISTS (
        SELECT 1 FROM agent_campaigns x WHERE x.agent_id = a.id AND x.campaign_id = $2))
  AND NOT (a.id = ANY($3::bigint[]))
  AND (a.pending_until IS NULL OR a.pending_until <= $1 OR NOT EXISTS (
        SELECT 1 FROM agent_campaigns ac
        WHERE ac.agent_id = a.id AND dialer_calls_outnumber_agents(ac.campaign_id, a.id)))
ORDER BY a.id
FOR UPDATE OF a SKIP LOCKED;
