-- Telephony a contact centre can run on (issue 19): number hygiene, caller-ID pools,
-- recordings.

-- Number hygiene: a lead whose every number is bad is 'invalid'; numbers the network said
-- do not exist (unallocated, SIT, changed) are kept apart and never dialed again.
ALTER TABLE leads DROP CONSTRAINT leads_status_check;
ALTER TABLE leads ADD CONSTRAINT leads_status_check
    CHECK (status IN ('new', 'retry', 'callback', 'completed', 'dnc', 'exhausted', 'paused',
                      'invalid'));
ALTER TABLE leads ADD COLUMN retired_phones text[] NOT NULL DEFAULT '{}';

-- When a lead's alternate numbers are dialed: 'off' never; 'on_bad_number' when the
-- current number is retired; 'on_failure' also after a call that reached nobody.
ALTER TABLE campaigns
    ADD COLUMN alt_phone_policy text NOT NULL DEFAULT 'on_bad_number'
        CHECK (alt_phone_policy IN ('off', 'on_bad_number', 'on_failure'));

-- The caller ID each attempt presented, and the switch's failure reason.
ALTER TABLE attempts ADD COLUMN caller_id text;
CREATE INDEX attempts_caller_id_idx ON attempts (caller_id, started_at)
    WHERE caller_id IS NOT NULL;

-- Caller-ID pools: the numbers a campaign may present, local presence, a daily cap per
-- number. A retired number stays listed (its attempts keep pointing at it) but is not used.
ALTER TABLE campaigns
    ADD COLUMN local_presence boolean NOT NULL DEFAULT false,
    ADD COLUMN caller_id_daily_cap integer CHECK (caller_id_daily_cap > 0);
CREATE TABLE campaign_caller_ids (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    number      text NOT NULL,
    position    integer NOT NULL,
    retired_at  timestamptz,
    added_at    timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, number)
);

-- Recordings: what a campaign records ('connected': from the agent's bridge; 'all': from
-- the answer), how long files are kept, and each attempt's recording (the file's storage
-- key, its download URL, length and SHA-256; deleted_at once retention removed it).
ALTER TABLE campaigns
    ADD COLUMN record text NOT NULL DEFAULT 'off' CHECK (record IN ('off', 'connected', 'all')),
    ADD COLUMN recording_retention_days integer CHECK (recording_retention_days > 0);
ALTER TABLE attempts
    ADD COLUMN recording_key        text,
    ADD COLUMN recording_url        text,
    ADD COLUMN recording_s          double precision,
    ADD COLUMN recording_sha256     text,
    ADD COLUMN recording_deleted_at timestamptz;
CREATE INDEX attempts_recordings_idx ON attempts (campaign_id, started_at)
    WHERE recording_key IS NOT NULL AND recording_deleted_at IS NULL;

-- Voicemail drop: the message left on an answering machine (null: hang up on machines).
ALTER TABLE campaigns ADD COLUMN voicemail_message text;
