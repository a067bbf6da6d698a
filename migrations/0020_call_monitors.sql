-- Supervisor monitoring: who listened to, whispered in or barged into which call, and when.
-- The call's own record (attempts) is not touched: a monitored call is dialed, paced and
-- closed like any other; this table is the note of who monitored it.
CREATE TABLE call_monitors (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    attempt_id   bigint NOT NULL REFERENCES attempts (id),
    campaign_id  bigint NOT NULL REFERENCES campaigns (id),
    agent_id     bigint REFERENCES agents (id),           -- the agent on the call
    mode         text NOT NULL CHECK (mode IN ('listen', 'whisper', 'barge')),
    modes        text[] NOT NULL,                         -- every mode it was in, in order
    endpoint     text NOT NULL,                           -- the supervisor's phone
    actor        text NOT NULL,                           -- who started it (as in audit_log)
    user_id      bigint REFERENCES users (id) ON DELETE SET NULL,
    session      text NOT NULL,                           -- the switch's monitor session
    instance     text NOT NULL,                           -- the process holding the session
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    end_reason   text                                     -- call_ended, stopped, supervisor
);
CREATE INDEX call_monitors_attempt_idx ON call_monitors (attempt_id);
CREATE INDEX call_monitors_open_idx ON call_monitors (campaign_id) WHERE ended_at IS NULL;
