-- Imports: one row per uploaded list (leads or DNC numbers), with progress and outcome.

-- name: create_import
INSERT INTO imports (kind, client_id, campaign_id, name, file_name, source, options, path,
                     created_by, encoding, delimiter, bytes_total, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
RETURNING *;

-- name: get_import
SELECT * FROM imports
WHERE id = $1 AND ($2::bigint IS NULL OR client_id = $2);

-- name: list_imports
SELECT * FROM imports
WHERE ($1::bigint IS NULL OR client_id = $1)
  AND ($2::bigint IS NULL OR campaign_id = $2)
  AND ($3::text IS NULL OR state = $3)
  AND id > $4
ORDER BY id
LIMIT $5;

-- name: unfinished_imports
SELECT id, state, path, source FROM imports WHERE state IN ('queued', 'running') ORDER BY id;

-- name: mark_running
UPDATE imports SET state = 'running', instance_id = $2, started_at = $3, updated_at = $3,
                   error = NULL
WHERE id = $1 AND state IN ('queued', 'running');

-- name: write_progress
UPDATE imports
SET bytes_read = $2, rows_read = $3, accepted = $4, dnc = $5, rejected = $6,
    rejected_by_reason = $7, warnings = $8, updated_at = $9
WHERE id = $1 AND state = 'running';

-- name: mark_waiting
UPDATE imports SET error = $2, updated_at = $3 WHERE id = $1 AND state = 'queued';

-- name: mark_failed
UPDATE imports
SET state = 'failed', error = $2, finished_at = $3, updated_at = $3, path = NULL
WHERE id = $1 AND state IN ('queued', 'running');

-- name: complete_import
UPDATE imports
SET state = 'completed', list_id = $2, bytes_read = $3, rows_read = $4, accepted = $5,
    dnc = $6, rejected = $7, rejected_by_reason = $8, warnings = $9, finished_at = $10,
    updated_at = $10, path = NULL, error = NULL
WHERE id = $1
RETURNING *;

-- name: import_rejects
SELECT row_no, reason, value, detail FROM import_rejects WHERE import_id = $1 ORDER BY row_no;

-- Leads: the staging table an import fills chunk by chunk, inside its one transaction.

-- name: create_lead_staging
CREATE TEMP TABLE import_staging (
    row_no       bigint NOT NULL,
    raw_phone    text,
    phone_e164   text NOT NULL,
    alt_phones   text[] NOT NULL,
    region       text,
    subdivision  text,
    postal_code  text,
    time_zones   text[] NOT NULL,
    fields       jsonb NOT NULL,
    priority     integer NOT NULL,
    consent      jsonb
) ON COMMIT DROP;

-- name: truncate_staging
TRUNCATE import_staging;

-- name: create_list
INSERT INTO lead_lists (campaign_id, name, source, default_region, created_at)
VALUES ($1, $2, $3, $4, $5)
RETURNING id;

-- Foreign keys of an import's leads, checked once for the whole list instead of once a row:
-- every row has the same campaign_id (this row, key-share locked until the import commits,
-- as the per-row check would) and the same list_id (a row this transaction created:
-- nobody else can see or delete it); callback_agent_id is NULL. With the checks done, the
-- insert runs with session_replication_role = replica, which skips the per-row foreign-key
-- triggers (the only triggers on leads): a third of the database's CPU per row. It needs a
-- superuser or `GRANT SET ON PARAMETER session_replication_role` (PostgreSQL 15+); without
-- either, the per-row checks run as before. Unique index, CHECK and NOT NULL still apply.
-- name: lock_campaign_key
SELECT id FROM campaigns WHERE id = $1 FOR KEY SHARE;

-- name: row_fk_checks_off
SET LOCAL session_replication_role = replica;

-- name: row_fk_checks_on
SET LOCAL session_replication_role = origin;

-- One chunk: insert the new numbers (status dnc when a DNC entry applies), then return the
-- staged rows that did not become a 'new' lead: the DNC ones, and the duplicates (no
-- status: their number is in the campaign already, from this list or an earlier one).
-- The DNC check is a correlated subquery on purpose: one index probe per row, never a scan
-- of a national registry (entries, and the registries' generations in force).
-- name: insert_chunk_leads
WITH inserted AS (
    INSERT INTO leads (campaign_id, list_id, list_row, phone_e164, alt_phones, region,
                       subdivision, postal_code, time_zones, fields, priority, consent,
                       consent_source, consent_at, consent_revoked_at, ebr_purchase_at,
                       ebr_inquiry_at, status, next_attempt_at, created_at, updated_at)
    SELECT $1, $2, s.row_no, s.phone_e164, s.alt_phones, s.region, s.subdivision,
           s.postal_code, s.time_zones, s.fields, s.priority,
           coalesce(s.consent->>'consent', 'none'), s.consent->>'consent_source',
           (s.consent->>'consent_at')::timestamptz,
           CASE WHEN s.consent->>'consent' = 'revoked'
                THEN coalesce((s.consent->>'consent_revoked_at')::timestamptz, $4)
                ELSE (s.consent->>'consent_revoked_at')::timestamptz END,
           (s.consent->>'ebr_purchase_at')::timestamptz,
           (s.consent->>'ebr_inquiry_at')::timestamptz,
           CASE WHEN EXISTS (
                    SELECT 1 FROM dnc_entries d
                    WHERE d.phone_e164 = s.phone_e164
                      AND (d.client_id IS NULL OR d.client_id = $3)
                      AND (d.campaign_id IS NULL OR d.campaign_id = $1)
                      AND (d.expires_at IS NULL OR d.expires_at > $4))
                  OR EXISTS (
                    SELECT 1 FROM dnc_registry_numbers r
                    JOIN dnc_registries g ON g.generation = r.generation
                    WHERE r.number = substr(s.phone_e164, 2)::bigint
                      AND g.kind IN ('dnc', 'litigator'))
                THEN 'dnc' ELSE 'new' END,
           $4, $4, $4
    FROM import_staging s
    ORDER BY s.row_no
    ON CONFLICT (campaign_id, phone_e164) DO NOTHING
    RETURNING list_row, status
)
SELECT s.row_no, s.raw_phone, s.phone_e164, i.status
FROM import_staging s LEFT JOIN inserted i ON i.list_row = s.row_no
WHERE i.status IS DISTINCT FROM 'new'
ORDER BY s.row_no;

-- name: existing_leads
SELECT phone_e164, id, list_id, list_row FROM leads
WHERE campaign_id = $1 AND phone_e164 = ANY($2::text[]);

-- Leads through the API (client scope: $2 NULL = every client; deleted campaigns hidden).

-- name: get_lead
SELECT l.*, c.client_id FROM leads l JOIN campaigns c ON c.id = l.campaign_id
WHERE l.id = $1 AND c.deleted_at IS NULL AND ($2::bigint IS NULL OR c.client_id = $2);

-- name: get_lead_for_update
SELECT l.*, c.client_id FROM leads l JOIN campaigns c ON c.id = l.campaign_id
WHERE l.id = $1 AND c.deleted_at IS NULL AND ($2::bigint IS NULL OR c.client_id = $2)
FOR NO KEY UPDATE OF l;

-- name: list_leads
SELECT * FROM leads
WHERE campaign_id = $1
  AND ($2::text IS NULL OR status = $2)
  AND ($3::bigint IS NULL OR list_id = $3)
  AND id > $4
ORDER BY id
LIMIT $5;

-- name: update_lead
UPDATE leads
SET fields = $2, priority = $3, status = $4, subdivision = $5, postal_code = $6,
    time_zones = $7, region = $8, updated_at = $9,
    consent = $10, consent_source = $11, consent_at = $12, consent_revoked_at = $13,
    ebr_purchase_at = $14, ebr_inquiry_at = $15
WHERE id = $1
RETURNING *;

-- CRM pushes: one statement for a batch, the same DNC rule as a list import.
-- name: insert_api_leads
INSERT INTO leads (campaign_id, phone_e164, alt_phones, region, subdivision, postal_code,
                   time_zones, fields, priority, consent, consent_source, consent_at,
                   consent_revoked_at, ebr_purchase_at, ebr_inquiry_at,
                   status, next_attempt_at, created_at, updated_at)
SELECT $1, t.phone, t.alt::text[], t.region, t.subdivision, t.postal, t.zones::text[],
       t.fields::jsonb, t.priority, t.consent, t.consent_source, t.consent_at,
       t.consent_revoked_at, t.ebr_purchase_at, t.ebr_inquiry_at,
       CASE WHEN EXISTS (
                SELECT 1 FROM dnc_entries d
                WHERE d.phone_e164 = t.phone
                  AND (d.client_id IS NULL OR d.client_id = $2)
                  AND (d.campaign_id IS NULL OR d.campaign_id = $1)
                  AND (d.expires_at IS NULL OR d.expires_at > $3))
              OR EXISTS (
                SELECT 1 FROM dnc_registry_numbers r
                JOIN dnc_registries g ON g.generation = r.generation
                WHERE r.number = substr(t.phone, 2)::bigint AND g.kind IN ('dnc', 'litigator'))
            THEN 'dnc' ELSE 'new' END,
       $3, $3, $3
FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
            $10::text[], $11::int[], $12::text[], $13::text[], $14::timestamptz[],
            $15::timestamptz[], $16::timestamptz[], $17::timestamptz[])
     AS t (phone, alt, region, subdivision, postal, zones, fields, priority, consent,
           consent_source, consent_at, consent_revoked_at, ebr_purchase_at, ebr_inquiry_at)
ON CONFLICT (campaign_id, phone_e164) DO NOTHING
RETURNING *;

-- name: get_list
SELECT ll.id, ll.campaign_id, ll.name, ll.source, ll.active, ll.created_at, c.client_id
FROM lead_lists ll JOIN campaigns c ON c.id = ll.campaign_id
WHERE ll.id = $1 AND c.deleted_at IS NULL AND ($2::bigint IS NULL OR c.client_id = $2);

-- name: set_list_active
UPDATE lead_lists SET active = $2 WHERE id = $1;

-- name: reset_list
-- A new pass over the list: leads whose last call ended with one of $2 become callable now
-- with a fresh attempt count. DNC and completed leads, callbacks, held leads and leads in
-- a runner's hopper are never touched.
UPDATE leads SET status = 'retry', attempts_count = 0, next_attempt_at = $3, updated_at = $3
WHERE list_id = $1
  AND status IN ('retry', 'exhausted')
  AND last_outcome = ANY($2::text[])
  AND (claimed_until IS NULL OR claimed_until < $3);

-- name: leads_by_phone
-- Leads with this number in the campaigns the caller may see, newest first.
SELECT l.id, l.campaign_id, c.name AS campaign_name, l.list_id, l.phone_e164, l.status,
       l.attempts_count, l.last_outcome, l.last_disposition, l.fields, l.updated_at
FROM leads l JOIN campaigns c ON c.id = l.campaign_id
WHERE l.phone_e164 = $1 AND c.deleted_at IS NULL AND ($2::bigint IS NULL OR c.client_id = $2)
ORDER BY l.id DESC
LIMIT 100;

-- name: lead_attempts
SELECT a.id, a.started_at, a.ended_at, a.outcome, a.answer, a.talk_s, a.disposition,
       a.notes, a.agent_id, ag.name AS agent_name, a.recording_s, a.recording_deleted_at,
       (a.recording_key IS NOT NULL AND a.recording_deleted_at IS NULL) AS has_recording
FROM attempts a LEFT JOIN agents ag ON ag.id = a.agent_id
WHERE a.lead_id = $1
ORDER BY a.id DESC
LIMIT 200;
