-- Outcomes written back after a long database outage, and a bounded dial level.
--
-- An attempt that a process taking a campaign over closed as 'unknown' (its runner was out
-- of reach past the lease) keeps the instant it was so closed: the runner that placed the
-- call may still write the real outcome when the database answers again, and only over
-- such an attempt, only once, and applying its lead plan only if nobody touched the lead
-- since (queries.sql close_calls: the fence).
ALTER TABLE attempts ADD COLUMN recovered_at timestamptz;

-- dial_level: finite and within the campaign model's bounds (1-5). Values stored before the
-- input checks existed are cleaned first: NaN and infinities become the default (2.0),
-- other values outside the bounds the nearest bound.
UPDATE campaigns
SET dial_level = CASE
        WHEN dial_level = 'NaN'::float8 OR dial_level IN ('Infinity', '-Infinity') THEN 2.0
        WHEN dial_level < 1 THEN 1.0
        ELSE 5.0
    END
WHERE dial_level = 'NaN'::float8 OR NOT (dial_level BETWEEN 1 AND 5);

ALTER TABLE campaigns
    ADD CONSTRAINT campaigns_dial_level_bounds CHECK (dial_level BETWEEN 1 AND 5);
