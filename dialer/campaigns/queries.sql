-- name: get_campaign
SELECT * FROM campaigns
WHERE id = $1 AND deleted_at IS NULL AND ($2::bigint IS NULL OR client_id = $2);

-- name: get_campaign_for_update
-- NO KEY UPDATE: lead inserts hold KEY SHARE on their campaign (foreign key) for as long as
-- an import runs; a plain FOR UPDATE would make every campaign change wait for the import.
SELECT * FROM campaigns
WHERE id = $1 AND deleted_at IS NULL AND ($2::bigint IS NULL OR client_id = $2)
FOR NO KEY UPDATE;

-- name: find_campaign
SELECT * FROM campaigns
WHERE deleted_at IS NULL AND ($2::bigint IS NULL OR client_id = $2)
  AND (id::text = $1 OR lower(name) = lower($1))
ORDER BY id;

-- name: list_campaigns
SELECT * FROM campaigns
WHERE deleted_at IS NULL
  AND ($1::bigint IS NULL OR client_id = $1)
  AND ($2::text IS NULL OR state = $2)
  AND id > $3
ORDER BY id
LIMIT $4;

-- name: set_state
UPDATE campaigns SET state = $2, state_reason = $3, updated_at = $4
WHERE id = $1
RETURNING *;

-- name: soft_delete
UPDATE campaigns SET deleted_at = $2, updated_at = $2 WHERE id = $1;

-- name: client_exists
SELECT 1 FROM clients WHERE id = $1;

-- name: dispositions
SELECT code, label, action, retry_after_s, max_attempts, hotkey
FROM campaign_dispositions WHERE campaign_id = $1 ORDER BY position;

-- name: clear_dispositions
DELETE FROM campaign_dispositions WHERE campaign_id = $1;

-- name: insert_disposition
INSERT INTO campaign_dispositions
    (campaign_id, position, code, label, action, retry_after_s, max_attempts, hotkey)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: pause_codes
SELECT code, label, paid FROM campaign_pause_codes WHERE campaign_id = $1 ORDER BY position;

-- name: clear_pause_codes
DELETE FROM campaign_pause_codes WHERE campaign_id = $1;

-- name: insert_pause_code
INSERT INTO campaign_pause_codes (campaign_id, position, code, label, paid)
VALUES ($1, $2, $3, $4, $5);

-- name: agent_campaign_ids
SELECT campaign_id FROM agent_campaigns WHERE agent_id = $1 ORDER BY campaign_id;

-- name: get_script
SELECT script FROM campaigns WHERE id = $1;

-- name: set_script
UPDATE campaigns SET script = $2, updated_at = $3 WHERE id = $1;

-- name: script_lead
-- A lead of the campaign (for a preview), with its fields.
SELECT id, phone_e164, fields, region, subdivision FROM leads WHERE id = $1 AND campaign_id = $2;

-- name: caller_id_pool
SELECT number, retired_at FROM campaign_caller_ids WHERE campaign_id = $1 ORDER BY position;

-- name: caller_ids_used_today
-- Calls placed per caller ID of the campaign since $2 (00:00 UTC today).
SELECT caller_id, count(*) AS calls FROM attempts
WHERE campaign_id = $1 AND started_at >= $2 AND caller_id IS NOT NULL
GROUP BY caller_id;

-- name: clear_caller_id_pool
DELETE FROM campaign_caller_ids WHERE campaign_id = $1;

-- name: add_caller_id
-- ($5: when the number was first added, kept across replacements of the pool.)
INSERT INTO campaign_caller_ids (campaign_id, number, position, retired_at, added_at)
VALUES ($1, $2, $3, $4, $5);

-- name: set_caller_id_settings
UPDATE campaigns SET local_presence = $2, caller_id_daily_cap = $3, updated_at = $4
WHERE id = $1;

-- name: expired_recordings
-- Recordings older than their campaign's retention ($1: now), oldest first, $2 at most.
SELECT a.id, a.campaign_id, a.recording_key
FROM attempts a JOIN campaigns c ON c.id = a.campaign_id
WHERE c.recording_retention_days IS NOT NULL
  AND a.recording_key IS NOT NULL AND a.recording_deleted_at IS NULL
  AND a.started_at < $1::timestamptz - make_interval(days => c.recording_retention_days)
ORDER BY a.started_at
LIMIT $2;

-- name: recordings_deleted
UPDATE attempts SET recording_deleted_at = $2, recording_url = NULL WHERE id = ANY($1::bigint[]);
