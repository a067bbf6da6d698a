"""The pure cores (compliance, pacing, sim) import nothing that does I/O and never read
the real clock, so they stay fast to test and reusable by the simulator and the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "dialer"
PURE = ("compliance", "pacing", "sim")
FORBIDDEN_MODULES = {
    "asyncpg",
    "aiohttp",
    "asyncio",
    "socket",
    "subprocess",
    "requests",
    "urllib",
    "http",
    "sqlite3",
    "prometheus_client",
    "apscheduler",
    "pgserver",
}
FORBIDDEN_DIALER = {
    "dialer.db",
    "dialer.api",
    "dialer.app",
    "dialer.engine",
    "dialer.telephony",
    "dialer.webhooks",
    "dialer.leads",
    "dialer.service",
    "dialer.cli",
    "dialer.metrics",
    "dialer.config",
    "dialer.scheduler",
}
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("time", "time"),
    ("time", "monotonic"),
    ("date", "today"),
    ("os", "getenv"),
}


def _modules() -> list[Path]:
    return [p for pkg in PURE for p in sorted((ROOT / pkg).rglob("*.py"))]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_does_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            assert top not in FORBIDDEN_MODULES, f"{path.name} imports {name}"
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN_DIALER), (
                f"{path.name} imports {name}"
            )
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in FORBIDDEN_CALLS, (
                f"{path.name}:{node.lineno} reads the real clock or environment"
            )
        if isinstance(node, ast.Attribute) and node.attr == "environ":
            raise AssertionError(f"{path.name}:{node.lineno} reads os.environ")


def test_the_pure_packages_exist() -> None:
    assert all((ROOT / pkg / "__init__.py").exists() for pkg in PURE if (ROOT / pkg).exists())
    assert _modules(), "no pure modules found"
