"""The metric names a PromQL expression (or a Grafana variable query) reads, and the sample
names a prometheus_client metric family exposes: enough to check that dashboards and alerts
only ask for series the service really exports.

Not a PromQL parser: a tokenizer that knows which identifiers are not metric names
(functions and aggregations before ``(``, keywords, label lists after ``by``/``on``/...,
label matchers inside ``{}``, durations inside ``[]``, strings, Grafana ``$variables``).
An identifier it cannot classify is reported as a metric name, so a mistake shows up as a
"missing metric" failure, never as a silent pass; a ``__name__`` regex raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
     "offset", "bool", "inf", "nan", "atan2"}
)  # fmt: skip
AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
     "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
)  # fmt: skip
LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_NUMBER = re.compile(r"(0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)[A-Za-z0-9_.]*")
_VARIABLE = re.compile(r"\$(\{[^}]*\}|[A-Za-z0-9_]+)")
_MATCHER = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*")


class PromQLError(ValueError):
    """An expression this extractor cannot read honestly."""


@dataclass(frozen=True)
class Token:
    kind: str  # ident, number, string, var, braces, range, punct
    text: str


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        if text[i] == "\\" and quote != "`":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    raise PromQLError(f"unterminated string in {text!r}")


def _closing(text: str, start: int, opening: str, closing: str) -> int:
    """Index just after the bracket matching ``text[start]`` (strings skipped)."""
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch in "\"'`":
            i = _string_end(text, i)
            continue
        if ch == opening:
            depth += 1
        elif ch == closing:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise PromQLError(f"unbalanced {opening!r} in {text!r}")


def tokens(text: str) -> Iterator[Token]:
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif ch in "\"'`":
            end = _string_end(text, i)
            yield Token("string", text[i:end])
            i = end
        elif ch == "{":
            end = _closing(text, i, "{", "}")
            yield Token("braces", text[i + 1 : end - 1])
            i = end
        elif ch == "[":
            end = _closing(text, i, "[", "]")
            yield Token("range", text[i + 1 : end - 1])
            i = end
        elif ch == "$":
            m = _VARIABLE.match(text, i)
            if m is None:
                raise PromQLError(f"bad variable at {text[i:]!r}")
            yield Token("var", m.group(0))
            i = m.end()
        elif ch.isdigit() or (ch == "." and i + 1 < len(text) and text[i + 1].isdigit()):
            m = _NUMBER.match(text, i)
            assert m is not None
            yield Token("number", m.group(0))
            i = m.end()
        elif m := _IDENT.match(text, i):
            yield Token("ident", m.group(0))
            i = m.end()
        else:
            yield Token("punct", ch)
            i += 1


def _name_matchers(braces: str) -> Iterator[str]:
    """Metric names given as ``{__name__="x"}``; a regex on ``__name__`` raises."""
    i = 0
    while i < len(braces):
        m = _MATCHER.match(braces, i)
        if m is None:
            if braces[i:].strip(" ,") == "":
                return
            raise PromQLError(f"cannot read label matchers {braces!r}")
        end = _string_end(braces, m.end()) if braces[m.end() : m.end() + 1] in "\"'`" else None
        if end is None:
            raise PromQLError(f"label value must be a string in {braces!r}")
        if m.group(1) == "__name__":
            if m.group(2) != "=":
                raise PromQLError(f"a __name__ regex cannot be checked: {braces!r}")
            yield braces[m.end() + 1 : end - 1]
        i = end
        while i < len(braces) and braces[i] in " ,\n\t":
            i += 1


def metric_names(expr: str) -> set[str]:
    """Every metric name ``expr`` selects."""
    toks = list(tokens(expr))
    names: set[str] = set()
    i = 0
    while i < len(toks):
        tok = toks[i]
        after = toks[i + 1] if i + 1 < len(toks) else None
        if tok.kind == "braces":
            names.update(_name_matchers(tok.text))
        elif tok.kind == "ident":
            word = tok.text
            if word in LABEL_LISTS and after is not None and after.text == "(":
                depth, i = 0, i + 1  # skip the label list "(a, b)"
                while i < len(toks):
                    depth += {"(": 1, ")": -1}.get(toks[i].text, 0)
                    if depth == 0:
                        break
                    i += 1
            elif (
                word.lower() in KEYWORDS
                or (after is not None and after.text == "(")
                or (word in AGGREGATIONS and after is not None and after.text in LABEL_LISTS)
            ):
                pass  # a keyword, a function or aggregation called, "sum by (...) (...)"
            else:
                names.add(word)
                if after is not None and after.kind == "braces":
                    list(_name_matchers(after.text))  # the selector's matchers: checked only
                    i += 1
        i += 1
    return names


def _split_args(text: str) -> list[str]:
    """Top-level comma-separated arguments of a call's inside."""
    args, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "\"'`":
            i = _string_end(text, i)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(text[start:i])
            start = i + 1
        i += 1
    args.append(text[start:])
    return [a.strip() for a in args]


def variable_names(query: str) -> set[str]:
    """Metric names a Grafana Prometheus variable query reads."""
    q = query.strip()
    m = re.match(r"^(label_values|query_result|label_names|metrics)\s*\(", q)
    if m is None:
        return metric_names(q)
    inner = q[m.end() - 1 :]
    if _closing(inner, 0, "(", ")") != len(inner):
        raise PromQLError(f"trailing text after {m.group(1)}(...) in {query!r}")
    args = _split_args(inner[1:-1])
    if m.group(1) == "query_result":
        return metric_names(args[0])
    if m.group(1) == "label_values" and len(args) == 2:
        return metric_names(args[0])
    if m.group(1) == "metrics":
        raise PromQLError(f"metrics(regex) cannot be checked: {query!r}")
    return set()  # label_values(label), label_names(): no metric named


# How prometheus_client's text exposition names the samples of each family type.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "unknown": ("",),
}


def sample_names(family_name: str, family_type: str) -> set[str]:
    """The series names a family of this name and type is scraped as."""
    return {family_name + s for s in SUFFIXES[family_type]}


def exposed_names(families: Iterable[tuple[str, str]]) -> set[str]:
    names: set[str] = set()
    for name, kind in families:
        names |= sample_names(name, kind)
    return names
