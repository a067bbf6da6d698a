"""The composition root: the one place that reads the settings and builds the pool, the
gateway, the engine, the importer, the webhook worker, the scheduler and the gauges, then
hands them to the HTTP API, the console, the CLI and the demo through typed ``AppKey``s
(``dialer.http.keys``). Nothing below it imports it (import-linter, pyproject.toml).
"""

from dialer.runtime.app import create_app
from dialer.runtime.parts import CleanupContext, EngineParts, demo_parts, engine_part
from dialer.runtime.service import (
    bind,
    build_app,
    prepare_database,
    run_app,
    serve,
    stop_on_signals,
)

__all__ = [
    "CleanupContext",
    "EngineParts",
    "bind",
    "build_app",
    "create_app",
    "demo_parts",
    "engine_part",
    "prepare_database",
    "run_app",
    "serve",
    "stop_on_signals",
]
