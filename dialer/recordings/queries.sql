-- name: find_key
-- The stored recording of attempt $1 that client $2 (NULL: every client) may download.
SELECT a.recording_key FROM attempts a JOIN campaigns c ON c.id = a.campaign_id
WHERE a.id = $1 AND ($2::bigint IS NULL OR c.client_id = $2)
  AND a.recording_key IS NOT NULL AND a.recording_deleted_at IS NULL;

-- name: spooled_state
-- Whether attempt $1 still keeps the spooled recording $2 (no row: not written yet).
SELECT CASE WHEN recording_deleted_at IS NULL THEN 'kept' ELSE 'deleted' END
FROM attempts WHERE id = $1 AND recording_key = $2;

-- name: spooled_uploaded
-- Attempt $1's spooled recording $2 is now the object $3.
UPDATE attempts SET recording_key = $3
WHERE id = $1 AND recording_key = $2 AND recording_deleted_at IS NULL RETURNING id;
