"""Campaigns: fields and validation, state transitions, storage."""
