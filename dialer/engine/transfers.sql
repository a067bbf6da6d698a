-- name: call_for_transfer
-- A call (attempt) with what a transfer needs, locked: its campaign, lead and open leg.
SELECT a.id, a.lead_id, a.campaign_id, a.agent_id, a.phone_e164, a.connected_at, a.ended_at,
       a.caller_id, a.gateway_call_id, c.client_id, c.default_region,
       coalesce(a.carrier_campaign_id, a.campaign_id) AS carrier_campaign_id,
       (SELECT row_to_json(g) FROM (
            SELECT l.id, l.leg, l.leg_state, l.agent_id, l.leg_target
            FROM attempts l WHERE l.parent_attempt_id = a.id AND l.ended_at IS NULL
        ) g) AS open_leg
FROM attempts a JOIN campaigns c ON c.id = a.campaign_id
WHERE a.id = $1
FOR UPDATE OF a;

-- name: hold_agent
-- Hold the target agent of a transfer (available only); the leg attempt is linked below.
UPDATE agents
SET state = 'on_call', state_reason = 'transfer', state_changed_at = $2, attempt_id = NULL,
    campaign_id = $3, preview_lead_id = NULL
WHERE id = $1 AND state = 'available' AND deleted_at IS NULL
RETURNING id;

-- name: start_leg
-- The leg's attempt: the parent's lead, placed by the parent's runner (runner 'transfer'
-- until it takes it). $1 parent, $2 campaign, $3 phone, $4 at, $5 compliance, $6 leg id,
-- $7 agent, $8 leg (blind|warm|conference), $9 target, $10 notes for the target.
INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance,
                      gateway_call_id, runner, mode, agent_guaranteed, agent_id, caller_id,
                      parent_attempt_id, leg, leg_state, leg_target, leg_notes,
                      carrier_campaign_id)
SELECT p.lead_id, $2, $3, $4, $5::text::jsonb, $6, 'transfer', 'transfer', true, $7,
       p.caller_id, p.id, $8, 'requested', $9::text::jsonb, $10,
       coalesce(p.carrier_campaign_id, p.campaign_id)
FROM attempts p WHERE p.id = $1
RETURNING id;

-- name: link_agent
UPDATE agents SET attempt_id = $2
WHERE id = $1 AND state = 'on_call' AND attempt_id IS NULL
RETURNING id;

-- name: announce
SELECT pg_notify('dialer_agents', $1::text);

-- name: take_leg
-- The parent's runner takes the leg to carry it out (once), fenced by its lease.
WITH t AS (
    UPDATE attempts a SET runner = $3
    WHERE a.id = $1 AND a.parent_attempt_id = $2 AND a.ended_at IS NULL
      AND a.runner = 'transfer'
      AND EXISTS (SELECT 1 FROM leases WHERE name = $4 AND owner = $5 AND expires_at > $6)
    RETURNING a.*
)
SELECT t.id, t.campaign_id, t.phone_e164, t.started_at, t.gateway_call_id, t.agent_id,
       t.leg, t.leg_target, g.endpoint, c.transfer_wait_s, c.safe_harbor_message
FROM t
JOIN campaigns c ON c.id = t.campaign_id
LEFT JOIN agents g ON g.id = t.agent_id;

-- name: leg_state
UPDATE attempts SET leg_state = $2 WHERE id = $1 AND ended_at IS NULL;

-- name: leg_connected
-- The leg reached its party (answered_at/connected_at; no 'answer': a leg is no dial's
-- live answer and stays out of the abandon budget).
UPDATE attempts SET leg_state = $2, answered_at = $3, connected_at = $3, ring_s = $4
WHERE id = $1 AND ended_at IS NULL;

-- name: claim_campaign_agent
-- A campaign's agent free the longest, held for a queued transfer (compare-and-set).
UPDATE agents g
SET state = 'on_call', state_reason = 'transfer', state_changed_at = $3, attempt_id = $2,
    campaign_id = $1, preview_lead_id = NULL
WHERE g.id = (
    SELECT a.id FROM agents a JOIN agent_campaigns ac ON ac.agent_id = a.id
    WHERE ac.campaign_id = $1 AND a.state = 'available' AND a.deleted_at IS NULL
      AND a.id <> ALL($4::bigint[])
    ORDER BY a.state_changed_at, a.id
    LIMIT 1
    FOR UPDATE OF a SKIP LOCKED
) AND g.state = 'available'
RETURNING g.id, g.endpoint;

-- name: claim_agent
-- The transferring agent, if free again, for a transfer nobody else took.
UPDATE agents
SET state = 'on_call', state_reason = 'transfer', state_changed_at = $3, attempt_id = $2,
    campaign_id = $4, preview_lead_id = NULL
WHERE id = $1 AND state = 'available' AND deleted_at IS NULL
RETURNING id, endpoint;

-- name: leg_agent
UPDATE attempts SET agent_id = $2 WHERE id = $1;

-- name: pending_legs
SELECT id, parent_attempt_id FROM attempts
WHERE carrier_campaign_id = $1 AND ended_at IS NULL AND runner = 'transfer';
