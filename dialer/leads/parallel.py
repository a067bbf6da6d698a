"""The pool of worker processes that parse list chunks, so an import uses every core.

Parsing phone numbers costs far more than reading the file or writing the database, so the
importer sends chunks of a few thousand records to worker processes and writes their
results in file order. Workers start from a clean interpreter (``forkserver`` where the
platform has it, else ``spawn``): they never inherit the asyncio loop, database connections
or sockets of the ``dialer serve`` process, and they load phonenumbers' metadata once.

``workers=0`` parses in a thread of the calling process instead (tests, tiny files).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from dialer.leads import numbers
from dialer.leads.rows import ChunkResult, RowSpec, process_chunk, warm_up


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not on Linux
        return max(os.cpu_count() or 1, 1)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return True


def _watch(parent: int, every_s: float) -> None:
    while _alive(parent):
        threading.Event().wait(every_s)
    os._exit(0)  # the process that owned this pool is gone (killed): do not linger


def start_worker(parent: int, backend: str = "auto", every_s: float = 1.0) -> None:
    """Worker start: choose the parser, warm the metadata; exit by itself if the owning
    process dies (a killed ``dialer serve`` or CLI must not leave parse workers behind)."""
    warm_up(backend)
    threading.Thread(target=_watch, args=(parent, every_s), daemon=True).start()


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class ParsePool:
    """Runs ``process_chunk`` on worker processes; created once, shared by every import."""

    def __init__(self, workers: int | None = None, *, phone_backend: str = "auto") -> None:
        self.workers = default_workers() if workers is None else max(workers, 0)
        self.phone_backend = numbers.choose(phone_backend).name  # fails early if unusable
        self._backend_setting = phone_backend
        self._executor: Executor | None = None

    @property
    def depth(self) -> int:
        """Chunks to keep in flight: enough to keep every worker busy while the database
        writes the previous ones, few enough to bound memory."""
        return 2 * max(self.workers, 1) + 1

    def _ensure(self) -> Executor:
        if self._executor is None:
            if self.workers == 0:
                self._executor = ThreadPoolExecutor(
                    1,
                    thread_name_prefix="dialer-parse",
                    initializer=warm_up,
                    initargs=(self._backend_setting,),
                )
            else:
                self._executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=_context(),
                    initializer=start_worker,
                    initargs=(os.getpid(), self._backend_setting),
                )
        return self._executor

    async def parse(self, spec: RowSpec, first_row: int, data: bytes) -> ChunkResult:
        """One chunk, parsed on a worker."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._ensure(), process_chunk, spec, first_row, data)
        except BrokenProcessPool:
            self._reset()  # a worker died (killed, out of memory): start afresh next time
            raise

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for memory figures in the benchmark)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return list(processes)

    def _reset(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers (waits for the chunk each is parsing)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
