"""``DIALER_SWITCHES``: the switches of a multi-switch deployment, validated when the
settings are read (docs/switches.md). Kept apart from ``dialer.config`` for size."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def _name(value: str, where: str) -> str:
    value = value.strip()
    if not value or not all(c.isascii() and (c.isalnum() or c in "-_") for c in value):
        raise ValueError(f"{where}: name must be letters, digits, '-' or '_'")
    return value


SWITCH_KEYS = {
    "sim": {"name", "gateway", "weight", "agents"},
    "ari": {"name", "gateway", "weight", "agents", "url", "user", "password", "app"},
    "esl": {"name", "gateway", "weight", "agents", "host", "port", "password", "app"},
}
SWITCH_NEEDS = {"sim": (), "ari": ("url", "user", "password"), "esl": ("password",)}


def parse_switches(raw: str, secret: Callable[[str], Any]) -> tuple[dict[str, Any], ...]:
    """``DIALER_SWITCHES``: a JSON list of switches; passwords become ``secret(...)``."""
    if not raw.strip():
        return ()
    try:
        items = json.loads(raw)
    except ValueError:
        raise ValueError("must be a JSON list of switch objects") from None
    if not isinstance(items, list) or not items:
        raise ValueError("must be a non-empty JSON list of switch objects")
    out, names = [], set()
    for i, item in enumerate(items):
        where = f"item {i}"
        if not isinstance(item, dict):
            raise ValueError(f"{where} must be an object")
        kind = item.get("gateway")
        if kind not in SWITCH_KEYS:
            raise ValueError(f"{where}: gateway must be sim, ari or esl")
        unknown = sorted(set(item) - SWITCH_KEYS[kind])
        if unknown:
            raise ValueError(f"{where}: unknown key {unknown[0]!r} for a {kind} switch")
        missing = [k for k in SWITCH_NEEDS[kind] if not item.get(k)]
        if missing:
            raise ValueError(f"{where}: a {kind} switch needs {missing[0]!r}")
        name = _name(str(item.get("name", "")), where)
        if name in names:
            raise ValueError(f"{where}: name {name!r} is used twice")
        names.add(name)
        weight = item.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
            raise ValueError(f"{where}: weight must be a positive number")
        agents = item.get("agents", [])
        if not isinstance(agents, list) or not all(isinstance(a, str) for a in agents):
            raise ValueError(f"{where}: agents must be a list of endpoints")
        spec = {**item, "name": name, "weight": float(weight), "agents": tuple(agents)}
        if "password" in spec:
            spec["password"] = secret(str(spec["password"]))
        out.append(spec)
    return tuple(out)
