"""Building blocks shared by the product generators: seeded streams, ids, time, and the COPY sink.

Determinism: every random choice comes from a `random.Random` seeded with a string naming its purpose
(`stream(seed, "mindflow", "user", 17)`), so the same (users, days, seed, anchor) gives the same rows
whatever order products are built in. UUIDs are 128 random bits from such a stream with the version-4
bits set; timestamps are offsets from the anchor date. Nothing reads the clock or uuid4().
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

UTC = dt.timezone.utc
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}  # RFC 4122 variant nibble


def stream(seed: int, *parts: object) -> random.Random:
    """An independent random stream named by `parts` (sha512 string seeding: stable across runs)."""
    return random.Random(f"{seed}|" + "|".join(map(str, parts)))


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID string from 128 bits of `rng`."""
    h = rng.randbytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def dumps(value: Any) -> str:
    """JSON text for a JSONB column (compact, key order as built)."""
    return json.dumps(value, separators=(",", ":"))


def iso(ts: dt.datetime) -> str:
    """ISO 8601 UTC with a Z, the form JSON timestamps take in every product."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def at(day: dt.date, seconds: float) -> dt.datetime:
    """`day` at midnight UTC plus `seconds` (whole milliseconds, so text round-trips exactly)."""
    ms = int(seconds * 1000)
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC) + dt.timedelta(milliseconds=ms)


def later(ts: dt.datetime, rng: random.Random, low_s: float, high_s: float) -> dt.datetime:
    return ts + dt.timedelta(milliseconds=int(rng.uniform(low_s, high_s) * 1000))


def clamp(x: float, low: float, high: float) -> float:
    return low if x < low else high if x > high else x


@dataclass(frozen=True)
class Scale:
    """How many of each product's principal entities a run makes; documented ratios to --users N."""

    users: int
    days: int
    seed: int
    anchor: dt.date

    @property
    def window_start(self) -> dt.date:
        return self.anchor - dt.timedelta(days=self.days - 1)

    @property
    def mosaic_users(self) -> int:      # N/2
        return max(4, self.users // 2)

    @property
    def legacies(self) -> int:          # N/10
        return max(2, self.users // 10)

    @property
    def personakit_persons(self) -> int:  # N/4
        return max(4, self.users // 4)

    @property
    def coach_learners(self) -> int:    # N/2
        return max(4, self.users // 2)

    @property
    def developers(self) -> int:        # N/4
        return max(4, self.users // 4)

    def day(self, index: int) -> dt.date:
        return self.window_start + dt.timedelta(days=index)


def is_planted(index: int, period: int, offset: int = 3) -> bool:
    """Every `period`-th row (the first at `offset`) carries a planted rule break."""
    return index % period == offset % period


@dataclass
class Sink:
    """Buffers rows per table and loads them with COPY, parents before children.

    `tables` maps 'schema.table' to its column list, in load (foreign key) order. Buffers are flushed
    all together, in that order, once they hold `batch_rows` rows, so a child never lands before its
    parent. Counts are kept per table.
    """

    conn: Any
    tables: dict[str, Sequence[str]]
    batch_rows: int = 100_000
    buffers: dict[str, list[tuple]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    _pending: int = 0

    def add(self, table: str, row: tuple) -> None:
        self.buffers.setdefault(table, []).append(row)
        self._pending += 1

    def extend(self, table: str, rows: Iterable[tuple]) -> None:
        buffer = self.buffers.setdefault(table, [])
        before = len(buffer)
        buffer.extend(rows)
        self._pending += len(buffer) - before

    def maybe_flush(self) -> None:
        if self._pending >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        for table in self.tables:
            rows = self.buffers.get(table)
            if rows:
                copy_rows(self.conn, table, self.tables[table], rows)
                self.counts[table] = self.counts.get(table, 0) + len(rows)
                rows.clear()
        unknown = [t for t, rows in self.buffers.items() if rows and t not in self.tables]
        if unknown:
            raise KeyError(f"rows buffered for undeclared tables: {unknown}")
        self._pending = 0


def copy_rows(conn: Any, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    from psycopg import sql

    schema, name = table.split(".")
    statement = sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
        sql.Identifier(schema), sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, columns)))
    with conn.cursor() as cur, cur.copy(statement) as copy:
        write = copy.write_row
        for row in rows:
            write(row)


Progress = Callable[[str, str], None]
