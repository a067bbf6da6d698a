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
