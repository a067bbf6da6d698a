-- Webhook subscriptions, fan-out of outbox events into deliveries, and delivery state.

-- name: insert_subscription
INSERT INTO webhook_subscriptions (client_id, url, events, secret_ciphertext, created_by, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *;

-- name: list_subscriptions
SELECT * FROM webhook_subscriptions
WHERE deleted_at IS NULL
  AND ($1::bigint IS NULL OR client_id = $1)
  AND id > $2
ORDER BY id
LIMIT $3;

-- name: get_subscription
SELECT * FROM webhook_subscriptions
WHERE id = $1 AND deleted_at IS NULL AND ($2::bigint IS NULL OR client_id = $2);

-- name: get_subscription_for_update
SELECT * FROM webhook_subscriptions
WHERE id = $1 AND deleted_at IS NULL AND ($2::bigint IS NULL OR client_id = $2)
FOR UPDATE;

-- name: update_subscription
-- PATCH: $2 url, $3 events, $4 active; NULL leaves the field as it is.
UPDATE webhook_subscriptions
SET url = coalesce($2, url), events = coalesce($3::text[], events), active = coalesce($4, active)
WHERE id = $1
RETURNING *;

-- name: resume_deliveries
-- A resumed subscription's held deliveries start a fresh retry window now ($2): the time
-- they waited while it was paused does not count against them.
UPDATE webhook_deliveries SET started_at = $2
WHERE subscription_id = $1 AND state = 'pending';

-- name: rotate_secret
-- The current secret becomes the previous one until $4 (NULL: dropped at once); any older
-- previous secret is dropped. $2 the new secret's ciphertext, $3 now, $5 the caller's scope.
UPDATE webhook_subscriptions
SET previous_secret_ciphertext = CASE WHEN $4::timestamptz IS NULL THEN NULL
                                      ELSE secret_ciphertext END,
    previous_secret_expires_at = $4,
    secret_ciphertext = $2,
    secret_rotated_at = $3
WHERE id = $1 AND deleted_at IS NULL AND ($5::bigint IS NULL OR client_id = $5)
RETURNING *;

-- name: delete_subscription
UPDATE webhook_subscriptions SET deleted_at = $3, active = false
WHERE id = $1 AND deleted_at IS NULL AND ($2::bigint IS NULL OR client_id = $2)
RETURNING id;

-- name: cancel_pending_deliveries
UPDATE webhook_deliveries
SET state = 'cancelled', finished_at = $2, claimed_by = NULL
WHERE subscription_id = $1 AND state = 'pending';

-- name: dispatch_lock
-- One dispatcher at a time across processes, so events become deliveries in outbox order.
SELECT pg_try_advisory_xact_lock(7234017283807667300);

-- name: dispatch
-- Fan a batch of committed, undispatched events out to every matching subscription.
-- A paused subscription (active = false) gets its deliveries too: they are held (not
-- claimed, see claim) until it is resumed, so pausing loses no event.
-- A delivery is not due before an earlier one of its lead that waits for a retry (it could
-- not be sent before that one anyway; keeping it out of the due set keeps claims cheap).
-- $1 now, $2 batch size, $3 opt-in event types (not covered by '*').
WITH batch AS (
    SELECT id FROM webhook_outbox
    WHERE dispatched_at IS NULL
    ORDER BY id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE webhook_outbox o SET dispatched_at = $1
    FROM batch
    WHERE o.id = batch.id
    RETURNING o.id, o.type, o.client_id, o.lead_id
), fanned AS (
    INSERT INTO webhook_deliveries
        (subscription_id, outbox_id, lead_id, next_attempt_at, started_at, created_at)
    SELECT s.id, m.id, m.lead_id,
           greatest($1, (SELECT max(p.next_attempt_at) FROM webhook_deliveries p
                         WHERE p.subscription_id = s.id AND p.lead_id = m.lead_id
                           AND p.state = 'pending' AND p.claimed_by IS NULL)),
           $1, $1
    FROM marked m
    JOIN webhook_subscriptions s
      ON s.deleted_at IS NULL
     AND (s.client_id IS NULL OR s.client_id = m.client_id)
     AND (m.type = ANY (s.events) OR ('*' = ANY (s.events) AND m.type <> ALL ($3::text[])))
    ORDER BY m.id, s.id
    ON CONFLICT (subscription_id, outbox_id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM marked) AS events, (SELECT count(*) FROM fanned) AS deliveries;

-- name: claim
-- Claim due deliveries: at most $4 - busy per subscription and $7 in all, never one whose
-- lead has an earlier event still pending for the same subscription (checked row by row
-- while walking the due index, so a claim stops as soon as it has enough). The claim
-- pushes next_attempt_at to the lease's end ($2) and counts the attempt: a claim held by a
-- dead process becomes due again, and (id, attempts) fences the late result of a stale one.
-- $1 now, $2 lease end, $3 claimer, $4 per-subscription limit,
-- $5/$6 subscriptions this process is already sending to / how many, $7 overall limit.
-- A paused subscription's deliveries are not claimed. The previous secret comes along only
-- while its rotation grace period lasts: deliveries are signed under both until then.
WITH picked AS (
    SELECT d.id
    FROM webhook_subscriptions s
    LEFT JOIN unnest($5::bigint[], $6::int[]) AS busy (subscription_id, n)
           ON busy.subscription_id = s.id
    CROSS JOIN LATERAL (
        SELECT d.id
        FROM webhook_deliveries d
        LEFT JOIN LATERAL (
            SELECT 1 AS found
            FROM webhook_deliveries e
            WHERE e.subscription_id = d.subscription_id
              AND e.lead_id = d.lead_id
              AND e.state = 'pending'
              AND e.outbox_id < d.outbox_id
            LIMIT 1
        ) earlier ON true
        WHERE d.subscription_id = s.id
          AND d.state = 'pending'
          AND d.next_attempt_at <= $1
          AND earlier.found IS NULL
        ORDER BY d.next_attempt_at, d.id
        LIMIT greatest($4 - coalesce(busy.n, 0), 0)
        FOR UPDATE OF d SKIP LOCKED
    ) d
    WHERE s.active AND s.deleted_at IS NULL
    LIMIT $7
), claimed AS (
    UPDATE webhook_deliveries d
    SET next_attempt_at = $2, claimed_by = $3, attempts = d.attempts + 1, last_attempt_at = $1
    FROM picked
    WHERE d.id = picked.id AND d.state = 'pending' AND d.next_attempt_at <= $1
    RETURNING d.id, d.subscription_id, d.outbox_id, d.attempts, d.started_at
)
SELECT c.id, c.subscription_id, c.attempts, c.started_at,
       o.event_id, o.type, o.client_id, o.payload, o.created_at AS event_created_at,
       s.url, s.secret_ciphertext,
       CASE WHEN s.previous_secret_expires_at > $1 THEN s.previous_secret_ciphertext
       END AS previous_secret_ciphertext
FROM claimed c
JOIN webhook_outbox o ON o.id = c.outbox_id
JOIN webhook_subscriptions s ON s.id = c.subscription_id
ORDER BY c.id;

-- name: record_delivered
UPDATE webhook_deliveries
SET state = 'delivered', delivered_at = $3, finished_at = $3, claimed_by = NULL,
    last_status = $4, last_error = NULL
WHERE id = $1 AND attempts = $2 AND state = 'pending';

-- name: record_retry
-- Schedule the next try; the lead's later deliveries wait at least as long (see dispatch).
WITH moved AS (
    UPDATE webhook_deliveries
    SET next_attempt_at = $3, claimed_by = NULL, last_status = $4, last_error = $5
    WHERE id = $1 AND attempts = $2 AND state = 'pending'
    RETURNING subscription_id, lead_id, outbox_id
), later AS (
    UPDATE webhook_deliveries d SET next_attempt_at = $3
    FROM moved m
    WHERE d.subscription_id = m.subscription_id AND d.lead_id = m.lead_id
      AND d.state = 'pending' AND d.outbox_id > m.outbox_id AND d.next_attempt_at < $3
    RETURNING 1
)
SELECT count(*) FROM moved;

-- name: record_dead
UPDATE webhook_deliveries
SET state = 'dead', finished_at = $3, claimed_by = NULL, last_status = $4, last_error = $5
WHERE id = $1 AND attempts = $2 AND state = 'pending';

-- name: release
-- Give a claim back without counting it as an attempt (shutdown, unreadable secret).
UPDATE webhook_deliveries
SET next_attempt_at = $3, claimed_by = NULL, attempts = attempts - 1,
    last_error = coalesce($4, last_error)
WHERE id = $1 AND attempts = $2 AND state = 'pending';

-- name: backlog
-- Deliveries held for a paused subscription are not a backlog: they wait on purpose.
SELECT
    (SELECT count(*) FROM webhook_outbox WHERE dispatched_at IS NULL) AS undispatched,
    (SELECT min(created_at) FROM webhook_outbox WHERE dispatched_at IS NULL) AS oldest_undispatched,
    (SELECT count(*)
       FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
      WHERE d.state = 'pending' AND s.active) AS pending,
    (SELECT min(o.created_at)
       FROM webhook_deliveries d
       JOIN webhook_outbox o ON o.id = d.outbox_id
       JOIN webhook_subscriptions s ON s.id = d.subscription_id
      WHERE d.state = 'pending' AND s.active) AS oldest_pending;

-- name: purge_deliveries
-- Retention: finished deliveries (not dead letters) older than the cutoff.
DELETE FROM webhook_deliveries
WHERE id IN (
    SELECT id FROM webhook_deliveries
    WHERE state IN ('delivered', 'cancelled') AND finished_at < $1
    LIMIT $2
);

-- name: purge_outbox
-- Retention: events dispatched before the cutoff that no delivery refers to any more.
DELETE FROM webhook_outbox
WHERE id IN (
    SELECT o.id FROM webhook_outbox o
    WHERE o.dispatched_at < $1
      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.outbox_id = o.id)
    LIMIT $2
);

-- name: list_deliveries
SELECT d.*, o.event_id, o.type AS event_type, o.created_at AS event_created_at
FROM webhook_deliveries d
JOIN webhook_outbox o ON o.id = d.outbox_id
WHERE d.subscription_id = $1
  AND ($2::text IS NULL OR d.state = $2)
  AND d.id > $3
ORDER BY d.id
LIMIT $4;

-- name: get_delivery
SELECT d.*, o.event_id, o.type AS event_type, o.created_at AS event_created_at,
       o.client_id AS event_client_id, o.payload
FROM webhook_deliveries d
JOIN webhook_outbox o ON o.id = d.outbox_id
JOIN webhook_subscriptions s ON s.id = d.subscription_id
WHERE d.id = $1 AND s.deleted_at IS NULL AND ($2::bigint IS NULL OR s.client_id = $2);

-- name: get_delivery_for_update
SELECT d.id, d.state, d.subscription_id
FROM webhook_deliveries d
JOIN webhook_subscriptions s ON s.id = d.subscription_id
WHERE d.id = $1 AND s.deleted_at IS NULL AND ($2::bigint IS NULL OR s.client_id = $2)
FOR UPDATE OF d;

-- name: replay_delivery
UPDATE webhook_deliveries
SET state = 'pending', attempts = 0, next_attempt_at = $2, started_at = $2,
    delivered_at = NULL, finished_at = NULL, claimed_by = NULL, replays = replays + 1
WHERE id = $1;
