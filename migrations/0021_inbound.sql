-- Callbacks from callees (inbound calls to a campaign's caller IDs) and blended agents.
-- Every inbound call is an attempt with direction 'inbound': its lead is the callee who
-- called back (matched by the caller's number), or none for a caller nobody called.
-- 'dialed' is the campaign's number they called, 'caller_id' keeps meaning the number
-- presented on an outbound call. A blended agent takes inbound calls as well as outbound.
ALTER TABLE attempts
    ADD COLUMN direction text NOT NULL DEFAULT 'outbound'
        CHECK (direction IN ('outbound', 'inbound')),
    ADD COLUMN dialed text,
    ALTER COLUMN lead_id DROP NOT NULL,
    ADD CONSTRAINT attempts_lead_outbound CHECK (lead_id IS NOT NULL OR direction = 'inbound');
CREATE INDEX attempts_inbound_idx ON attempts (campaign_id, started_at DESC)
    WHERE direction = 'inbound';
CREATE INDEX attempts_caller_idx ON attempts (caller_id, phone_e164, started_at DESC)
    WHERE direction = 'outbound';

ALTER TABLE agents ADD COLUMN blended boolean NOT NULL DEFAULT false;
