"""CRM webhooks: events written to a transactional outbox, delivered signed with retries."""
