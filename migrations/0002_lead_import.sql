-- Lead-list and DNC-list imports: their progress and outcome, the rows they did not load,
-- and what a lead or DNC entry remembers of the import that brought it.

-- One upload (HTTP or CLI) of a lead list into a campaign, or of numbers into a DNC list.
-- Progress columns are written while it runs (from a connection of their own); the counts
-- are final once the state is completed. A list either lands whole (state completed, in
-- one transaction with its leads) or not at all (state failed, nothing else written).
CREATE TABLE imports (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('leads', 'dnc')),
    client_id           bigint REFERENCES clients (id),      -- NULL: a global DNC import
    campaign_id         bigint REFERENCES campaigns (id),    -- leads: the target campaign
    list_id             bigint REFERENCES lead_lists (id),   -- set when the list landed
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    file_name           text,
    source              text NOT NULL DEFAULT 'upload' CHECK (source IN ('upload', 'cli')),
    options             jsonb NOT NULL DEFAULT '{}',         -- region, columns, DNC scope ...
    state               text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'completed', 'failed')),
    error               text,                                -- why it failed
    path                text,                                -- the upload while queued/running
    instance_id         text,                                -- the process that runs it
    created_by          text,
    encoding            text,
    delimiter           text,
    bytes_total         bigint,
    bytes_read          bigint NOT NULL DEFAULT 0,
    rows_read           bigint NOT NULL DEFAULT 0,
    accepted            bigint NOT NULL DEFAULT 0,
    dnc                 bigint NOT NULL DEFAULT 0,
    rejected            bigint NOT NULL DEFAULT 0,
    rejected_by_reason  jsonb NOT NULL DEFAULT '{}',
    warnings            jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL,
    started_at          timestamptz,
    finished_at         timestamptz,
    updated_at          timestamptz NOT NULL,
    CHECK (kind = 'dnc' OR (campaign_id IS NOT NULL AND client_id IS NOT NULL))
);
CREATE INDEX imports_unfinished_idx ON imports (id) WHERE state IN ('queued', 'running');
CREATE INDEX imports_campaign_idx ON imports (campaign_id, id);
CREATE INDEX imports_client_idx ON imports (client_id, id);

-- Every row of an import that did not become a new lead (or DNC entry): its row number in
-- the file (the header is row 1), the value as written, the reason and a readable detail.
CREATE TABLE import_rejects (
    import_id  bigint NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row_no     bigint NOT NULL,
    reason     text NOT NULL,
    value      text,
    detail     text,
    PRIMARY KEY (import_id, row_no)
);

-- Alternate numbers of a lead (E.164, from the list's alternate phone columns), and the
-- row of its list file it came from.
ALTER TABLE leads
    ADD COLUMN alt_phones text[] NOT NULL DEFAULT '{}',
    ADD COLUMN list_row   bigint;

-- The import that added a DNC entry (NULL: added one by one through the API or CLI).
ALTER TABLE dnc_entries ADD COLUMN import_id bigint REFERENCES imports (id);
CREATE INDEX dnc_entries_client_idx ON dnc_entries (client_id, id);
