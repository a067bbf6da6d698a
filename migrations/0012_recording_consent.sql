-- Recording consent: recorded calls play an announcement before the agent is bridged when
-- the campaign says so (always) or the callee's place needs every party's consent.
ALTER TABLE campaigns
    ADD COLUMN recording_consent text NOT NULL DEFAULT 'where_required'
        CHECK (recording_consent IN ('where_required', 'always')),
    ADD COLUMN recording_announcement text;

-- The rule that made the announcement play on this attempt ('campaign' when the campaign
-- asked for it); null: none played.
ALTER TABLE attempts ADD COLUMN recording_notice text;
