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

-- name: insert_user
INSERT INTO users (name, role, client_id, agent_id, password_hash, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
RETURNING id;

-- name: get_user
-- One user as the API shows it ($2: the caller's client, NULL = every client).
SELECT u.id, u.name, u.role, u.client_id, u.agent_id, a.name AS agent_name,
       u.totp_secret IS NOT NULL AS totp, u.locked_until, u.disabled_at, u.created_at
FROM users u LEFT JOIN agents a ON a.id = u.agent_id
WHERE u.id = $1 AND ($2::bigint IS NULL OR u.client_id = $2);

-- name: list_users
SELECT u.id, u.name, u.role, u.client_id, u.agent_id, a.name AS agent_name,
       u.totp_secret IS NOT NULL AS totp, u.locked_until, u.disabled_at, u.created_at
FROM users u LEFT JOIN agents a ON a.id = u.agent_id
WHERE ($1::bigint IS NULL OR u.client_id = $1)
ORDER BY u.id;

-- name: find_user_by_name
SELECT id, name, role, client_id, agent_id, password_hash, totp_secret, locked_until,
       disabled_at
FROM users WHERE lower(name) = lower($1);

-- name: find_user_id
-- A user by id or name, within the caller's client.
SELECT id FROM users
WHERE (id::text = $1 OR lower(name) = lower($1)) AND ($2::bigint IS NULL OR client_id = $2)
ORDER BY id LIMIT 1;

-- name: disable_user
UPDATE users SET disabled_at = coalesce(disabled_at, $2), updated_at = $2 WHERE id = $1
RETURNING agent_id;

-- name: end_user_sessions
DELETE FROM ui_sessions WHERE user_id = $1;

-- name: set_password
UPDATE users SET password_hash = $2, locked_until = NULL, updated_at = $3 WHERE id = $1;

-- name: set_totp
UPDATE users SET totp_secret = $2, updated_at = $3 WHERE id = $1;

-- name: lock_user
UPDATE users SET locked_until = $2 WHERE id = $1;

-- name: record_failure
INSERT INTO sign_in_failures (at, user_name, address) VALUES ($1, lower($2), $3);

-- name: failures_since
-- Wrong passwords for one user name, and from one address, since $1; and the earliest of
-- the address's (its throttle lifts 15 minutes after that one).
SELECT count(*) FILTER (WHERE user_name = lower($2)) AS by_user,
       count(*) FILTER (WHERE address = $3) AS by_address,
       min(at) FILTER (WHERE address = $3) AS first_by_address
FROM sign_in_failures
WHERE at > $1 AND (user_name = lower($2) OR address = $3);

-- name: purge_failures
DELETE FROM sign_in_failures WHERE at <= $1;

-- name: clear_user_failures
DELETE FROM sign_in_failures WHERE user_name = lower($1);
