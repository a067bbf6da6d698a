"""The ``dialer`` CLI run in-process, as its tests run it."""

from __future__ import annotations

import pytest

from dialer.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``dialer *argv``: (exit code, what it printed, what it printed on stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
