-- National DNC registries (us_dnc, dncl) loaded from their digit-only files: one compact
-- partition of integers per loaded generation (the E.164 digits as bigint, one index), and
-- the generation in force per registry. A refresh builds the next generation beside the old
-- one and switches `dnc_registries` when it commits: lookups see the old registry whole until
-- then, and a failed refresh leaves it as it was. Global scope, no expiry, like the registry.
CREATE TABLE dnc_registries (
    source      text PRIMARY KEY CHECK (source ~ '^[a-z0-9_]{1,40}$'),
    generation  bigint NOT NULL UNIQUE,
    numbers     bigint NOT NULL,
    import_id   bigint REFERENCES imports (id),
    loaded_at   timestamptz NOT NULL
);

CREATE SEQUENCE dnc_registry_generation;

-- Partitions are named dnc_registry_numbers_<generation>; unused ones are dropped after the
-- refresh that replaced them.
CREATE TABLE dnc_registry_numbers (
    generation  bigint NOT NULL,
    number      bigint NOT NULL
) PARTITION BY LIST (generation);
-- One index (unique per generation: the partition key must be in it); lookups use `number`.
CREATE UNIQUE INDEX dnc_registry_numbers_key ON dnc_registry_numbers (number, generation);
