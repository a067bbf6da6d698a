-- The call floor: people who sign in with a password, each campaign's own dispositions,
-- pause codes and agent script, lists that can be switched off or reset for another pass.

-- People who sign in to the console with a user name and password (argon2id hash only).
-- An agent user acts as its agent record; a client's users see only that client.
CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role           text NOT NULL CHECK (role IN ('admin', 'manager', 'agent', 'viewer')),
    client_id      bigint REFERENCES clients (id),
    agent_id       bigint REFERENCES agents (id),
    password_hash  text NOT NULL,                 -- argon2id, PHC string
    totp_secret    bytea,                         -- encrypted with the master key
    locked_until   timestamptz,                   -- too many wrong passwords
    disabled_at    timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CHECK (role <> 'agent' OR agent_id IS NOT NULL)
);
CREATE UNIQUE INDEX users_name_key ON users (lower(name));
CREATE UNIQUE INDEX users_agent_key ON users (agent_id) WHERE agent_id IS NOT NULL;

-- Wrong passwords (and unknown user names), for the per-user and per-address throttles.
CREATE TABLE sign_in_failures (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL,
    user_name  text NOT NULL,                     -- as typed, lower-cased
    address    text NOT NULL
);
CREATE INDEX sign_in_failures_user_idx ON sign_in_failures (user_name, at);
CREATE INDEX sign_in_failures_address_idx ON sign_in_failures (address, at);

-- A console session acts as an API token or as a user.
ALTER TABLE ui_sessions ALTER COLUMN token_id DROP NOT NULL;
ALTER TABLE ui_sessions ADD COLUMN user_id bigint REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE ui_sessions ADD CONSTRAINT ui_sessions_one_owner
    CHECK ((token_id IS NULL) <> (user_id IS NULL));
CREATE INDEX ui_sessions_user_idx ON ui_sessions (user_id);

-- A campaign's dispositions: what the agent may choose and what happens to the lead next.
CREATE TABLE campaign_dispositions (
    campaign_id    bigint NOT NULL REFERENCES campaigns (id),
    position       integer NOT NULL,
    code           text NOT NULL,
    label          text NOT NULL,
    action         text NOT NULL CHECK (action IN ('complete', 'retry', 'callback', 'dnc')),
    retry_after_s  integer,
    max_attempts   integer,
    hotkey         text,
    PRIMARY KEY (campaign_id, code)
);

-- A campaign's pause codes (paid or not): the reasons an agent may pause with.
CREATE TABLE campaign_pause_codes (
    campaign_id  bigint NOT NULL REFERENCES campaigns (id),
    position     integer NOT NULL,
    code         text NOT NULL,
    label        text NOT NULL,
    paid         boolean NOT NULL DEFAULT false,
    PRIMARY KEY (campaign_id, code)
);

-- The agent script shown at screen pop: a sandboxed template over the lead's fields.
ALTER TABLE campaigns ADD COLUMN script text;

-- Lists: an inactive list's leads are not dialed; a reset starts a new pass.
ALTER TABLE lead_lists ADD COLUMN active boolean NOT NULL DEFAULT true;
