"""The refresh lanes of `tessera live`, and the runless Dagster events that report what they did.

The ingest thread (assets/ingest/live.py) calls `Lanes.on_batch` after each warehouse commit. Each lane
is a thread with a pending set: `on_batch` adds the batch's tables that interest the lane and wakes it
(never blocks); while a lane refreshes, new batches accumulate, then it runs once for their union (the
back-off under load). Lanes:

- `raw`: reports the raw tables (one materialization per touched table, at most one per table per
  second, with the coalesced batches' counts, commit LSN and lag: the ingest asset's `table_metadata`);
- `read_views`: a warm dbt session (stock `dbtRunner` holding the manifest of one `parse`) running the
  stored models downstream of the touched raw sources; the incremental marts read the change feed, so a
  run rewrites only the touched keys;
- `mood`: the mood events pass and the rollup refresh (assets/mood/assets.py's functions);
- `search`: the journal and story indices reading the touched tables (assets/search/definitions.py);
- `embeddings` (background): `store.sync_source` for each embedded source whose upstream changed, then
  the blocking privacy check; when vectors changed it wakes `search` (the documents carry vectors).

Which tables interest which lane comes from the dbt manifest's lineage (parents of the models an area
declares it reads, children of the raw sources), never from a list here. An error in a lane is logged,
kept in `status()`, retried with a short backoff; it never reaches the ingest thread or other lanes.

Every refresh is reported with `DagsterInstance.report_runless_asset_event`: the same metadata the
batch assets emit, plus `tessera/live`, `source_committed_at` and `commit_to_visible_seconds`.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import dagster as dg

if TYPE_CHECKING:  # the integrator's module; the lanes only read its fields
    from assets.ingest.live import AppliedBatch

log = logging.getLogger("tessera.live")

BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)  # seconds between retries of a failing lane
RAW_REPORT_INTERVAL = 1.0  # at most one raw-table materialization per table per second
# The mood lane's re-read margin before the events watermark (events.OVERLAP, one hour, is the batch
# path's guard against ingest ticks committing out of order). Live has one ingest writer committing
# batches in sequence, so a later batch's _ingested_at (its transaction's now()) lies above the
# watermark a pass read, and the pass re-reads the newest batch anyway (_ingested_at >= watermark); the
# margin covers a batch-path tick that began before live took the stream lock. An entry in scope is
# re-scored with the text model only when its fingerprint changed, but each is still read and
# fingerprinted, so an hour of re-read would cost seconds a pass at a high write rate.
LIVE_EVENTS_OVERLAP = timedelta(seconds=5)
STORED = ("table", "incremental", "snapshot", "materialized_view")


# --- the work a lane has pending: the union of the batches since its last refresh -----------------

@dataclass
class Work:
    tables: set[str]                      # "<product>.<table>" changed (or reloaded) and of interest
    reloaded: set[str] = field(default_factory=set)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    batches: int = 1
    changes: int = 0
    commit_lsn: str = ""
    first_committed_at: datetime | None = None  # of the oldest batch
    committed_at: datetime | None = None        # of the newest batch
    applied_at: datetime | None = None          # of the newest batch
    lag_bytes: int = 0
    lag_seconds: float = 0.0

    def merge(self, newer: "Work") -> "Work":
        """This work followed by `newer` (pure: a new Work)."""
        counts = {t: dict(c) for t, c in self.counts.items()}
        for table, c in newer.counts.items():
            mine = counts.setdefault(table, {})
            for name, value in c.items():
                mine[name] = mine.get(name, 0) + value
        return Work(
            tables=self.tables | newer.tables, reloaded=self.reloaded | newer.reloaded, counts=counts,
            batches=self.batches + newer.batches, changes=self.changes + newer.changes,
            commit_lsn=newer.commit_lsn or self.commit_lsn,
            first_committed_at=_earliest(self.first_committed_at, newer.first_committed_at),
            committed_at=_latest(self.committed_at, newer.committed_at),
            applied_at=_latest(self.applied_at, newer.applied_at),
            lag_bytes=newer.lag_bytes, lag_seconds=newer.lag_seconds,
        )


def work_of(batch: "AppliedBatch", interest: frozenset[str]) -> Work | None:
    """The part of a batch a lane interested in `interest` must refresh, None when it touches nothing."""
    reloaded = set(batch.reloaded) & interest
    tables = (set(batch.tables) & interest) | reloaded
    if not tables:
        return None
    return Work(
        tables=tables, reloaded=reloaded,
        counts={t: _counts_dict(c) for t, c in batch.counts.items() if t in tables},
        changes=batch.changes, commit_lsn=batch.commit_lsn or "",
        first_committed_at=batch.first_committed_at, committed_at=batch.committed_at,
        applied_at=batch.applied_at, lag_bytes=batch.lag_bytes, lag_seconds=float(batch.lag_seconds),
    )


def _counts_dict(counts: Any) -> dict[str, int]:
    names = ("inserted", "updated", "deleted", "truncated", "bytes")
    if isinstance(counts, Mapping):
        return {n: int(counts.get(n, 0)) for n in names}
    return {n: int(getattr(counts, n, 0)) for n in names}


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min((x for x in (a, b) if x is not None), default=None)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((x for x in (a, b) if x is not None), default=None)


# --- lineage: which raw tables each lane reads (from the dbt manifest) ---------------------------

class Lineage:
    """The dbt manifest's graph in the terms the lanes need: raw tables as "<product>.<table>"."""

    def __init__(self, manifest: Mapping[str, Any]):
        self.manifest = manifest
        self.raw_of: dict[str, str] = {
            uid: f"{s['source_name'].removeprefix('raw_')}.{s['name']}"
            for uid, s in manifest["sources"].items() if s["source_name"].startswith("raw_")}
        self.source_of = {table: uid for uid, table in self.raw_of.items()}
        self.node_of_relation = {(n["schema"], n["name"]): uid for uid, n in manifest["nodes"].items()
                                 if n["resource_type"] == "model"}

    @classmethod
    def load(cls) -> "Lineage":
        import json

        from assets.dbt.project import ensure_manifest

        return cls(json.loads(ensure_manifest().read_text()))

    def raw_upstream(self, relations: Iterable[tuple[str, str]]) -> frozenset[str]:
        """Raw tables the given dbt models ((schema, name)) read, directly or through other models."""
        start = [self.node_of_relation[tuple(r)] for r in relations if tuple(r) in self.node_of_relation]
        missing = [r for r in relations if tuple(r) not in self.node_of_relation]
        if missing:
            raise KeyError(f"no dbt model for {missing}")
        seen = _walk(start, self.manifest["parent_map"])
        return frozenset(self.raw_of[u] for u in seen if u in self.raw_of)

    def stored_downstream(self, tables: Iterable[str]) -> list[str]:
        """Unique ids of the stored (non-view) models downstream of the given raw tables, sorted."""
        start = [self.source_of[t] for t in tables if t in self.source_of]
        nodes = self.manifest["nodes"]
        return sorted(u for u in _walk(start, self.manifest["child_map"]) if u in nodes
                      and nodes[u]["resource_type"] == "model" and nodes[u]["config"]["materialized"] in STORED)

    def stored_interest(self) -> frozenset[str]:
        """Raw tables with at least one stored model downstream (what the read-view lane wakes for)."""
        return frozenset(t for t in self.source_of if self.stored_downstream([t]))

    def relation(self, unique_id: str) -> tuple[str, str]:
        node = self.manifest["nodes"][unique_id]
        return node["schema"], node["name"]


def _walk(start: Iterable[str], edges: Mapping[str, Sequence[str]]) -> set[str]:
    seen: set[str] = set()
    todo = deque(start)
    while todo:
        uid = todo.popleft()
        if uid in seen:
            continue
        seen.add(uid)
        todo.extend(edges.get(uid, ()))
    return seen


# --- what a refresh did, and the reporter ---------------------------------------------------------

@dataclass
class Refreshed:
    materializations: dict[dg.AssetKey, dict] = field(default_factory=dict)
    checks: list[tuple[dg.AssetKey, str, bool, dict]] = field(default_factory=list)
    visible_at: datetime | None = None  # when the refreshed data became visible (default: refresh end)


def live_metadata(work: Work, visible_at: datetime) -> dict[str, Any]:
    """What every live event adds to its area's metadata (pure)."""
    meta: dict[str, Any] = {"tessera/live": True, "live_batches": work.batches}
    if work.committed_at is not None:
        meta["source_committed_at"] = work.committed_at.isoformat()
    if work.first_committed_at is not None:
        meta["commit_to_visible_seconds"] = round((visible_at - work.first_committed_at).total_seconds(), 3)
    return meta


class Reporter:
    """Runless asset events on a Dagster instance (nothing when there is none)."""

    def __init__(self, instance: dg.DagsterInstance | None):
        self.instance = instance
        self._lock = threading.Lock()  # one writer at a time on the instance's event log

    def report(self, refreshed: Refreshed, work: Work) -> int:
        if self.instance is None:
            return 0
        live = live_metadata(work, refreshed.visible_at or datetime.now(timezone.utc))
        events: list = [dg.AssetMaterialization(asset_key=key, metadata={**meta, **live})
                        for key, meta in refreshed.materializations.items()]
        events += [dg.AssetCheckEvaluation(asset_key=key, check_name=name, passed=passed, blocking=True,
                                           metadata={**meta, **live})
                   for key, name, passed, meta in refreshed.checks]
        with self._lock:
            for event in events:
                self.instance.report_runless_asset_event(event)
        return len(events)


# --- a lane: one thread, a pending union, coalescing ---------------------------------------------

class Lane:
    """Base of the lanes: `refresh(work)` is the lane's own; the thread, the coalescing, the retries and
    the status are here."""

    name = "lane"
    min_interval = 0.0  # seconds between the starts of two refreshes (raw reporting)
    # added to the lane thread's nice value (Linux: per thread; the encoder threads it starts inherit
    # it): under load the CPU goes to the ingest thread and the read views first, and a slow lane falls
    # behind by coalescing more work per refresh instead of holding back the ingest
    nice = 0

    def __init__(self, interest: Iterable[str]):
        self.interest = frozenset(interest)
        self.reporter = Reporter(None)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pending: Work | None = None
        self._running: Work | None = None
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.errors = 0
        self.failures_in_a_row = 0
        self.last_run_seconds: float | None = None
        self.last_error: str | None = None
        self.refreshed_committed_at: datetime | None = None
        self._last_start = 0.0

    # the lane's own work
    def refresh(self, work: Work) -> Refreshed:
        raise NotImplementedError

    def prepare(self) -> None:
        """Once, in the lane's thread, before the first refresh (a warm dbt session, a model)."""

    # feeding
    def submit(self, work: Work) -> None:
        """Add work to the pending union and wake the thread (never blocks on a refresh)."""
        with self._lock:
            self._pending = work if self._pending is None else self._pending.merge(work)
        self._wake.set()

    def offer(self, batch: "AppliedBatch") -> bool:
        work = work_of(batch, self.interest)
        if work is not None:
            self.submit(work)
        return work is not None

    # the thread
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"tessera-live-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def join(self, timeout: float) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def _take(self) -> Work | None:
        with self._lock:
            work, self._pending = self._pending, None
            self._wake.clear()
            self._running = work
            return work

    def _loop(self) -> None:
        lower_thread_priority(self.nice)
        try:
            self.prepare()
        except Exception as exc:  # noqa: BLE001 - kept in status; refresh retries prepare
            self._record_error(exc)
        while not self._stopping.is_set():
            self._wake.wait(0.5)
            if self._stopping.is_set():
                break
            wait = self._last_start + self.min_interval - time.monotonic()
            if wait > 0 and self._stopping.wait(wait):
                break
            work = self._take()
            if work is None:
                continue
            self.run_once(work)
            if self.failures_in_a_row:
                self._stopping.wait(BACKOFF[min(self.failures_in_a_row, len(BACKOFF)) - 1])

    def run_once(self, work: Work) -> bool:
        """Refresh `work` and report it; on an error, keep the work pending for the retry."""
        self._last_start = time.monotonic()
        try:
            refreshed = self.refresh(work)
            self.reporter.report(refreshed, work)
        except Exception as exc:  # noqa: BLE001 - a lane never takes down the process
            self._record_error(exc)
            with self._lock:
                self._pending = work if self._pending is None else work.merge(self._pending)
                self._running = None
                self._wake.set()
            return False
        with self._lock:
            self.runs += 1
            self.failures_in_a_row = 0
            self.last_run_seconds = round(time.monotonic() - self._last_start, 3)
            self.refreshed_committed_at = _latest(self.refreshed_committed_at, work.committed_at)
            self._running = None
        return True

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            self.errors += 1
            self.failures_in_a_row += 1
            self.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        log.exception("live lane %s failed (attempt %d); retrying", self.name, self.failures_in_a_row)

    # observing
    def idle(self) -> bool:
        with self._lock:
            return self._pending is None and self._running is None

    def status(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or datetime.now(timezone.utc)
        with self._lock:
            waiting = [w for w in (self._running, self._pending) if w is not None]
            oldest = min((w.first_committed_at for w in waiting if w.first_committed_at), default=None)
            return {
                "pending_tables": sorted(self._pending.tables) if self._pending else [],
                "running": self._running is not None,
                "runs": self.runs,
                "errors": self.errors,
                "last_run_seconds": self.last_run_seconds,
                "last_error": self.last_error,
                "failing": self.failures_in_a_row > 0,
                "refreshed_committed_at": self.refreshed_committed_at.isoformat() if self.refreshed_committed_at else None,
                # seconds the oldest change not yet refreshed has waited since its source commit (0: caught up)
                "lag_seconds": round(max((now - oldest).total_seconds(), 0.0), 3) if oldest else 0.0,
            }


def lower_thread_priority(increment: int) -> int | None:
    """Add `increment` to the calling thread's nice value; its new value, or None where threads have no
    nice value of their own (not Linux) or the call is refused."""
    import os

    if increment <= 0 or not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return None
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + increment))
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError:
        return None


def _connector(url: str) -> Callable:
    from core.db import connect

    return partial(connect, url)


class RawTablesLane(Lane):
    """Reports the raw copies the ingest thread already wrote: one event per table per interval."""

    name = "raw"
    min_interval = RAW_REPORT_INTERVAL

    def __init__(self, warehouse_url: str, tables: Iterable[str]):
        super().__init__(tables)
        self.connect = _connector(warehouse_url)

    def refresh(self, work: Work) -> Refreshed:
        from psycopg import sql

        from assets.ingest.definitions import table_metadata
        from sources.registry import get_table

        refreshed = Refreshed(visible_at=work.applied_at)
        if self.reporter.instance is None:
            return refreshed
        tables = sorted(work.tables)
        with self.connect() as conn:
            counts = conn.execute(sql.SQL("SELECT {}").format(sql.SQL(", ").join(
                sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(get_table(t).raw_schema, get_table(t).name))
                for t in tables))).fetchone()
        for table, row_count in zip(tables, counts):
            result = live_table_result(work, table, row_count)
            refreshed.materializations[dg.AssetKey(get_table(table).asset_key)] = table_metadata(result)
        return refreshed


def live_table_result(work: Work, table: str, row_count: int) -> dict:
    """One raw table's coalesced batches in the shape `table_metadata` reads (the ingest tick's result)."""
    counts = work.counts.get(table, {})
    return {"mode": "live-reload" if table in work.reloaded else "live", "inserted": counts.get("inserted", 0),
            "updated": counts.get("updated", 0), "deleted": counts.get("deleted", 0), "bytes": counts.get("bytes", 0),
            "truncated": counts.get("truncated", 0), "cursor_lsn": work.commit_lsn, "lag_bytes": work.lag_bytes,
            "lag_seconds": work.lag_seconds, "row_count": row_count, "drift_events": []}


class ReadViewsLane(Lane):
    """The stored dbt models downstream of the touched raw tables, through a dbt session kept warm."""

    name = "read_views"

    def __init__(self, warehouse_url: str, lineage: Lineage):
        super().__init__(lineage.stored_interest())
        self.warehouse_url = warehouse_url
        self.lineage = lineage
        self._runner = None
        self._target: str | None = None

    def _env(self) -> dict[str, str]:
        from assets.dbt.project import dbt_env

        return {**dbt_env(self.warehouse_url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}

    def _paths(self) -> list[str]:
        from assets.dbt.project import PROJECT_DIR

        return ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--target-path", self._target]

    def prepare(self) -> None:
        """Parse once (from this warehouse's partial-parse file) and keep a dbtRunner with the manifest."""
        from dbt.cli.main import dbtRunner

        from assets.dbt.project import PARTIAL_PARSE_FILE, TARGET_DIR, partial_parse_target, profile_stamp, temporary_environ

        env = self._env()
        parsed = partial_parse_target(env)
        target = TARGET_DIR / "live" / parsed.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(parsed / PARTIAL_PARSE_FILE, target / PARTIAL_PARSE_FILE)
        self._target = str(target)
        with temporary_environ(env):
            result = dbtRunner().invoke(["parse", "--quiet", *self._paths()])
        if not result.success or result.result is None:
            raise RuntimeError(f"dbt parse failed for {profile_stamp(env)}: {result.exception}")
        self._runner = dbtRunner(manifest=result.result)

    def refresh(self, work: Work) -> Refreshed:
        from assets.dbt.project import temporary_environ

        if self._runner is None:
            self.prepare()
        nodes = self.lineage.stored_downstream(work.tables)
        refreshed = Refreshed()
        if not nodes:
            return refreshed
        names = [self.lineage.manifest["nodes"][u]["name"] for u in nodes]
        with temporary_environ(self._env()):
            result = self._runner.invoke(["run", "--quiet", "--no-write-json", *self._paths(), "--select", *names])
        outcomes = [r for r in (getattr(result.result, "results", None) or [])  # models, not the run's hooks
                    if getattr(r.node, "resource_type", None) == "model"]
        done = [r for r in outcomes if str(r.status) == "success"]
        refreshed.visible_at = datetime.now(timezone.utc)
        counts = self._row_counts([self.lineage.relation(r.node.unique_id) for r in done])
        for r in done:
            relation = self.lineage.relation(r.node.unique_id)
            refreshed.materializations[dg.AssetKey(list(relation))] = dbt_run_metadata(r, counts.get(relation))
        if not result.success:
            failed = [f"{r.node.name}: {r.message}" for r in outcomes if str(r.status) not in ("success", "skipped")]
            raise RuntimeError(f"dbt run failed: {'; '.join(failed) or result.exception}")
        return refreshed

    def _row_counts(self, relations: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        from psycopg import sql

        if not relations:
            return {}
        with _connector(self.warehouse_url)() as conn:
            row = conn.execute(sql.SQL("SELECT {}").format(sql.SQL(", ").join(
                sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(*r)) for r in relations))).fetchone()
        return dict(zip(relations, row))


def dbt_run_metadata(result: Any, row_count: int | None) -> dict[str, Any]:
    """A dbt node result's metadata as dagster-dbt reports a run (unique id, timing, row count)."""
    meta: dict[str, Any] = {"unique_id": result.node.unique_id,
                            "Execution Duration": round(float(result.execution_time or 0.0), 3),
                            "materialized": result.node.config.materialized}
    response = getattr(result, "adapter_response", None) or {}
    if response.get("rows_affected") is not None:
        meta["rows_affected"] = int(response["rows_affected"])
    if row_count is not None:
        meta["dagster/row_count"] = int(row_count)
    return meta


class MoodLane(Lane):
    """The mood events pass for today's partition (every change since the watermark) and the rollups."""

    name = "mood"
    nice = 5

    def __init__(self, warehouse_url: str, lineage: Lineage):
        from assets.mood.assets import VIEW_DEPS

        super().__init__(lineage.raw_upstream(tuple(k.path) for k in VIEW_DEPS))
        self.connect = _connector(warehouse_url)

    def refresh(self, work: Work) -> Refreshed:
        from assets.mood.assets import maintain_events_pass, refresh_rollups_pass

        today = datetime.now(timezone.utc).date()
        refreshed = Refreshed(materializations=maintain_events_pass(
            self.connect, full=False, window=(today, today), overlap=LIVE_EVENTS_OVERLAP))
        refreshed.materializations.update(refresh_rollups_pass(self.connect, full=False))
        return refreshed


class SearchLane(Lane):
    """The search indices whose dbt models read a touched table."""

    name = "search"

    def __init__(self, warehouse_url: str, lineage: Lineage):
        from assets.search.definitions import INDEX_READS

        self.reads = {which: lineage.raw_upstream(reads) for which, reads in INDEX_READS.items()}
        super().__init__(frozenset().union(*self.reads.values()))
        self.warehouse_url = warehouse_url

    def indices_for(self, tables: Iterable[str]) -> list[str]:
        tables = set(tables)
        return sorted(which for which, reads in self.reads.items() if reads & tables)

    def refresh(self, work: Work) -> Refreshed:
        from assets.search.definitions import INDEX_KEYS, refresh_index, search_backend

        refreshed = Refreshed()
        for which in self.indices_for(work.tables):
            refreshed.materializations[INDEX_KEYS[which]] = refresh_index(search_backend(self.warehouse_url), which)
        return refreshed


class EmbeddingsLane(Lane):
    """The vectors of the embedded sources whose upstream changed; the encoder loads once, lazily."""

    name = "embeddings"
    nice = 10

    def __init__(self, warehouse_url: str, lineage: Lineage, on_vectors: Callable[[Work], None] | None = None,
                 encoder: Any = None):
        from assets.embeddings.sources import SOURCES

        self.reads = {source.table: lineage.raw_upstream(source.upstream) for source in SOURCES}
        super().__init__(frozenset().union(*self.reads.values()))
        self.connect = _connector(warehouse_url)
        self.on_vectors = on_vectors
        self._model = None
        self._encoder = encoder  # None: the EmbeddingModel resource's encoder, loaded in the lane's thread

    def prepare(self) -> None:
        from assets.embeddings.resources import EmbeddingModel

        self._model = EmbeddingModel()
        if self._encoder is None:
            self._encoder = self._model.get_encoder()

    def refresh(self, work: Work) -> Refreshed:
        from assets.embeddings.assets import PRIVACY_CHECK, embedding_metadata, evaluate_privacy
        from assets.embeddings.sources import SOURCES
        from assets.embeddings.store import sync_source

        if self._model is None or self._encoder is None:
            self.prepare()
        refreshed = Refreshed()
        changed = False
        for source in SOURCES:
            if not self.reads[source.table] & work.tables:
                continue
            key = dg.AssetKey(source.asset_key)
            with self.connect() as conn:
                result = sync_source(conn, source, self._encoder, batch_docs=self._model.batch_docs, logger=log)
                refreshed.materializations[key] = embedding_metadata(result)
                passed, metadata = evaluate_privacy(conn, source)
            refreshed.checks.append((key, PRIVACY_CHECK, passed, metadata))
            changed = changed or bool(result.docs_embedded or result.docs_removed or result.metadata_refreshed)
        if changed and self.on_vectors is not None:
            self.on_vectors(work)
        return refreshed


# --- the lanes together -----------------------------------------------------------------------------

class Lanes:
    """Every lane of one `tessera live` process: the ingest thread's listener."""

    def __init__(self, lanes: Sequence[Lane], instance: dg.DagsterInstance | None = None):
        self.lanes = list(lanes)
        reporter = Reporter(instance)
        for lane in self.lanes:
            lane.reporter = reporter
        self.by_name = {lane.name: lane for lane in self.lanes}

    def __call__(self, batch: "AppliedBatch") -> None:
        self.on_batch(batch)

    def on_batch(self, batch: "AppliedBatch") -> list[str]:
        """Queue the batch on every lane it interests (never blocks); the names of the lanes woken."""
        return [lane.name for lane in self.lanes if lane.offer(batch)]

    def start(self) -> None:
        for lane in self.lanes:
            lane.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """Let each lane finish its current refresh, then end the threads; False when one outlived timeout."""
        for lane in self.lanes:
            lane.stop()
        deadline = time.monotonic() + timeout
        return all([lane.join(max(deadline - time.monotonic(), 0.0)) for lane in self.lanes])

    def wait_idle(self, timeout: float) -> bool:
        """True once no lane has pending or running work (a lane may wake another: checked twice)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            quiet = quiet + 1 if all(lane.idle() for lane in self.lanes) else 0
            if quiet >= 2:
                return True
            time.sleep(0.05)
        return False

    def status(self) -> dict[str, dict[str, Any]]:
        now = datetime.now(timezone.utc)
        return {lane.name: lane.status(now) for lane in self.lanes}


def build_lanes(warehouse_url: str, *, instance: dg.DagsterInstance | None, embeddings: bool = True,
                lineage: Lineage | None = None) -> Lanes:
    """The lanes of `tessera live` for one warehouse (the manifest is parsed when stale)."""
    from sources.registry import TABLES

    lineage = lineage or Lineage.load()
    search = SearchLane(warehouse_url, lineage)
    lanes: list[Lane] = [RawTablesLane(warehouse_url, (t.qualified for t in TABLES)),
                         ReadViewsLane(warehouse_url, lineage), MoodLane(warehouse_url, lineage), search]
    if embeddings:
        lanes.append(EmbeddingsLane(warehouse_url, lineage, on_vectors=lambda work: _wake_search(search, work)))
    return Lanes(lanes, instance)


def _wake_search(search: SearchLane, work: Work) -> None:
    """New vectors: the search documents of the same tables carry them."""
    tables = work.tables & search.interest
    if tables:
        search.submit(Work(tables=set(tables), counts={}, batches=work.batches, commit_lsn=work.commit_lsn,
                           first_committed_at=work.first_committed_at, committed_at=work.committed_at,
                           applied_at=work.applied_at, lag_bytes=work.lag_bytes, lag_seconds=work.lag_seconds))
