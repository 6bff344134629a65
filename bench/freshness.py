"""`tessera bench freshness`: how long a committed journal entry takes to reach each store when the
Dagster daemon moves the data, the README's way (`dagster dev`: webserver, daemon, sensors, automation).

1. seeds a fresh source (`--users`, `--days`) and materializes every asset in process, into a fresh
   warehouse and a DAGSTER_HOME of its own in a temp directory (so the daemon starts from a current
   workspace and its run history is this bench's alone);
2. starts `dagster dev` there, waits for its daemon, then for `--settle` seconds;
3. writes journal entries through the source Postgres at `--rate` per second for `--seconds`, plus, every
   `--special-every` seconds, one edit of an entry's text, one soft delete and one privacy flip of seeded
   entries already in every store;
4. polls the warehouse every `--poll` seconds and records when each write is first visible in each store
   (raw copy, marts.journals_view, marts.mood_calendar_cache, analytics.mood_events, search documents,
   vectors), until every write is visible or `--drain` seconds after the last write;
5. stops the daemon (also on SIGTERM / Ctrl-C) and reports, per store, commit-to-visible latency p50,
   p95 and max (seconds, resolution `--poll`), how many writes never showed, whether the lag grew
   (median of the last third of writes over the first third), and from the run history the runs, the
   step worker processes and the processes per run of each kind of run (ingest, read views, ...).

A write counts as visible when the store shows it: the row (insert), the edited text or a new
embedding (edit), the row gone (soft delete), the private flag or no vector / no text valence (flip).
The calendar counts an insert once the month's row carries the entry's `_ingested_at` or later.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

log = logging.getLogger("bench.freshness")
REPO = Path(__file__).resolve().parent.parent
STORES = ("raw", "journals_view", "mood_calendar_cache", "mood_events", "search", "vectors")

# Insert visible: the row is there (batched over every pending id).
INSERT_SQL = {
    "raw": "SELECT id FROM raw_mindflow.journal_entries WHERE id = ANY(%s)",
    "journals_view": "SELECT id FROM marts.journals_view WHERE id = ANY(%s)",
    "mood_events": "SELECT journal_entry_id FROM analytics.mood_events WHERE journal_entry_id = ANY(%s)",
    "search": "SELECT id FROM search.journal_documents WHERE id = ANY(%s)",
    "vectors": "SELECT DISTINCT source_id FROM vectors.journal_entries WHERE source_id = ANY(%s)",
}
CALENDAR_SQL = """SELECT p.id FROM unnest(%s::uuid[], %s::uuid[], %s::date[], %s::timestamptz[]) AS p(id, user_id, d, ing)
                   WHERE EXISTS (SELECT 1 FROM marts.mood_calendar_cache c WHERE c.user_id = p.user_id
                      AND c.year = extract(year FROM p.d) AND c.month = extract(month FROM p.d) AND c._ingested_at >= p.ing)"""
# Edits, soft deletes and privacy flips: one boolean query per store (params: id, token, commit time).
SPECIAL_SQL = {
    "edit": {
        "raw": "SELECT EXISTS (SELECT 1 FROM raw_mindflow.journal_entries WHERE id = %(id)s AND strpos(content, %(token)s) > 0)",
        "journals_view": "SELECT EXISTS (SELECT 1 FROM marts.journals_view WHERE id = %(id)s AND strpos(content, %(token)s) > 0)",
        "search": "SELECT EXISTS (SELECT 1 FROM search.journal_documents WHERE id = %(id)s AND strpos(content, %(token)s) > 0)",
        "vectors": "SELECT EXISTS (SELECT 1 FROM vectors.journal_entries WHERE source_id = %(id)s AND embedded_at >= %(at)s)",
    },
    "soft_delete": {
        "raw": "SELECT EXISTS (SELECT 1 FROM raw_mindflow.journal_entries WHERE id = %(id)s AND deleted_at IS NOT NULL)",
        "journals_view": "SELECT NOT EXISTS (SELECT 1 FROM marts.journals_view WHERE id = %(id)s)",
        "mood_events": "SELECT NOT EXISTS (SELECT 1 FROM analytics.mood_events WHERE journal_entry_id = %(id)s)",
        "search": "SELECT NOT EXISTS (SELECT 1 FROM search.journal_documents WHERE id = %(id)s)",
        "vectors": "SELECT NOT EXISTS (SELECT 1 FROM vectors.journal_entries WHERE source_id = %(id)s)",
    },
    "privacy_flip": {
        "raw": "SELECT EXISTS (SELECT 1 FROM raw_mindflow.journal_entries WHERE id = %(id)s AND is_private)",
        "journals_view": "SELECT EXISTS (SELECT 1 FROM marts.journals_view WHERE id = %(id)s AND is_private)",
        "mood_events": "SELECT EXISTS (SELECT 1 FROM analytics.mood_events WHERE journal_entry_id = %(id)s AND text_valence IS NULL)",
        "search": "SELECT EXISTS (SELECT 1 FROM search.journal_documents WHERE id = %(id)s AND is_private)",
        "vectors": "SELECT NOT EXISTS (SELECT 1 FROM vectors.journal_entries WHERE source_id = %(id)s)",
    },
}
MOODS = ("ecstatic", "happy", "neutral", "sad", "anxious", "angry")
SENTENCES = ("Walked to the market before work and the coffee was good.",
             "A long meeting drained me, but the evening run helped.",
             "Called my sister; we laughed about the old house.",
             "Could not sleep, kept thinking about the deadline.",
             "Cooked a new recipe tonight and it worked out.")


# ---------------------------------------------------------------------------------------------
# Pure: the figures
# ---------------------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in [0, 1]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 1))))
    return ordered[rank - 1]


def latency_summary(latencies: list[float], missing: int) -> dict:
    """p50 / p95 / p99 / max of the visible writes, seconds rounded to 0.1, and the writes never seen."""
    out = {"writes": len(latencies) + missing, "visible": len(latencies), "never_visible": missing}
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)):
        value = percentile(latencies, q)
        out[name] = None if value is None else round(value, 1)
    return out


def lag_growth(ordered_latencies: list[float]) -> float | None:
    """Median latency of the last third of the writes (in commit order) over the first third: about 1
    when the lag holds, well above 1 when the store falls behind. None with fewer than 6 writes."""
    n = len(ordered_latencies)
    if n < 6:
        return None
    first, last = percentile(ordered_latencies[: n // 3], 0.5), percentile(ordered_latencies[-(n // 3):], 0.5)
    return round(last / first, 2) if first else None


def run_kind(job_name: str, tags: dict) -> str:
    """What a run was for: the sensor or schedule that requested it, else its job."""
    return tags.get("dagster/sensor_name") or tags.get("dagster/schedule_name") or job_name


def process_figures(runs: list[dict], seconds: float) -> dict:
    """Per kind of run: runs, step worker processes, processes (the run's own plus its step workers)
    per run, and the median queue wait and duration. `runs`: dicts with kind, step_workers, created,
    started, ended (epoch seconds or None)."""
    by_kind: dict[str, list[dict]] = {}
    for run in runs:
        by_kind.setdefault(run["kind"], []).append(run)
    out = {}
    for kind, group in sorted(by_kind.items()):
        workers = sum(r["step_workers"] for r in group)
        waits = [r["started"] - r["created"] for r in group if r["started"]]
        durations = [r["ended"] - r["started"] for r in group if r["started"] and r["ended"]]
        out[kind] = {
            "runs": len(group),
            "step_worker_processes": workers,
            "processes_per_run": round((len(group) + workers) / len(group), 2),
            "queue_wait_p50_s": None if not waits else round(percentile(waits, 0.5), 1),
            "duration_p50_s": None if not durations else round(percentile(durations, 0.5), 1),
        }
    total = sum(len(g) for g in by_kind.values()) + sum(r["step_workers"] for r in runs)
    out["all"] = {"runs": len(runs), "processes": total,
                  "processes_per_minute": round(total / (seconds / 60), 1) if seconds else None}
    return out


# ---------------------------------------------------------------------------------------------
# The workspace, the daemon, the writes
# ---------------------------------------------------------------------------------------------

def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="tessera bench freshness")
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--rate", type=float, default=1.0, help="journal entries written per second")
    p.add_argument("--seconds", type=int, default=180, help="how long to write")
    p.add_argument("--special-every", type=int, default=30, help="an edit, a soft delete and a privacy flip every N s")
    p.add_argument("--settle", type=int, default=30, help="seconds after the daemon is up before writing")
    p.add_argument("--drain", type=int, default=180, help="seconds to wait for the last writes")
    p.add_argument("--poll", type=float, default=1.0)
    p.add_argument("--keep", action="store_true", help="keep the databases and the Dagster home")
    return p.parse_args(argv)


@dataclass
class Write:
    id: str
    kind: str  # insert | edit | soft_delete | privacy_flip
    committed: float
    user_id: str = ""
    date: str = ""
    token: str = ""
    seen: dict = field(default_factory=dict)  # store -> epoch seconds first visible
    ingested_at: datetime | None = None
    released: bool = False  # bench live: a tracked edit's entry is editable again

    def stores(self) -> tuple[str, ...]:
        return STORES if self.kind == "insert" else tuple(SPECIAL_SQL[self.kind])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workspace(args, tag: str, dagster_home: Path) -> tuple[str, str, object]:
    from bench.dbt import _fresh_databases
    from orchestration.commands.materialize import materialize_all
    from sources.generator import generate

    source_url, warehouse_url, server = _fresh_databases(tag)
    os.environ.update({"TESSERA_SOURCE_URL": source_url, "TESSERA_WAREHOUSE_URL": warehouse_url,
                       "DAGSTER_HOME": str(dagster_home)})
    started = time.monotonic()
    generate(source_url, users=args.users, days=args.days, seed=args.seed)
    log.info("seeded in %.0f s; materializing every asset", time.monotonic() - started)
    started = time.monotonic()
    results = materialize_all((), echo=lambda line: log.info("%s", line))
    failed = [r.keys for r in results if not r.success]
    log.info("materialized in %.0f s (%d runs, %d failed)", time.monotonic() - started, len(results), len(failed))
    return source_url, warehouse_url, server


def _start_daemon(dagster_home: Path, port: int) -> subprocess.Popen:
    """`dagster dev` the README's way, from the repository root, in a session of its own."""
    dagster = Path(sys.executable).parent / "dagster"
    logs = open(dagster_home / "dagster_dev.log", "ab")
    return subprocess.Popen([str(dagster), "dev", "-p", str(port), "-h", "127.0.0.1"], cwd=REPO, env=os.environ.copy(),
                            stdout=logs, stderr=subprocess.STDOUT, start_new_session=True)


def _stop_daemon(proc: subprocess.Popen) -> None:
    """SIGINT (dagster dev's own clean shutdown of webserver, daemon and code server), then SIGTERM and
    SIGKILL to its session when it lingers."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, 60), (signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_for_daemon(stop: threading.Event, timeout: float = 300) -> bool:
    import dagster as dg

    deadline = time.monotonic() + timeout
    instance = dg.DagsterInstance.get()
    try:
        while time.monotonic() < deadline and not stop.is_set():
            beats = instance.get_daemon_heartbeats()
            if "SENSOR" in beats and "QUEUED_RUN_COORDINATOR" in beats:
                return True
            stop.wait(2)
        return False
    finally:
        instance.dispose()


def _eligible(source_url: str) -> tuple[list[str], list[str]]:
    """Users whose entries may reach AI outputs, and seeded public live entries of theirs with a mood
    label (so a privacy flip leaves their mood row, now read without text: the flip's mood check)."""
    import psycopg

    with psycopg.connect(source_url) as conn:
        users = [r[0] for r in conn.execute(
            """SELECT u.id::text FROM mindflow.users u LEFT JOIN mindflow.user_settings s ON s.user_id = u.id
                WHERE u.deleted_at IS NULL AND NOT coalesce(s.private_mode, false) ORDER BY u.id""").fetchall()]
        entries = [r[0] for r in conn.execute(
            """SELECT e.id::text FROM mindflow.journal_entries e WHERE e.user_id::text = ANY(%s)
                 AND e.deleted_at IS NULL AND NOT e.is_private AND e.mood IS NOT NULL ORDER BY e.id""",
            (users,)).fetchall()]
    return users, entries


def _writer(source_url: str, args, writes: list[Write], lock: threading.Lock, stop: threading.Event) -> None:
    import psycopg

    rng = random.Random(args.seed)
    users, seeded = _eligible(source_url)
    rng.shuffle(seeded)
    # one entry per user and day (the seed's uq_user_date): users in turn, each writing on the days before
    # the seeded span, one day further back per round
    rng.shuffle(users)
    first_day = datetime.now(timezone.utc).date() - timedelta(days=args.days + 2)
    started = time.monotonic()
    total = int(args.rate * args.seconds)
    next_special = args.special_every / 2
    with psycopg.connect(source_url, autocommit=True) as conn:
        for i in range(total):
            due = started + i / args.rate
            if stop.wait(max(0.0, due - time.monotonic())):
                return
            entry_id, user = str(uuid.uuid4()), users[i % len(users)]
            day = (first_day - timedelta(days=i // len(users))).isoformat()
            text = " ".join(rng.sample(SENTENCES, 2))
            conn.execute(
                """INSERT INTO mindflow.journal_entries (id, user_id, date, title, content, mood, word_count)
                   VALUES (%s, %s, %s, 'Bench entry', %s, %s, %s)""",
                (entry_id, user, day, text, rng.choice(MOODS), len(text.split())))
            with lock:
                writes.append(Write(entry_id, "insert", time.time(), user_id=user, date=day))
            if time.monotonic() - started >= next_special and len(seeded) >= 3:
                next_special += args.special_every
                for kind in ("edit", "soft_delete", "privacy_flip"):
                    target, token = seeded.pop(), uuid.uuid4().hex[:12]
                    statement = {
                        "edit": "UPDATE mindflow.journal_entries SET content = content || ' edited ' || %(token)s WHERE id = %(id)s",
                        "soft_delete": "UPDATE mindflow.journal_entries SET deleted_at = now() WHERE id = %(id)s",
                        "privacy_flip": "UPDATE mindflow.journal_entries SET is_private = true WHERE id = %(id)s",
                    }[kind]
                    conn.execute(statement, {"id": target, "token": token})
                    with lock:
                        writes.append(Write(target, kind, time.time(), token=token))


def _poll_once(conn, writes: list[Write]) -> None:
    now = time.time()
    inserts = [w for w in writes if w.kind == "insert"]
    for store, query in INSERT_SQL.items():
        waiting = [w for w in inserts if store not in w.seen]
        if not waiting:
            continue
        try:
            found = {str(r[0]) for r in conn.execute(query, ([w.id for w in waiting],)).fetchall()}
        except Exception:  # noqa: BLE001 - a store being rebuilt (a view repointed): try again next poll
            conn.rollback()
            continue
        for w in waiting:
            if w.id in found:
                w.seen[store] = now
    unknown = [w for w in inserts if "raw" in w.seen and w.ingested_at is None]
    if unknown:
        rows = conn.execute("SELECT id::text, _ingested_at FROM raw_mindflow.journal_entries WHERE id = ANY(%s)",
                            ([w.id for w in unknown],)).fetchall()
        stamps = dict(rows)
        for w in unknown:
            w.ingested_at = stamps.get(w.id)
    waiting = [w for w in inserts if "mood_calendar_cache" not in w.seen and w.ingested_at is not None]
    if waiting:
        try:
            found = {str(r[0]) for r in conn.execute(CALENDAR_SQL, (
                [w.id for w in waiting], [w.user_id for w in waiting], [w.date for w in waiting],
                [w.ingested_at for w in waiting])).fetchall()}
        except Exception:  # noqa: BLE001
            conn.rollback()
            found = set()
        for w in waiting:
            if w.id in found:
                w.seen["mood_calendar_cache"] = now
    for w in writes:
        if w.kind == "insert":
            continue
        for store, query in SPECIAL_SQL[w.kind].items():
            if store in w.seen:
                continue
            try:
                visible = conn.execute(query, {"id": w.id, "token": w.token,
                                               "at": datetime.fromtimestamp(w.committed, timezone.utc)}).fetchone()[0]
            except Exception:  # noqa: BLE001
                conn.rollback()
                continue
            if visible:
                w.seen[store] = now


def _run_history(since: float) -> list[dict]:
    import dagster as dg

    instance = dg.DagsterInstance.get()
    try:
        records = instance.get_run_records(dg.RunsFilter(created_after=datetime.fromtimestamp(since, timezone.utc)))
        out = []
        for record in records:
            run = record.dagster_run
            workers = len(instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_WORKER_STARTED,
                                                       limit=10_000).records)
            out.append({"kind": run_kind(run.job_name, run.tags), "status": run.status.value, "step_workers": workers,
                        "created": record.create_timestamp.timestamp(),
                        "started": record.start_time, "ended": record.end_time})
        return out
    finally:
        instance.dispose()


def figures_for(writes: list[Write]) -> dict:
    out: dict = {}
    for kind in ("insert", "edit", "soft_delete", "privacy_flip"):
        group = sorted((w for w in writes if w.kind == kind), key=lambda w: w.committed)
        if not group:
            continue
        per_store = {}
        for store in group[0].stores():
            seen = [w.seen[store] - w.committed for w in group if store in w.seen]
            per_store[store] = latency_summary(seen, len(group) - len(seen))
            missing = [w.id for w in group if store not in w.seen]
            if missing:  # to look them up (--keep): at most a few
                per_store[store]["never_visible_ids"] = missing[:5]
            if kind == "insert":
                per_store[store]["lag_growth"] = lag_growth(seen)
        out[kind] = per_store
    return out


def main(argv: list[str]) -> dict:
    import psycopg

    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    tag = f"fresh{os.getpid()}"
    home = Path(tempfile.mkdtemp(prefix="tessera-freshness-"))
    dagster_home = home / "dagster"
    dagster_home.mkdir()
    shutil.copyfile(REPO / "orchestration" / "dagster.yaml", dagster_home / "dagster.yaml")
    figures: dict = {"scale": {"users": args.users, "days": args.days, "seed": args.seed},
                     "rate_per_s": args.rate, "write_seconds": args.seconds, "poll_s": args.poll,
                     "dagster_home": str(dagster_home)}
    proc = server = None
    names: list[str] = []
    try:
        source_url, warehouse_url, server = _workspace(args, tag, dagster_home)
        names = [f"bench_{tag}_app", f"bench_{tag}_wh"]
        if stop.is_set():
            raise KeyboardInterrupt
        port = _free_port()
        proc = _start_daemon(dagster_home, port)
        log.info("dagster dev started (pid %d, port %d, log %s)", proc.pid, port, dagster_home / "dagster_dev.log")
        if not _wait_for_daemon(stop):
            raise RuntimeError("the Dagster daemon did not report a heartbeat")
        stop.wait(args.settle)
        writes: list[Write] = []
        lock = threading.Lock()
        began = time.time()
        writer = threading.Thread(target=_writer, args=(source_url, args, writes, lock, stop), daemon=True)
        writer.start()
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            last_write = None
            while not stop.is_set():
                with lock:
                    snapshot = list(writes)
                _poll_once(conn, snapshot)
                if not writer.is_alive():
                    last_write = last_write or time.time()
                    done = all(len(w.seen) == len(w.stores()) for w in snapshot)
                    if done or time.time() - last_write > args.drain:
                        break
                stop.wait(args.poll)
        ended = time.time()
        figures["interrupted"] = stop.is_set()
        figures["writes"] = {k: sum(1 for w in writes if w.kind == k) for k in ("insert", "edit", "soft_delete", "privacy_flip")}
        figures["latency_s"] = figures_for(writes)
        figures["runs"] = process_figures(_run_history(began), ended - began)
    except KeyboardInterrupt:
        figures["interrupted"] = True
    finally:
        if proc is not None:
            _stop_daemon(proc)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if not args.keep:
            if server is not None and names:
                from bench.dbt import _drop

                _drop(server, names)
            shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(figures, indent=2, default=str))
    return figures
