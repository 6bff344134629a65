"""`tessera bench live`: commit-to-visible latency per store while `tessera live` keeps the workspace in
sync, the highest write rate its ingest sustains with flat lag, and a catch-up after 1% of the rows
changed against a full load.

1. seeds a fresh source (`--users`, `--days`), materializes every asset once the batch way (in process,
   into a fresh warehouse and a DAGSTER_HOME of its own in a temp directory, as `bench freshness` does),
   starts `tessera live` as a subprocess pointed at those databases and waits until its
   `tessera_meta.live_status` row shows it caught up (applied past a marker transaction written before
   the start) with its lanes idle;
2. for each rate of `--rates` (row changes per second) writes for `--seconds` through the source
   Postgres: journal inserts with moods and tags, text edits, soft deletes and privacy flips, grouped
   into multi-row transactions (at least `--min-tx-changes` changes each, at most `--max-tx-per-s`
   transactions a second). A sample of the writes (at most `--track-per-s` a second) is tracked: a poller
   records when each is first visible in each store (raw copy, journals_view, mood_calendar_cache,
   mood_events, search documents, vectors; the visibility queries and figures are the freshness bench's)
   until every tracked write shows or `--drain` seconds after the last write. `live_status` is sampled
   every second: the ingest lag in bytes and seconds, its slope over the run and its last-third over
   first-third median;
3. `--sustain`: steps of `--sustain-rates` for `--sustain-seconds` each, stopping at the first step whose
   lag grows or whose rate the writer did not reach; the highest sustained step is reported with the
   rate the writer actually achieved;
4. catch-up: stops `tessera live` (SIGTERM), changes about 1% of the source's rows (bench ingest's
   change mix), times a full load of the same source into an empty warehouse (`pipeline.sync`), then
   starts `tessera live` again and times it until it has applied past a marker transaction and its
   lanes are idle; reports both and the ratio;
5. prints one JSON document (`tessera bench live --out FILE` also saves it); stops `tessera live` on the
   way out (also on SIGTERM / Ctrl-C) and drops only the databases it created.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

from bench.freshness import MOODS, SENTENCES, STORES, Write, figures_for, lag_growth, latency_summary, percentile

log = logging.getLogger("bench.live")
REPO = Path(__file__).resolve().parent.parent
STOP_GRACE = 90  # seconds `tessera bench` gives the clean-up on SIGTERM / Ctrl-C: live's stop, the drops
KINDS = ("insert", "edit", "soft_delete", "privacy_flip")
# The share of operations of each kind (an insert also writes its one or two tag links), the freshness
# bench's mix made continuous: mostly new entries, some edits, a few soft deletes and privacy flips.
MIX = {"insert": 0.55, "edit": 0.30, "soft_delete": 0.075, "privacy_flip": 0.075}
# Row changes per operation on average: an insert writes the entry and one or two tag links.
MEAN_COST = sum(share * (2.5 if kind == "insert" else 1.0) for kind, share in MIX.items())
SUSTAIN_RATES = (500, 1000, 2000, 4000, 8000)
REACHED_SHARE = 0.95  # the writer reached a rate when it wrote at least this share of it
LAG_SLOPE_S_PER_S = 0.05  # seconds of lag gained per second of writing that still counts as flat
LAG_FLOOR_S = 1.0
LAG_SLOPE_BYTES_PER_S = 64 * 1024
LAG_FLOOR_BYTES = 4 * 1024 * 1024

# Set-based statements: one per kind and transaction, whatever the number of rows.
INSERT_ENTRIES = """INSERT INTO mindflow.journal_entries (id, user_id, date, title, content, mood, word_count)
    SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::date[], %s::text[], %s::text[], %s::text[], %s::int[])"""
INSERT_TAG_LINKS = """INSERT INTO mindflow.journal_entry_tags (journal_entry_id, tag_id)
    SELECT * FROM unnest(%s::uuid[], %s::uuid[])"""
EDIT_ENTRIES = """UPDATE mindflow.journal_entries e SET content = e.content || ' edited ' || p.token
    FROM unnest(%s::uuid[], %s::text[]) AS p(id, token) WHERE e.id = p.id"""
SOFT_DELETE_ENTRIES = "UPDATE mindflow.journal_entries SET deleted_at = now() WHERE id = ANY(%s::uuid[])"
FLIP_ENTRIES = "UPDATE mindflow.journal_entries SET is_private = true WHERE id = ANY(%s::uuid[])"
# A marker: one source transaction that changes a row; its commit lies past the position it returns.
MARKER_SQL = ("UPDATE mindflow.tags SET name = name WHERE id = (SELECT id FROM mindflow.tags ORDER BY id LIMIT 1)",
              "SELECT pg_current_wal_insert_lsn()::text")
STATUS_SQL = """SELECT pid, updated_at, applied_lsn::text, source_flush_lsn::text, lag_bytes, lag_seconds, batches,
                       transactions, changes, lanes, applied_lsn >= %s::pg_lsn AS past_marker
                  FROM tessera_meta.live_status ORDER BY updated_at DESC LIMIT 1"""


# ---------------------------------------------------------------------------------------------
# Pure: pacing, the mix, sampling, the lag trend, the sustained-rate decision, the figures
# ---------------------------------------------------------------------------------------------

def pacing_plan(rate: float, seconds: float, *, min_changes: int = 3, max_tx_per_s: float = 50) -> list[tuple[float, int]]:
    """(offset in seconds, row changes) of each transaction that writes `rate` changes a second for
    `seconds`: transactions of at least `min_changes` changes, at most `max_tx_per_s` of them a second
    (so high rates group many changes per transaction). The changes add up to round(rate * seconds)."""
    total = round(rate * seconds)
    if total <= 0:
        return []
    tx_rate = min(rate / min_changes, max_tx_per_s)
    count = max(1, round(tx_rate * seconds))
    per_tx = total / count
    return [(i / tx_rate, math.floor((i + 1) * per_tx + 1e-9) - math.floor(i * per_tx + 1e-9)) for i in range(count)]


def compose(budget: int, rng: random.Random, *, can_edit: bool = True, can_retire: bool = True) -> list[tuple[str, int]]:
    """The operations of one transaction of `budget` row changes: (kind, cost) with MIX's shares; an
    insert costs 1 plus its tag links (one or two, fewer when the budget ends). Edits need an entry to
    edit (`can_edit`), soft deletes and flips one to retire (`can_retire`); without, an insert instead."""
    kinds, weights = list(MIX), list(MIX.values())
    ops: list[tuple[str, int]] = []
    left = budget
    while left > 0:
        kind = rng.choices(kinds, weights)[0]
        if (kind == "edit" and not can_edit) or (kind in ("soft_delete", "privacy_flip") and not can_retire):
            kind = "insert"
        cost = 1 + min(rng.choice((1, 2)), left - 1) if kind == "insert" else 1
        ops.append((kind, cost))
        left -= cost
    return ops


class Sampler:
    """Tracks one write (operation) in `stride`, so that about `per_second` writes a second are tracked
    at `rate` row changes a second: stride = ceil(rate / MEAN_COST / per_second). Counting operations,
    not changes, keeps the sample's mix of kinds the writer's (an insert with its tags is no likelier)."""

    def __init__(self, rate: float, per_second: float, mean_cost: float | None = None):
        ops_per_s = rate / (mean_cost or MEAN_COST)
        self.stride = max(1, math.ceil(ops_per_s / per_second)) if per_second > 0 else 0
        self.ops = 0

    def take(self) -> bool:
        self.ops += 1
        return bool(self.stride) and (self.ops - 1) % self.stride == 0


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of (t, value); None with fewer than 2 points or one instant."""
    if len(points) < 2:
        return None
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var == 0:
        return None
    return sum((t - mt) * (v - mv) for t, v in points) / var


def thirds(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Median of the first third and of the last third of `values` (None with fewer than 3)."""
    n = len(values)
    if n < 3:
        return None, None
    return percentile(list(values[: n // 3]), 0.5), percentile(list(values[-(n // 3):]), 0.5)


def grows(points: Sequence[tuple[float, float]], slope_limit: float, floor: float) -> bool | None:
    """Whether a lag series grows: its slope is above `slope_limit` and its last-third median is above
    1.5 times its first-third median plus `floor` (so noise around a flat lag, or a small lag that
    doubles, does not count). None when there are too few points to tell."""
    s = slope(points)
    first, last = thirds([v for _, v in points])
    if s is None or first is None:
        return None
    return s > slope_limit and last > 1.5 * first + floor


def lag_trend(samples: Sequence[dict]) -> dict:
    """The ingest lag over a run from `live_status` samples (dicts with t (seconds from the run's start),
    lag_bytes, lag_seconds): medians, max, slope (per second of run), last- and first-third medians, and
    whether it grows (`grows` on either series)."""
    out: dict = {"samples": len(samples)}
    verdicts = []
    for key, limit, floor, digits in (("lag_seconds", LAG_SLOPE_S_PER_S, LAG_FLOOR_S, 3),
                                      ("lag_bytes", LAG_SLOPE_BYTES_PER_S, LAG_FLOOR_BYTES, 0)):
        points = [(s["t"], float(s[key])) for s in samples if s.get(key) is not None]
        values = [v for _, v in points]
        first, last = thirds(values)
        s = slope(points)
        verdict = grows(points, limit, floor)
        verdicts.append(verdict)
        out[key] = {"p50": _round(percentile(values, 0.5), digits), "max": _round(max(values) if values else None, digits),
                    "slope_per_s": _round(s, 4 if digits else 1),
                    "first_third_p50": _round(first, digits), "last_third_p50": _round(last, digits),
                    "last_over_first": _round(last / first, 2) if first else None, "grows": verdict}
    out["grows"] = None if all(v is None for v in verdicts) else any(bool(v) for v in verdicts)
    return out


def sustained(target: float, achieved: float, trend: dict) -> bool:
    """A step is sustained when the writer reached its rate and the ingest lag did not grow over it
    (a step with too few status samples to tell is not sustained)."""
    return achieved >= REACHED_SHARE * target and trend.get("grows") is False


def highest_sustained(steps: Iterable[dict]) -> float | None:
    """The achieved rate of the highest sustained step, counting up to the first step that was not."""
    best = None
    for step in steps:
        if not step["sustained"]:
            break
        best = step["achieved_changes_per_s"]
    return best


def lanes_idle(lanes) -> bool:
    """`live_status.lanes` (Lanes.status(): per lane a dict) shows nothing pending and nothing running
    (no lanes at all, as with `--no-refresh`, is idle; no status yet is not)."""
    if not isinstance(lanes, dict):
        return False
    for lane in lanes.values():
        if not isinstance(lane, dict):
            continue
        if lane.get("pending") or lane.get("pending_tables") or lane.get("running") or lane.get("busy"):
            return False
    return True


def store_figures(writes: Sequence[Write]) -> dict:
    """Per store, every kind of tracked write together: latency_summary plus lag_growth in commit order."""
    out = {}
    ordered = sorted(writes, key=lambda w: w.committed)
    for store in STORES:
        group = [w for w in ordered if store in w.stores()]
        seen = [w.seen[store] - w.committed for w in group if store in w.seen]
        out[store] = {**latency_summary(seen, len(group) - len(seen)), "lag_growth": lag_growth(seen)}
    return out


def rate_figures(target: float, written: dict, writes: Sequence[Write], samples: Sequence[dict]) -> dict:
    """One rate's figures: the rate asked and achieved (changes and transactions a second, from what the
    writer committed), per store latency, per kind of write, and the ingest lag trend."""
    seconds = written["seconds"] or None
    return {
        "target_changes_per_s": target,
        "achieved_changes_per_s": round(written["changes"] / seconds, 1) if seconds else 0.0,
        "transactions_per_s": round(written["transactions"] / seconds, 1) if seconds else 0.0,
        "written": written,
        "tracked": {k: sum(1 for w in writes if w.kind == k) for k in KINDS},
        "latency_s": store_figures(writes),
        "latency_by_kind_s": figures_for(list(writes)),
        "ingest_lag": lag_trend(samples),
        "ingest_lag_series": [[s["t"], s.get("lag_bytes"), s.get("lag_seconds")] for s in samples],  # t, bytes, s
    }


# The bar on 2 cores: p95 seconds per store at 100 changes/s, the sustained rate, the catch-up ratio.
TARGET_P95_AT_100 = {"journals_view": 5.0, "search": 5.0, "mood_calendar_cache": 10.0, "mood_events": 10.0, "vectors": 30.0}
TARGET_SUSTAINED = 2000
TARGET_CATCH_UP_RATIO = 0.05


def targets(figures: dict) -> dict:
    """Each of the issue's targets with the measured figure and whether it is met (None: not measured)."""
    out: dict = {}
    at_100 = next((r for r in figures.get("rates", []) if r["target_changes_per_s"] == 100), None)
    for store, limit in TARGET_P95_AT_100.items():
        row = (at_100 or {}).get("latency_s", {}).get(store)
        p95 = None if row is None else row["p95"]
        met = None if row is None else (p95 is not None and p95 <= limit and row["never_visible"] == 0)
        out[f"{store}_p95_at_100_s"] = {"limit": limit, "measured": p95, "met": met}
    best = (figures.get("sustain") or {}).get("highest_sustained_changes_per_s")
    out["sustained_changes_per_s"] = {"limit": TARGET_SUSTAINED, "measured": best,
                                      "met": None if figures.get("sustain") is None else (best or 0) >= TARGET_SUSTAINED}
    ratio = (figures.get("catch_up") or {}).get("ratio_to_full_load")
    out["catch_up_ratio_to_full_load"] = {"limit": TARGET_CATCH_UP_RATIO, "measured": ratio,
                                          "met": None if ratio is None else ratio <= TARGET_CATCH_UP_RATIO}
    return out


def batched_check(query: str) -> str:
    """One of the freshness bench's per-write visibility checks (`SELECT [NOT] EXISTS (...)` over
    %(id)s, %(token)s, %(at)s) as one query over many writes: the ids of those it finds visible, with
    params (ids, tokens, commit times) as arrays."""
    if not query.startswith("SELECT "):
        raise ValueError(f"not a visibility check: {query!r}")
    predicate = query.removeprefix("SELECT ")
    for name in ("id", "token", "at"):
        predicate = predicate.replace(f"%({name})s", f"p.{name}")
    return ("SELECT p.id::text FROM unnest(%s::uuid[], %s::text[], %s::timestamptz[]) AS p(id, token, at) "
            f"WHERE {predicate}")


def _round(value, digits):
    if value is None:
        return None
    return round(value) if digits == 0 else round(value, digits)


# ---------------------------------------------------------------------------------------------
# The writer
# ---------------------------------------------------------------------------------------------

@dataclass
class Pools:
    """Entries the writer may touch: `editable` ones only get edited, `retirable` ones are soft deleted
    or flipped once. Tracked inserts join neither, so no later write hides them before they show; an
    entry with a tracked edit leaves `editable` until every store shows that edit (`release`), so no
    later edit supersedes its token (the lanes coalesce: only the newest text would ever show)."""
    users: list[str]
    tags: list[str]
    editable: list[str]
    retirable: list[str]
    next_slot: int = 0
    first_day: object = None

    def hold(self, entry_id: str) -> None:
        self.editable.remove(entry_id)

    def release(self, writes: Sequence[Write]) -> None:
        """Return to `editable` the entries of tracked edits that every store now shows (each once)."""
        for w in writes:
            if w.kind == "edit" and not w.released and len(w.seen) == len(w.stores()):
                w.released = True
                self.editable.append(w.id)

    def slot(self) -> tuple[str, str]:
        """A (user, date) no entry holds yet (uq_user_date): users in turn, one day further back a round."""
        i = self.next_slot
        self.next_slot += 1
        return self.users[i % len(self.users)], (self.first_day - timedelta(days=i // len(self.users))).isoformat()


def _pools(source_url: str, warehouse_url: str, args, rng: random.Random) -> Pools:
    """The writer's pools: the source's eligible users and seeded entries that the warehouse's
    eligibility model also holds AI-eligible (the seed plants rows that break quality rules; they are
    quarantined and stay out of every derived store, so a write to one could never show there)."""
    import psycopg

    from bench.freshness import _eligible

    users, seeded = _eligible(source_url)
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute("SELECT id::text, user_id::text FROM eligibility.eligible_journal_entries "
                            "WHERE ai_eligible").fetchall()
    ai_entries, ai_users = {e for e, _ in rows}, {u for _, u in rows}
    users = [u for u in users if u in ai_users]
    seeded = [e for e in seeded if e in ai_entries]
    with psycopg.connect(source_url) as conn:
        tags = [r[0] for r in conn.execute("SELECT id::text FROM mindflow.tags ORDER BY id").fetchall()]
    rng.shuffle(seeded)
    rng.shuffle(users)
    half = len(seeded) // 2
    first_day = datetime.now(timezone.utc).date() - timedelta(days=args.days + 2)
    return Pools(users, tags, seeded[:half], seeded[half:], first_day=first_day)


@dataclass
class Transaction:
    """The rows of one writer transaction, and the tracked writes among them."""
    entries: list[tuple] = field(default_factory=list)  # (id, user, date, title, content, mood, words)
    links: list[tuple[str, str]] = field(default_factory=list)
    edits: list[tuple[str, str]] = field(default_factory=list)  # (id, token)
    soft_deletes: list[str] = field(default_factory=list)
    flips: list[str] = field(default_factory=list)
    tracked: list[Write] = field(default_factory=list)
    untracked_inserts: list[str] = field(default_factory=list)


def build_transaction(ops: Sequence[tuple[str, int]], pools: Pools, sampler: Sampler | None, rng: random.Random) -> Transaction:
    tx = Transaction()
    edit_ids = set()
    for kind, cost in ops:
        track = sampler is not None and sampler.take()
        if kind == "edit" and len(edit_ids) < len(pools.editable):
            target = rng.choice(pools.editable)
            while target in edit_ids:
                target = rng.choice(pools.editable)
            edit_ids.add(target)
            token = uuid.uuid4().hex[:12]
            tx.edits.append((target, token))
            if track:
                pools.hold(target)
                tx.tracked.append(Write(target, "edit", 0.0, token=token))
            continue
        if kind in ("soft_delete", "privacy_flip") and pools.retirable:
            target = pools.retirable.pop(rng.randrange(len(pools.retirable)))
            (tx.soft_deletes if kind == "soft_delete" else tx.flips).append(target)
            if track:
                tx.tracked.append(Write(target, kind, 0.0))
            continue
        entry_id, (user, day) = str(uuid.uuid4()), pools.slot()
        text = " ".join(rng.sample(SENTENCES, 2))
        tx.entries.append((entry_id, user, day, "Bench entry", text, rng.choice(MOODS), len(text.split())))
        for tag in rng.sample(pools.tags, min(cost - 1, len(pools.tags))):
            tx.links.append((entry_id, tag))
        if track:
            tx.tracked.append(Write(entry_id, "insert", 0.0, user_id=user, date=day))
        else:
            tx.untracked_inserts.append(entry_id)
    return tx


def _columns(rows: Sequence[tuple]) -> list[list]:
    return [list(c) for c in zip(*rows)]


def write_transaction(conn, tx: Transaction) -> int:
    """Writes one transaction; returns the row changes the server reports."""
    changes = 0
    with conn.transaction():
        if tx.entries:
            changes += conn.execute(INSERT_ENTRIES, _columns(tx.entries)).rowcount
        if tx.links:
            changes += conn.execute(INSERT_TAG_LINKS, _columns(tx.links)).rowcount
        if tx.edits:
            changes += conn.execute(EDIT_ENTRIES, _columns(tx.edits)).rowcount
        if tx.soft_deletes:
            changes += conn.execute(SOFT_DELETE_ENTRIES, (tx.soft_deletes,)).rowcount
        if tx.flips:
            changes += conn.execute(FLIP_ENTRIES, (tx.flips,)).rowcount
    return changes


def run_writer(source_url: str, plan: Sequence[tuple[float, int]], seconds: float, pools: Pools, sampler: Sampler | None,
               rng: random.Random, on_tracked: Callable[[list[Write]], None], stop: threading.Event) -> dict:
    """Writes the plan's transactions as they fall due, for `seconds` at most: a transaction the writer
    could not start before the end is not written (so the rate reported is the one it reached)."""
    import psycopg

    changes = transactions = behind = 0
    started = time.monotonic()
    end = last_commit = started + seconds
    with psycopg.connect(source_url, autocommit=True) as conn:
        for offset, budget in plan:
            now = time.monotonic()
            due = started + offset
            if due >= end or now >= end or stop.is_set():
                break
            if due > now:
                if stop.wait(due - now):
                    break
            elif now - due > 1.0:
                behind += 1
            tx = build_transaction(compose(budget, rng, can_edit=bool(pools.editable), can_retire=bool(pools.retirable)),
                                   pools, sampler, rng)
            changes += write_transaction(conn, tx)
            committed = time.time()
            last_commit = max(last_commit, time.monotonic())
            transactions += 1
            pools.editable.extend(tx.untracked_inserts[::2])
            pools.retirable.extend(tx.untracked_inserts[1::2])
            if tx.tracked:
                for w in tx.tracked:
                    w.committed = committed
                on_tracked(tx.tracked)
    # the rate's period: the planned seconds, or longer when the last transaction ended after them, or
    # shorter when the bench was stopped
    elapsed = (min(time.monotonic(), end) if stop.is_set() else last_commit) - started
    return {"changes": changes, "transactions": transactions, "seconds": round(elapsed, 2),
            "transactions_over_1s_late": behind}


# ---------------------------------------------------------------------------------------------
# tessera live, its status, the phases
# ---------------------------------------------------------------------------------------------

def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="tessera bench live")
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--rates", default="10,100,1000", help="row changes per second, one run each")
    p.add_argument("--seconds", type=float, default=120, help="seconds of writing per rate")
    p.add_argument("--drain", type=float, default=45, help="seconds to wait for the last tracked writes")
    p.add_argument("--track-per-s", type=float, default=20, help="tracked writes per second at most")
    p.add_argument("--min-tx-changes", type=int, default=3, help="row changes per transaction at least")
    p.add_argument("--max-tx-per-s", type=float, default=50, help="transactions per second at most")
    p.add_argument("--poll", type=float, default=0.25, help="seconds between visibility polls")
    p.add_argument("--sustain", action="store_true", help="also step up the rate to the highest sustained one")
    p.add_argument("--sustain-rates", default=",".join(map(str, SUSTAIN_RATES)))
    p.add_argument("--sustain-seconds", type=float, default=60)
    p.add_argument("--no-catch-up", action="store_true", help="skip the catch-up after 1%% changed")
    p.add_argument("--change-share", type=float, default=0.01)
    p.add_argument("--ready-timeout", type=float, default=600, help="seconds for live to catch up at most")
    p.add_argument("--live-arg", action="append", default=[], help="an extra option for `tessera live` (repeatable)")
    p.add_argument("--keep", action="store_true", help="keep the databases and the Dagster home")
    return p.parse_args(argv)


def _rates(text: str) -> list[float]:
    return [float(r) for r in text.split(",") if r.strip()]


def _marker(source_url: str) -> str:
    """Commits one marker transaction in the source; returns a position its commit lies past."""
    import psycopg

    with psycopg.connect(source_url) as conn:
        conn.execute(MARKER_SQL[0])
        position = conn.execute(MARKER_SQL[1]).fetchone()[0]
        conn.commit()
    return position


def _status(conn, marker: str = "0/0") -> dict | None:
    try:
        row = conn.execute(STATUS_SQL, (marker,)).fetchone()
    except Exception:  # noqa: BLE001 - the table is not there until live writes it
        conn.rollback()
        return None
    if row is None:
        return None
    keys = ("pid", "updated_at", "applied_lsn", "source_flush_lsn", "lag_bytes", "lag_seconds", "batches",
            "transactions", "changes", "lanes", "past_marker")
    return dict(zip(keys, row))


def _start_live(home: Path, extra: Sequence[str]) -> subprocess.Popen:
    logs = open(home / "live.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "orchestration.cli", "-v", "live", *extra], cwd=REPO,
                            env=os.environ.copy(), stdout=logs, stderr=subprocess.STDOUT, start_new_session=True)


def _stop_live(proc: subprocess.Popen | None) -> int | None:
    """SIGTERM (live's clean stop), then SIGKILL to its session when it lingers; its exit code."""
    if proc is None:
        return None
    for sig, wait in ((signal.SIGTERM, 60), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig) if sig == signal.SIGKILL else proc.send_signal(sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return proc.poll()


def wait_caught_up(warehouse_url: str, proc: subprocess.Popen, marker: str, timeout: float, stop: threading.Event) -> dict:
    """Seconds until live_status (of this process) shows the marker applied, then its lanes idle in two
    successive status rows. On timeout: timed_out and the last lanes status (a failing lane shows there).
    Raises when live exits."""
    import psycopg

    started = time.monotonic()
    ingest_s = first_status_s = None
    idle_rows: list = []
    status = None
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        while not stop.is_set():
            if proc.poll() is not None:
                raise RuntimeError(f"tessera live exited with {proc.returncode} before catching up")
            if time.monotonic() - started > timeout:
                return {"timed_out": True, "ingest_caught_up_s": None if ingest_s is None else round(ingest_s, 2),
                        "lanes": None if status is None else status["lanes"]}
            status = _status(conn, marker)
            if status and status["pid"] == proc.pid and first_status_s is None:
                first_status_s = round(time.monotonic() - started, 2)
            if status and status["pid"] == proc.pid and status["past_marker"]:
                ingest_s = ingest_s or time.monotonic() - started
                if lanes_idle(status["lanes"]):
                    if status["updated_at"] not in idle_rows:
                        idle_rows.append(status["updated_at"])
                    if len(idle_rows) >= 2:
                        return {"timed_out": False, "first_status_s": first_status_s, "ingest_caught_up_s": round(ingest_s, 2),
                                "lanes_idle_s": round(time.monotonic() - started, 2)}
                else:
                    idle_rows.clear()
            stop.wait(0.25)
    raise KeyboardInterrupt


class StatusSampler(threading.Thread):
    """Reads live_status every second into `samples` (t = seconds since `mark()`)."""

    def __init__(self, warehouse_url: str, stop: threading.Event, every: float = 1.0):
        super().__init__(daemon=True)
        self.url, self.stop, self.every = warehouse_url, stop, every
        self.samples: list[dict] = []
        self.origin = time.monotonic()
        self.lock = threading.Lock()

    def mark(self) -> None:
        with self.lock:
            self.samples, self.origin = [], time.monotonic()

    def take(self) -> list[dict]:
        with self.lock:
            return list(self.samples)

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(self.every):
                status = _status(conn)
                if status is None:
                    continue
                with self.lock:
                    self.samples.append({"t": round(time.monotonic() - self.origin, 2), "lag_bytes": status["lag_bytes"],
                                         "lag_seconds": status["lag_seconds"], "batches": status["batches"],
                                         "changes": status["changes"]})


def run_rate(urls: dict, args, rate: float, seconds: float, pools: Pools, rng: random.Random, sampler: StatusSampler,
             stop: threading.Event, *, track: bool = True) -> dict:
    """One rate: write for `seconds` while polling the tracked writes (`track`), then drain them for
    args.drain seconds at most; its figures (without latencies when nothing was tracked)."""
    import psycopg

    plan = pacing_plan(rate, seconds, min_changes=args.min_tx_changes, max_tx_per_s=args.max_tx_per_s)
    writes: list[Write] = []
    lock = threading.Lock()
    result: dict = {}

    def tracked(new: list[Write]) -> None:
        with lock:
            writes.extend(new)

    def write() -> None:
        try:
            result.update(run_writer(urls["source"], plan, seconds, pools, Sampler(rate, args.track_per_s) if track else None,
                                     rng, tracked, stop))
        except Exception as exc:  # noqa: BLE001 - reported in the figures, the run goes on
            log.exception("the writer failed")
            result["error"] = repr(exc)

    log.info("writing %.0f changes/s for %.0f s (%d transactions planned)", rate, seconds, len(plan))
    sampler.mark()
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    with psycopg.connect(urls["warehouse"], autocommit=True) as conn:
        last_write = None
        while not stop.is_set():
            if track:
                with lock:
                    pending = [w for w in writes if len(w.seen) < len(w.stores())]
                poll_once(conn, pending)
                pools.release(pending)
            if not writer.is_alive():
                if not track:
                    break
                last_write = last_write or time.time()
                with lock:
                    done = all(len(w.seen) == len(w.stores()) for w in writes)
                if done or time.time() - last_write > args.drain:
                    break
            stop.wait(args.poll)
    writer.join()
    if stop.is_set():
        raise KeyboardInterrupt
    samples = [s for s in sampler.take() if s["t"] <= (result.get("seconds") or seconds)]
    written = {k: result.get(k, 0) for k in ("changes", "transactions", "seconds", "transactions_over_1s_late")}
    if "error" in result:
        written["error"] = result["error"]
    figures = rate_figures(rate, written, writes, samples)
    if not track:
        for key in ("tracked", "latency_s", "latency_by_kind_s"):
            figures.pop(key)
    return figures


def poll_once(conn, writes: Sequence[Write]) -> None:
    """Marks what each pending tracked write shows: inserts by the freshness bench's poller, edits, soft
    deletes and flips by its checks batched (one query per kind and store, whatever the writes)."""
    from bench.freshness import SPECIAL_SQL, _poll_once

    _poll_once(conn, [w for w in writes if w.kind == "insert"])
    now = time.time()
    for kind, checks in SPECIAL_SQL.items():
        group = [w for w in writes if w.kind == kind]
        for store, query in checks.items():
            waiting = [w for w in group if store not in w.seen]
            if not waiting:
                continue
            try:
                found = {r[0] for r in conn.execute(batched_check(query), (
                    [w.id for w in waiting], [w.token for w in waiting],
                    [datetime.fromtimestamp(w.committed, timezone.utc) for w in waiting])).fetchall()}
            except Exception:  # noqa: BLE001 - a store being rebuilt (a view repointed): next poll
                conn.rollback()
                continue
            for w in waiting:
                if w.id in found:
                    w.seen[store] = now


def catch_up(urls: dict, args, server, tag: str, home: Path, state: dict, stop: threading.Event) -> dict:
    """Stop live, change about 1% of the rows, time a full load of the same source into an empty
    warehouse, then time live's restart until it has applied everything and its lanes are idle."""
    from assets.ingest import state as ingest_state
    from assets.ingest.pipeline import sync
    from bench.dbt import _admin, _drop
    from bench.ingest import apply_changes
    from core.db import database_name

    out: dict = {"live_exit_code": _stop_live(state.pop("proc"))}
    touched = apply_changes(urls["source"], args.change_share)
    out["source_rows_touched"] = touched
    out["source_rows_changed"] = sum(touched.values())
    marker = _marker(urls["source"])
    full_db = f"bench_{tag}_full"
    with _admin(server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{full_db}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{full_db}"')
    state["names"].append(full_db)
    started = time.monotonic()
    results = sync(urls["source"], server.url(full_db))
    full_seconds = time.monotonic() - started
    out["full_load"] = {"seconds": round(full_seconds, 2),
                        "rows": sum(r.full_load_rows for r in results.values())}
    slot, publication = ingest_state.stream_names(database_name(urls["source"]), full_db)
    _drop(server, [full_db])
    state["names"].remove(full_db)
    import psycopg

    with psycopg.connect(urls["source"], autocommit=True) as conn:  # the full load's stream, not live's
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s", (slot,))
        conn.execute(f'DROP PUBLICATION IF EXISTS "{publication}"')
    started = time.monotonic()
    state["proc"] = _start_live(home, args.live_arg)
    caught = wait_caught_up(urls["warehouse"], state["proc"], marker, args.ready_timeout, stop)
    out["live_restart"] = caught
    if caught["timed_out"]:
        out["seconds"] = out["ratio_to_full_load"] = out["ingest_ratio_to_full_load"] = None
        return out
    out["seconds"] = round(time.monotonic() - started, 2)
    out["ratio_to_full_load"] = round(out["seconds"] / full_seconds, 4) if full_seconds else None
    out["ingest_ratio_to_full_load"] = round(caught["ingest_caught_up_s"] / full_seconds, 4) if full_seconds else None
    out["target_ratio"] = "<= 0.05"
    # live's own start (imports, the dbt parse, the first status row) is in `seconds`: a floor of some
    # seconds that only a source large enough for a full load of minutes makes small beside it
    out["after_first_status_s"] = round(caught["lanes_idle_s"] - (caught["first_status_s"] or 0.0), 2)
    out["after_first_status_ratio_to_full_load"] = (round(out["after_first_status_s"] / full_seconds, 4)
                                                    if full_seconds else None)
    return out


def main(argv: list[str]) -> dict:
    from bench.freshness import _workspace

    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    tag = f"live{os.getpid()}"
    home = Path(tempfile.mkdtemp(prefix="tessera-benchlive-"))
    dagster_home = home / "dagster"
    dagster_home.mkdir()
    shutil.copyfile(REPO / "orchestration" / "dagster.yaml", dagster_home / "dagster.yaml")
    saved_env = {k: os.environ.get(k) for k in ("TESSERA_SOURCE_URL", "TESSERA_WAREHOUSE_URL", "DAGSTER_HOME")}
    rates = _rates(args.rates)
    figures: dict = {
        "machine": {"cores": os.cpu_count(), "platform": sys.platform, "python": sys.version.split()[0]},
        "parameters": {"users": args.users, "days": args.days, "seed": args.seed, "rates": rates,
                       "seconds_per_rate": args.seconds, "drain_s": args.drain, "track_per_s": args.track_per_s,
                       "min_tx_changes": args.min_tx_changes, "max_tx_per_s": args.max_tx_per_s, "poll_s": args.poll,
                       "mix": MIX, "sustain": args.sustain, "sustain_rates": _rates(args.sustain_rates),
                       "sustain_seconds": args.sustain_seconds, "catch_up": not args.no_catch_up,
                       "change_share": args.change_share, "live_args": args.live_arg},
        "stores": list(STORES),
        "rates": [], "sustain": None, "catch_up": None, "interrupted": False,
    }
    state: dict = {"proc": None, "names": []}
    server = None
    sampler = None
    try:
        from core.embedded import ensure_embedded_server
        from core.settings import Settings

        server = ensure_embedded_server(Settings.from_env())
        state["names"] = [f"bench_{tag}_app", f"bench_{tag}_wh"]  # _workspace's names, dropped if it stops midway
        started = time.monotonic()
        source_url, warehouse_url, server = _workspace(args, tag, dagster_home)
        urls = {"source": source_url, "warehouse": warehouse_url}
        figures["setup"] = {"seed_and_materialize_s": round(time.monotonic() - started, 1)}
        marker = _marker(source_url)
        started = time.monotonic()
        state["proc"] = _start_live(home, args.live_arg)
        log.info("tessera live started (pid %d, log %s)", state["proc"].pid, home / "live.log")
        figures["setup"]["live_ready"] = wait_caught_up(warehouse_url, state["proc"], marker, args.ready_timeout, stop)
        if figures["setup"]["live_ready"]["timed_out"]:
            raise RuntimeError(f"tessera live did not catch up within {args.ready_timeout:.0f} s: "
                               f"{figures['setup']['live_ready']} (log {home / 'live.log'})")
        figures["setup"]["live_ready"]["seconds"] = round(time.monotonic() - started, 2)
        sampler = StatusSampler(warehouse_url, stop)
        sampler.start()
        rng = random.Random(args.seed)
        pools = _pools(source_url, warehouse_url, args, rng)
        for rate in rates:
            figures["rates"].append(run_rate(urls, args, rate, args.seconds, pools, rng, sampler, stop))
        if args.sustain:
            steps: list[dict] = []
            for rate in _rates(args.sustain_rates):
                step = run_rate(urls, args, rate, args.sustain_seconds, pools, rng, sampler, stop, track=False)
                step["sustained"] = sustained(rate, step["achieved_changes_per_s"], step["ingest_lag"])
                steps.append(step)
                log.info("sustain %.0f changes/s: achieved %.0f, lag grows %s -> %s", rate, step["achieved_changes_per_s"],
                         step["ingest_lag"]["grows"], "sustained" if step["sustained"] else "not sustained")
                if not step["sustained"]:
                    break
            drained = wait_caught_up(warehouse_url, state["proc"], _marker(source_url), args.ready_timeout, stop)
            figures["sustain"] = {"steps": steps, "highest_sustained_changes_per_s": highest_sustained(steps),
                                  "drain_after": drained, "target": ">= 2000 changes/s with flat lag"}
        if not args.no_catch_up:
            figures["catch_up"] = catch_up(urls, args, server, tag, home, state, stop)
        figures["targets"] = targets(figures)
    except KeyboardInterrupt:
        figures["interrupted"] = True
        raise
    finally:
        stop.set()
        figures["live_exit_code"] = _stop_live(state.get("proc"))
        if sampler is not None:
            sampler.join(timeout=5)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if args.keep:
            figures["kept"] = {"databases": state["names"], "home": str(home)}
        else:
            if server is not None and state["names"]:
                from bench.dbt import _drop

                _drop(server, state["names"])
            shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(figures, indent=2, default=str))
    return figures
