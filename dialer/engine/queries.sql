-- name: campaign
SELECT * FROM campaigns WHERE id = $1 AND deleted_at IS NULL;

-- name: campaigns_to_run
-- Running campaigns, and any other campaign that still has open attempts (left by a
-- process that died): those are recovered by whoever takes their lease.
SELECT c.id, c.state
FROM campaigns c
WHERE c.deleted_at IS NULL AND c.state = 'running'
UNION
SELECT DISTINCT a.campaign_id, c.state
FROM attempts a JOIN campaigns c ON c.id = a.campaign_id
WHERE a.ended_at IS NULL;

-- name: claim_leads
-- Due leads for anyone, oldest due first, then by priority; skipped if another runner
-- has them locked. Claimed until $5 (the claim expires if this process dies).
WITH picked AS (
    SELECT id FROM leads
    WHERE campaign_id = $1
      AND status IN ('new', 'retry', 'callback')
      AND (status <> 'callback' OR callback_agent_id IS NULL)
      AND next_attempt_at <= $2
      AND (claimed_until IS NULL OR claimed_until < $2)
    ORDER BY next_attempt_at, priority DESC
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE leads l SET claimed_by = $4, claimed_until = $5
FROM picked WHERE l.id = picked.id
RETURNING l.id, l.phone_e164, l.region, l.subdivision, l.postal_code, l.time_zones,
          l.status, l.attempts_count, l.callback_agent_id, l.next_attempt_at;

-- name: claim_callbacks
-- Due callbacks come first: anyone's, and those owned by the agents listed in $6.
WITH picked AS (
    SELECT id FROM leads
    WHERE campaign_id = $1
      AND status = 'callback'
      AND (callback_agent_id IS NULL OR callback_agent_id = ANY($6::bigint[]))
      AND next_attempt_at <= $2
      AND (claimed_until IS NULL OR claimed_until < $2)
    ORDER BY next_attempt_at, priority DESC
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE leads l SET claimed_by = $4, claimed_until = $5
FROM picked WHERE l.id = picked.id
RETURNING l.id, l.phone_e164, l.region, l.subdivision, l.postal_code, l.time_zones,
          l.status, l.attempts_count, l.callback_agent_id, l.next_attempt_at;

-- name: release_claims
UPDATE leads SET claimed_by = NULL, claimed_until = NULL
WHERE id = ANY($1::bigint[]) AND claimed_by = $2;

-- name: release_campaign_claims
UPDATE leads SET claimed_by = NULL, claimed_until = NULL
WHERE campaign_id = $1 AND claimed_by IS NOT NULL;

-- name: defer_lead
UPDATE leads SET next_attempt_at = $3, claimed_by = NULL, claimed_until = NULL, updated_at = $4
WHERE id = $1 AND claimed_by = $2
RETURNING id;

-- name: history
-- Earlier attempts to these numbers by any campaign of the client, for the calling rules.
SELECT a.phone_e164, a.started_at, coalesce(a.outcome, 'unknown') AS outcome,
       a.campaign_id = $2 AS same_campaign, c.purpose,
       (a.connected_at IS NOT NULL OR a.outcome = 'completed') AS conversation,
       coalesce(a.outcome = 'abandoned', false) AS abandoned,
       a.agent_guaranteed
FROM attempts a JOIN campaigns c ON c.id = a.campaign_id
WHERE a.phone_e164 = ANY($1::text[]) AND c.client_id = $3 AND a.started_at > $4;

-- name: start_attempt
-- The dial's record, written before the call is placed. Only the holder of the campaign's
-- lease, still holding the lead's claim, can write it. The lead stays claimed until its
-- outcome is applied (claimed_until 'infinity'), and is pushed out to the 'unknown' retry
-- time at once, so a crash mid-call never leaves it dialable.
WITH fence AS (
    SELECT 1 FROM leases WHERE name = $1 AND owner = $2 AND expires_at > $3
), lead AS (
    UPDATE leads
    SET attempts_count = attempts_count + 1, last_attempt_at = $3, next_attempt_at = $5,
        status = CASE WHEN status = 'callback' THEN 'callback' ELSE 'retry' END,
        claimed_until = 'infinity', updated_at = $3
    WHERE id = $4 AND claimed_by = $6 AND status IN ('new', 'retry', 'callback')
      AND next_attempt_at <= $3 AND EXISTS (SELECT 1 FROM fence)
    RETURNING id, campaign_id, phone_e164, attempts_count, status
), ins AS (
    INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance,
                          gateway_call_id, runner, mode, agent_guaranteed, agent_id)
    SELECT id, campaign_id, phone_e164, $3, $7, $8, $9, $10, $11, $12 FROM lead
    RETURNING id, lead_id
)
SELECT ins.id, lead.attempts_count, lead.status
FROM ins JOIN lead ON lead.id = ins.lead_id;

-- name: link_agent
UPDATE agents SET attempt_id = $2 WHERE id = $1 AND state = 'on_call' AND attempt_id IS NULL;

-- name: connect
-- Give an answered call to an agent who is available right now (compare-and-set).
WITH ag AS (
    UPDATE agents
    SET state = 'on_call', state_reason = NULL, state_changed_at = $3, attempt_id = $2,
        campaign_id = $4, preview_lead_id = NULL
    WHERE id = $1 AND state = 'available' AND deleted_at IS NULL
    RETURNING id
)
UPDATE attempts SET agent_id = $1, answered_at = $5, connected_at = $3, answer = 'human',
                    ring_s = $6, wait_s = $7
WHERE id = $2 AND EXISTS (SELECT 1 FROM ag)
RETURNING id;

-- name: connect_reserved
UPDATE attempts SET agent_id = $2, answered_at = $4, connected_at = $3, answer = 'human',
                    ring_s = $5, wait_s = $6
WHERE id = $1;

-- name: close_call
-- Close the attempt and, in the same statement, its lead and agent:
--  * a plan ($10 status, $11 next attempt, $12 callback owner) is applied only if nobody
--    changed the lead since the dial (else only the outcome is noted);
--  * without a plan (a connected call) the lead waits for the disposition until $13;
--  * with $14 the agent on the call goes into wrap-up (a pending pause/logout stays).
WITH a AS (
    UPDATE attempts
    SET ended_at = $2, outcome = $3, answer = coalesce($4, answer),
        answered_at = coalesce(answered_at, $5), ring_s = coalesce(ring_s, $6),
        wait_s = coalesce(wait_s, $7), talk_s = $8, hangup_cause = $9
    WHERE id = $1 AND ended_at IS NULL
    RETURNING id, lead_id, campaign_id, agent_id, started_at, connected_at, answered_at,
              ended_at, outcome, answer, ring_s, wait_s, talk_s, mode, phone_e164, disposition
), planned AS (
    UPDATE leads l
    SET status = $10, next_attempt_at = coalesce($11, l.next_attempt_at),
        callback_agent_id = $12, last_outcome = a.outcome, updated_at = $2,
        claimed_by = NULL, claimed_until = NULL
    FROM a
    WHERE l.id = a.lead_id AND $10::text IS NOT NULL AND l.updated_at = a.started_at
    RETURNING l.id
), noted AS (
    UPDATE leads l SET last_outcome = a.outcome, claimed_by = NULL, claimed_until = NULL
    FROM a
    WHERE l.id = a.lead_id AND $10::text IS NOT NULL AND l.updated_at <> a.started_at
    RETURNING l.id
), held AS (
    UPDATE leads l SET claimed_until = $13
    FROM a
    WHERE l.id = a.lead_id AND $10::text IS NULL AND l.claimed_until = 'infinity'
    RETURNING l.id
), wrapped AS (
    UPDATE agents g SET state = 'wrap_up', state_reason = NULL, state_changed_at = $2
    FROM a
    WHERE $14 AND g.id = a.agent_id AND g.state = 'on_call' AND g.attempt_id = a.id
    RETURNING g.id
)
SELECT a.*, EXISTS (SELECT 1 FROM planned) AS planned FROM a;

-- name: lead_for_plan
-- The lead, locked; 'untouched' when nobody changed it since this attempt's dial.
SELECT id, status, callback_agent_id, attempts_count, next_attempt_at, time_zones,
       updated_at = $2 AS untouched
FROM leads WHERE id = $1
FOR UPDATE;

-- name: apply_plan
UPDATE leads
SET status = $2, next_attempt_at = coalesce($3, next_attempt_at), callback_agent_id = $4,
    last_outcome = $5, last_disposition = coalesce($6, last_disposition), updated_at = $7,
    claimed_by = NULL, claimed_until = NULL
WHERE id = $1;

-- name: note_outcome
-- The lead was changed by someone else during the call: keep their change, free the lead.
UPDATE leads SET last_outcome = $2, last_disposition = coalesce($3, last_disposition),
    claimed_by = NULL, claimed_until = NULL
WHERE id = $1;

-- name: open_attempts
SELECT a.id, a.lead_id, a.connected_at, l.status AS lead_status,
       l.callback_agent_id AS lead_owner, l.attempts_count AS lead_attempts
FROM attempts a JOIN leads l ON l.id = a.lead_id
WHERE a.campaign_id = $1 AND a.ended_at IS NULL
ORDER BY a.id;

-- name: budget_counts
SELECT count(*) FILTER (WHERE answered_at > $2) AS humans_24h,
       count(*) FILTER (WHERE answered_at > $2 AND outcome = 'abandoned') AS abandoned_24h,
       count(*) AS humans_30d,
       count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned_30d
FROM attempts
WHERE campaign_id = $1 AND answer = 'human' AND answered_at > $3;

-- name: pending_leads
-- Leads that may still be dialed one day (for completing a campaign whose leads ran out).
SELECT count(*) FILTER (WHERE status IN ('new', 'retry', 'callback')) AS pending,
       count(*) AS total
FROM leads WHERE campaign_id = $1;

-- name: stuck_agents
-- Agents of a campaign held by a call or preview that no longer exists (after a crash).
-- Agents wrapping up a call that ended normally keep waiting for their disposition.
SELECT a.id, a.state
FROM agents a
LEFT JOIN attempts t ON t.id = a.attempt_id
WHERE a.campaign_id = $1 AND a.state = 'on_call'
  AND (a.attempt_id IS NULL OR t.ended_at IS NOT NULL);

-- name: attempt_for_disposition
SELECT a.id, a.lead_id, a.campaign_id, a.agent_id, a.started_at, a.connected_at, a.ended_at,
       a.outcome, a.disposition, a.phone_e164, c.client_id
FROM attempts a JOIN campaigns c ON c.id = a.campaign_id
WHERE a.id = $1
FOR UPDATE OF a;

-- name: set_disposition
UPDATE attempts SET disposition = $2, notes = coalesce($3, notes), dispositioned_at = $4
WHERE id = $1
RETURNING *;

-- name: add_dnc
INSERT INTO dnc_entries (phone_e164, client_id, source, reason, created_at)
VALUES ($1, $2, 'internal', $3, $4)
ON CONFLICT DO NOTHING;

-- name: lead_for_callback
SELECT l.id, l.campaign_id, l.status, l.time_zones, c.client_id
FROM leads l JOIN campaigns c ON c.id = l.campaign_id
WHERE l.id = $1 AND c.deleted_at IS NULL AND ($2::bigint IS NULL OR c.client_id = $2)
FOR UPDATE OF l;

-- name: agent_works_campaign
SELECT 1 FROM agents a JOIN agent_campaigns ac ON ac.agent_id = a.id
WHERE a.id = $1 AND ac.campaign_id = $2 AND a.deleted_at IS NULL;

-- name: set_callback
UPDATE leads SET status = 'callback', next_attempt_at = $2, callback_agent_id = $3,
    claimed_by = NULL, claimed_until = NULL, updated_at = $4
WHERE id = $1;

-- name: engine_loads
-- Live engines and how many campaigns each holds.
SELECT e.owner, count(c.name) AS campaigns
FROM leases e
LEFT JOIN leases c ON c.owner = e.owner AND c.name LIKE 'campaign:%' AND c.expires_at > $1
WHERE e.name LIKE 'engine:%' AND e.expires_at > $1
GROUP BY e.owner;

-- name: held_leases
SELECT name FROM leases WHERE name = ANY($1::text[]) AND expires_at > $2;
