-- Privacy: erasure, suppression, retention and subject access (docs/privacy.md).

-- name: leads_for_erasure
-- The leads to erase, locked; a lead of another client ($2 not NULL) is not returned.
SELECT l.id, l.campaign_id, c.client_id, l.phone_e164, l.alt_phones, l.retired_phones,
       l.fields, l.postal_code,
       EXISTS (SELECT 1 FROM attempts a WHERE a.lead_id = l.id AND a.ended_at IS NULL) AS on_call
FROM leads l JOIN campaigns c ON c.id = l.campaign_id
WHERE l.id = ANY($1::bigint[]) AND ($2::bigint IS NULL OR c.client_id = $2)
  AND l.erased_at IS NULL
ORDER BY l.id
FOR NO KEY UPDATE OF l;

-- name: leads_by_phone_in_client
SELECT l.id FROM leads l JOIN campaigns c ON c.id = l.campaign_id
WHERE c.client_id = $1 AND l.erased_at IS NULL
  AND (l.phone_e164 = $2 OR $2 = ANY(l.alt_phones) OR $2 = ANY(l.retired_phones))
ORDER BY l.id;

-- name: attempt_recordings
SELECT id, recording_key FROM attempts
WHERE lead_id = ANY($1::bigint[]) AND recording_key IS NOT NULL;

-- name: erase_attempts
-- Attempts keep what the reports count (outcome, durations, times, agent, disposition
-- code); the number, notes, the switch's call id and the recording go.
UPDATE attempts
SET phone_e164 = '', notes = NULL, gateway_call_id = NULL,
    recording_deleted_at = CASE WHEN recording_key IS NOT NULL
                                THEN coalesce(recording_deleted_at, $2) END,
    recording_key = NULL, recording_url = NULL, recording_sha256 = NULL, erased_at = $2
WHERE lead_id = ANY($1::bigint[]);

-- name: erase_leads
UPDATE leads
SET phone_e164 = 'erased:' || id, alt_phones = '{}', retired_phones = '{}', fields = '{}',
    postal_code = NULL, subdivision = NULL, status = 'erased', callback_agent_id = NULL,
    claimed_by = NULL, claimed_until = NULL, erased_at = $2, updated_at = $2,
    consent = 'none', consent_at = NULL, consent_source = NULL, consent_revoked_at = NULL,
    ebr_purchase_at = NULL, ebr_inquiry_at = NULL
WHERE id = ANY($1::bigint[]);

-- name: lead_events
SELECT id, payload, dispatched_at IS NULL AS undispatched FROM webhook_outbox
WHERE lead_id = ANY($1::bigint[]);

-- name: rewrite_event
UPDATE webhook_outbox SET payload = $2, dispatched_at = coalesce(dispatched_at, $3)
WHERE id = $1;

-- name: cancel_deliveries
-- Deliveries of the person's events: never sent now (pending ones are cancelled) and no
-- copy of a receiver's answer is kept.
UPDATE webhook_deliveries
SET state = CASE WHEN state = 'pending' THEN 'cancelled' ELSE state END,
    finished_at = CASE WHEN state = 'pending' THEN $2 ELSE finished_at END,
    claimed_by = NULL, last_error = NULL
WHERE outbox_id = ANY($1::bigint[]);

-- name: events_mentioning
-- Other events of the client whose payload holds one of the texts (e.g. a number), also
-- those about no lead (dnc.added).
SELECT id, payload FROM webhook_outbox
WHERE client_id = $1 AND (lead_id IS NULL OR NOT (lead_id = ANY($2::bigint[])))
  AND payload::text LIKE ANY($3::text[]);

-- name: delete_dnc_entries
-- The client's own entries for the number (its campaigns' too); the hashed suppression
-- takes their place. Global and registry entries are not the client's to erase.
DELETE FROM dnc_entries d
WHERE d.phone_e164 = ANY($2::text[])
  AND (d.client_id = $1 OR d.campaign_id IN (SELECT id FROM campaigns WHERE client_id = $1))
RETURNING d.id;

-- name: erase_import_rejects
-- Rejected rows of the client's imports that carry the number (as written, or in a detail).
UPDATE import_rejects r SET value = NULL, detail = 'erased'
FROM imports i
WHERE i.id = r.import_id AND i.client_id = $1
  AND (regexp_replace(coalesce(r.value, ''), '\D', '', 'g') LIKE ANY($2::text[])
       OR r.detail LIKE ANY($3::text[]));

-- name: audit_mentioning
SELECT id, details FROM audit_log WHERE details::text LIKE ANY($1::text[]);

-- name: rewrite_audit
UPDATE audit_log SET details = $2 WHERE id = $1;

-- name: delete_cached_responses
-- Idempotency replays that may hold the person's data (kept answers are encrypted, so by
-- path: the leads, their campaigns' pushes, DNC entries) of the client's tokens and of
-- tokens of every client; and any unencrypted answer that holds one of the texts.
DELETE FROM idempotency_keys k
WHERE (k.path LIKE ANY($2::text[])
       AND EXISTS (SELECT 1 FROM api_tokens t
                   WHERE t.id = k.token_id AND (t.client_id IS NULL OR t.client_id = $3)))
   OR EXISTS (SELECT 1 FROM unnest($1::bytea[]) AS n(needle)
              WHERE position(n.needle IN coalesce(k.body, ''::bytea)) > 0);

-- name: flashes_mentioning
SELECT id, flash FROM ui_sessions WHERE flash::text LIKE ANY($1::text[]);

-- name: rewrite_flash
UPDATE ui_sessions SET flash = $2 WHERE id = $1;

-- name: suppress
INSERT INTO privacy_suppressions (client_id, phone_hash, reason, created_at)
SELECT $1, sha256(k.key || convert_to(p.phone, 'UTF8')), 'erased', $3
FROM privacy_key k, unnest($2::text[]) AS p(phone)
ON CONFLICT (client_id, phone_hash) DO NOTHING;

-- name: suppressed_numbers
SELECT p.phone FROM privacy_key k, unnest($2::text[]) AS p(phone)
WHERE EXISTS (SELECT 1 FROM privacy_suppressions s
              WHERE s.client_id = $1 AND s.phone_hash = sha256(k.key || convert_to(p.phone, 'UTF8')));

-- name: drop_suppressed_staging
-- A list import: staged rows of erased people leave the staging table (reason "erased").
DELETE FROM import_staging s
USING privacy_key k
WHERE EXISTS (SELECT 1 FROM privacy_suppressions p
              WHERE p.client_id = $1
                AND p.phone_hash = sha256(k.key || convert_to(s.phone_e164, 'UTF8')))
RETURNING s.row_no, s.raw_phone;

-- name: is_suppressed
SELECT EXISTS (SELECT 1 FROM privacy_suppressions p, privacy_key k
               WHERE p.client_id = $1
                 AND p.phone_hash = sha256(k.key || convert_to($2, 'UTF8')));

-- name: get_retention
SELECT id, name, lead_retention_days FROM clients WHERE id = $1;

-- name: set_retention
UPDATE clients SET lead_retention_days = $2 WHERE id = $1
RETURNING id, name, lead_retention_days;

-- name: expired_leads
-- Leads whose last activity (created, last called) is older than their client's retention,
-- not on a call now; oldest first, one batch.
SELECT l.id, c.client_id FROM leads l
JOIN campaigns c ON c.id = l.campaign_id
JOIN clients cl ON cl.id = c.client_id
WHERE cl.lead_retention_days IS NOT NULL AND l.erased_at IS NULL
  AND l.created_at < $1::timestamptz - make_interval(days => cl.lead_retention_days)
  AND coalesce(l.last_attempt_at, l.created_at) < $1::timestamptz - make_interval(days => cl.lead_retention_days)
  AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.lead_id = l.id AND a.ended_at IS NULL)
ORDER BY l.id
LIMIT $2;

-- name: export_leads
SELECT l.*, c.client_id, c.name AS campaign_name
FROM leads l JOIN campaigns c ON c.id = l.campaign_id
WHERE c.client_id = $1 AND l.erased_at IS NULL
  AND (l.phone_e164 = $2 OR $2 = ANY(l.alt_phones) OR $2 = ANY(l.retired_phones))
ORDER BY l.id;

-- name: export_attempts
SELECT a.id, a.lead_id, a.campaign_id, a.phone_e164, a.started_at, a.answered_at,
       a.connected_at, a.ended_at, a.outcome, a.answer, a.disposition, a.notes, a.agent_id,
       ag.name AS agent_name, a.ring_s, a.wait_s, a.talk_s, a.caller_id, a.compliance,
       a.recording_notice, a.recording_s, a.recording_sha256, a.recording_deleted_at,
       a.recording_key IS NOT NULL AND a.recording_deleted_at IS NULL AS has_recording
FROM attempts a LEFT JOIN agents ag ON ag.id = a.agent_id
WHERE a.lead_id = ANY($1::bigint[])
ORDER BY a.id;

-- name: export_dnc
SELECT d.id, d.phone_e164, d.client_id, d.campaign_id, d.source, d.reason, d.created_at,
       d.expires_at
FROM dnc_entries d
WHERE d.phone_e164 = $2
  AND (d.client_id IS NULL OR d.client_id = $1
       OR d.campaign_id IN (SELECT id FROM campaigns WHERE client_id = $1))
ORDER BY d.id;

-- name: export_deliveries
SELECT o.event_id, o.type, o.lead_id, o.created_at, o.payload, d.subscription_id, d.state,
       d.attempts, d.delivered_at, d.last_status
FROM webhook_outbox o LEFT JOIN webhook_deliveries d ON d.outbox_id = o.id
WHERE o.client_id = $1 AND o.lead_id = ANY($2::bigint[])
ORDER BY o.id, d.id;

-- name: expired_attempts
-- Attempts older than their client's retention of leads that are kept (called again since):
-- their notes and recordings go; outcome, times and durations stay. One batch.
SELECT a.id, a.recording_key FROM attempts a
JOIN campaigns c ON c.id = a.campaign_id
JOIN clients cl ON cl.id = c.client_id
WHERE cl.lead_retention_days IS NOT NULL AND a.erased_at IS NULL AND a.ended_at IS NOT NULL
  AND a.started_at < $1::timestamptz - make_interval(days => cl.lead_retention_days)
ORDER BY a.id
LIMIT $2;

-- name: erase_attempt_rows
UPDATE attempts
SET notes = NULL, gateway_call_id = NULL,
    recording_deleted_at = CASE WHEN recording_key IS NOT NULL
                                THEN coalesce(recording_deleted_at, $2) END,
    recording_key = NULL, recording_url = NULL, recording_sha256 = NULL, erased_at = $2
WHERE id = ANY($1::bigint[]);
