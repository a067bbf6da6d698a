"""Reading CSV files of unknown origin: delimiter, encoding, BOM, header, chunks, bad files."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pytest

from dialer.leads import csvfile
from dialer.leads.csvfile import BadFile, decode, ends_inside_quotes, inspect_file, read_chunks


def _write(tmp_path: Path, data: bytes, name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_detected_even_with_other_delimiters_inside_quotes(
    tmp_path: Path, delimiter: str
) -> None:
    rows = [
        ["name", "phone", "notes"],
        ["Ann", "+91 98765 43210", "called, busy; later"],
        ["Bob", "098765-43210", "a|b\tc"],
    ]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL).writerows(rows)
    layout = inspect_file(_write(tmp_path, out.getvalue().encode()))
    assert layout.delimiter == delimiter
    assert layout.header == ("name", "phone", "notes")
    assert layout.sample[0] == ("Ann", "+91 98765 43210", "called, busy; later")


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = _write(tmp_path, codecs.BOM_UTF8 + "phone,name\n+33 6 12 34 56 78,Zoë\n".encode())
    layout = inspect_file(path)
    assert (layout.encoding, layout.skip, layout.header) == ("utf-8-sig", 3, ("phone", "name"))
    chunk = next(read_chunks(path, layout))
    assert decode(chunk.data, layout.transport) == "+33 6 12 34 56 78,Zoë\n"


def test_windows_1252_file_is_read_as_such(tmp_path: Path) -> None:
    text = "phone;name;note\n0612345678;Müller;\u2018quoted\u2019 €5\n"
    layout = inspect_file(_write(tmp_path, text.encode("cp1252")))
    assert layout.encoding == "cp1252"
    assert layout.sample[0] == ("0612345678", "Müller", "\u2018quoted\u2019 €5")


def test_a_stray_latin1_byte_deep_in_a_utf8_file_does_not_fail(tmp_path: Path) -> None:
    head = "phone,name\n" + "".join(f"+4420794609{i % 100:02d},Zoë\n" for i in range(30000))
    data = head.encode() + b"+442079460958,M\xfcller\n"  # after the sampled start
    path = _write(tmp_path, data)
    layout = inspect_file(path)
    assert layout.encoding == "utf-8"
    last = list(read_chunks(path, layout))[-1]
    assert decode(last.data, layout.transport).endswith("+442079460958,Müller\n")


def test_utf16_with_bom_and_old_mac_line_ends_are_transcoded(tmp_path: Path) -> None:
    utf16 = _write(tmp_path, "phone\tname\n+61412345678\tZoë\n".encode("utf-16"), "a.csv")
    layout = inspect_file(utf16)
    assert (layout.encoding, layout.transport, layout.delimiter) == ("utf-16", "utf-8", "\t")
    assert next(read_chunks(utf16, layout)).data == "+61412345678\tZoë\n".encode()

    mac = _write(tmp_path, b"phone,name\r+61412345678,Ann\r+61412345679,Bob\r", "b.csv")
    layout = inspect_file(mac)
    chunk = next(read_chunks(mac, layout))
    assert (chunk.first_row, chunk.records) == (2, 2)
    assert chunk.data == b"+61412345678,Ann\n+61412345679,Bob\n"


def test_a_file_of_bare_numbers_has_no_header(tmp_path: Path) -> None:
    path = _write(tmp_path, b"01632960001\n01632960002\n")
    layout = inspect_file(path)
    assert not layout.has_header and layout.header == ("column_1",)
    chunk = next(read_chunks(path, layout))
    assert (chunk.first_row, chunk.records) == (1, 2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"PK\x03\x04rest-of-a-zip", "Excel workbook"),
        (b"\xd0\xcf\x11\xe0old-excel", "Excel 97-2003"),
        (b"\x1f\x8b\x08compressed", "gzip"),
        (b"phone\x00name\x00\n", "not a text file"),
    ],
)
def test_files_that_are_not_csv_say_so(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(BadFile, match=message):
        inspect_file(_write(tmp_path, data))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadFile, match="no such file"):
        inspect_file(tmp_path / "nope.csv")


def test_chunks_hold_whole_records_with_their_row_numbers(tmp_path: Path) -> None:
    text = (
        "phone,notes\n"
        '+1 212 555 0142,"two\nlines"\n'
        "\n"
        '+1 212 555 0143,"she said ""hi,\nthere"""\n'
        "+1 212 555 0144,5'10\" tall\n"
        '+1 212 555 0145,"a"\n'
    )
    path = _write(tmp_path, text.encode())
    layout = inspect_file(path)
    chunks = list(read_chunks(path, layout, max_rows=2))
    assert [(c.first_row, c.records) for c in chunks] == [(2, 2), (4, 2), (6, 1)]
    records = [r for c in chunks for r in csv.reader(io.StringIO(c.data.decode(), newline=""))]
    assert records == [
        ["+1 212 555 0142", "two\nlines"],
        [],
        ["+1 212 555 0143", 'she said "hi,\nthere"'],
        ["+1 212 555 0144", "5'10\" tall"],
        ["+1 212 555 0145", "a"],
    ]
    assert chunks[-1].offset == len(text.encode())


def test_a_quote_that_never_closes_fails_at_its_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csvfile, "MAX_RECORD_BYTES", 1000)
    text = 'phone,notes\n+1 212 555 0142,ok\n+1 212 555 0143,"oops\n' + "x,y\n" * 500
    path = _write(tmp_path, text.encode())
    with pytest.raises(BadFile, match=r"row 3: a quoted field opened here never closes"):
        list(read_chunks(path, inspect_file(path)))


@pytest.mark.parametrize(
    ("line", "inside", "expected"),
    [
        (b"a,b,c\n", False, False),
        (b'a,"b\n', False, True),
        (b'a,"b",c\n', False, False),
        (b'a,"b""c\n', False, True),
        (b'"x""",y\n', False, False),
        (b"5'10\",b\n", False, False),  # a quote inside an unquoted field is text
        (b'end",x\n', True, False),
        (b'still ""inside\n', True, True),
        (b'end","new\n', True, True),
    ],
)
def test_quote_state_across_lines(line: bytes, inside: bool, expected: bool) -> None:
    assert ends_inside_quotes(line, inside, ord(",")) is expected
