-- The dialing engine: what each attempt recorded beyond the core columns, agent sessions,
-- and the indexes the runners' hot queries need.

-- One dial: ring time, what answered (AMD verdict), the gateway's reason for the end,
-- the dial mode actually used (after an abandon-budget fallback), whether a live agent was
-- reserved before the dial (preview, agent-owned callback), and when the agent
-- dispositioned it.
ALTER TABLE attempts
    ADD COLUMN ring_s           double precision,
    ADD COLUMN answer           text CHECK (answer IN ('human', 'machine', 'fax')),
    ADD COLUMN hangup_cause     text,
    ADD COLUMN mode             text,
    ADD COLUMN agent_guaranteed boolean NOT NULL DEFAULT false,
    ADD COLUMN dispositioned_at timestamptz;

-- At most one open attempt per lead: the last line of defence against a double dial.
CREATE UNIQUE INDEX attempts_one_open_per_lead ON attempts (lead_id) WHERE ended_at IS NULL;
-- The abandon budget: live answers of a campaign within the legal windows.
CREATE INDEX attempts_campaign_answered_idx ON attempts (campaign_id, answered_at)
    WHERE answer = 'human';

-- Agents: the call they are on (or wrapping up, or previewing), a pause or logout asked for
-- during a call (applied when it ends), login time, and whether the engine simulates them.
ALTER TABLE agents
    ADD COLUMN attempt_id        bigint REFERENCES attempts (id),
    ADD COLUMN campaign_id       bigint REFERENCES campaigns (id),
    ADD COLUMN preview_lead_id   bigint REFERENCES leads (id),
    ADD COLUMN pending_action    text CHECK (pending_action IN ('pause', 'logout')),
    ADD COLUMN pending_reason    text,
    ADD COLUMN logged_in_at      timestamptz,
    ADD COLUMN simulated         boolean NOT NULL DEFAULT false;

-- Every agent state change, for occupancy and adherence reports.
CREATE TABLE agent_state_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id    bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    state       text NOT NULL,
    reason      text,
    attempt_id  bigint,
    at          timestamptz NOT NULL
);
CREATE INDEX agent_state_log_agent_idx ON agent_state_log (agent_id, at);

-- The hopper: due callbacks are claimed before everything else.
CREATE INDEX leads_callback_idx ON leads (campaign_id, next_attempt_at)
    WHERE status = 'callback';
-- Claims left by a runner (released on takeover and shutdown).
CREATE INDEX leads_claimed_idx ON leads (campaign_id) WHERE claimed_by IS NOT NULL;

-- Every change of an agent's state, call, pending action or deletion is logged (state and
-- call changes) and announced on the 'dialer_agents' channel, whatever code path made it:
-- runners in every process and agent-desktop WebSockets listen there.
CREATE FUNCTION dialer_agent_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.state IS NOT DISTINCT FROM OLD.state
       AND NEW.state_reason IS NOT DISTINCT FROM OLD.state_reason
       AND NEW.attempt_id IS NOT DISTINCT FROM OLD.attempt_id
       AND NEW.preview_lead_id IS NOT DISTINCT FROM OLD.preview_lead_id
       AND NEW.pending_action IS NOT DISTINCT FROM OLD.pending_action
       AND NEW.deleted_at IS NOT DISTINCT FROM OLD.deleted_at THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state
       OR NEW.attempt_id IS DISTINCT FROM OLD.attempt_id THEN
        INSERT INTO agent_state_log (agent_id, state, reason, attempt_id, at)
        VALUES (NEW.id, NEW.state, NEW.state_reason, NEW.attempt_id, NEW.state_changed_at);
    END IF;
    PERFORM pg_notify('dialer_agents', json_build_object(
        'event', 'state',
        'agent', NEW.id,
        'client', NEW.client_id,
        'state', NEW.state,
        'reason', NEW.state_reason,
        'attempt', NEW.attempt_id,
        'campaign', NEW.campaign_id,
        'lead', NEW.preview_lead_id,
        'pending', NEW.pending_action,
        'deleted', NEW.deleted_at IS NOT NULL)::text);
    RETURN NEW;
END
$$;
CREATE TRIGGER agents_changed AFTER INSERT OR UPDATE ON agents
    FOR EACH ROW EXECUTE FUNCTION dialer_agent_changed();
