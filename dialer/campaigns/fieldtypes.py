"""Parsers of campaign field values (``campaigns.model``): each takes the field's name and
the value given and returns the value to store, or raises ``ValidationError`` naming the
field."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from dialer.errors import ValidationError


def _fail(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field} {message}", field=field)


def _string(max_len: int, *, nullable: bool = False) -> Callable[[str, Any], Any]:
    def parse(field: str, value: Any) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not value.strip():
            raise _fail(field, "must be a non-empty string")
        if len(value.strip()) > max_len:
            raise _fail(field, f"must be at most {max_len} characters")
        return value.strip()

    return parse


def _choice(options: tuple[str, ...]) -> Callable[[str, Any], str]:
    def parse(field: str, value: Any) -> str:
        if value not in options:
            raise _fail(field, f"must be one of {', '.join(options)}")
        return str(value)

    return parse


def _number(
    lo: float, hi: float, *, integer: bool = False, nullable: bool = False, lo_open: bool = False
) -> Callable[[str, Any], Any]:
    kind = "an integer" if integer else "a number"
    low = f"greater than {lo:g}" if lo_open else f"at least {lo:g}"

    def parse(field: str, value: Any) -> Any:
        if value is None and nullable:
            return None
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or not math.isfinite(value):
            raise _fail(field, f"must be {kind}")
        if (value <= lo if lo_open else value < lo) or value > hi:
            raise _fail(field, f"must be {kind} {low} and at most {hi:g}")
        return value

    return parse


def _bool(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(field, "must be true or false")
    return value
