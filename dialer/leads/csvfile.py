"""Reading a CSV file of unknown origin: encoding, delimiter and header, then records in chunks.

``inspect_file`` looks at the start of the file and either describes it (``FileLayout``) or
says in one line why it is not a usable CSV file. ``read_chunks`` then streams the file as
chunks of whole records (raw bytes, a few thousand records each) for the worker processes to
parse; it never holds more than one chunk, so files of millions of rows need little memory.

Encodings: UTF-8 with or without BOM; a file that is not UTF-8 is read as Windows-1252
(the superset of Latin-1 that spreadsheets write), and a stray non-UTF-8 byte inside a UTF-8
file is read the same way instead of failing the import. UTF-16 (with BOM) and old Mac
line ends (CR only) are transcoded to UTF-8 on the way.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dialer.errors import UsageError

SAMPLE_BYTES = 256 * 1024
SAMPLE_ROWS = 50
DELIMITERS = (",", ";", "\t", "|")
MAX_RECORD_BYTES = 1024 * 1024
FALLBACK = "dialer-cp1252"

# Windows-1252 where it is defined, Latin-1 for its five holes.
_CP1252 = tuple(bytes([b]).decode("cp1252", errors="replace") for b in range(256))
_BYTE_TEXT = tuple(
    c if c != "\ufffd" else bytes([b]).decode("latin-1") for b, c in enumerate(_CP1252)
)


def _fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "".join(_BYTE_TEXT[b] for b in exc.object[exc.start : exc.end]), exc.end


codecs.register_error(FALLBACK, _fallback)

_MAGIC = (
    (b"PK\x03\x04", "a zip archive or Excel workbook (.xlsx): save it as CSV and upload that"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls): save it as CSV and upload that"),
    (b"\x1f\x8b", "a gzip-compressed file: uncompress it first"),
    (b"%PDF", "a PDF document, not CSV"),
)


@dataclass(frozen=True, slots=True)
class FileLayout:
    """What ``inspect_file`` learned about a CSV file."""

    size: int
    encoding: str  # as found: utf-8, utf-8-sig, cp1252, utf-16
    transport: str  # encoding of the chunk bytes given to workers (utf-8 or cp1252)
    transcode: bool  # read through a text decoder (UTF-16, CR-only line ends)
    skip: int  # bytes of BOM to skip
    delimiter: str
    has_header: bool
    header: tuple[str, ...]
    sample: tuple[tuple[str, ...], ...]  # the first data rows


@dataclass(frozen=True, slots=True)
class RawChunk:
    """Whole records of the file: ``first_row`` is the row number of the first one."""

    first_row: int
    records: int
    data: bytes
    offset: int  # bytes of the file read so far


class BadFile(UsageError):
    """The file cannot be read as CSV (at the start: before an import; later: fails it)."""


def decode(data: bytes, encoding: str) -> str:
    """Bytes of a file in ``encoding``; bytes that do not fit are read as Windows-1252."""
    return data.decode(encoding, FALLBACK)


def _is_utf8(head: bytes) -> bool:
    cut = head.rfind(b"\n") + 1 if len(head) == SAMPLE_BYTES else len(head)
    try:
        head[: cut or len(head)].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _detect_encoding(head: bytes) -> tuple[str, str, bool, int]:
    """(encoding, transport, transcode, skip) from the first bytes of the file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "utf-8", False, 3
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "utf-8", True, 0
    if b"\x00" in head:
        raise BadFile("this is not a text file (it contains binary data): upload a CSV file")
    encoding = "utf-8" if _is_utf8(head) else "cp1252"
    cr_only = b"\r" in head and b"\n" not in head
    return encoding, ("utf-8" if cr_only else encoding), cr_only, 0


def _records(text: str, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if row and any(c.strip() for c in row):
                rows.append(row)
            if len(rows) > SAMPLE_ROWS:
                break
    except csv.Error as exc:
        raise BadFile(f"this is not a readable CSV file: {exc}") from None
    return rows


def _choose_delimiter(text: str) -> tuple[str, list[list[str]]]:
    """The delimiter that splits the sample into the most consistent rows."""
    best: tuple[float, int] = (-1.0, 0)
    chosen = ",", _records(text, ",")
    for delimiter in DELIMITERS:
        rows = _records(text, delimiter)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistency = sum(len(r) == width for r in rows) / len(rows)
        if (consistency, width) > best:
            best = (consistency, width)
            chosen = delimiter, rows
    return chosen


def _looks_like_phone(cell: str) -> bool:
    digits = sum(c.isdigit() for c in cell)
    letters = sum(c.isalpha() for c in cell)
    return digits >= 6 and letters <= 3


def inspect_file(path: Path) -> FileLayout:
    """Describe ``path`` as CSV, or raise ``BadFile`` saying what is wrong with it."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(SAMPLE_BYTES)
    except FileNotFoundError:
        raise BadFile(f"no such file: {path}") from None
    except IsADirectoryError:
        raise BadFile(f"{path} is a directory, not a CSV file") from None
    except OSError as exc:
        raise BadFile(f"cannot read {path}: {exc.strerror}") from None
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise BadFile(f"this is {what}")
    encoding, transport, transcode, skip = _detect_encoding(head)
    if not head[skip:].strip():
        raise BadFile("the file is empty: it needs a header row and at least one number")
    if len(head) == SAMPLE_BYTES:  # drop the last, probably cut, line
        end = max(head.rfind(b"\n"), head.rfind(b"\r"))
        if end <= skip:
            raise BadFile(
                f"the first line is longer than {SAMPLE_BYTES // 1024} KiB: this is not a "
                "CSV file of one record per line, or its header has too many columns"
            )
        head = head[:end]
    text = head[skip:].decode("utf-16" if encoding == "utf-16" else encoding, FALLBACK)
    delimiter, rows = _choose_delimiter(text.lstrip("\ufeff"))
    if not rows:
        raise BadFile("the file is empty: it needs a header row and at least one number")
    first = rows[0]
    has_header = not any(_looks_like_phone(c) for c in first)
    width = max(len(first), 1)
    header = tuple(c.strip() for c in first) if has_header else _generated_header(width)
    data_rows = rows[1:] if has_header else rows
    if not data_rows and size < SAMPLE_BYTES:  # the whole file was read: no data at all
        raise BadFile("the file has a header row but no data rows: nothing to import")
    return FileLayout(
        size=size,
        encoding=encoding,
        transport=transport,
        transcode=transcode,
        skip=skip,
        delimiter=delimiter,
        has_header=has_header,
        header=header,
        sample=tuple(tuple(r) for r in data_rows[:20]),
    )


def _generated_header(width: int) -> tuple[str, ...]:
    return tuple(f"column_{i}" for i in range(1, width + 1))


def ends_inside_quotes(line: bytes, inside: bool, delimiter: int) -> bool:
    """Whether a quoted field is still open at the end of ``line`` (CSV quoting rules: a
    quote opens a field only at its start; ``""`` inside a quoted field is a quote)."""
    quote = 0x22
    i, n = 0, len(line)
    while True:
        j = line.find(b'"', i)
        if j < 0:
            return inside
        if inside:
            if j + 1 < n and line[j + 1] == quote:
                i = j + 2
                continue
            inside = False
        elif j == 0 or line[j - 1] == delimiter or line[j - 1] in (0x0A, 0x0D):
            inside = True
        i = j + 1


def _lines(path: Path, layout: FileLayout) -> Iterator[tuple[bytes, int]]:
    """(line, bytes of the file read so far); lines end in ``\\n`` (the last may not)."""
    with open(path, "rb") as binary:
        if not layout.transcode:
            binary.seek(layout.skip)
            offset = layout.skip
            for line in binary:
                offset += len(line)
                yield line, offset
            return
        text: IO[str] = io.TextIOWrapper(binary, encoding=layout.encoding, errors=FALLBACK)
        for decoded in text:
            yield decoded.lstrip("\ufeff").encode("utf-8"), binary.tell()


def _whole_records(path: Path, layout: FileLayout) -> Iterator[tuple[bytes, int, int]]:
    """(record bytes, its first row number, offset) for every record, blank ones included."""
    delimiter = ord(layout.delimiter)
    row = 0
    pending: list[bytes] = []
    size = 0
    for line, offset in _lines(path, layout):
        if pending:
            pending.append(line)
            size += len(line)
            if not ends_inside_quotes(line, True, delimiter):
                yield b"".join(pending), row, offset
                pending = []
            elif size > MAX_RECORD_BYTES:
                raise BadFile(
                    f'row {row}: a quoted field opened here never closes (an unbalanced ")'
                )
            continue
        row += 1
        if b'"' in line and ends_inside_quotes(line, False, delimiter):
            pending = [line]
            size = len(line)
            continue
        yield line, row, offset
    if pending:  # an open quote at the very end: the record runs to the end of the file
        yield b"".join(pending), row, layout.size


def read_chunks(
    path: Path, layout: FileLayout, *, max_rows: int = 5000, max_bytes: int = 1 << 20
) -> Generator[RawChunk, None, None]:
    """The file's data records (after the header) in chunks of whole records."""
    parts: list[bytes] = []
    size = 0
    first = 0
    offset = 0
    records = _whole_records(path, layout)
    if layout.has_header:
        next(records, None)
    for record, row, offset in records:
        if not parts:
            first = row
        if not record.endswith(b"\n"):
            record += b"\n"
        parts.append(record)
        size += len(record)
        if len(parts) >= max_rows or size >= max_bytes:
            yield RawChunk(first, len(parts), b"".join(parts), offset)
            parts, size = [], 0
    if parts:
        yield RawChunk(first, len(parts), b"".join(parts), offset)
