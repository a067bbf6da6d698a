"""The ``dialer`` command line: one sub-command module per concern.

Each module in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds its
sub-commands and sets ``func`` (``(args) -> int``) on each parser. Handlers raise
``UsageError`` for unusable input; ``main`` prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from dialer import __version__
from dialer.errors import Conflict, DialerError, NotFound, UsageError

COMMAND_MODULES: tuple[str, ...] = (
    "dialer.cli.server",
    "dialer.cli.tokens",
    "dialer.cli.users",
    "dialer.cli.agents",
    "dialer.cli.calls",
    "dialer.cli.campaigns",
    "dialer.cli.callerid",
    "dialer.cli.rules",
    "dialer.cli.simulate",
    "dialer.cli.demo",
    "dialer.cli.imports",
    "dialer.cli.dnc",
    "dialer.cli.privacy",
    "dialer.cli.stats",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dialer", description="Outbound campaign dialer.")
    parser.add_argument("--version", action="version", version=f"dialer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _quiet_stdout() -> None:
    """``dialer … | head``: the reader has gone; send what is still buffered nowhere, so
    the interpreter's final flush does not print a traceback."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dialer`` console script."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return 2
        code = int(func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not as a traceback at exit
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return 141  # what a shell reports for a writer whose reader left (128 + SIGPIPE)
    except UsageError as exc:
        print(f"dialer: error: {exc.message}", file=sys.stderr)
        return 2
    except (NotFound, Conflict) as exc:
        print(f"dialer: error: {exc}", file=sys.stderr)
        return 2
    except DialerError as exc:
        print(f"dialer: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
