-- Consent and relationship per lead (issue 21): why a person may be called. `consent` is
-- none | express | express_written | revoked; a revocation keeps the instant it was recorded
-- (the rules block from then on). `ebr_*_at`: the callee's last purchase from / inquiry to
-- the client (the seller), for the national-registry exemption.
ALTER TABLE leads
    ADD COLUMN consent text NOT NULL DEFAULT 'none'
        CHECK (consent IN ('none', 'express', 'express_written', 'revoked')),
    ADD COLUMN consent_at timestamptz,
    ADD COLUMN consent_source text CHECK (length(consent_source) <= 200),
    ADD COLUMN consent_revoked_at timestamptz,
    ADD COLUMN ebr_purchase_at timestamptz,
    ADD COLUMN ebr_inquiry_at timestamptz;

-- A campaign's commercial category (India's NCPR categories 1-8): a number whose registered
-- preference is open to it may be called.
ALTER TABLE campaigns ADD COLUMN category text CHECK (category ~ '^[1-8]$');

-- Registries carry what they mean (dialer/dnc/kinds.py): dnc, litigator, wireless,
-- reassigned (a disconnection date per number) or preference (NCPR categories as a bitmask,
-- bit n = category n; 0 = fully blocked).
ALTER TABLE dnc_registries
    ADD COLUMN kind text NOT NULL DEFAULT 'dnc'
        CHECK (kind IN ('dnc', 'litigator', 'wireless', 'reassigned', 'preference'));
ALTER TABLE dnc_registry_numbers
    ADD COLUMN since date,
    ADD COLUMN categories smallint;
