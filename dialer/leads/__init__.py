"""Leads: list import (read CSV, normalise phones, resolve places, dedupe, DNC scrub, load in
one transaction) and the lead store behind the leads API.

Reading order: ``csvfile`` (the file) → ``columns`` (which column is what) → ``phones`` and
``rows`` (a chunk → staging rows, in worker processes: ``parallel``, ``pipeline``) →
``sink`` (into the campaign) → ``importer`` (one import, one transaction) → ``service``
(background imports in ``dialer serve``); ``submit`` checks a file before an import exists,
``imports`` keeps import records, ``store`` and ``push`` serve the leads API.
"""
