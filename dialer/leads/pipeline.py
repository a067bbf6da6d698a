"""Read → parse in parallel → hand over in file order, with a bounded number of chunks in flight.

A producer task reads the file (in a thread: file I/O never blocks the event loop) and
submits each chunk to the parse pool; the consumer gets the parsed chunks back in file order
(first occurrence of a number must win) while the workers already parse the next ones. At
most ``pool.depth`` chunks are in flight, which bounds memory whatever the file size.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import cast

from dialer.leads.csvfile import FileLayout, RawChunk, read_chunks
from dialer.leads.parallel import ParsePool
from dialer.leads.rows import ChunkResult, RowSpec

_DONE = object()


async def _produce(
    chunks: Generator[RawChunk, None, None],
    pool: ParsePool,
    spec: RowSpec,
    queue: asyncio.Queue[object],
) -> None:
    try:
        while True:
            raw = await asyncio.to_thread(next, chunks, None)
            if raw is None:
                break
            future = asyncio.ensure_future(pool.parse(spec, raw.first_row, raw.data))
            await queue.put((raw, future))
    except Exception as exc:  # a file that turns unreadable half-way: the consumer raises it
        await queue.put(exc)
        return
    await queue.put(_DONE)


async def parsed_chunks(
    path: Path, layout: FileLayout, spec: RowSpec, pool: ParsePool
) -> AsyncIterator[tuple[RawChunk, ChunkResult]]:
    """(raw chunk, parse result) for every chunk of the file, in file order."""
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=max(pool.depth - 1, 1))
    chunks = read_chunks(path, layout)
    producer = asyncio.create_task(_produce(chunks, pool, spec, queue))
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                break
            if isinstance(item, Exception):
                raise item
            raw, future = cast(tuple[RawChunk, "asyncio.Future[ChunkResult]"], item)
            yield raw, await future
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await producer
        while not queue.empty():
            item = queue.get_nowait()
            if isinstance(item, tuple):
                item[1].cancel()
        with contextlib.suppress(Exception):
            await asyncio.to_thread(chunks.close)
