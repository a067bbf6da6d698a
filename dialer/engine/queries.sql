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
      AND (list_id IS NULL OR NOT EXISTS (   -- a switched-off list is not dialed
          SELECT 1 FROM lead_lists ll WHERE ll.id = list_id AND NOT ll.active))
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
      AND (list_id IS NULL OR NOT EXISTS (   -- a switched-off list is not dialed
          SELECT 1 FROM lead_lists ll WHERE ll.id = list_id AND NOT ll.active))
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
-- Claims of a campaign's leads, except those whose call is still open (held by a live
-- runner of another process, which releases them when it writes the outcome) and those
-- waiting for a disposition ($2: now; a connected call that ended with a real outcome and
-- no disposition yet, until its hold runs out: the agent in wrap-up may still send one).
UPDATE leads SET claimed_by = NULL, claimed_until = NULL
WHERE campaign_id = $1 AND claimed_by IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.lead_id = leads.id AND a.ended_at IS NULL)
  AND NOT (claimed_until > $2 AND EXISTS (
        SELECT 1 FROM attempts a
        WHERE a.lead_id = leads.id AND a.connected_at IS NOT NULL AND a.ended_at IS NOT NULL
          AND a.dispositioned_at IS NULL AND a.outcome <> 'unknown'));

-- name: defer_lead
UPDATE leads SET next_attempt_at = $3, claimed_by = NULL, claimed_until = NULL, updated_at = $4
WHERE id = $1 AND claimed_by = $2
RETURNING id;

-- name: history
-- Earlier attempts to these numbers by any campaign of the client, for the calling rules.
-- One index range scan per number (attempts_phone_idx), whatever the statistics say: the
-- numbers come as a joined set, not as an array literal the planner would weigh one by one.
SELECT a.phone_e164, a.started_at, coalesce(a.outcome, 'unknown') AS outcome,
       a.campaign_id = $2 AS same_campaign, c.purpose,
       (a.connected_at IS NOT NULL OR a.outcome = 'completed') AS conversation,
       coalesce(a.outcome = 'abandoned', false) AS abandoned,
       a.agent_guaranteed
FROM unnest($1::text[]) AS p(phone)
JOIN attempts a ON a.phone_e164 = p.phone AND a.started_at > $4
JOIN campaigns c ON c.id = a.campaign_id
WHERE c.client_id = $3
  -- a dial the switch refused during an outage never reached the callee: no contact
  AND coalesce(a.hangup_cause NOT LIKE 'gateway\_unavailable:%', true);

-- name: start_attempts
-- The records of a batch of dials, written before the calls are placed, in one statement
-- (one round trip, atomic). $4.. are per dial: lead, compliance decision, call id, mode,
-- reserved agent (null: none), attempt.started payload (without the attempt's id and the
-- lead's attempt count, added here). Only the holder of the campaign's lease ($1, $2),
-- still holding the lead's claim ($5 runner), can write a dial. The lead stays claimed
-- until its outcome is applied (claimed_until 'infinity') and is pushed out to the
-- 'unknown' retry time at once ($10), so a crash mid-call never leaves it dialable. A
-- reserved agent is linked to the attempt; attempt.started goes to the outbox
-- (dialer.outbox's table, in the order of the dials).
-- $14: the agents the pacing decision counted as free. Their rows are locked (FOR SHARE)
-- for the statement, so a pause of one of them either waits until these attempts are
-- committed (and its hold check counts them) or commits first and is seen here (the lock
-- re-reads the row): then nothing is written and those agents' rows are returned (column
-- gone, every other column null) for the runner to decide again. A row with lapsed = true
-- says the fence refused the batch (the lease is not ours now, or not yet renewed).
WITH fence AS (
    SELECT 1 FROM leases WHERE name = $1 AND owner = $2 AND expires_at > $3
), counted AS (
    SELECT g.id, g.name, g.endpoint, g.state, g.state_reason, g.attempt_id, g.campaign_id,
           g.preview_lead_id, g.simulated, g.blended, g.pending_action, g.deleted_at
    FROM agents g WHERE g.id = ANY($14::bigint[])
    ORDER BY g.id
    FOR SHARE
), gone AS (
    SELECT * FROM counted
    WHERE pending_action IS NOT NULL OR state IN ('paused', 'offline') OR deleted_at IS NOT NULL
), d AS (
    SELECT *
    FROM unnest($4::bigint[], $6::text[], $7::text[], $8::text[], $9::bigint[], $11::text[],
                $13::text[])
         WITH ORDINALITY AS d(lead_id, compliance, call_id, mode, agent_id, payload, caller_id, n)
), lead AS (
    UPDATE leads l
    SET attempts_count = l.attempts_count + 1, last_attempt_at = $3, next_attempt_at = $10,
        status = CASE WHEN l.status = 'callback' THEN 'callback' ELSE 'retry' END,
        claimed_until = 'infinity', updated_at = $3
    FROM d
    WHERE l.id = d.lead_id AND l.claimed_by = $5 AND l.status IN ('new', 'retry', 'callback')
      AND l.next_attempt_at <= $3 AND EXISTS (SELECT 1 FROM fence)
      AND NOT EXISTS (SELECT 1 FROM gone)
    RETURNING l.id, l.campaign_id, l.phone_e164, l.attempts_count, l.status
), ins AS (
    INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance,
                          gateway_call_id, runner, mode, agent_guaranteed, agent_id, caller_id)
    SELECT lead.id, lead.campaign_id, lead.phone_e164, $3, d.compliance::jsonb, d.call_id, $5,
           d.mode, d.agent_id IS NOT NULL, d.agent_id, d.caller_id
    FROM lead JOIN d ON d.lead_id = lead.id
    ORDER BY d.n
    RETURNING id, lead_id, agent_id
), linked AS (
    UPDATE agents g SET attempt_id = ins.id
    FROM ins
    WHERE g.id = ins.agent_id AND g.state = 'on_call' AND g.attempt_id IS NULL
    RETURNING g.id
), events AS (
    INSERT INTO webhook_outbox (type, client_id, campaign_id, lead_id, payload, created_at)
    SELECT 'attempt.started', $12, lead.campaign_id, lead.id,
           d.payload::jsonb
             || jsonb_build_object('attempt_id', ins.id, 'attempt', lead.attempts_count),
           $3
    FROM ins JOIN lead ON lead.id = ins.lead_id JOIN d ON d.lead_id = ins.lead_id
    ORDER BY d.n
    RETURNING id
)
SELECT ins.id, ins.lead_id, lead.attempts_count, lead.status, NULL::jsonb AS gone,
       false AS lapsed
FROM ins JOIN lead ON lead.id = ins.lead_id
UNION ALL
SELECT NULL, NULL, NULL, NULL, to_jsonb(gone), false FROM gone
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, true WHERE NOT EXISTS (SELECT 1 FROM fence);

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

-- name: connect_seated
-- An answered call the runner gave to an agent from its own picture while the database
-- was out of reach, written when it answers (with retries; CallFlow seats first and
-- writes later). Idempotent: the agent goes on the call if still available (or already on
-- it: an earlier try landed, or a reserved agent); an agent someone else took meanwhile
-- keeps what they do now, the attempt records the connect either way. The attempt is
-- written if open, or closed 'unknown' by a recovery while this runner ($8) was cut off.
WITH t AS (
    SELECT id FROM attempts
    WHERE id = $2
      AND (ended_at IS NULL OR (recovered_at IS NOT NULL AND outcome = 'unknown'
                                AND runner = $8))
), ag AS (
    UPDATE agents
    SET state = 'on_call', state_reason = NULL, state_changed_at = $3, attempt_id = $2,
        campaign_id = $4, preview_lead_id = NULL
    WHERE id = $1 AND deleted_at IS NULL AND EXISTS (SELECT 1 FROM t)
      AND (state = 'available' OR (state = 'on_call' AND attempt_id = $2))
    RETURNING id
)
UPDATE attempts SET agent_id = $1, answered_at = $5, connected_at = $3, answer = 'human',
                    ring_s = $6, wait_s = $7
WHERE id = (SELECT id FROM t)
RETURNING id, EXISTS (SELECT 1 FROM ag) AS seated;

-- name: connect_reserved
UPDATE attempts SET agent_id = $2, answered_at = $4, connected_at = $3, answer = 'human',
                    ring_s = $5, wait_s = $6
WHERE id = $1;

-- name: close_calls
-- Close a batch of ended calls and, in the same statement, their leads and agents. Per
-- call: attempt, end, outcome, answer, answered at, ring/wait/talk seconds, hangup cause,
-- plan (status, next attempt, callback owner: null status = no plan), hold-until, wrap.
--  * a plan is applied only if nobody changed the lead since the dial and it is not dnc
--    (an in-call opt-out) (else only the outcome is noted);
--  * without a plan (a connected call) the lead waits for the disposition until hold-until;
--  * with wrap the agent on the call goes into wrap-up (a pending pause/logout stays).
-- Attempts already closed are skipped, with one exception, the fenced write-back: an
-- attempt that a process taking the campaign over closed as 'unknown' (recovered_at set)
-- while its runner ($15, the runner that placed it) was cut off by a database outage gets
-- that runner's real outcome, once. Its lead plan then applies only if nobody touched the
-- lead since the recovery (updated_at still the recovery's instant: the replacement did
-- not dial it again, no disposition, no CRM change); else only the outcome is noted. $16:
-- this close is a recovery (the attempts become 'unknown' here): recovered_at is set.
WITH r AS (
    SELECT *
    FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::timestamptz[],
                $6::float8[], $7::float8[], $8::float8[], $9::text[], $10::text[],
                $11::timestamptz[], $12::bigint[], $13::timestamptz[], $14::bool[])
         AS r(id, ended_at, outcome, answer, answered_at, ring_s, wait_s, talk_s, cause,
              plan_status, plan_next, plan_owner, hold_until, wrap)
), a AS (
    UPDATE attempts t
    SET ended_at = r.ended_at, outcome = r.outcome, answer = coalesce(r.answer, t.answer),
        answered_at = coalesce(t.answered_at, r.answered_at),
        ring_s = coalesce(t.ring_s, r.ring_s), wait_s = coalesce(t.wait_s, r.wait_s),
        talk_s = r.talk_s, hangup_cause = r.cause,
        recovered_at = CASE WHEN $16::bool THEN r.ended_at ELSE t.recovered_at END
    FROM r
    WHERE t.id = r.id
      AND (t.ended_at IS NULL
           OR (t.recovered_at IS NOT NULL AND t.outcome = 'unknown' AND t.runner = $15))
    RETURNING t.id, t.lead_id, t.campaign_id, t.agent_id, t.started_at, t.connected_at,
              t.answered_at, t.ended_at, t.outcome, t.answer, t.ring_s, t.wait_s, t.talk_s,
              t.mode, t.phone_e164, t.disposition, t.recovered_at, t.parent_attempt_id,
              t.leg, t.hangup_cause,
              r.plan_status, r.plan_next, r.plan_owner, r.hold_until, r.wrap,
              CASE WHEN $16 THEN t.started_at ELSE coalesce(t.recovered_at, t.started_at)
              END AS untouched_at
), planned AS (
    UPDATE leads l
    SET status = a.plan_status, next_attempt_at = coalesce(a.plan_next, l.next_attempt_at),
        callback_agent_id = a.plan_owner, last_outcome = a.outcome, updated_at = a.ended_at,
        claimed_by = NULL, claimed_until = NULL
    FROM a
    WHERE l.id = a.lead_id AND a.plan_status IS NOT NULL AND l.updated_at = a.untouched_at
      AND l.status <> 'dnc'
    RETURNING l.id
), noted AS (
    -- (a write-back leaves a lead touched since the recovery alone: it is another's now)
    UPDATE leads l SET last_outcome = a.outcome, claimed_by = NULL, claimed_until = NULL
    FROM a
    WHERE l.id = a.lead_id AND a.plan_status IS NOT NULL
      AND (l.updated_at <> a.untouched_at OR l.status = 'dnc')
      AND (a.recovered_at IS NULL OR $16)
    RETURNING l.id
), held AS (
    -- a connected call's lead waits for the disposition; written back after a recovery
    -- (which freed the lead for an 'unknown' retry) it is held again, if still untouched
    UPDATE leads l SET claimed_until = a.hold_until,
        claimed_by = coalesce(l.claimed_by, 'disposition:' || a.id)
    FROM a
    WHERE l.id = a.lead_id AND a.plan_status IS NULL
      AND (l.claimed_until = 'infinity'
           OR (a.recovered_at IS NOT NULL AND NOT $16 AND l.updated_at = a.recovered_at
               AND l.claimed_by IS NULL))
    RETURNING l.id
), wrapped AS (
    UPDATE agents g SET state = 'wrap_up', state_reason = NULL, state_changed_at = a.ended_at
    FROM a
    WHERE a.wrap AND g.id = a.agent_id AND g.state = 'on_call' AND g.attempt_id = a.id
    RETURNING g.id
)
SELECT a.id, a.lead_id, a.campaign_id, a.agent_id, a.started_at, a.connected_at,
       a.answered_at, a.ended_at, a.outcome, a.answer, a.ring_s, a.wait_s, a.talk_s, a.mode,
       a.phone_e164, a.disposition, a.recovered_at, a.parent_attempt_id, a.leg,
       a.hangup_cause, planned.id IS NOT NULL AS planned
FROM a LEFT JOIN planned ON planned.id = a.lead_id;

-- name: close_unplaced
-- The gateway refused the dial (switch down): close the attempt as failed with the note $3
-- and give the lead back as if it had not been dialed: the attempt is not counted, its last
-- outcome stays, and, unless somebody changed it since the dial, it gets its status from
-- before the dial ($5) and is due again at $4.
WITH a AS (
    UPDATE attempts
    SET ended_at = $2, outcome = 'failed', hangup_cause = $3, ring_s = 0
    WHERE id = $1 AND ended_at IS NULL
    RETURNING id, lead_id, campaign_id, agent_id, started_at, connected_at, answered_at,
              ended_at, outcome, answer, ring_s, wait_s, talk_s, mode, hangup_cause
), lead AS (
    UPDATE leads l
    SET attempts_count = greatest(l.attempts_count - 1, 0),
        status = CASE WHEN l.updated_at = a.started_at THEN $5 ELSE l.status END,
        next_attempt_at = CASE WHEN l.updated_at = a.started_at THEN $4
                               ELSE l.next_attempt_at END,
        updated_at = CASE WHEN l.updated_at = a.started_at THEN $2 ELSE l.updated_at END,
        claimed_by = NULL, claimed_until = NULL
    FROM a
    WHERE l.id = a.lead_id
    RETURNING l.id
)
SELECT a.* FROM a;

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
-- Open attempts of a campaign not placed by runner $4. 'held': placed by another process
-- ($3 is this one) whose engine lease was live at $2 (now minus a grace of one lease life:
-- a process that lived through a database outage renews it within a poll of its return).
-- That process's runner still follows the call and will write its outcome. A transfer leg
-- belongs to its carrier, the campaign of the first call (that campaign's runner carries
-- it), whatever campaign took it (engine.transfer).
SELECT a.id, a.lead_id, a.connected_at, a.direction, l.status AS lead_status,
       l.callback_agent_id AS lead_owner, l.attempts_count AS lead_attempts,
       EXISTS (
           SELECT 1 FROM leases e
           WHERE e.name = 'engine:' || regexp_replace(a.runner, '#[0-9]+$', '')
             AND e.owner <> $3 AND e.expires_at > $2
       ) AS held
FROM attempts a LEFT JOIN leads l ON l.id = a.lead_id
WHERE a.ended_at IS NULL AND a.runner IS DISTINCT FROM $4
  AND ((a.campaign_id = $1 AND a.carrier_campaign_id IS NULL)
       OR a.carrier_campaign_id = $1)
ORDER BY a.id;

-- name: others_open
-- Calls of a campaign still open that another runner placed (after an outage: in flight).
SELECT count(*) FROM attempts
WHERE campaign_id = $1 AND ended_at IS NULL AND runner IS DISTINCT FROM $2;

-- name: shared_open_elsewhere
-- Calls of *other* campaigns sharing at least one agent with campaign $1, ringing or waiting
-- for an agent (open, not connected), placed by a live process other than this one ($2, its
-- instance id; this process's runners count each other's calls directly). $3: lease cut-off.
SELECT count(*) FROM attempts a
WHERE a.ended_at IS NULL AND a.connected_at IS NULL AND a.campaign_id <> $1
  AND a.campaign_id IN (
      SELECT y.campaign_id FROM agent_campaigns x
      JOIN agent_campaigns y ON y.agent_id = x.agent_id
      WHERE x.campaign_id = $1)
  AND regexp_replace(a.runner, '#[0-9]+$', '') <> $2
  AND EXISTS (
      SELECT 1 FROM leases e
      WHERE e.name = 'engine:' || regexp_replace(a.runner, '#[0-9]+$', '') AND e.expires_at > $3
  );

-- name: budget_counts
SELECT count(*) FILTER (WHERE answered_at > $2) AS humans_24h,
       count(*) FILTER (WHERE answered_at > $2 AND outcome = 'abandoned') AS abandoned_24h,
       count(*) AS humans_30d,
       count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned_30d
FROM attempts
WHERE campaign_id = $1 AND answer = 'human' AND answered_at > $3 AND direction = 'outbound';

-- name: pending_leads
-- Leads that may still be dialed one day (for completing a campaign whose leads ran out).
-- Numbers agents dialed by hand, in the campaign's "Manual dials" list while it is switched
-- off, are never dialed by the engine: they do not keep the campaign running.
SELECT count(*) FILTER (WHERE status IN ('new', 'retry', 'callback')) AS pending,
       count(*) AS total
FROM leads l
WHERE l.campaign_id = $1
  AND NOT EXISTS (SELECT 1 FROM lead_lists m
                  WHERE m.id = l.list_id AND m.source = 'manual' AND NOT m.active);

-- name: stuck_agents
-- Agents of a campaign held by a call or preview that no longer exists (after a crash).
-- Agents wrapping up a call that ended normally keep waiting for their disposition.
SELECT a.id, a.state, a.attempt_id
FROM agents a
LEFT JOIN attempts t ON t.id = a.attempt_id
WHERE a.campaign_id = $1 AND a.state = 'on_call'
  AND (a.attempt_id IS NULL OR t.ended_at IS NOT NULL);

-- name: attempt_for_disposition
-- The call, its lead and its campaign, for a disposition, attempt and lead locked.
-- 'untouched': nobody changed the lead since this attempt's dial (or, for an attempt a
-- takeover closed 'unknown' during an outage, since that recovery: close_calls' fence).
SELECT a.id, a.lead_id, a.campaign_id, a.agent_id, a.started_at, a.connected_at, a.ended_at,
       a.outcome, a.disposition, a.phone_e164, c.client_id,
       l.status AS lead_status, l.attempts_count AS lead_attempts,
       l.time_zones AS lead_time_zones,
       l.updated_at = coalesce(a.recovered_at, a.started_at) AS untouched,
       to_jsonb(c) AS campaign
FROM attempts a
JOIN campaigns c ON c.id = a.campaign_id
JOIN leads l ON l.id = a.lead_id
WHERE a.id = $1
FOR UPDATE OF a, l;

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

-- name: lead_numbers
-- A lead's numbers, locked for the number-hygiene step of closing a call (numbers.py).
SELECT id, campaign_id, status, phone_e164, alt_phones, retired_phones, region, subdivision,
       time_zones
FROM leads WHERE id = $1 FOR UPDATE;

-- name: numbers_in_use
-- Which of these numbers ($2) already belong to a lead of the campaign ($1).
SELECT phone_e164 FROM leads WHERE campaign_id = $1 AND phone_e164 = ANY($2::text[]);

-- name: lead_invalid
-- Every number of the lead is bad: retire the current one ($2) and mark the lead invalid.
UPDATE leads
SET retired_phones = retired_phones || $2::text[], status = 'invalid',
    last_outcome = 'invalid_number', updated_at = $3
WHERE id = $1;

-- name: lead_next_number
-- The lead's next attempt dials $2 (its place re-resolved: $5-$7); the current number goes
-- to the alternates' end ($3) or is retired ($4). A retired number's lead is due at once
-- ($8) unless it is exhausted or waiting for a callback.
UPDATE leads
SET phone_e164 = $2, alt_phones = $3::text[], retired_phones = retired_phones || $4::text[],
    region = $5, subdivision = $6, time_zones = $7::text[],
    next_attempt_at = CASE WHEN $8::timestamptz IS NOT NULL AND status = 'retry' THEN $8
                           ELSE next_attempt_at END,
    updated_at = $9
WHERE id = $1;

-- name: attempt_recording
-- The stored recording of a closed call (recordkeep.py).
UPDATE attempts
SET recording_key = $2, recording_url = $3, recording_s = $4, recording_sha256 = $5
WHERE id = $1;

-- name: attempt_notice
-- The recording notice played on this attempt, and the rule (or 'campaign') that asked for it.
UPDATE attempts SET recording_notice = $2 WHERE id = $1;

-- name: manual_list
-- The campaign's list for numbers an agent dialed by hand that were not leads yet: switched
-- off, so the engine never dials them on its own (a manager may switch it on). Created on
-- first use; the campaign row is locked by the caller so two first dials make one list.
WITH found AS (
    SELECT id FROM lead_lists WHERE campaign_id = $1 AND source = 'manual' ORDER BY id LIMIT 1
), made AS (
    INSERT INTO lead_lists (campaign_id, name, source, active, created_at)
    SELECT $1, 'Manual dials', 'manual', false, $2
    WHERE NOT EXISTS (SELECT 1 FROM found)
    RETURNING id
)
SELECT id FROM found UNION ALL SELECT id FROM made;

-- name: manual_reserve_agent
-- Hold an agent for their own manual dial: only when signed in and available or paused (a
-- paused agent goes back to the same pause when the call and its wrap-up are over; so does
-- a free one holding a pause, dialing.agents.holds).
UPDATE agents
SET state = 'on_call', state_reason = 'manual', state_changed_at = $2, attempt_id = NULL,
    campaign_id = $3, preview_lead_id = NULL,
    pending_action = CASE WHEN state = 'paused' THEN 'pause' ELSE pending_action END,
    pending_reason = CASE WHEN state = 'paused' THEN coalesce(state_reason, 'pause')
                          ELSE pending_reason END
WHERE id = $1 AND state IN ('available', 'paused') AND deleted_at IS NULL
RETURNING id;

-- name: manual_start_attempt
-- The record of a manual dial, written by whichever process took the request: the lead is
-- pushed out and claimed as start_attempts does (claimed by 'manual' until its outcome),
-- the attempt links the held agent ($2) and is marked for the campaign's runner to place
-- (runner 'manual'). $5 decision, $6 call id, $7 caller ID.
WITH lead AS (
    UPDATE leads l
    SET attempts_count = l.attempts_count + 1, last_attempt_at = $3, next_attempt_at = $4,
        status = CASE WHEN l.status = 'callback' THEN 'callback' ELSE 'retry' END,
        claimed_by = 'manual', claimed_until = 'infinity', updated_at = $3
    WHERE l.id = $1 AND l.status NOT IN ('dnc', 'invalid')
    RETURNING l.id, l.campaign_id, l.phone_e164, l.attempts_count, l.status
), ins AS (
    INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance,
                          gateway_call_id, runner, mode, agent_guaranteed, agent_id, caller_id)
    SELECT lead.id, lead.campaign_id, lead.phone_e164, $3, $5::text::jsonb, $6, 'manual', 'manual',
           true, $2, $7
    FROM lead
    RETURNING id, lead_id
), linked AS (
    UPDATE agents g SET attempt_id = ins.id
    FROM ins
    WHERE g.id = $2 AND g.state = 'on_call' AND g.attempt_id IS NULL
    RETURNING g.id
)
SELECT ins.id, lead.attempts_count, lead.status, (SELECT count(*) FROM linked) AS linked
FROM ins JOIN lead ON lead.id = ins.lead_id;

-- name: manual_announce
SELECT pg_notify('dialer_agents', $1::text);

-- name: campaign_runner
-- The process holding a campaign's lease (its runner dials), if any, and whether that runner
-- has begun to stop; the row stays locked until the manual dial's transaction ends, so a
-- runner's stop mark (leases.mark_stopping) waits for it and its last sweep sees the dial.
SELECT owner, stopping FROM leases WHERE name = $1 AND expires_at > $2 FOR SHARE;

-- name: manual_take
-- The campaign's runner takes a manual dial to place it (once: the runner column moves from
-- 'manual' to the runner), fenced by its lease like start_attempts; with the lead to dial.
WITH t AS (
    UPDATE attempts a SET runner = $3, caller_id = coalesce($4, a.caller_id)
    WHERE a.id = $1 AND a.campaign_id = $2 AND a.ended_at IS NULL AND a.runner = 'manual'
      AND EXISTS (SELECT 1 FROM leases WHERE name = $5 AND owner = $6 AND expires_at > $7)
    RETURNING a.id, a.agent_id, a.started_at, a.gateway_call_id, a.lead_id, a.caller_id
)
SELECT t.id AS attempt_id, t.agent_id, t.started_at, t.gateway_call_id, t.caller_id,
       l.id, l.phone_e164, l.region, l.subdivision, l.postal_code, l.time_zones, l.status,
       l.attempts_count, l.callback_agent_id
FROM t JOIN leads l ON l.id = t.lead_id;

-- name: manual_pending
-- Manual dials of the campaign that no runner has taken yet (announced while none listened).
SELECT id FROM attempts
WHERE campaign_id = $1 AND ended_at IS NULL AND runner = 'manual'
ORDER BY id;

-- name: manual_caller_id
UPDATE attempts SET caller_id = $2 WHERE id = $1;

-- name: manual_find_lead
SELECT * FROM leads WHERE campaign_id = $1 AND phone_e164 = $2;

-- name: manual_lock_campaign
SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE;

-- name: manual_set_list
UPDATE leads SET list_id = $2 WHERE id = $1 AND list_id IS NULL RETURNING *;

-- name: lead_consent
-- The consent and relationship of leads as they are now (read at every dial: a revocation
-- recorded after the lead was claimed still stops its call).
SELECT id, consent, consent_at, consent_revoked_at, ebr_purchase_at, ebr_inquiry_at
FROM leads
WHERE id = ANY($1::bigint[])
  AND (consent <> 'none' OR consent_revoked_at IS NOT NULL
       OR ebr_purchase_at IS NOT NULL OR ebr_inquiry_at IS NOT NULL);
