"""Every ARI request the fake Asterisk receives, checked against Asterisk's own definitions.

The resource files in ``ari_api_docs/`` (vendored from Asterisk, see its README) list each
path, method and parameter ARI accepts. ``AriSpec.check`` says what is wrong with a request
(an unknown path or method, an unknown or missing parameter, a value outside the listed
ones, a number that is not a number), so a test fails when the adapter asks for something
a real Asterisk would not understand, even if the fake happens to.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOCS = Path(__file__).with_name("ari_api_docs")
NUMBERS = {"int": re.compile(r"-?\d+"), "long": re.compile(r"-?\d+")}
BOOLEANS = {"true", "false"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    pattern: re.Pattern[str]
    params: dict[str, dict[str, Any]]  # name → its definition (query and body only)


class AriSpec:
    """The operations of the vendored resource files."""

    def __init__(self, docs: Path = DOCS) -> None:
        self.operations: list[Operation] = []
        for file in sorted(docs.glob("*.json")):
            for api in json.loads(file.read_text())["apis"]:
                regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(api["path"]))
                pattern = re.compile(f"^{regex}$")
                for op in api["operations"]:
                    params = {
                        p["name"]: p
                        for p in op.get("parameters", [])
                        if p["paramType"] in ("query", "body")
                    }
                    self.operations.append(
                        Operation(op["httpMethod"], api["path"], pattern, params)
                    )

    def check(self, method: str, path: str, query: dict[str, str], body: Any = None) -> list[str]:
        """What is wrong with ``method path?query`` (``path`` below ``/ari``); [] if valid."""
        found = [op for op in self.operations if op.pattern.match(path)]
        if not found:
            return [f"{method} {path}: no such ARI resource"]
        op = next((o for o in found if o.method == method), None)
        if op is None:
            return [f"{method} {path}: ARI does not allow {method} on {found[0].path}"]
        problems = []
        for name, value in query.items():
            spec = op.params.get(name)
            if spec is None or spec["paramType"] != "query":
                problems.append(f"{method} {op.path}: unknown parameter {name!r}")
                continue
            problems += _value_problems(method, op.path, name, value, spec)
        for name, spec in op.params.items():
            if spec.get("required") and spec["paramType"] == "query" and name not in query:
                problems.append(f"{method} {op.path}: missing required parameter {name!r}")
        if isinstance(body, dict):
            for name in body:
                spec = op.params.get(name)
                if spec is None or spec["paramType"] != "body":
                    problems.append(f"{method} {op.path}: unknown body field {name!r}")
        return problems


def _value_problems(
    method: str, path: str, name: str, value: str, spec: dict[str, Any]
) -> list[str]:
    kind = spec.get("dataType", "string")
    number = NUMBERS.get(kind)
    if number is not None and not number.fullmatch(value):
        return [f"{method} {path}: {name}={value!r} is not an {kind}"]
    if kind == "boolean" and value not in BOOLEANS:
        return [f"{method} {path}: {name}={value!r} is not a boolean"]
    allowed = (spec.get("allowableValues") or {}).get("values")
    if allowed:
        values = value.split(",") if spec.get("allowMultiple") else [value]
        bad = [v for v in values if v not in allowed]
        if bad:
            return [f"{method} {path}: {name}={bad[0]!r} is not one of {allowed}"]
    return []


@functools.cache
def ari_spec() -> AriSpec:
    return AriSpec()
