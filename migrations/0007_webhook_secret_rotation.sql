-- Webhook secret rotation: POST /api/v1/webhooks/{id}/rotate-secret replaces a
-- subscription's signing secret and keeps the one it replaced for a grace period, during
-- which every delivery carries two signatures (`v1=` under each secret) so the CRM can
-- switch its verifier without refusing a single request.
--
-- `previous_secret_ciphertext` is encrypted exactly like `secret_ciphertext` (Fernet, never
-- returned); it is used only while `previous_secret_expires_at` is in the future. Only one
-- previous secret is kept: rotating again within the grace period drops the oldest one.
ALTER TABLE webhook_subscriptions
    ADD COLUMN previous_secret_ciphertext bytea,
    ADD COLUMN previous_secret_expires_at timestamptz,
    ADD COLUMN secret_rotated_at timestamptz;
