"""The web console: server-rendered pages over the same domain code as the API.

``setup_ui(app)`` mounts it under ``/ui/``; see docs/console.md.
"""

from dialer.ui.console import setup_ui

__all__ = ["setup_ui"]
