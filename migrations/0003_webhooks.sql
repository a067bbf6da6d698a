-- CRM webhooks: fan-out of outbox events into one delivery per matching subscription,
-- with retry state and dead letters; and the Idempotency-Key store of the inbound API.

-- An outbox row is "dispatched" once the dispatcher has created its deliveries.
ALTER TABLE webhook_outbox ADD COLUMN dispatched_at timestamptz;
CREATE INDEX webhook_outbox_undispatched_idx ON webhook_outbox (id) WHERE dispatched_at IS NULL;

-- DELETE /api/v1/webhooks/{id} hides a subscription; its delivery history stays.
ALTER TABLE webhook_subscriptions ADD COLUMN deleted_at timestamptz;
CREATE INDEX webhook_subscriptions_client_idx ON webhook_subscriptions (client_id)
    WHERE deleted_at IS NULL;

-- One event for one subscription. ``pending`` rows are due at ``next_attempt_at``; a worker
-- claims one by pushing ``next_attempt_at`` forward by its claim lease (so a claim held by a
-- process that died simply becomes due again) and counting the attempt.
CREATE TABLE webhook_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id  bigint NOT NULL REFERENCES webhook_subscriptions (id),
    outbox_id        bigint NOT NULL REFERENCES webhook_outbox (id),
    lead_id          bigint,                   -- copied from the event: ordering per lead
    state            text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'dead', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    started_at       timestamptz NOT NULL,     -- start of the retry window (reset by replay)
    claimed_by       text,                     -- process sending it now (NULL when idle)
    last_attempt_at  timestamptz,
    last_status      integer,                  -- HTTP status of the last try (NULL: no answer)
    last_error       text,
    delivered_at     timestamptz,
    finished_at      timestamptz,              -- delivered, dead or cancelled
    replays          integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL,
    UNIQUE (subscription_id, outbox_id)
);
-- The claim: due deliveries of one subscription, in the order they are claimed.
CREATE INDEX webhook_deliveries_due_idx
    ON webhook_deliveries (subscription_id, next_attempt_at, id)
    WHERE state = 'pending';
-- Ordering: is an earlier event for the same (subscription, lead) still pending?
CREATE INDEX webhook_deliveries_lead_order_idx
    ON webhook_deliveries (subscription_id, lead_id, outbox_id)
    WHERE state = 'pending' AND lead_id IS NOT NULL;
-- The API's listing (keyset by id within a subscription) and retention.
CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (subscription_id, id);
CREATE INDEX webhook_deliveries_outbox_idx ON webhook_deliveries (outbox_id);

-- Idempotency-Key of write requests: the first request reserves (token, key) and stores its
-- response; a repeat with the same request gets that response back for 24 hours.
CREATE TABLE idempotency_keys (
    token_id     bigint NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    key          text NOT NULL,
    fingerprint  bytea NOT NULL,              -- SHA-256 of method, path and body
    method       text NOT NULL,
    path         text NOT NULL,
    status       integer,                     -- NULL while the first request runs
    headers      jsonb,
    body         bytea,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (token_id, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
