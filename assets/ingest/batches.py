"""What one applied batch of the change stream changed: the message a long-lived applier (`tessera live`)
hands to whoever refreshes what lies downstream (the refresh lanes, the Dagster reporter).

A plain value, defined here so the applier and its listeners agree on it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from assets.ingest.apply import Counts


@dataclass(frozen=True)
class AppliedBatch:
    """One warehouse transaction of the change stream, after its commit (and the slot's confirmation).

    tables        'product.table' -> rows inserted / updated / deleted / truncated and bytes in this batch
    transactions  source transactions applied
    changes       row changes decoded (before folding per key)
    cursor_lsn    commit LSN of the last source transaction applied (the stream's cursor after this batch)
    committed_at  that transaction's commit time in the source (tz-aware)
    applied_at    when the warehouse transaction committed (tz-aware)
    lag_bytes     source WAL position read after the commit, minus the position confirmed
    lag_seconds   applied_at - committed_at: how far behind the source this batch landed
    reloaded      tables fully reloaded in this step (schema drift, a key change with unchanged TOAST
                  data, a resync): their consumers rebuild rather than refresh
    """

    tables: dict[str, Counts]
    transactions: int
    changes: int
    cursor_lsn: str
    committed_at: datetime
    applied_at: datetime
    lag_bytes: int = 0
    lag_seconds: float = 0.0
    reloaded: frozenset[str] = field(default_factory=frozenset)

    @property
    def products(self) -> set[str]:
        return {qualified.split(".", 1)[0] for qualified in (*self.tables, *self.reloaded)}
