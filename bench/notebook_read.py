"""The notebook read path and the insight-theme counting: polars against the previous code, same process.

    tessera bench notebook_read [--users 400] [--days 365] [--seed 7] [--repeats 5]
                                [--theme-users 40] [--period-days 30]

Read path. Builds a throw-away warehouse database on the embedded server (or next to
TESSERA_WAREHOUSE_URL) with `marts.bench_journal`, shaped like the mood read views (uuid ids, a date, a
timestamptz, mood text, numeric(3,2) score, unconstrained numeric valence, text[] tags, int word count,
jsonb details, ~80 words of journal text), one entry per user-day with probability 0.8. Then it times
  old     the previous helper: psycopg fetchall() of Python row tuples, then pandas.DataFrame(rows)
  polars  orchestration.notebook.read_mart: ADBC binary COPY into Arrow, then polars
  pandas  read_mart(frame="pandas"): the same, converted to pandas at the end
for the whole mart (`repeats` times) and for one user's rows (a small filtered read, 5 x repeats times),
and reports the latency distributions with old / new as the ratio.

Theme counting. For `theme-users` generated users (period of `period-days` entries, a baseline of
BASELINE_DAYS entries, the generator's journal text) it runs the previous extract_themes (kept here
only: one scan of every entry per candidate term, keywords' former DocIndex) and today's (one polars
pass, assets.insights.themes.term_holders), checks the themes are identical for every user, and times
the document-frequency step alone (every user's period in one polars pass, as build_period now does, and
one user per call) and the whole extract_themes over all users (YAKE candidates included, the same in both).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

MART_DDL = """
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE marts.bench_journal (id uuid PRIMARY KEY, user_id uuid NOT NULL, date date NOT NULL,
    created_at timestamptz NOT NULL, mood varchar(20), mood_score numeric(3, 2), text_valence numeric,
    tags text[] NOT NULL, word_count integer NOT NULL, details jsonb NOT NULL, title text, content text);
CREATE INDEX ON marts.bench_journal (user_id);
"""
MOODS = (("happy", 0.5), ("neutral", 0.0), ("sad", -0.5), ("ecstatic", 1.0), ("anxious", -0.6), ("angry", -0.8))


def distribution(seconds: list[float]) -> dict:
    """Latency distribution in milliseconds."""
    ms = sorted(s * 1000 for s in seconds)

    def pick(q: float) -> float:
        return round(ms[min(len(ms) - 1, max(0, math.ceil(q * len(ms)) - 1))], 3)

    return {"runs": len(ms), "min_ms": round(ms[0], 3), "p50_ms": round(statistics.median(ms), 3),
            "p90_ms": pick(0.9), "max_ms": round(ms[-1], 3), "mean_ms": round(statistics.fmean(ms), 3)}


def _timed(fn, repeats: int) -> tuple[list[float], object]:
    seconds, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t0)
    return seconds, result


# --- the previous notebook read path (baseline, kept here only) -----------------------------------

def old_read_mart(url: str, name: str, **filters):
    """orchestration.notebook.read_mart as it was: rows fetched as Python tuples, pandas built from them."""
    import pandas as pd
    import psycopg

    from orchestration.notebook import build_select, qualified_name

    schema, table = qualified_name(name)
    with psycopg.connect(url, application_name="tessera-notebook") as conn:
        conn.read_only = True
        columns = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (schema, table)).fetchall()]
        query, params = build_select(schema, table, filters, columns)
        with conn.cursor() as cur:
            cur.execute(query, params)
            return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


# --- the previous theme counting (baseline, kept here only) ---------------------------------------

class _DocIndex:
    __slots__ = ("words", "padded")

    def __init__(self, tokens: list[str]):
        self.words = set(tokens)
        self.padded = f" {' '.join(tokens)} "

    def has(self, phrase: str) -> bool:
        return phrase in self.words if " " not in phrase else f" {phrase} " in self.padded


def old_holders(pool: list[str], period_tokens: list[list[str]], base_tokens: list[list[str]]):
    period_ix = [_DocIndex(t) for t in period_tokens]
    base_ix = [_DocIndex(t) for t in base_tokens]
    held = {t: [i for i, d in enumerate(period_ix) if d.has(t)] for t in pool}
    df_base = {t: sum(1 for d in base_ix if d.has(t)) for t in pool}
    return held, df_base


def new_holders(pool: list[str], period_tokens: list[list[str]], base_tokens: list[list[str]]):
    from assets.insights.themes import term_holders

    holding = term_holders(pool, period_tokens + base_tokens)
    held = {t: [i for i in holding.get(t, []) if i < len(period_tokens)] for t in pool}
    return held, {t: len(holding.get(t, [])) - len(held[t]) for t in pool}


def old_extract_themes(period_docs, baseline_docs, scores=None, k: int = 5) -> list[dict]:
    """assets.insights.themes.extract_themes before polars: the same candidates and ranking, with the
    document frequencies counted by one scan of every entry per candidate term (old_holders)."""
    from assets.insights.themes import _candidates, rank_themes

    if not period_docs:
        return []
    period_tokens, base_tokens, pool, picked = _candidates(period_docs, baseline_docs)
    held, df_base = old_holders(pool, period_tokens, base_tokens)
    return rank_themes(period_tokens, len(baseline_docs), scores, pool, picked, held, df_base, k)


def _entry(rng: random.Random, user: uuid.UUID, day: date) -> tuple:
    from sources.generator import text

    mood, centre = rng.choice(MOODS)
    tags = sorted(rng.sample(text.TAGS, rng.randint(0, 3)))
    title, content = text.journal_entry(rng, mood, tags, rng.randint(40, 120))
    valence = round(max(-1.0, min(1.0, centre + rng.uniform(-0.3, 0.3))), 4)
    created = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(seconds=rng.randint(0, 86399))
    details = {"device": rng.choice(("ios", "android", "web")), "edits": rng.randint(0, 4), "tags": tags}
    return (uuid.UUID(int=rng.getrandbits(128), version=4), user, day, created, mood, Decimal(str(centre)).quantize(Decimal("0.01")),
            Decimal(str(valence)), tags, len(content.split()), json.dumps(details), title, content)


def _theme_inputs(rng: random.Random, users: int, period_days: int, baseline_days: int):
    from sources.generator import text

    inputs = []
    for _ in range(users):
        favourites = rng.sample(text.TAGS, 6)

        def doc(mood):
            title, content = text.journal_entry(rng, mood, rng.sample(favourites, 2), rng.randint(60, 160))
            return f"{title}\n{content}"

        period = [doc(rng.choice(MOODS)[0]) for _ in range(period_days)]
        baseline = [doc(rng.choice(MOODS)[0]) for _ in range(baseline_days)]
        scores = [None if rng.random() < 0.1 else Decimal(str(round(rng.uniform(-1, 1), 2))) for _ in period]
        inputs.append((period, baseline, scores))
    return inputs


def bench_themes(rng: random.Random, users: int, period_days: int, repeats: int) -> dict:
    from assets.insights.build import BASELINE_DAYS
    from assets.insights.themes import _candidates, extract_themes, extract_themes_many, term_holders_many

    inputs = _theme_inputs(rng, users, period_days, BASELINE_DAYS)
    prepared = [_candidates(period, baseline) for period, baseline, _ in inputs]

    def old_counting():
        return [old_holders(pool, period_tokens, base_tokens) for period_tokens, base_tokens, pool, _ in prepared]

    def polars_counting():
        holdings = term_holders_many([pool for _, _, pool, _ in prepared],
                                     [p + b for p, b, _, _ in prepared])
        return [({t: [i for i in h.get(t, []) if i < len(p)] for t in pool},
                 {t: sum(1 for i in h.get(t, []) if i >= len(p)) for t in pool})
                for (p, _, pool, _), h in zip(prepared, holdings)]

    old_seconds, old_result = _timed(old_counting, repeats)
    new_seconds, new_result = _timed(polars_counting, repeats)
    if old_result != new_result:
        raise AssertionError("document frequencies differ between the old loop and polars")
    one_old, one_new = [], []
    for period_tokens, base_tokens, pool, _ in prepared:  # one user per call, as the asset did before
        t0 = time.perf_counter()
        old_holders(pool, period_tokens, base_tokens)
        one_old.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        term_holders_many([pool], [period_tokens + base_tokens])
        one_new.append(time.perf_counter() - t0)

    whole_old, themes_old = _timed(lambda: [old_extract_themes(p, b, s) for p, b, s in inputs], max(1, repeats // 2))
    whole_new, themes_new = _timed(lambda: extract_themes_many(inputs), max(1, repeats // 2))
    if themes_old != themes_new or themes_new != [extract_themes(p, b, s) for p, b, s in inputs]:
        raise AssertionError("themes differ between the old loop and polars")
    pools = [len(pool) for _, _, pool, _ in prepared]
    return {
        "users": users, "period_entries": period_days, "baseline_entries": BASELINE_DAYS,
        "candidate_terms_per_user": {"min": min(pools), "median": statistics.median(pools), "max": max(pools)},
        "identical_themes_for_every_user": True,
        "document_frequencies_all_users": {
            "old_loop": distribution(old_seconds), "polars_one_pass": distribution(new_seconds),
            "ratio_old_to_polars_p50": round(statistics.median(old_seconds) / statistics.median(new_seconds), 2)},
        "document_frequencies_one_user_per_call": {
            "old_loop": distribution(one_old), "polars": distribution(one_new),
            "ratio_old_to_polars_p50": round(statistics.median(one_old) / statistics.median(one_new), 2)},
        "extract_themes_all_users": {
            "old_loop": distribution(whole_old), "polars_batched": distribution(whole_new),
            "ratio_old_to_polars_p50": round(statistics.median(whole_old) / statistics.median(whole_new), 2)},
    }


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="tessera bench notebook_read")
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--theme-users", type=int, default=40)
    parser.add_argument("--period-days", type=int, default=30)
    args = parser.parse_args(argv)

    import psycopg

    from orchestration.notebook import read_mart
    from core.embedded import warehouse_database_url
    from core.settings import Settings

    rng = random.Random(args.seed)
    warehouse_url = warehouse_database_url(Settings.from_env())
    name = f"bench_nbread_{uuid.uuid4().hex[:8]}"
    admin_url = psycopg.conninfo.make_conninfo(warehouse_url, dbname="postgres")
    bench_url = psycopg.conninfo.make_conninfo(warehouse_url, dbname=name)
    figures: dict = {"users": args.users, "days": args.days, "seed": args.seed, "repeats": args.repeats,
                     "database_host": psycopg.conninfo.conninfo_to_dict(warehouse_url).get("host")}
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    previous = os.environ.get("TESSERA_WAREHOUSE_URL")
    try:
        started = time.perf_counter()
        users = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(args.users)]
        first = date(2025, 1, 1)
        with psycopg.connect(bench_url) as conn:
            conn.execute(MART_DDL)
            with conn.cursor().copy("COPY marts.bench_journal FROM STDIN") as copy:
                rows = 0
                for user in users:
                    for d in range(args.days):
                        if rng.random() < 0.8:
                            copy.write_row(_entry(rng, user, first + timedelta(days=d)))
                            rows += 1
            conn.execute("ANALYZE marts.bench_journal")
            size = conn.execute("SELECT pg_total_relation_size('marts.bench_journal')").fetchone()[0]
        figures.update(rows=rows, table_mb=round(size / 2**20, 1), load_seconds=round(time.perf_counter() - started, 2))

        os.environ["TESSERA_WAREHOUSE_URL"] = bench_url
        old_frame = old_read_mart(bench_url, "bench_journal")
        new_frame = read_mart("bench_journal")  # warm both paths once, and check they agree
        if (len(old_frame), list(old_frame.columns)) != (new_frame.height, new_frame.columns):
            raise AssertionError("the two read paths disagree on the shape of the mart")
        figures["polars_schema"] = {k: str(v) for k, v in new_frame.schema.items()}
        whole = {}
        for label, fn in (("old", lambda: old_read_mart(bench_url, "bench_journal")),
                          ("polars", lambda: read_mart("bench_journal")),
                          ("pandas", lambda: read_mart("bench_journal", frame="pandas"))):
            seconds, _ = _timed(fn, args.repeats)
            whole[label] = distribution(seconds)
        whole["rows_per_second_polars_p50"] = round(rows / (whole["polars"]["p50_ms"] / 1000))
        whole["rows_per_second_old_p50"] = round(rows / (whole["old"]["p50_ms"] / 1000))
        whole["ratio_old_to_polars_p50"] = round(whole["old"]["p50_ms"] / whole["polars"]["p50_ms"], 2)
        whole["ratio_old_to_pandas_p50"] = round(whole["old"]["p50_ms"] / whole["pandas"]["p50_ms"], 2)
        figures["whole_mart"] = whole

        one_user = {}
        picks = [str(rng.choice(users)) for _ in range(args.repeats * 5)]
        for label, fn in (("old", lambda u: old_read_mart(bench_url, "bench_journal", user_id=u)),
                          ("polars", lambda u: read_mart("bench_journal", user_id=u))):
            seconds = []
            for u in picks:
                t0 = time.perf_counter()
                fn(u)
                seconds.append(time.perf_counter() - t0)
            one_user[label] = distribution(seconds)
        one_user["rows_per_read"] = round(rows / args.users)
        one_user["ratio_old_to_polars_p50"] = round(one_user["old"]["p50_ms"] / one_user["polars"]["p50_ms"], 2)
        figures["one_user"] = one_user
    finally:
        if previous is None:
            os.environ.pop("TESSERA_WAREHOUSE_URL", None)
        else:
            os.environ["TESSERA_WAREHOUSE_URL"] = previous
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    figures["themes"] = bench_themes(rng, args.theme_users, args.period_days, args.repeats)
    print(json.dumps(figures, indent=2, default=str))
    return figures


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
