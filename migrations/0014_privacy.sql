-- Privacy: erasure leaves a keyed hash of the number (never the number) so the person is not
-- imported again; a client may set how long its leads and attempts are kept.

-- One random key per installation for the suppression hashes (sha256(key || number)).
CREATE TABLE privacy_key (
    only_one  boolean PRIMARY KEY DEFAULT true CHECK (only_one),
    key       bytea NOT NULL
);
INSERT INTO privacy_key (key)
VALUES (sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
                          || clock_timestamp()::text, 'UTF8')));

CREATE TABLE privacy_suppressions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES clients (id),
    phone_hash  bytea NOT NULL,                     -- sha256(privacy_key.key || E.164)
    reason      text NOT NULL DEFAULT 'erased',
    created_at  timestamptz NOT NULL,
    UNIQUE (client_id, phone_hash)
);

ALTER TABLE clients
    ADD COLUMN lead_retention_days integer CHECK (lead_retention_days BETWEEN 1 AND 36500);

ALTER TABLE leads DROP CONSTRAINT leads_status_check;
ALTER TABLE leads ADD CONSTRAINT leads_status_check
    CHECK (status IN ('new', 'retry', 'callback', 'completed', 'dnc', 'exhausted', 'paused',
                      'invalid', 'erased'));
ALTER TABLE leads ADD COLUMN erased_at timestamptz;
ALTER TABLE attempts ADD COLUMN erased_at timestamptz;
CREATE INDEX leads_retention_idx ON leads (created_at) WHERE erased_at IS NULL;
