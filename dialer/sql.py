"""Named SQL blocks kept in ``.sql`` files beside the package that owns the tables.

A file holds blocks introduced by a ``-- name: <block>`` line; ``queries(package, file)``
returns ``{block: sql}``, loaded once. SQL takes ``$n`` parameters, never interpolation.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

_HEADER = re.compile(r"^--\s*name:\s*([a-z0-9_]+)\s*$", re.MULTILINE)


def parse_blocks(text: str) -> dict[str, str]:
    """Split a ``.sql`` file into its named blocks."""
    parts = _HEADER.split(text)
    blocks: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in blocks:
            raise ValueError(f"duplicate SQL block {name!r}")
        blocks[name] = body.strip()
    return blocks


@functools.cache
def queries(package: str, filename: str = "queries.sql") -> dict[str, str]:
    """The named blocks of ``filename`` inside ``package`` (cached)."""
    text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    return parse_blocks(text)
