"""The CLI's progress line: drawn only on a terminal, with rows, rows/s and ETA."""

from __future__ import annotations

import io

from dialer.cli.imports import ProgressLine
from dialer.leads.importer import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _progress(bytes_read: int, rows: int, seconds: float) -> Progress:
    return Progress(7, bytes_read, 1000, rows, rows - 5, 5, seconds)


def test_a_terminal_sees_rows_rate_and_eta_then_a_clean_line() -> None:
    out = Terminal()
    line = ProgressLine(out)
    line.update(_progress(250, 30_000, 2.0))
    text = out.getvalue()
    assert text.startswith("\r") and "25%" in text and "30,000 rows" in text
    assert "15,000 rows/s" in text and "ETA 0:06" in text
    line.close()
    assert out.getvalue().endswith("\r")


def test_nothing_is_drawn_when_stderr_is_not_a_terminal() -> None:
    out = io.StringIO()
    line = ProgressLine(out)
    line.update(_progress(250, 30_000, 2.0))
    line.close()
    assert out.getvalue() == ""


def test_progress_figures() -> None:
    assert _progress(0, 0, 0.0).rows_per_s is None and _progress(0, 0, 0.0).eta_s is None
    assert _progress(500, 10, 4.0).eta_s == 4.0
    assert _progress(1000, 10, 4.0).eta_s is None  # done reading
