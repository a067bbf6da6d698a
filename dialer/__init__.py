"""Outbound campaign dialer: lead import, calling rules, predictive pacing, webhooks, metrics."""

__version__ = "0.1.0"
