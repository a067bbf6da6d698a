-- In-call opt-out: callees who hear a recorded message (agentless, the abandon message) are
-- offered a key that puts their number on the client's DNC list. Offered where the rule
-- packs require it (it cannot be turned off there) or, with 'always', on every such message.
ALTER TABLE campaigns
    ADD COLUMN opt_out text NOT NULL DEFAULT 'where_required'
        CHECK (opt_out IN ('where_required', 'always')),
    ADD COLUMN opt_out_prompt text,
    ADD COLUMN opt_out_key text NOT NULL DEFAULT '9'
        CHECK (opt_out_key IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'));
