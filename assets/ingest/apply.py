"""Apply decoded changes to raw_<product>.* as idempotent upserts, patches and deletes keyed by the PK.

`ChangeSet` (pure) folds a stream of changes into one final operation per primary key, per table:
upsert (a full row image), patch (an update that left TOASTed columns unchanged: only the columns
present are written) or delete. `flush` writes a ChangeSet through temp staging tables filled by COPY,
inside the caller's warehouse transaction, each statement with the change feed's rows for what it changed
(assets/ingest/feed.py). Replaying the same changes gives the same result, which is
what makes a re-read after a crash (or a replay over a newer snapshot) converge.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from assets.ingest import feed
from assets.ingest.pgoutput import UNCHANGED, Delete, Insert, Relation, Truncate, Update
from sources.registry import get_table


@dataclass(frozen=True)
class Target:
    """A raw table that receives changes: where it lives, its key and its current source columns."""

    product: str
    table: str
    key: tuple[str, ...]
    columns: tuple[str, ...]  # source columns present in the raw table, in order

    @property
    def qualified(self) -> str:
        return f"{self.product}.{self.table}"

    @property
    def raw_schema(self) -> str:
        return f"raw_{self.product}"


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    truncated: int = 0
    bytes: int = 0

    def add(self, other: "Counts") -> None:
        for name in ("inserted", "updated", "deleted", "truncated", "bytes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Op:
    kind: str  # upsert | patch | delete
    values: dict  # column -> text value or None (empty for delete)
    lsn: str


class NeedsReload(Exception):
    """A change that cannot be applied from the stream alone (key change with unchanged TOAST data)."""


def _size(values) -> int:
    return sum(len(v) for v in values if isinstance(v, (str, bytes)))


@dataclass
class ChangeSet:
    targets: dict[str, Target]
    ops: dict[str, dict[tuple, Op]] = field(default_factory=dict)
    counts: dict[str, Counts] = field(default_factory=dict)
    needs_reload: set[str] = field(default_factory=set)
    pending: int = 0
    net: dict[str, int] = field(default_factory=dict)  # rows added minus rows removed, as written by flush
    recount: set[str] = field(default_factory=set)  # truncated: row count unknown until recounted
    sql_seconds: float = 0.0  # time in the apply statements (upsert, patch, delete), as written by flush
    _plans: dict = field(default_factory=dict, repr=False)  # relid -> (Relation, [(column, position)])

    def _target(self, rel: Relation) -> Target | None:
        return self.targets.get(f"{rel.namespace}.{rel.name}")

    def _row(self, target: Target, rel: Relation, tup: tuple) -> dict:
        plan = self._plans.get(rel.relid)
        if plan is None or plan[0] is not rel:
            keep = set(target.columns)
            plan = (rel, [(name, i) for i, name in enumerate(rel.column_names) if name in keep])
            self._plans[rel.relid] = plan
        return {name: tup[i] for name, i in plan[1]}

    def _put(self, target: Target, pk: tuple, op: Op) -> None:
        table_ops = self.ops.setdefault(target.qualified, {})
        if pk not in table_ops:
            self.pending += 1
        table_ops[pk] = op

    def add(self, change, rel_of, lsn: str, size: int | None = None) -> None:
        """Fold one change (Insert/Update/Delete) into the set; `rel_of(relid)` gives its Relation;
        `size` (bytes counted for it) defaults to the size of its values."""
        rel = rel_of(change.relid)
        target = self._target(rel)
        if target is None or target.qualified in self.needs_reload:
            return
        counts = self.counts.setdefault(target.qualified, Counts())
        if isinstance(change, Insert):
            row = self._row(target, rel, change.new)
            self._put(target, tuple(row[k] for k in target.key), Op("upsert", row, lsn))
            counts.inserted += 1
            counts.bytes += _size(change.new) if size is None else size
        elif isinstance(change, Update):
            row = self._row(target, rel, change.new)
            pk = tuple(row[k] for k in target.key)
            counts.updated += 1
            counts.bytes += _size(change.new) if size is None else size
            if change.old is not None:
                old_row = self._row(target, rel, change.old)
                old_pk = tuple(old_row[k] for k in target.key)
                if old_pk != pk:
                    self._put(target, old_pk, Op("delete", {}, lsn))
                    if any(v is UNCHANGED for v in row.values()):
                        self.needs_reload.add(target.qualified)
                        return
            present = {c: v for c, v in row.items() if v is not UNCHANGED}
            if len(present) == len(row):
                self._put(target, pk, Op("upsert", row, lsn))
                return
            prior = self.ops.get(target.qualified, {}).get(pk)
            if prior is not None and prior.kind in ("upsert", "patch"):
                self._put(target, pk, Op(prior.kind, {**prior.values, **present}, lsn))
            else:
                self._put(target, pk, Op("patch", present, lsn))
        elif isinstance(change, Delete):
            row = self._row(target, rel, change.old)
            self._put(target, tuple(row[k] for k in target.key), Op("delete", {}, lsn))
            counts.deleted += 1
        else:
            raise TypeError(f"not a row change: {change!r}")

    def truncated_targets(self, change: Truncate, rel_of) -> list[Target]:
        """Targets of a Truncate; their pending ops are dropped (the caller flushes first, then truncates)."""
        found = []
        for relid in change.relids:
            target = self._target(rel_of(relid))
            if target is not None:
                self.counts.setdefault(target.qualified, Counts()).truncated += 1
                found.append(target)
        return found

    def groups(self, qualified: str) -> list[tuple[str, tuple[str, ...], list[tuple[tuple, Op]]]]:
        """Ops of one table grouped by (kind, columns written), columns in raw order."""
        target = self.targets[qualified]
        grouped: dict[tuple[str, tuple[str, ...]], list] = {}
        for pk, op in self.ops.get(qualified, {}).items():
            cols = target.key if op.kind == "delete" else tuple(c for c in target.columns if c in op.values)
            grouped.setdefault((op.kind, cols), []).append((pk, op))
        return [(kind, cols, items) for (kind, cols), items in grouped.items()]

    def detach(self) -> "ChangeSet":
        """The pending ops as a ChangeSet of their own (to flush elsewhere); this one starts empty. Ops
        folded later never merge into detached ones: the parts must be flushed in order."""
        part = ChangeSet(targets=self.targets, ops=self.ops, pending=self.pending)
        self.ops, self.pending = {}, 0
        return part

    def merge_net(self, part: "ChangeSet") -> None:
        for qualified, n in part.net.items():
            self.net[qualified] = self.net.get(qualified, 0) + n
        self.sql_seconds += part.sql_seconds

    def clear(self) -> None:
        self.ops.clear()
        self.pending = 0


def _stage_name(target: Target) -> str:
    return "_tessera_stage_" + hashlib.sha256(target.qualified.encode()).hexdigest()[:12]


def _raw(target: Target) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(target.raw_schema), sql.Identifier(target.table))


def _ids(names) -> sql.Composed:
    return sql.SQL(", ").join(map(sql.Identifier, names))


def _key_match(target: Target, left: str, right: str) -> sql.Composed:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(sql.Identifier(left), sql.Identifier(k), sql.Identifier(right), sql.Identifier(k))
        for k in target.key
    )


def _feed_image(target: Target, alias: str) -> sql.Composed:
    """The change feed's image of row `alias` (key and parent columns present in the raw table)."""
    return feed.image(get_table(target.qualified), alias, target.columns)


def _feed_insert(target: Target, op: sql.Composable, old: str, new: str, lsn: str, rows: str) -> sql.Composed:
    return sql.SQL("INSERT INTO {feed} (table_name, op, old, new, source_lsn) SELECT {name}, {op}, {old}, {new}, {lsn} FROM {rows}").format(
        feed=sql.SQL(feed.FEED), name=sql.Literal(f"{target.raw_schema}.{target.table}"), op=op,
        old=sql.SQL(old), new=sql.SQL(new), lsn=sql.SQL(lsn), rows=sql.SQL(rows),
    )


def upsert_sql(target: Target, stage: str, cols: tuple[str, ...]) -> sql.Composed:
    """Insert or overwrite the staged rows, with a feed row each ('I' new, 'U' with its before image).
    Returns how many rows were new (xmax = 0 on a freshly inserted version): keeps row counts exact."""
    non_key = [c for c in cols if c not in target.key]
    sets = [sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in non_key]
    sets += [sql.SQL("_source_lsn = EXCLUDED._source_lsn"), sql.SQL("_ingested_at = EXCLUDED._ingested_at")]
    keys = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(k)) for k in target.key)
    return sql.SQL(
        "WITH b AS (SELECT {rkeys}, {old} AS old FROM {raw} AS r JOIN {stage} AS s ON {match}), "
        "w AS (INSERT INTO {raw} AS t ({cols}, _source_lsn, _ingested_at) SELECT {cols}, _source_lsn, now() FROM {stage} "
        "ON CONFLICT ({key}) DO UPDATE SET {sets} RETURNING {keys}, {new} AS new, t._source_lsn, (t.xmax = 0) AS fresh), "
        "f AS ({fed}) "
        "SELECT count(*) FILTER (WHERE fresh) FROM w"
    ).format(
        rkeys=sql.SQL(", ").join(sql.SQL("r.{}").format(sql.Identifier(k)) for k in target.key),
        old=_feed_image(target, "r"), new=_feed_image(target, "t"), match=_key_match(target, "r", "s"),
        raw=_raw(target), cols=_ids(cols), stage=sql.Identifier(stage), key=_ids(target.key),
        sets=sql.SQL(", ").join(sets), keys=keys,
        fed=_feed_insert(target, sql.SQL("CASE WHEN w.fresh THEN 'I' ELSE 'U' END"), "b.old", "w.new", "w._source_lsn",
                         "w LEFT JOIN b ON " + " AND ".join(f'b."{k}" = w."{k}"' for k in target.key)),
    )


def patch_sql(target: Target, stage: str, cols: tuple[str, ...]) -> sql.Composed:
    """Write the staged columns of existing rows (TOASTed columns left alone), a feed row each."""
    sets = [sql.SQL("{} = s.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in cols if c not in target.key]
    sets += [sql.SQL("_source_lsn = s._source_lsn"), sql.SQL("_ingested_at = now()")]
    return sql.SQL(
        "WITH b AS (SELECT {rkeys}, {old} AS old FROM {raw} AS r JOIN {stage} AS s ON {match}), "
        "w AS (UPDATE {raw} AS r SET {sets} FROM {stage} AS s WHERE {match} RETURNING {rkeys}, {new} AS new, r._source_lsn), "
        "f AS ({fed}) "
        "SELECT count(*) FROM w"
    ).format(
        rkeys=sql.SQL(", ").join(sql.SQL("r.{}").format(sql.Identifier(k)) for k in target.key),
        old=_feed_image(target, "r"), new=_feed_image(target, "r"), raw=_raw(target), sets=sql.SQL(", ").join(sets),
        stage=sql.Identifier(stage), match=_key_match(target, "r", "s"),
        fed=_feed_insert(target, sql.SQL("'U'"), "b.old", "w.new", "w._source_lsn",
                         "w JOIN b ON " + " AND ".join(f'b."{k}" = w."{k}"' for k in target.key)),
    )


def delete_sql(target: Target, stage: str) -> sql.Composed:
    """Delete the staged keys, a tombstone each (the deleted row's image); returns how many went."""
    return sql.SQL(
        "WITH d AS (DELETE FROM {raw} AS r USING {stage} AS s WHERE {match} RETURNING {old} AS old, s._source_lsn), "
        "f AS ({fed}) "
        "SELECT count(*) FROM d"
    ).format(
        raw=_raw(target), stage=sql.Identifier(stage), match=_key_match(target, "r", "s"), old=_feed_image(target, "r"),
        fed=_feed_insert(target, sql.SQL("'D'"), "d.old", "NULL::jsonb", "d._source_lsn", "d"),
    )


def flush(wh: psycopg.Connection, changes: ChangeSet) -> None:
    """Write every pending op to the warehouse (inside the caller's transaction) and clear them, with
    the change feed's rows for them (assets/ingest/feed.py)."""
    if changes.ops:
        feed.lock(wh)
    for qualified in list(changes.ops):
        target = changes.targets[qualified]
        stage = _stage_name(target)
        wh.execute(
            sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(
                sql.Identifier(stage), _raw(target)
            )
        )
        for kind, cols, items in changes.groups(qualified):
            # DELETE, not TRUNCATE: the stage holds one small group; TRUNCATE swaps files at every group.
            wh.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(stage)))
            with wh.cursor().copy(
                sql.SQL("COPY {} ({}, _source_lsn) FROM STDIN").format(sql.Identifier(stage), _ids(cols))
            ) as copy:
                for pk, op in items:
                    values = list(pk) if kind == "delete" else [op.values[c] for c in cols]
                    copy.write_row(values + [op.lsn])
            applied = time.monotonic()
            if kind == "upsert":
                fresh = wh.execute(upsert_sql(target, stage, cols)).fetchone()[0]
                changes.net[qualified] = changes.net.get(qualified, 0) + fresh
            elif kind == "patch":
                wh.execute(patch_sql(target, stage, cols))
            else:
                gone = wh.execute(delete_sql(target, stage)).fetchone()[0]
                changes.net[qualified] = changes.net.get(qualified, 0) - max(gone, 0)
            changes.sql_seconds += time.monotonic() - applied
    changes.clear()


def truncate(wh: psycopg.Connection, targets: list[Target], changes: ChangeSet | None = None) -> None:
    for target in targets:
        wh.execute(sql.SQL("TRUNCATE {}").format(_raw(target)))
        feed.record_reload(wh, get_table(target.qualified))
        if changes is not None:
            changes.recount.add(target.qualified)
