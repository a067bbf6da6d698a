"""How every benchmark prints its figures: one JSON object with ``--json``, else aligned
``key: value`` lines."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def print_figures(figures: Mapping[str, Any], *, as_json: bool, skip: tuple[str, ...] = ()) -> None:
    """Print ``figures``; ``skip`` names keys too long for the aligned lines (JSON keeps
    them)."""
    if as_json:
        print(json.dumps(figures, default=str))
        return
    shown = {k: v for k, v in figures.items() if k not in skip}
    width = max((len(k) for k in shown), default=0)
    for key, value in shown.items():
        print(f"{key:>{width}}: {value}")
