"""Search latency per mode on the Postgres backend: `tessera bench search [--entries 100000] [--users 200]`.

What it does, in its own database (`tessera_bench_search` on the warehouse's server; nothing else is
touched):
1. writes synthetic raw MindFlow copies directly (COPY): users (3% in private mode, 1% erased), entries
   with mood-matched text from a fixed vocabulary (5% private, 2% soft-deleted), tags; and random
   unit vectors for the AI-eligible entries straight into vectors.journal_entries (generated in SQL).
   This skips the generator, ingest and the embedding model on purpose: it measures search, not them;
2. builds the index with the real code path (postgres.index.rebuild), then times an incremental sync
   with nothing changed and one after 1% of the entries changed;
3. times queries through the public interface (search_journal / autocomplete_tags) from random users:
   keyword, keyword + mood filter, semantic, hybrid, tag autocomplete. Query vectors are random unit
   vectors (a stand-in encoder): the model's own query-encoding time is not part of the figures;
4. the baseline, measured in the same run: the plainest indexed read of the same table (a user's 20
   newest documents). Figures are reported as p50/p95 and as ratios to the baseline's p50.

Prints JSON and returns it.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from typing import Any

import numpy as np
import psycopg

from sources.generator import text as _gen_text

# mood vocabulary of the synthetic text: the generator's own mood adjectives (one vocabulary, one place)
MOOD_WORDS = {mood: " ".join(w for adj in _gen_text.MOOD_BANK[mood]["adj"] for w in adj.split())
              for mood in _gen_text.MOODS}
COMMON = ("today morning evening work family walk river coffee book music garden friend city train rain "
          "project review dinner weekend café résumé naïve kitchen office park beach mountain letter "
          "phone email team plan goal health run gym yoga sleep dream story memory holiday").split()
TAGS = ("work family health travel gratitude goals running reading cooking music friends sleep stress "
        "reflection weekend nature coffee study money garden").split()
DATABASE = "tessera_bench_search"


def _bench_url(create: bool) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from core.embedded import warehouse_database_url
    from core.settings import Settings

    warehouse = warehouse_database_url(Settings.from_env())
    admin = make_conninfo(warehouse, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
        if create and exists:
            conn.execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
        if create or not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    assert conninfo_to_dict(warehouse)
    return make_conninfo(warehouse, dbname=DATABASE)


def _text(rng: random.Random, mood: str, words: int) -> str:
    mood_words = MOOD_WORDS[mood].split()
    picked = [rng.choice(mood_words) if rng.random() < 0.3 else rng.choice(COMMON) for _ in range(words)]
    sentences, out = [], []
    for i, word in enumerate(picked, 1):
        out.append(word)
        if i % 12 == 0:
            sentences.append(" ".join(out).capitalize() + ".")
            out = []
    if out:
        sentences.append(" ".join(out).capitalize() + ".")
    return " ".join(sentences)


DDL = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE SCHEMA raw_mindflow; CREATE SCHEMA vectors;
CREATE TABLE raw_mindflow.users (id uuid PRIMARY KEY, email text, password_hash text, display_name text, photo_url text,
  timezone text, language text, theme text, created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(),
  last_login_at timestamptz, deleted_at timestamptz, is_active boolean DEFAULT true, email_verified boolean DEFAULT false,
  _ingested_at timestamptz DEFAULT now(), _source_lsn pg_lsn);
CREATE TABLE raw_mindflow.user_settings (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid, auto_save boolean,
  private_mode boolean, email_weekly_insights boolean, email_monthly_insights boolean, email_reminder_to_write boolean,
  created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), _ingested_at timestamptz DEFAULT now(), _source_lsn pg_lsn);
CREATE TABLE raw_mindflow.journal_entries (id uuid PRIMARY KEY, user_id uuid NOT NULL, date date NOT NULL, title varchar(200) NOT NULL,
  content text NOT NULL, mood varchar(20), location varchar(200), weather varchar(100), word_count integer NOT NULL DEFAULT 0,
  reading_time integer NOT NULL DEFAULT 0, is_private boolean NOT NULL DEFAULT false, version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(), deleted_at timestamptz,
  _ingested_at timestamptz DEFAULT now(), _source_lsn pg_lsn);
CREATE TABLE raw_mindflow.tags (id uuid PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now(),
  _ingested_at timestamptz DEFAULT now(), _source_lsn pg_lsn);
CREATE TABLE raw_mindflow.journal_entry_tags (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), journal_entry_id uuid NOT NULL, tag_id uuid NOT NULL,
  created_at timestamptz DEFAULT now(), _ingested_at timestamptz DEFAULT now(), _source_lsn pg_lsn);
CREATE TABLE vectors.journal_entries (source_id uuid NOT NULL, chunk_index integer NOT NULL, model_id text NOT NULL, user_id uuid,
  content_hash text NOT NULL, embedding vector NOT NULL, embedded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (source_id, model_id, chunk_index));
CREATE TABLE vectors.active_models (source text PRIMARY KEY, model_id text NOT NULL, dimension integer NOT NULL, activated_at timestamptz NOT NULL DEFAULT now());
"""
# The dbt views the journal search documents read over those raw copies.
JOURNAL_VIEWS = ("+eligible_journal_entries", "stg_mindflow__journal_entry_tags", "stg_mindflow__tags")


def build_views(url: str) -> None:
    """dbt run of JOURNAL_VIEWS on the bench database (search reads the eligibility and staging models)."""
    from assets.dbt.project import conninfo_dbt_env, run_dbt

    run_dbt(["run", "--select", *JOURNAL_VIEWS], env=conninfo_dbt_env(url), check=True)


def generate(url: str, *, entries: int, users: int, dim: int, seed: int) -> dict[str, Any]:
    import uuid

    rng = random.Random(seed)
    started = time.perf_counter()
    user_ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(users)]
    tag_ids = {name: uuid.UUID(int=rng.getrandbits(128)) for name in TAGS}
    moods = list(MOOD_WORDS)
    with psycopg.connect(url) as conn:
        conn.execute(DDL)
        conn.commit()
        build_views(url)
        with conn.cursor().copy("COPY raw_mindflow.users (id, email, deleted_at, _source_lsn) FROM STDIN") as cp:
            for i, uid in enumerate(user_ids):
                cp.write_row((uid, f"u{i}@example.com", "2025-06-01" if rng.random() < 0.01 else None, "0/10"))
        with conn.cursor().copy("COPY raw_mindflow.user_settings (user_id, private_mode, _source_lsn) FROM STDIN") as cp:
            for uid in user_ids:
                cp.write_row((uid, rng.random() < 0.03, "0/10"))
        with conn.cursor().copy("COPY raw_mindflow.tags (id, name, _source_lsn) FROM STDIN") as cp:
            for name, tid in tag_ids.items():
                cp.write_row((tid, name, "0/10"))
        per_user = max(1, entries // users)
        base = np.datetime64("2022-01-01")
        links: list[tuple] = []
        with conn.cursor().copy("COPY raw_mindflow.journal_entries (id, user_id, date, title, content, mood, word_count, "
                                "is_private, deleted_at, _source_lsn) FROM STDIN") as cp:
            written = 0
            for uid in user_ids:
                for day in range(min(per_user, entries - written)):
                    eid = uuid.UUID(int=rng.getrandbits(128))
                    mood = rng.choice(moods)
                    content = _text(rng, mood, rng.randint(30, 160))
                    title = _text(rng, mood, rng.randint(2, 6)).rstrip(".")
                    cp.write_row((eid, uid, str(base + day), title[:200], content, mood, len(content.split()),
                                  rng.random() < 0.05, "2025-06-01" if rng.random() < 0.02 else None, "0/20"))
                    links.extend((eid, tag_ids[tag], "0/20") for tag in rng.sample(TAGS, rng.randint(0, 3)))
                    written += 1
        with conn.cursor().copy("COPY raw_mindflow.journal_entry_tags (journal_entry_id, tag_id, _source_lsn) FROM STDIN") as tp:
            for link in links:
                tp.write_row(link)
        conn.commit()
        # random unit vectors for the AI-eligible entries, generated in SQL (the subquery refers to the row
        # so it is evaluated per row)
        conn.execute(
            """INSERT INTO vectors.journal_entries (source_id, chunk_index, model_id, user_id, content_hash, embedding)
               SELECT e.id, 0, 'bench-random', e.user_id, md5(e.id::text),
                      l2_normalize(ARRAY(SELECT random() - 0.5 + 0 * length(e.title) FROM generate_series(1, %s))::real[]::vector)
                 FROM eligibility.eligible_journal_entries e WHERE e.ai_eligible""", (dim,))
        conn.execute("INSERT INTO vectors.active_models VALUES ('journal_entries', 'bench-random', %s, now())", (dim,))
        conn.execute("CREATE TABLE public.bench_params (entries int, users int, dim int, seed int)")
        conn.execute("INSERT INTO public.bench_params VALUES (%s, %s, %s, %s)", (entries, users, dim, seed))
        conn.commit()
        conn.execute("ANALYZE")
    return {"generate_seconds": round(time.perf_counter() - started, 1), "user_ids": [str(u) for u in user_ids]}


class RandomEncoder:
    def __init__(self, dim: int, seed: int):
        self.dimension, self.rng, self.model_id = dim, np.random.default_rng(seed), "bench-random"

    def encode(self, texts):
        v = self.rng.standard_normal((len(texts), self.dimension)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def _stats(samples: list[float], baseline_p50: float | None = None) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
    out = {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2),
           "mean_ms": round(statistics.fmean(ordered), 2), "n": len(ordered)}
    if baseline_p50:
        out["p50_vs_baseline"] = round(out["p50_ms"] / baseline_p50, 1)
    return out


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="tessera bench search")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200, help="timed queries per mode")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--reuse", action="store_true", help="reuse the bench database when built with the same parameters")
    args = parser.parse_args(argv)

    from assets.search import postgres as pg
    from assets.search.api import autocomplete_tags, search_journal

    figures: dict[str, Any] = {"backend": "postgres", "entries": args.entries, "users": args.users, "dim": args.dim}
    url = _bench_url(create=False)
    params = None
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('public.bench_params')").fetchone()[0]:
            params = conn.execute("SELECT entries, users, dim, seed FROM public.bench_params").fetchone()
    if not (args.reuse and params == (args.entries, args.users, args.dim, args.seed)):
        url = _bench_url(create=True)
        figures.update({k: v for k, v in generate(url, entries=args.entries, users=args.users, dim=args.dim,
                                                    seed=args.seed).items() if k != "user_ids"})
    started = time.perf_counter()
    report = pg.rebuild(url, pg.JOURNAL_INDEX)
    figures["build_seconds"] = round(time.perf_counter() - started, 1)
    figures["documents"] = report.documents
    started = time.perf_counter()
    noop = pg.sync(url, pg.JOURNAL_INDEX)
    figures["sync_unchanged_seconds"] = round(time.perf_counter() - started, 2)
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE raw_mindflow.journal_entries SET title = title || ' revised', version = version + 1 "
                     "WHERE abs(hashtext(id::text)) % 100 = 0")
    started = time.perf_counter()
    changed = pg.sync(url, pg.JOURNAL_INDEX)
    figures["sync_1pct_changed_seconds"] = round(time.perf_counter() - started, 2)
    figures["sync_1pct_upserted"] = changed.upserted
    assert noop.upserted == 0

    with psycopg.connect(url) as conn:
        users = [r[0] for r in conn.execute(
            "SELECT user_id::text FROM search.journal_documents GROUP BY user_id HAVING bool_or(ai_eligible)").fetchall()]
    rng = random.Random(args.seed)
    words = COMMON + " ".join(MOOD_WORDS.values()).split()
    backend = pg.PostgresBackend(url, encoder_for=lambda model_id: RandomEncoder(args.dim, args.seed))

    def timed(call) -> float:
        t0 = time.perf_counter()
        call()
        return (time.perf_counter() - t0) * 1000

    def query_text() -> str:
        return " ".join(rng.sample(words, rng.randint(1, 3)))

    conn = backend.connection()
    cases = {
        "baseline_latest_20": lambda u: conn.execute(
            "SELECT id, title, date FROM search.journal_documents WHERE user_id = %s ORDER BY date DESC LIMIT 20", (u,)).fetchall(),
        "keyword": lambda u: search_journal(query_text(), user_id=u, backend=backend),
        "keyword_mood_filter": lambda u: search_journal(query_text(), user_id=u, moods=[rng.choice(list(MOOD_WORDS))],
                                                        backend=backend),
        "semantic": lambda u: search_journal(query_text(), user_id=u, mode="semantic", backend=backend),
        "hybrid": lambda u: search_journal(query_text(), user_id=u, mode="hybrid", backend=backend),
        "autocomplete": lambda u: autocomplete_tags(rng.choice(TAGS)[:2], user_id=u, backend=backend),
    }
    for call in cases.values():  # warm-up
        for _ in range(5):
            call(rng.choice(users))
    samples = {name: [] for name in cases}
    for _ in range(args.queries):  # interleaved so that machine noise hits every mode alike
        for name, call in cases.items():
            samples[name].append(timed(lambda: call(rng.choice(users))))
    baseline = statistics.median(samples["baseline_latest_20"])
    figures["latency"] = {name: _stats(values, None if name.startswith("baseline") else baseline)
                          for name, values in samples.items()}
    backend.close()
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
