-- name: insert_token
INSERT INTO api_tokens (name, role, client_id, agent_id, token_hash, prefix, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id, name, role, client_id, agent_id, prefix, created_at;

-- name: find_token
SELECT id, name, role, client_id, agent_id, last_used_at
FROM api_tokens
WHERE token_hash = $1 AND revoked_at IS NULL;

-- name: token_active
SELECT EXISTS (SELECT 1 FROM api_tokens WHERE id = $1 AND revoked_at IS NULL);

-- name: touch_token
UPDATE api_tokens SET last_used_at = $2
WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '60 seconds');

-- name: revoke_token
UPDATE api_tokens SET revoked_at = $2
WHERE (id::text = $1 OR prefix = $1 OR name = $1) AND revoked_at IS NULL
RETURNING id, name;

-- name: list_tokens
SELECT id, name, role, client_id, agent_id, prefix, created_at, last_used_at, revoked_at
FROM api_tokens
ORDER BY id;
