"""National registry files at full size: digit-only lines into a compact generation.

The FTC's US National DNC Registry file (and Canada's DNCL) is ten digits a line: area code
and number. Such a file needs no general parser: blocks of clean lines go to PostgreSQL as
they are (COPY into a temporary table), only a block with another line is read line by line.
The numbers become a new *generation* (a partition of ``dnc_registry_numbers``: E.164 digits
as bigint, one index) built beside the one in force; ``dnc_registries`` points at the new one
when the import commits. Until then every lookup sees the old registry whole, and a refresh
that fails leaves it as it was. The replaced partition is detached (without blocking lookups)
and dropped after the commit.

Taken for global imports of a registry source in ``FORMATS`` without reason or expiry whose
file looks digit-only; every other DNC import goes through ``DncSink`` as before. A registry
carries a kind (``dnc/kinds.py``): only ``dnc`` and ``litigator`` numbers block leads; the
others (wireless, reassigned dates, NCPR preferences) are facts the rules read at each dial,
and their files must come this way (anything else is refused, never loaded as a DNC list).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from dialer.dnc import kinds
from dialer.dnc.kinds import FORMATS
from dialer.dnc.sink import DNC_LIST_LOCK
from dialer.dnc.store import REGISTRIES, block_leads
from dialer.errors import UsageError
from dialer.leads import phones
from dialer.leads.outcome import Reject, Tally, as_source, save_rejects
from dialer.sql import queries

log = logging.getLogger(__name__)
_Q = queries("dialer.dnc", "registry.sql")

BLOCK_BYTES = 4 << 20
_CLEAN = re.compile(rb"(?:[2-9][0-9]{2}[2-9][0-9]{6}\n)*")
_CLEAN_CRLF = re.compile(rb"(?:[2-9][0-9]{2}[2-9][0-9]{6}\r\n)*")
_TEN = re.compile(r"^[2-9][0-9]{2}[2-9][0-9]{6}$")
_SNIFF = re.compile(rb"^[0-9]{10}\r?$")
_PART = "dnc_registry_numbers_{}"
_NULL = "\\N"


def fits(job: dict[str, Any], path: Path) -> bool:
    """Whether this DNC import is a registry file the fast path takes; ``UsageError`` for
    a registry of another kind than ``dnc`` that cannot take it (it is no DNC list)."""
    options = job["options"]
    kind = kinds.kind_of(options.get("source"))
    special = kind != "dnc"
    if options.get("source") not in FORMATS or options.get("reason") or options.get("expires_at"):
        return _refuse(special, "a registry file takes no reason or expiry")
    if job["client_id"] is not None or job["campaign_id"] is not None:
        return _refuse(special, "a registry file is global (no client or campaign)")
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
    lines = head.split(b"\n")
    if len(head) == 64 * 1024:
        lines = lines[:-1]  # probably cut
    found = [line for line in lines if line.strip()]
    sniff = kinds.sniff_valued if kind in kinds.VALUED else _SNIFF.match
    plain = sum(1 for line in found if sniff(line))
    share = 0.5 if kind in kinds.VALUED else 0.9  # valued files are read line by line anyway
    if bool(found) and plain >= share * len(found):  # odd lines are read one by one
        return True
    what = "number,value" if kind in kinds.VALUED else "ten digits"
    return _refuse(special, f"a {options.get('source')} file is one '{what}' a line")


def _refuse(special: bool, why: str) -> bool:
    if special:
        raise UsageError(why)
    return False


def _blocks(path: Path) -> Iterator[tuple[bytes, int]]:
    """(block of whole lines ending in a newline, file offset after it)."""
    offset = 0
    rest = b""
    with open(path, "rb") as f:
        while True:
            data = f.read(BLOCK_BYTES)
            if not data:
                break
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            rest = data[cut:]
            offset += cut
            yield data[:cut], offset
    if rest:
        yield rest + b"\n", offset + len(rest)


def _line(text: str, cc: int, region: str | None) -> str | phones.Rejection:
    """One line that is not plainly ten digits: its ten national digits, or why not."""
    digits = text.strip()
    national_form = kinds.NATIONAL.get(cc, _TEN)
    if national_form.match(digits):
        return digits
    number = phones.normalise_number(digits, region)
    if isinstance(number, phones.Rejection):
        return number
    national = number.e164[1 + len(str(cc)) :]
    if not number.e164.startswith(f"+{cc}") or not national_form.match(national):
        return phones.Rejection(phones.INVALID_NUMBER, f"not a +{cc} number of this registry")
    return national


class RegistryLoad:
    """One registry file into a new generation, inside the import's transaction."""

    def __init__(self, job: dict[str, Any], *, now: datetime) -> None:
        self.import_id: int = job["id"]
        self.source: str = job["options"]["source"]
        self.replace = job["options"].get("mode") == "replace"
        self.cc, self.kind = FORMATS[self.source]
        self.region = REGISTRIES.get(self.source)
        self.offset = self.cc * 10**10
        self.now = now
        self.gen = 0
        self.old: int | None = None
        self.old_numbers = 0
        self.numbers = 0  # distinct numbers of the file

    def _sql(self, name: str) -> str:
        return _Q[name].format(
            part=_PART.format(self.gen), gen=self.gen, old=_PART.format(self.old or 0)
        )

    async def begin(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2 || ':0:0'))", DNC_LIST_LOCK, self.source
        )
        current = await conn.fetchrow(_Q["current_generation"], self.source)
        if current is not None:
            self.old, self.old_numbers = current["generation"], current["numbers"]
        self.gen = await conn.fetchval(_Q["next_generation"])
        await conn.execute(self._sql("create_part"))

    async def load(
        self,
        conn: asyncpg.Connection,
        path: Path,
        tally: Tally,
        progress: Callable[[], Awaitable[None]],
    ) -> None:
        """The file's numbers into the new generation, indexed. First straight into it (COPY,
        then a unique index); a file that repeats a number is read again with row numbers
        (a temporary table) so every repeat is reported with its row."""
        attempt = conn.transaction()  # a savepoint inside the import's transaction
        await attempt.start()
        try:
            self.numbers = await self._copy(conn, path, tally, progress, raw=False)
            await conn.execute(self._sql("index_part"))
        except asyncpg.UniqueViolationError:
            await attempt.rollback()
        except BaseException:
            await attempt.rollback()
            raise
        else:
            await attempt.commit()
            return
        fresh = Tally()
        tally.rows, tally.rejected = fresh.rows, fresh.rejected
        await conn.execute(_Q["create_raw"])
        await self._copy(conn, path, tally, progress, raw=True)
        await conn.execute(self._sql("fill_part"), self.offset)
        await conn.execute(self._sql("index_part"))
        self.numbers = await conn.fetchval(self._sql("count_part"))
        await self._repeats(conn, tally)

    async def _copy(
        self,
        conn: asyncpg.Connection,
        path: Path,
        tally: Tally,
        progress: Callable[[], Awaitable[None]],
        *,
        raw: bool,
    ) -> int:
        """Every block of the file COPYed: into the temporary table with row numbers (national
        digits, NULL for other lines) when ``raw``, else into the generation (E.164 digits)."""
        row = valid = 0
        prefix = str(self.cc).encode()
        for block, offset in _blocks(path):
            valued = self.kind in kinds.VALUED
            if not valued and (_CLEAN.fullmatch(block) or _CLEAN_CRLF.fullmatch(block)):
                lines = block.count(b"\n")
                payload, rejects = block.replace(b"\r", b""), list[Reject]()
                if not raw:  # E.164 digits: the country code before every line (C speed)
                    payload = prefix + payload[:-1].replace(b"\n", b"\n" + prefix) + b"\n"
                tally.rows += lines
                valid += lines
            else:
                payload, rejects, lines = self._mixed(block, row, tally, raw)
                lines_out = payload.split(b"\n")
                valid += sum(1 for x in lines_out if x and not (raw and x.startswith(b"\\N")))
            table = "registry_raw" if raw else _PART.format(self.gen)
            columns = ["number", "since", "categories"] if valued else ["number"]
            await conn.copy_to_table(table, source=as_source(payload), columns=columns)
            row += lines
            tally.add_rejects(rejects)
            await save_rejects(conn, self.import_id, rejects)
            tally.bytes_read = offset
            await progress()
        if not valid and self.replace:
            raise UsageError(
                "mode replace: the file has no usable phone number (empty, or the wrong "
                f"column?); the {self.source} list was left as it was"
            )
        return valid

    def _mixed(
        self, block: bytes, row: int, tally: Tally, raw: bool
    ) -> tuple[bytes, list[Reject], int]:
        out: list[str] = []
        rejects: list[Reject] = []
        lines = block.decode("utf-8", "replace").split("\n")[:-1]
        valued = self.kind in kinds.VALUED
        empty = "\\N\t\\N\t\\N" if valued else "\\N"
        for n, text in enumerate(lines, start=row + 1):
            if not text.strip():
                if raw:
                    out.append(empty)  # a blank line: keeps the numbering, counts for nothing
                continue
            tally.rows += 1
            number_text, value = _split(text) if valued else (text, "")
            found = _line(number_text, self.cc, self.region)
            if not isinstance(found, phones.Rejection) and valued:
                try:
                    since, mask = kinds.parse_value(self.kind, value)
                except ValueError as exc:
                    found = phones.Rejection("bad_value", str(exc))
                else:
                    found += "\t" + (since or _NULL) + "\t" + (_NULL if mask is None else str(mask))
            if isinstance(found, phones.Rejection):
                rejects.append((n, found.reason, text.strip()[:500], found.detail))
                if raw:
                    out.append(empty)
            else:
                out.append(found if raw else f"{self.cc}{found}")
        return ("\n".join(out) + "\n").encode() if out else b"", rejects, len(lines)

    async def finish(self, conn: asyncpg.Connection, tally: Tally) -> dict[str, Any]:
        in_file = self.numbers
        await conn.execute(self._sql("analyze_part"))
        kept = await conn.fetchval(self._sql("count_kept")) if self.old is not None else 0
        added, removed, numbers = in_file - kept, 0, in_file
        if self.replace:
            removed = self.old_numbers - kept
            if self.kind == "dnc":
                removed += await conn.fetchval(self._sql("remove_unlisted_entries"), self.source)
        elif self.old is not None:
            await conn.execute(self._sql("keep_old_numbers"))  # add mode: old and file
            numbers += self.old_numbers - kept
        await conn.execute(self._sql("attach_part"))
        await conn.execute(
            _Q["save_generation"],
            *(self.source, self.gen, numbers, self.import_id, self.now, self.kind),
        )
        marked = []
        if self.kind in kinds.BLOCKING:
            marked = await conn.fetch(self._sql("mark_leads"), f"+{self.cc}", self.now)
        blocked = await block_leads(conn, marked, source=self.source, reason=None, now=self.now)
        tally.accepted = added
        refresh = {"kept": kept, "added": added, "removed": removed}
        await conn.execute(_Q["note_refresh"], self.import_id, kept, added, removed, numbers)
        mode = "replace" if self.replace else "add"
        summary = {"list_id": None, "leads_blocked": blocked, "source": self.source, "mode": mode}
        return summary | refresh

    async def _repeats(self, conn: asyncpg.Connection, tally: Tally) -> None:
        """Lines that repeat an earlier number: rejected ``duplicate_in_file`` (rare)."""
        rows = await conn.fetch(_Q["repeated_rows"], self.offset)
        rejects: list[Reject] = [
            (
                r["row_no"],
                phones.DUPLICATE_IN_FILE,
                str(r["number"] - self.offset),
                f"same number as row {r['first_row']} (+{r['number']})",
            )
            for r in rows
        ]
        tally.add_rejects(rejects)
        await save_rejects(conn, self.import_id, rejects)


def _split(text: str) -> tuple[str, str]:
    """``number,value`` (comma, semicolon or tab) → (number, value)."""
    for sep in (",", ";", "\t"):
        if sep in text:
            number, _, value = text.partition(sep)
            return number, value
    return text, ""


async def registries_listing(conn: asyncpg.Connection, phone_e164: str) -> list[str]:
    """The registries (loaded from their files) whose generation in force lists a number."""
    if not phone_e164[1:].isdigit() or len(phone_e164) > 19:
        return []
    rows = await conn.fetch(_Q["registries_listing"], int(phone_e164[1:]))
    return [r["source"] for r in rows]


async def drop_unused(pool: asyncpg.Pool) -> int:
    """Detach (concurrently: lookups go on) and drop the partitions no registry uses."""
    dropped = 0
    async with pool.acquire() as conn:
        for r in await conn.fetch(_Q["unused_parts"]):
            name = r["relname"]
            if not re.fullmatch(r"dnc_registry_numbers_[0-9]+", name):
                continue
            try:
                await conn.execute(
                    f"ALTER TABLE dnc_registry_numbers DETACH PARTITION {name} CONCURRENTLY"
                )
                await conn.execute(f"DROP TABLE {name}")
                dropped += 1
            except asyncpg.PostgresError as exc:  # another process got there first
                log.warning("could not drop %s: %s", name, exc)
    return dropped
