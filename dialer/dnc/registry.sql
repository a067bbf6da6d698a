-- National registries as compact generations (see migrations/0008_dnc_registries.sql).
-- {part} and {old} are partition names built from an integer generation, never user text.

-- name: next_generation
SELECT nextval('dnc_registry_generation');

-- name: current_generation
SELECT generation, numbers FROM dnc_registries WHERE source = $1 FOR UPDATE;

-- Every line of the file, in file order (row_no = line number); NULL: not a number.
-- name: create_raw
CREATE TEMP TABLE registry_raw (
    row_no      bigint GENERATED ALWAYS AS IDENTITY (CACHE 100000),
    number      bigint,
    since       date,
    categories  smallint
) ON COMMIT DROP;

-- name: create_part
CREATE TABLE {part} (
    generation  bigint NOT NULL DEFAULT {gen} CHECK (generation = {gen}),
    number      bigint NOT NULL,
    since       date,
    categories  smallint
);

-- The file's distinct numbers, as E.164 digits (a repeated number: its last line's value).
-- name: fill_part
INSERT INTO {part} (number, since, categories)
SELECT DISTINCT ON (number) number + $1::bigint, since, categories
FROM registry_raw WHERE number IS NOT NULL
ORDER BY number, row_no DESC;

-- Add mode: the old generation's numbers that the file does not repeat.
-- name: keep_old_numbers
INSERT INTO {part} (number, since, categories)
SELECT o.number, o.since, o.categories FROM {old} o
WHERE NOT EXISTS (SELECT 1 FROM {part} n WHERE n.number = o.number);

-- What a load did, kept with the import's record (in its options, beside the mode).
-- name: note_refresh
UPDATE imports
SET options = options || jsonb_build_object('kept', $2::bigint, 'added', $3::bigint,
                                            'removed', $4::bigint,
                                            'registry_numbers', $5::bigint)
WHERE id = $1;

-- Unique: a file that repeats a number fails here and is read again with row numbers.
-- name: index_part
CREATE UNIQUE INDEX ON {part} (number, generation);

-- Statistics for the comparison with the old generation (a hash join, not index probes).
-- name: analyze_part
ANALYZE {part};

-- name: attach_part
ALTER TABLE dnc_registry_numbers ATTACH PARTITION {part} FOR VALUES IN ({gen});

-- name: count_part
SELECT count(*) FROM {part};

-- Lines that repeat an earlier line's number: (row, first row, number).
-- name: repeated_rows
SELECT row_no, first_row, number + $1::bigint AS number FROM (
    SELECT row_no, number, min(row_no) OVER (PARTITION BY number) AS first_row
    FROM registry_raw WHERE number IS NOT NULL
) r
WHERE row_no <> first_row
ORDER BY row_no;

-- Numbers of the new generation that the old one held.
-- name: count_kept
SELECT count(*) FROM {part} n WHERE EXISTS (SELECT 1 FROM {old} o WHERE o.number = n.number);

-- name: save_generation
INSERT INTO dnc_registries (source, generation, numbers, import_id, loaded_at, kind)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (source) DO UPDATE
SET generation = EXCLUDED.generation, numbers = EXCLUDED.numbers,
    import_id = EXCLUDED.import_id, loaded_at = EXCLUDED.loaded_at, kind = EXCLUDED.kind;

-- Replace mode: single global entries of the registry's source (added one by one, or from a
-- file in another format) that the new file no longer holds.
-- name: remove_unlisted_entries
WITH gone AS (
    DELETE FROM dnc_entries e
    WHERE e.source = $1 AND e.client_id IS NULL AND e.campaign_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM {part} n
                      WHERE e.phone_e164 ~ '^\+[0-9]{{1,18}}$'
                        AND n.number = substr(e.phone_e164, 2)::bigint)
    RETURNING 1
)
SELECT count(*) FROM gone;

-- Leads the registry covers that could still be dialed (or are held back) become 'dnc', in
-- one pass over the leads of its country code; the caller writes lead.dnc for each.
-- name: mark_leads
UPDATE leads l SET status = 'dnc', updated_at = $2
FROM campaigns c
WHERE c.id = l.campaign_id
  AND l.status IN ('new', 'retry', 'callback', 'paused')
  AND l.phone_e164 LIKE $1 || '%'
  AND l.phone_e164 ~ '^\+[0-9]{{1,18}}$'
  AND EXISTS (SELECT 1 FROM {part} n WHERE n.number = substr(l.phone_e164, 2)::bigint)
RETURNING l.id, l.campaign_id, c.client_id, l.phone_e164;

-- Partitions no registry uses any more (replaced, or left by a process that died).
-- name: unused_parts
SELECT c.relname
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
WHERE p.relname = 'dnc_registry_numbers'
  AND c.relname ~ '^dnc_registry_numbers_[0-9]+$'
  AND substr(c.relname, 22)::bigint NOT IN (SELECT generation FROM dnc_registries);

-- name: registries_listing
SELECT g.source FROM dnc_registry_numbers r JOIN dnc_registries g ON g.generation = r.generation
WHERE r.number = $1 AND g.kind IN ('dnc', 'litigator')
ORDER BY g.source;
