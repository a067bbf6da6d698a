-- The abandon budget's 30-day window without heap reads.
--
-- Every runner re-reads its campaign's live answers and abandons over 24 hours and 30 days
-- (engine queries.sql `budget_counts`; the stats report's `legal_windows` counts the same
-- rows): `campaign_id = $1 AND answer = 'human' AND answered_at > $since`, counting
-- `outcome = 'abandoned'`. The index of 0004 finds those rows but must visit the table for
-- each one to read its outcome: on a big campaign that is a random read per live answer of
-- the last 30 days. Carrying the outcome in the index lets PostgreSQL answer from the index
-- alone (an index-only scan; the table is read only for pages not yet marked all-visible by
-- vacuum, i.e. the last few minutes of calls).
--
-- Same columns, same predicate, same name: it replaces the index of 0004 rather than
-- adding a second one to maintain on every call. `outcome` costs no HOT update: the
-- statement that sets it also sets `ended_at`, which an index predicate already reads.
DROP INDEX attempts_campaign_answered_idx;
CREATE INDEX attempts_campaign_answered_idx ON attempts (campaign_id, answered_at)
    INCLUDE (outcome) WHERE answer = 'human';
