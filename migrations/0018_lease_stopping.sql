-- A runner that has begun to stop marks its lease, so no manual dial is accepted for a
-- campaign whose runner will not place it (the request locks the lease row FOR SHARE; the
-- mark waits for requests in flight, and requests after it see it). A new owner's takeover
-- clears it.
ALTER TABLE leases ADD COLUMN stopping boolean NOT NULL DEFAULT false;
