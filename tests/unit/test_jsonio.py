"""Responses are strict JSON: a non-finite number is sent as null, never as ``NaN``."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from dialer.http.jsonio import dumps


def _strict(text: str) -> Any:
    def refuse(token: str) -> Any:
        raise ValueError(token)

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_number_is_sent_as_null(bad: float) -> None:
    body = {"items": [{"dial_level": bad, "max_lines": 4}], "rate": bad}
    assert _strict(dumps(body)) == {"items": [{"dial_level": None, "max_lines": 4}], "rate": None}
