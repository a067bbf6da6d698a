"""The dialing engine: campaign runners, leases, the hopper, calls and their records.

See docs/engine.md. ``service.engine_context`` runs it inside ``dialer serve``.
"""
