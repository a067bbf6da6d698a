-- Transfers and conferences: every leg of a call is an attempt of its own, linked to the
-- attempt it was transferred (or conferenced) from, so reports and attempt.completed show
-- the whole call. A leg shares its parent's lead; the one-open-attempt-per-lead guard still
-- holds for dials (parent_attempt_id IS NULL), a leg runs beside its parent.
ALTER TABLE attempts
    ADD COLUMN parent_attempt_id bigint REFERENCES attempts (id),
    ADD COLUMN leg text CHECK (leg IN ('blind', 'warm', 'conference')),
    ADD COLUMN leg_state text
        CHECK (leg_state IN ('requested', 'queued', 'ringing', 'consulting', 'joined',
                             'completed', 'cancelled', 'failed')),
    ADD COLUMN leg_target jsonb,
    ADD COLUMN leg_notes text,  -- what the transferring agent wrote for the target (screen pop)
    -- the campaign whose runner carries the leg: the first call's (the callee's channel
    -- stays with the runner that dialed it, whatever campaign's agent takes the call)
    ADD COLUMN carrier_campaign_id bigint REFERENCES campaigns (id);
CREATE INDEX attempts_parent_idx ON attempts (parent_attempt_id)
    WHERE parent_attempt_id IS NOT NULL;
CREATE INDEX attempts_open_legs_idx ON attempts (carrier_campaign_id)
    WHERE ended_at IS NULL AND carrier_campaign_id IS NOT NULL;
DROP INDEX attempts_one_open_per_lead;
CREATE UNIQUE INDEX attempts_one_open_per_lead ON attempts (lead_id)
    WHERE ended_at IS NULL AND parent_attempt_id IS NULL;
-- At most one transfer or conference leg in progress per call.
CREATE UNIQUE INDEX attempts_one_open_leg ON attempts (parent_attempt_id)
    WHERE ended_at IS NULL AND parent_attempt_id IS NOT NULL;

-- How long a call transferred to this campaign waits (on music) for a free agent.
ALTER TABLE campaigns
    ADD COLUMN transfer_wait_s integer NOT NULL DEFAULT 60
        CHECK (transfer_wait_s BETWEEN 5 AND 600);
