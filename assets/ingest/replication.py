"""The change stream read over the streaming replication protocol, for `tessera live`.

The batch path (incremental.py) peeks the slot through SQL and advances it afterwards: every peek decodes
the WAL again from the slot's restart point. A long-lived process does better with the protocol a
subscriber uses: START_REPLICATION streams each change once, as it is decoded, and the slot is confirmed
with standby status updates (`send_feedback(flush_lsn=...)`), only after the warehouse has committed what
was read. psycopg 3 has no replication support; psycopg2's `LogicalReplicationConnection` speaks it.

Two parts:
- `MicroBatcher` (pure): groups decoded pgoutput messages into whole transactions and says when a batch
  is due: at a Commit boundary, when it holds `max_changes` row changes, when its first transaction has
  waited `max_delay` seconds, or when the stream has nothing more to give right now.
- `ReplicationStream`: the connection (start, read what is available, wait, confirm).
"""

from __future__ import annotations

import select
import time
from dataclasses import dataclass, field
from typing import Callable

from assets.ingest.pgoutput import (
    ROW_CHANGES,
    Begin,
    Commit,
    Relation,
    check_begin,
    check_commit,
    check_in_transaction,
    decode,
)


@dataclass
class Transaction:
    """One source transaction as received: its Begin, its messages (Relation messages included, in
    order: a schema change shows as a new Relation before the first change it affects) and its Commit."""

    begin: Begin
    messages: list = field(default_factory=list)
    commit: Commit | None = None
    changes: int = 0


class MicroBatcher:
    """Whole transactions, closed into batches by size or by time (pure; `clock` is injectable).

    `add(msg)` takes decoded messages in stream order; `due(idle)` says whether the complete transactions
    held should be applied now; `take()` hands them over. A transaction never splits across batches, so a
    batch ends on a Commit boundary whatever closed it. Relation messages outside a transaction (pgoutput
    sends them inside, but a keepalive gap may not) are kept for the next transaction."""

    def __init__(self, max_changes: int = 5_000, max_delay: float = 0.2, clock: Callable[[], float] = time.monotonic):
        if max_changes < 1:
            raise ValueError("max_changes must be at least 1")
        if max_delay < 0:
            raise ValueError("max_delay must not be negative")
        self.max_changes = max_changes
        self.max_delay = max_delay
        self.clock = clock
        self.complete: list[Transaction] = []
        self.current: Transaction | None = None
        self.changes = 0  # row changes in the complete transactions
        self.first_at: float | None = None  # when the first complete transaction was received
        self._loose: list = []  # Relation messages between transactions

    def add(self, msg) -> None:
        if isinstance(msg, Begin):
            check_begin(self.current, msg)
            self.current = Transaction(begin=msg, messages=self._loose)
            self._loose = []
        elif isinstance(msg, Commit):
            txn = self.current
            check_commit(txn, msg)
            txn.commit = msg
            self.current = None
            self.complete.append(txn)
            self.changes += txn.changes
            if self.first_at is None:
                self.first_at = self.clock()
        elif isinstance(msg, Relation):
            (self.current.messages if self.current is not None else self._loose).append(msg)
        elif isinstance(msg, ROW_CHANGES):
            check_in_transaction(self.current, msg)
            self.current.messages.append(msg)
            self.current.changes += 1
        # Origin, TypeInfo, LogicalMessage: nothing to apply

    @property
    def in_transaction(self) -> bool:
        return self.current is not None

    @property
    def empty(self) -> bool:
        return not self.complete and self.current is None

    def due(self, idle: bool) -> bool:
        """True when the complete transactions held should be applied now: the batch is full, its first
        transaction has waited long enough, or the stream is idle (nothing more readable right now)."""
        if not self.complete:
            return False
        if idle or self.changes >= self.max_changes:
            return True
        return self.clock() - self.first_at >= self.max_delay

    def wait_hint(self, ceiling: float) -> float:
        """How long the reader may block waiting for more messages before the batch falls due."""
        if not self.complete:
            return ceiling
        return max(0.0, min(ceiling, self.max_delay - (self.clock() - self.first_at)))

    def take(self) -> list[Transaction]:
        batch, self.complete, self.changes, self.first_at = self.complete, [], 0, None
        return batch


class ReplicationStream:
    """A logical replication connection to the source, streaming one slot's pgoutput messages.

    `read(limit)` returns the decoded messages available now (never blocks); `wait(timeout)` blocks until
    the server sends something or the timeout passes; `confirm(lsn)` tells the server everything up to
    `lsn` is durable in the warehouse (the slot's confirmed_flush_lsn moves there and the server may
    recycle WAL before it). psycopg2 answers the server's keepalive requests itself."""

    def __init__(self, source_url: str, slot: str, publication: str, *, status_interval: float = 5.0):
        import psycopg2
        from psycopg2.extras import LogicalReplicationConnection

        self.conn = psycopg2.connect(source_url, connection_factory=LogicalReplicationConnection,
                                     application_name="tessera-live")
        self.cur = self.conn.cursor()
        self.slot, self.publication = slot, publication
        self.status_interval = status_interval
        self.confirmed = 0
        self.received = 0  # data_start of the last message read

    def start(self, start_lsn: int = 0) -> None:
        """Stream from the slot's confirmed position (start_lsn 0) or later."""
        self.cur.start_replication(
            slot_name=self.slot, decode=False, start_lsn=start_lsn, status_interval=self.status_interval,
            options={"proto_version": "1", "publication_names": self.publication},
        )

    def read(self, limit: int = 10_000) -> list:
        out = []
        while len(out) < limit:
            msg = self.cur.read_message()
            if msg is None:
                break
            self.received = max(self.received, msg.data_start)
            out.append(decode(msg.payload))
        return out

    def wait(self, timeout: float) -> None:
        if timeout > 0:
            select.select([self.conn], [], [], timeout)

    @property
    def server_position(self) -> int:
        """The position the server reports having decoded and sent (keepalives), 0 before the first."""
        return int(self.cur.wal_end or 0)

    def confirm(self, lsn: int) -> None:
        if lsn > self.confirmed:
            self.confirmed = lsn
        self.cur.send_feedback(write_lsn=self.confirmed, flush_lsn=self.confirmed, apply_lsn=self.confirmed, force=True)

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # closing a broken connection: nothing more to do
            pass
