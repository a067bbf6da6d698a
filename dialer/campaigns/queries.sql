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
