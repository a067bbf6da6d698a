-- The core schema: clients own campaigns; campaigns own lead lists, leads and attempts.
-- All times are timestamptz (UTC); local time is only derived for calling-rule decisions.

CREATE TABLE clients (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A single-company user never has to think about clients: everything defaults to this one.
INSERT INTO clients (name) OVERRIDING SYSTEM VALUE VALUES ('default');

CREATE TABLE campaigns (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id          bigint NOT NULL REFERENCES clients (id),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    purpose            text NOT NULL
        CHECK (purpose IN ('telemarketing', 'survey', 'debt_collection', 'informational')),
    dial_mode          text NOT NULL
        CHECK (dial_mode IN ('preview', 'progressive', 'power', 'predictive', 'agentless')),
    state              text NOT NULL DEFAULT 'draft'
        CHECK (state IN ('draft', 'running', 'paused', 'stopped', 'completed')),
    state_reason       text,                    -- manual | schedule | budget | exhausted ...
    caller_id          text,                    -- E.164; required to start
    default_region     text,                    -- ISO 3166-1 alpha-2 for numbers without +
    max_abandon_rate   double precision NOT NULL DEFAULT 0.03
        CHECK (max_abandon_rate > 0 AND max_abandon_rate <= 0.03),
    max_attempts       integer NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 100),
    retry_policy       jsonb NOT NULL DEFAULT '{}',
    dial_level         double precision NOT NULL DEFAULT 2.0,  -- power mode: lines per agent
    max_lines          integer,                 -- trunk cap for this campaign
    ring_timeout_s     integer NOT NULL DEFAULT 25 CHECK (ring_timeout_s BETWEEN 15 AND 120),
    abandon_timeout_s  double precision NOT NULL DEFAULT 2.0
        CHECK (abandon_timeout_s > 0 AND abandon_timeout_s <= 2.0),
    amd                boolean NOT NULL DEFAULT true,
    safe_harbor_message text,
    schedule           jsonb,                   -- calling hours, callee local time
    shift              jsonb,                   -- operating hours in the centre's zone
    starts_at          timestamptz,
    ends_at            timestamptz,
    waived_rules       text[] NOT NULL DEFAULT '{}',  -- admin override, audited
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at)
);
CREATE UNIQUE INDEX campaigns_client_name_key ON campaigns (client_id, lower(name))
    WHERE deleted_at IS NULL;
CREATE INDEX campaigns_state_idx ON campaigns (state) WHERE deleted_at IS NULL;

CREATE TABLE lead_lists (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id     bigint NOT NULL REFERENCES campaigns (id),
    name            text NOT NULL,
    source          text NOT NULL DEFAULT 'upload',   -- upload | api | cli
    default_region  text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_lists_campaign_idx ON lead_lists (campaign_id);

CREATE TABLE agents (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id           bigint NOT NULL REFERENCES clients (id),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    endpoint            text,                   -- softphone endpoint, e.g. PJSIP/1001
    state               text NOT NULL DEFAULT 'offline'
        CHECK (state IN ('offline', 'available', 'on_call', 'wrap_up', 'paused')),
    state_reason        text,
    state_changed_at    timestamptz NOT NULL DEFAULT now(),
    created_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz
);
CREATE UNIQUE INDEX agents_client_name_key ON agents (client_id, lower(name))
    WHERE deleted_at IS NULL;

CREATE TABLE agent_campaigns (
    agent_id     bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    campaign_id  bigint NOT NULL REFERENCES campaigns (id),
    PRIMARY KEY (agent_id, campaign_id)
);
CREATE INDEX agent_campaigns_campaign_idx ON agent_campaigns (campaign_id);

CREATE TABLE leads (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id      bigint NOT NULL REFERENCES campaigns (id),
    list_id          bigint REFERENCES lead_lists (id),
    phone_e164       text NOT NULL,
    region           text,                      -- ISO 3166-1 alpha-2 of the number
    subdivision      text,                      -- ISO 3166-2 suffix (state/province) if known
    postal_code      text,
    time_zones       text[] NOT NULL DEFAULT '{}',
    fields           jsonb NOT NULL DEFAULT '{}',  -- the CSV's other columns
    status           text NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'retry', 'callback', 'completed', 'dnc', 'exhausted',
                          'paused')),
    priority         integer NOT NULL DEFAULT 0,
    attempts_count   integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_attempt_at  timestamptz,
    last_outcome     text,
    last_disposition text,
    callback_agent_id bigint REFERENCES agents (id),
    claimed_by       text,                      -- runner instance holding it in its hopper
    claimed_until    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, phone_e164)
);
-- The runner's hopper query: dialable leads of one campaign, due first.
CREATE INDEX leads_dialable_idx ON leads (campaign_id, next_attempt_at, priority DESC)
    WHERE status IN ('new', 'retry', 'callback');
CREATE INDEX leads_campaign_status_idx ON leads (campaign_id, status, id);
CREATE INDEX leads_phone_idx ON leads (phone_e164);
CREATE INDEX leads_list_idx ON leads (list_id);

CREATE TABLE attempts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id          bigint NOT NULL REFERENCES leads (id),
    campaign_id      bigint NOT NULL REFERENCES campaigns (id),
    phone_e164       text NOT NULL,
    started_at       timestamptz NOT NULL,
    answered_at      timestamptz,
    connected_at     timestamptz,
    ended_at         timestamptz,
    outcome          text CHECK (outcome IN ('no_answer', 'busy', 'failed', 'machine', 'human',
                                             'abandoned', 'completed', 'unknown')),
    disposition      text,
    agent_id         bigint REFERENCES agents (id),
    compliance       jsonb NOT NULL,            -- the decision that allowed this dial
    gateway_call_id  text,
    runner           text,                      -- instance that placed the call
    wait_s           double precision,          -- human answer → agent (or abandon)
    talk_s           double precision,
    notes            text
);
CREATE INDEX attempts_campaign_started_idx ON attempts (campaign_id, started_at);
CREATE INDEX attempts_lead_idx ON attempts (lead_id, started_at);
CREATE INDEX attempts_phone_idx ON attempts (phone_e164, started_at);
CREATE INDEX attempts_open_idx ON attempts (campaign_id) WHERE ended_at IS NULL;

CREATE TABLE dnc_entries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone_e164   text NOT NULL,
    client_id    bigint REFERENCES clients (id),     -- NULL: applies to every client
    campaign_id  bigint REFERENCES campaigns (id),   -- set: applies to that campaign only
    source       text NOT NULL DEFAULT 'internal',   -- internal, crm, us_dnc, tps, dncl, ...
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz
);
CREATE UNIQUE INDEX dnc_entries_scope_key ON dnc_entries
    (phone_e164, coalesce(client_id, 0), coalesce(campaign_id, 0), source);

CREATE TABLE api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role          text NOT NULL CHECK (role IN ('admin', 'manager', 'agent', 'viewer', 'crm')),
    client_id     bigint REFERENCES clients (id),   -- NULL: every client
    agent_id      bigint REFERENCES agents (id),    -- role agent: the agent it acts as
    token_hash    bytea NOT NULL UNIQUE,            -- SHA-256 of the token; never the token
    prefix        text NOT NULL,                    -- first characters, to recognise it
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    CHECK (role <> 'agent' OR agent_id IS NOT NULL)
);

CREATE TABLE webhook_subscriptions (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id          bigint REFERENCES clients (id),  -- NULL: events of every client
    url                text NOT NULL,
    events             text[] NOT NULL,
    secret_ciphertext  bytea NOT NULL,                  -- encrypted; never returned
    active             boolean NOT NULL DEFAULT true,
    created_by         bigint REFERENCES api_tokens (id),
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    type         text NOT NULL,
    client_id    bigint NOT NULL REFERENCES clients (id),
    campaign_id  bigint,
    lead_id      bigint,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_outbox_created_idx ON webhook_outbox (created_at);

-- Named leases with expiry: campaign runners ("campaign:<id>"), the scheduler, ...
CREATE TABLE leases (
    name        text PRIMARY KEY,
    owner       text NOT NULL,
    expires_at  timestamptz NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now()
);

-- Who changed what, for overrides and administrative actions.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    token_id    bigint REFERENCES api_tokens (id),
    actor       text NOT NULL,
    action      text NOT NULL,
    object_type text NOT NULL,
    object_id   bigint,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id, at);
