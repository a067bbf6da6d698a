-- A held pause: a pause or logout asked for while available, while calls ring that count on
-- the agent, waits as pending (state stays 'available') until those calls are gone or this
-- deadline passes, whichever comes first (dialer/agents/holds.py). NULL for a pause pending
-- after a call (no deadline: the call decides).
ALTER TABLE agents ADD COLUMN pending_until timestamptz;

-- Held agents are looked up by the runners' upkeep on every tick while any is held.
CREATE INDEX agents_held_idx ON agents (id)
    WHERE state = 'available' AND pending_action IS NOT NULL AND deleted_at IS NULL;

-- The agents trigger (0004) also announces a change of the hold's deadline, and says it.
CREATE OR REPLACE FUNCTION dialer_agent_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.state IS NOT DISTINCT FROM OLD.state
       AND NEW.state_reason IS NOT DISTINCT FROM OLD.state_reason
       AND NEW.attempt_id IS NOT DISTINCT FROM OLD.attempt_id
       AND NEW.preview_lead_id IS NOT DISTINCT FROM OLD.preview_lead_id
       AND NEW.pending_action IS NOT DISTINCT FROM OLD.pending_action
       AND NEW.pending_until IS NOT DISTINCT FROM OLD.pending_until
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
        'pending_until', NEW.pending_until,
        'deleted', NEW.deleted_at IS NOT NULL)::text);
    RETURN NEW;
END
$$;
