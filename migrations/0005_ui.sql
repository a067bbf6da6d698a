-- Console sign-in sessions: a browser that signed in with an API token holds a random
-- session id in a signed cookie; only its SHA-256 hash is stored here. The session acts as
-- its token, so revoking the token ends the session at its next request.

CREATE TABLE ui_sessions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_hash  bytea NOT NULL UNIQUE,            -- SHA-256 of the session id; never the id
    token_id      bigint NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    csrf_token    text NOT NULL,                    -- per-session; sent back by every form
    flash         jsonb NOT NULL DEFAULT '[]',      -- messages for the next page shown
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL              -- slides with use, capped by a max age
);
CREATE INDEX ui_sessions_token_idx ON ui_sessions (token_id);
CREATE INDEX ui_sessions_expires_idx ON ui_sessions (expires_at);
