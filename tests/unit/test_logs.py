"""What a person sees on stderr at start and stop: our own lines, not pgserver's chatter."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from dialer.logs import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {n: logging.getLogger(n).level for n in ("pgserver", "aiohttp.access", "apscheduler")}
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name, old in quiet.items():
            logging.getLogger(name).setLevel(old)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_pg_ctl_runs_are_not_logged_but_its_failures_are(
    restore_logging: None, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", fmt)
    pgserver = logging.getLogger("pgserver")
    pgserver.info("Successful postgres command pg_ctl\nstdout:\nserver started\n---\n")
    assert capsys.readouterr().err == ""
    pgserver.error("Failed to start server.")
    assert "Failed to start server." in capsys.readouterr().err
