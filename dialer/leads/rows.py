"""One chunk of a list file → staging rows (PostgreSQL COPY text) and rejected rows.

Runs in worker processes (see ``parallel.py``): decode, split into records, pick the
columns, normalise the phone number(s), resolve the callee's place, and write the rows the
database will stage. Everything here is a pure function of its arguments, so a chunk gives
the same result in any process, and the expensive part (parsing numbers) scales with cores.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring

from dialer.compliance.place import Place, resolve_place
from dialer.errors import ValidationError
from dialer.leads import consent, phones
from dialer.leads.columns import ColumnMap
from dialer.leads.csvfile import decode

LEADS = "leads"
DNC = "dnc"

_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_LONE_CR = re.compile(r"\r(?!\n)")
_NULL = "\\N"
_VALUE_MAX = 500
_ADDRESS_CACHE_MAX = 100_000
_string = encode_basestring  # a JSON string literal (C): quotes, escapes, keeps Unicode
_EXTENSION_KEY = '"phone_extension":'

# Warnings: rows that loaded, but not everything in them was usable.
BAD_ADDRESS = "address_not_used"  # state/postal code unknown or not of the number's country
BAD_ALTERNATE = "alternate_phone_invalid"  # kept as written in fields
BAD_PRIORITY = "priority_not_integer"
INVALID_CONSENT = "invalid_consent"  # a rejection: the row's consent cannot be read


@dataclass(frozen=True, slots=True)
class RowSpec:
    """How to read the rows of one import (sent with every chunk; small)."""

    kind: str
    columns: ColumnMap
    delimiter: str
    encoding: str
    default_region: str | None


@dataclass(slots=True)
class ChunkResult:
    """What a chunk gave: COPY rows for the staging table, rejections, counts."""

    first_row: int
    rows: int = 0  # data rows (blank lines not counted)
    staged: int = 0
    payload: bytes = b""
    rejects: list[tuple[int, str, str, str]] = field(default_factory=list)
    warnings: Counter[str] = field(default_factory=Counter)
    error: str | None = None  # the chunk cannot be read: the import fails
    cpu_s: float = 0.0  # CPU time the worker spent on the chunk (for throughput figures)


def _text(value: str | None) -> str:
    return _NULL if value is None else value.translate(_COPY_ESCAPE)


def _key(name: str) -> str:
    return _string(name) + ":"


def _array(values: tuple[str, ...] | list[str]) -> str:
    return "{" + ",".join(values) + "}"  # E.164 numbers and IANA zone names need no quoting


_address_cache: dict[tuple[Place, str, str], Place | None] = {}


def place_for(number: phones.Number, state: str, postal: str, warnings: Counter[str]) -> Place:
    """The callee's place; an address that does not fit the number only warns.

    The address step is memoised on (the number's own place, state, postal code): in
    ``resolve_place`` it depends on nothing else, and lists repeat states and ZIP codes.
    """
    place = resolve_place(number.parsed)
    if not state and not postal:
        return place
    key = (place, state, postal)
    if key in _address_cache:
        narrowed = _address_cache[key]
    else:
        try:
            narrowed = resolve_place(number.parsed, state=state or None, postal_code=postal or None)
        except ValueError:
            narrowed = None
        if len(_address_cache) >= _ADDRESS_CACHE_MAX:
            _address_cache.clear()
        _address_cache[key] = narrowed
    if narrowed is None:
        warnings[BAD_ADDRESS] += 1
        return place
    return narrowed


_place_texts: dict[int, tuple[Place, str]] = {}


def _place_text(place: Place) -> str:
    """region, subdivision and zones as COPY columns; memoised per Place object (the place
    resolver returns the same object for every number of an area code / prefix). The entry
    keeps the object alive, so its id cannot be reused while it is cached."""
    entry = _place_texts.get(id(place))
    if entry is not None and entry[0] is place:
        return entry[1]
    text = "\t".join((place.region or _NULL, place.subdivision or _NULL, _array(place.time_zones)))
    if len(_place_texts) >= _ADDRESS_CACHE_MAX:
        _place_texts.clear()
    _place_texts[id(place)] = (place, text)
    return text


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


class _Chunk:
    """The per-chunk state of ``process_chunk`` (kept out of the hot loop's locals)."""

    def __init__(self, spec: RowSpec, result: ChunkResult) -> None:
        self.spec = spec
        self.cols = spec.columns
        self.region = spec.default_region
        self.result = result
        self.out: list[str] = []
        self.keys = tuple(None if n is None else _key(n) for n in self.cols.field_names)
        self.extension_free = "phone_extension" not in self.cols.field_names

    def reject(self, row_no: int, reason: str, value: str, detail: str) -> None:
        self.result.rejects.append((row_no, reason, value[:_VALUE_MAX], detail))

    def alternates(self, row: list[str], primary: str, fields: list[str]) -> list[str]:
        found: list[str] = []
        for index in self.cols.alternates:
            raw = _cell(row, index)
            if not raw:
                continue
            number = phones.normalise_number(raw, self.region)
            if isinstance(number, phones.Number):
                if number.e164 != primary and number.e164 not in found:
                    found.append(number.e164)
            else:
                self.result.warnings[BAD_ALTERNATE] += 1
                fields.append(_key(self.cols.names[index]) + _string(raw))
        return found

    def priority(self, row: list[str]) -> int:
        text = _cell(row, self.cols.priority)
        try:
            priority = int(text) if text else 0
        except ValueError:
            self.result.warnings[BAD_PRIORITY] += 1
            return 0
        if not -(2**31) <= priority < 2**31:
            self.result.warnings[BAD_PRIORITY] += 1
            return 0
        return priority

    def consent(self, row_no: int, row: list[str]) -> str | None:
        """The row's consent columns as JSON for the staging row (``\\N``: none); None when
        a value is bad (the row is rejected, naming the column)."""
        values = {name: _cell(row, index) for name, index in self.cols.consent}
        if not any(values.values()):
            return _NULL
        try:
            found = consent.parse(values)
        except ValidationError as exc:
            value = values.get(exc.field or "", "")
            self.reject(row_no, INVALID_CONSENT, value, f"{exc.field}: {exc.message}")
            return None
        return _text(json.dumps(found.to_json()))

    def lead_row(
        self, row_no: int, raw: str, number: phones.Number, row: list[str], given: str
    ) -> str:
        cols = self.cols
        # The fields document, written directly (the hot path: no dict, no encoder object).
        fields = [
            key + _string(value)
            for key, value in zip(self.keys, row, strict=False)
            if key is not None and value and not value.isspace()
        ]
        if number.extension and self.extension_free:
            fields.append(_EXTENSION_KEY + _string(number.extension))
        alternates = self.alternates(row, number.e164, fields) if cols.alternates else []
        postal = _cell(row, cols.postal)
        place = place_for(number, _cell(row, cols.state), postal, self.result.warnings)
        priority = 0 if cols.priority is None else self.priority(row)
        document = "{" + ",".join(fields) + "}"
        return "\t".join(
            (
                str(row_no),
                _text(raw),
                number.e164,
                _array(alternates),
                _text(postal) if postal else _NULL,
                _place_text(place),
                document.replace("\\", "\\\\"),
                str(priority),
                given,
            )
        )


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        text = _LONE_CR.sub(" ", text)  # a lone CR would split a record in two
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)


def process_chunk(spec: RowSpec, first_row: int, data: bytes) -> ChunkResult:
    """Normalise one chunk of records; ``first_row`` is the row number of its first record."""
    started = time.process_time()
    result = _process(spec, first_row, data)
    result.cpu_s = time.process_time() - started
    return result


def _process(spec: RowSpec, first_row: int, data: bytes) -> ChunkResult:
    result = ChunkResult(first_row)
    text = decode(data, spec.encoding)
    if "\x00" in text:
        line = first_row + text[: text.index("\x00")].count("\n")
        result.error = f"row {line}: binary data (NUL bytes); this is not a CSV file"
        return result
    chunk = _Chunk(spec, result)
    cols = spec.columns
    width = cols.width
    phone_index = cols.phone
    area_index = cols.area_code
    leads = spec.kind == LEADS
    region = spec.default_region
    out = chunk.out
    row_no = first_row - 1
    try:
        for row in _records(text, spec.delimiter):
            row_no += 1
            if len(row) > width and any(c.strip() for c in row[width:]):
                result.rows += 1
                chunk.reject(
                    row_no,
                    phones.MALFORMED_ROW,
                    spec.delimiter.join(row),
                    f"{len(row)} fields where the header has {width} "
                    "(a value with an unquoted delimiter?)",
                )
                continue
            raw = row[phone_index].strip() if phone_index < len(row) else ""
            if not raw:
                if not any(c.strip() for c in row):
                    continue  # blank line
                result.rows += 1
                chunk.reject(row_no, phones.MISSING_PHONE, "", "no number in the phone column")
                continue
            result.rows += 1
            if area_index is not None:
                raw = _cell(row, area_index) + raw
            number = phones.normalise_number(raw, region)
            if isinstance(number, phones.Rejection):
                chunk.reject(row_no, number.reason, raw, number.detail)
                continue
            if leads:
                given = chunk.consent(row_no, row) if cols.consent else _NULL
                if given is not None:
                    out.append(chunk.lead_row(row_no, raw, number, row, given))
            else:
                out.append(f"{row_no}\t{_text(raw)}\t{number.e164}")
    except csv.Error as exc:
        problem = str(exc)
        if "field limit" in problem:
            problem = (
                f"a field longer than {csv.field_size_limit()} characters: probably a quote "
                'that never closes (an unbalanced ")'
            )
        result.error = f"row {row_no + 1}: {problem}"
        return result
    result.staged = len(out)
    if out:
        out.append("")
        result.payload = "\n".join(out).encode("utf-8")
    return result


def staging_columns(kind: str) -> tuple[str, ...]:
    """The staging table's columns, in the order of ``process_chunk``'s COPY rows."""
    if kind == LEADS:
        return (
            "row_no",
            "raw_phone",
            "phone_e164",
            "alt_phones",
            "postal_code",
            "region",
            "subdivision",
            "time_zones",
            "fields",
            "priority",
            "consent",
        )
    return ("row_no", "raw_phone", "phone_e164")


def warm_up(backend: str | None = None) -> None:
    """Worker start: choose the parser, load phonenumbers' metadata and the place tables."""
    phones.warm_up(backend=backend)
    number = phones.normalise_number("+12125550142", None)
    if isinstance(number, phones.Number):
        resolve_place(number.parsed, state="NY", postal_code="10001")
