"""What every input must be before any domain code sees it: the one place the API (JSON
bodies, query strings, path ids), the console's forms and the CLI check the shapes no
field-level validator should have to think about.

- numbers are finite (no NaN, no ±Infinity) and integers fit PostgreSQL's ``bigint``;
- text is valid UTF-8 without NUL (PostgreSQL cannot store either: a lone surrogate or a
  NUL byte would otherwise fail deep inside a query);
- JSON documents nest at most ``MAX_DEPTH`` levels;
- instants lie between ``EARLIEST`` and ``LATEST`` (year 1 with a positive offset, or year
  9999 with a negative one, does not exist in UTC).

Each check raises ``ValidationError`` naming the field at fault (HTTP 400, CLI exit 2).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from dialer.errors import NotFound, ValidationError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_DEPTH = 32
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid UTF-8 text (it holds a lone surrogate)"
    return None


def check_text(value: str, field: str) -> str:
    """``value`` when it is storable text; ``ValidationError`` naming ``field`` otherwise."""
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(f"{field} {problem}", field=field)
    return value


def number_problem(value: int | float) -> str | None:
    """Why ``value`` is not an acceptable number, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            return "must be an integer between -2^63 and 2^63-1"
        return None
    if not math.isfinite(value):
        return "must be a finite number"
    return None


def _join(path: str, key: object) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))


def check_tree(data: Any, field: str = "") -> Any:
    """``data`` (a parsed JSON document) when every string, key and number in it is
    acceptable and it nests at most ``MAX_DEPTH`` levels; ``ValidationError`` naming the
    first offending path (``retry_policy.busy``, ``events[2]``) otherwise."""
    stack: list[tuple[Any, str, int]] = [(data, field, 0)]
    while stack:
        value, path, depth = stack.pop()
        name = path or "body"
        if isinstance(value, str):
            check_text(value, name)
        elif isinstance(value, int | float):
            problem = number_problem(value)
            if problem is not None:
                raise ValidationError(f"{name} {problem}", field=name)
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise ValidationError(f"body nests deeper than {MAX_DEPTH} levels", field="body")
            items: Iterable[tuple[Any, Any]]
            if isinstance(value, dict):
                for key in value:
                    check_text(key, name)  # a bad key cannot name itself in the answer
                items = value.items()
            else:
                items = enumerate(value)
            stack.extend((item, _join(path, key), depth + 1) for key, item in items)
    return data


def _no_constant(name: str) -> Any:
    raise ValidationError(f"body holds {name}, which is not a JSON number", field="body")


def parse_json(raw: bytes | str) -> Any:
    """A JSON document checked by ``check_tree``; ``ValidationError`` (field ``body``) for
    anything unreadable: bad syntax, NaN/Infinity literals, nesting past the limit."""
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ValidationError(f"body nests deeper than {MAX_DEPTH} levels", field="body") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"request body is not valid JSON: {exc}", field="body") from None
    return check_tree(data)


def check_fields(values: Mapping[str, Any], *, what: str = "") -> Mapping[str, Any]:
    """``values`` (a form or query string) when every name and text value is storable."""
    for key, value in values.items():
        check_text(key, f"{what}name")
        if isinstance(value, str):
            check_text(value, key)
    return values


def path_id(text: str, what: str) -> int:
    """A path segment of digits as an id; one past ``bigint`` names nothing (NotFound)."""
    value = int(text)
    if value > INT64_MAX:
        raise NotFound(f"{what} {text} does not exist")
    return value


def check_instant(moment: datetime, field: str) -> datetime:
    """``moment`` (aware) when it lies in the years the service stores."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValidationError(
            f"{field} must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)",
            field=field,
        )
    return moment
