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


# -- sizes and the engine's clock ------------------------------------------------------------

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
# Generated data (place tables) is exempt from the size limits.
DATA_PACKS = ("compliance/data", "compliance/packs")
REAL_CLOCK = {
    ("time", "monotonic"),
    ("time", "perf_counter"),
    ("time", "time"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
}


def _product_modules() -> list[Path]:
    return [p for p in sorted(ROOT.rglob("*.py")) if not any(d in p.as_posix() for d in DATA_PACKS)]


def test_modules_and_functions_stay_small() -> None:
    too_big = []
    for path in _product_modules():
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT).as_posix()
        if (lines := len(text.splitlines())) > MAX_MODULE_LINES:
            too_big.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_big.append(f"{name}:{node.lineno} {node.name}(): {length} lines")
    assert not too_big, "split by responsibility: " + "; ".join(too_big)


@pytest.mark.parametrize(
    "path", sorted((ROOT / "engine").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_the_engine_reads_time_only_through_its_clock(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in REAL_CLOCK, (
                f"{path.name}:{node.lineno} reads the real clock: use the injected Clock"
            )


def test_only_the_root_imports_the_front_ends() -> None:
    """Besides the import-linter contracts: no module outside runtime/ and cli/ (the root)
    names dialer.api, dialer.ui or dialer.cli, not even inside a function."""
    fronts = ("dialer.api", "dialer.ui", "dialer.cli")
    found = []
    for path in _product_modules():
        name = path.relative_to(ROOT).as_posix()
        top = name.split("/")[0]
        if top in ("runtime", "cli", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for imported in names:
                own = name.startswith(imported.partition(".")[2].split(".")[0] + "/")  # api/ -> api
                if any(imported == f or imported.startswith(f + ".") for f in fronts) and not own:
                    found.append(f"{name} imports {imported}")
    assert not found, found
