-- Do-not-call entries. Scope: client_id NULL and campaign_id NULL = global (a national
-- registry, an internal company-wide list); client_id set = that client; campaign_id set
-- (with its client) = that campaign.

-- name: insert_entry
INSERT INTO dnc_entries (phone_e164, client_id, campaign_id, source, reason, created_at,
                         expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: same_entry
SELECT * FROM dnc_entries
WHERE phone_e164 = $1 AND coalesce(client_id, 0) = coalesce($2::bigint, 0)
  AND coalesce(campaign_id, 0) = coalesce($3::bigint, 0) AND source = $4;

-- name: get_entry
SELECT * FROM dnc_entries WHERE id = $1;

-- A client-scoped token ($1) sees its client's entries and the global ones.
-- name: list_entries
SELECT * FROM dnc_entries
WHERE ($1::bigint IS NULL OR client_id = $1 OR client_id IS NULL)
  AND ($2::text IS NULL OR phone_e164 = $2)
  AND ($3::text IS NULL OR source = $3)
  AND ($4::bigint IS NULL OR campaign_id = $4)
  AND id > $5
ORDER BY id
LIMIT $6;

-- name: delete_entry
DELETE FROM dnc_entries WHERE id = $1;

-- A client-scoped token ($2) removes only its client's entries.
-- name: delete_matching
DELETE FROM dnc_entries
WHERE phone_e164 = $1
  AND ($2::bigint IS NULL OR client_id = $2)
  AND ($3::text IS NULL OR source = $3)
  AND ($4::bigint IS NULL OR campaign_id = $4)
RETURNING id;

-- Leads that a new entry of this scope blocks and that could still be dialed (or are held
-- back): they become 'dnc'. The caller writes a lead.dnc event for each row returned.
-- name: mark_leads_dnc
UPDATE leads l SET status = 'dnc', updated_at = $4
FROM campaigns c
WHERE c.id = l.campaign_id
  AND l.phone_e164 = ANY($1::text[])
  AND l.status IN ('new', 'retry', 'callback', 'paused')
  AND ($2::bigint IS NULL OR c.client_id = $2)
  AND ($3::bigint IS NULL OR l.campaign_id = $3)
RETURNING l.id, l.campaign_id, c.client_id, l.phone_e164;

-- The same for every number of a DNC import's chunk (its staging table).
-- name: mark_staged_leads_dnc
UPDATE leads l SET status = 'dnc', updated_at = $3
FROM campaigns c
WHERE c.id = l.campaign_id
  AND l.phone_e164 IN (SELECT phone_e164 FROM dnc_staging)
  AND l.status IN ('new', 'retry', 'callback', 'paused')
  AND ($1::bigint IS NULL OR c.client_id = $1)
  AND ($2::bigint IS NULL OR l.campaign_id = $2)
RETURNING l.id, l.campaign_id, c.client_id, l.phone_e164;

-- name: create_dnc_staging
CREATE TEMP TABLE dnc_staging (
    row_no      bigint NOT NULL,
    raw_phone   text,
    phone_e164  text NOT NULL
) ON COMMIT DROP;

-- name: truncate_dnc_staging
TRUNCATE dnc_staging;

-- One chunk of a DNC import: add the first row of every number; return the rows that were
-- not added (a repeat within the chunk: first_row differs; or an entry that exists already:
-- from this import, or before it).
-- name: insert_chunk_entries
WITH firsts AS MATERIALIZED (
    SELECT DISTINCT ON (phone_e164) row_no, phone_e164
    FROM dnc_staging
    ORDER BY phone_e164, row_no
), inserted AS (
    INSERT INTO dnc_entries (phone_e164, client_id, campaign_id, source, reason, created_at,
                             expires_at, import_id)
    SELECT f.phone_e164, $1, $2, $3, $4, $5, $6, $7 FROM firsts f ORDER BY f.row_no
    ON CONFLICT DO NOTHING
    RETURNING phone_e164
)
SELECT s.row_no, s.raw_phone, s.phone_e164, f.row_no AS first_row,
       (SELECT e.import_id FROM dnc_entries e
        WHERE e.phone_e164 = s.phone_e164 AND coalesce(e.client_id, 0) = coalesce($1::bigint, 0)
          AND coalesce(e.campaign_id, 0) = coalesce($2::bigint, 0) AND e.source = $3
       ) AS existing_import
FROM dnc_staging s
JOIN firsts f USING (phone_e164)
LEFT JOIN inserted i USING (phone_e164)
WHERE s.row_no <> f.row_no OR i.phone_e164 IS NULL
ORDER BY s.row_no;

-- Replace mode: every distinct number of the file, chunk after chunk, so the entries of the
-- list that the new file no longer holds can be found when it lands.
-- name: create_dnc_seen
CREATE TEMP TABLE dnc_seen (phone_e164 text PRIMARY KEY) ON COMMIT DROP;

-- name: remember_staged_numbers
INSERT INTO dnc_seen SELECT phone_e164 FROM dnc_staging ON CONFLICT DO NOTHING;

-- name: any_seen_number
SELECT EXISTS (SELECT 1 FROM dnc_seen);

-- One replace at a time per list (source and scope, NULLs as equal): a later replace must
-- see what the earlier one added.
-- name: lock_dnc_list
SELECT pg_advisory_xact_lock($1, hashtext($2 || ':' || coalesce($3::bigint, 0) || ':'
                                          || coalesce($4::bigint, 0)));

-- Replace mode, when the import lands: the entries of this source and exactly this scope
-- (client/campaign, NULLs as equal) whose number is not in the file. Leads they made dnc
-- stay dnc. Returns how many went.
-- name: remove_unlisted_entries
WITH gone AS (
    DELETE FROM dnc_entries e
    WHERE e.source = $3
      AND coalesce(e.client_id, 0) = coalesce($1::bigint, 0)
      AND coalesce(e.campaign_id, 0) = coalesce($2::bigint, 0)
      AND NOT EXISTS (SELECT 1 FROM dnc_seen s WHERE s.phone_e164 = e.phone_e164)
    RETURNING 1
)
SELECT count(*) FROM gone;

-- What a refresh did, kept with the import's record (in its options, beside the mode).
-- name: note_refresh
UPDATE imports
SET options = options || jsonb_build_object('kept', $2::bigint, 'added', $3::bigint,
                                            'removed', $4::bigint)
WHERE id = $1;
