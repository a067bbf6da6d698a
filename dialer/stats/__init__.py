"""Campaign figures from the database: the stats report, list penetration, the call
detail export, and the campaign gauges of ``/metrics``."""

from dialer.stats.report import campaign_stats, check_window, penetration

__all__ = ["campaign_stats", "check_window", "penetration"]
