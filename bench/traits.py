"""Trait matrix: full rebuild vs incremental refresh after one day of new observations.

    tessera bench traits [--users 2000] [--days 365] [--seed 7] [--daily-share 0.1]

Builds a throw-away warehouse database on the embedded server (or next to TESSERA_WAREHOUSE_URL) with
raw_personakit.persons / observations shaped like the generator's (its own text, assessment and graph
functions, so evidence extraction does real work): one person per user, about one observation every
ten days each, review states 50 % processed / 25 % approved / 15 % pending / 10 % rejected; and the dbt
views the trait matrix reads over them (staging, eligibility.eligible_personakit_observations).
Then it times
  full         refresh_traits(full=True) over everything (the baseline, measured in the same run)
  noop         an incremental run with nothing changed (fingerprint scan only)
  incremental  after one day: new observations for `daily-share` of the users, plus 20 earlier
               observations rejected and 20 pending ones approved
and prints the figures as JSON with incremental / full as the ratio.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from datetime import datetime, timedelta, timezone

RAW_DDL = """
CREATE SCHEMA IF NOT EXISTS raw_personakit;
CREATE TABLE raw_personakit.persons (person_id uuid PRIMARY KEY, display_name text NOT NULL, email text,
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, deleted_at timestamptz,
    _ingested_at timestamptz NOT NULL DEFAULT now(), _source_lsn pg_lsn);
CREATE TABLE raw_personakit.observations (observation_id uuid PRIMARY KEY, person_id uuid NOT NULL,
    source_type varchar(20) NOT NULL, source_metadata jsonb NOT NULL, content_raw text NOT NULL,
    content_structured jsonb, media_attachments jsonb NOT NULL DEFAULT '[]', processing_status varchar(10) NOT NULL,
    approved_by text, approved_at timestamptz, rejection_reason text, created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL, version int NOT NULL DEFAULT 1,
    _ingested_at timestamptz NOT NULL DEFAULT now(), _source_lsn pg_lsn);
CREATE INDEX ON raw_personakit.observations (person_id);
CREATE TABLE raw_personakit.mindscapes (mindscape_id uuid PRIMARY KEY, person_id uuid NOT NULL, updated_at timestamptz NOT NULL);
"""
VIEWS = ("stg_personakit__persons", "stg_personakit__observations", "eligible_personakit_observations")
SOURCE_TYPES = (("chat_log", 30), ("document", 20), ("interview", 15), ("assessment", 15), ("api_import", 20))
STATUSES = (("processed", 50), ("approved", 25), ("pending", 15), ("rejected", 10))


def _observation(rng: random.Random, person_id: str, name: str, traits: dict, at: datetime, status: str | None = None) -> tuple:
    from sources.generator import personakit as pk
    from sources.generator import text

    stype = rng.choices([s for s, _ in SOURCE_TYPES], [w for _, w in SOURCE_TYPES])[0]
    meta = {"timestamp": at.isoformat()}
    content = text.observation_text(rng, stype, traits, name)
    if stype == "assessment":
        kind = rng.choice(("mbti", "disc", "enneagram"))
        meta.update(source=f"{kind}_assessment", assessmentType=kind)
        structured = pk.assessment_result(rng, kind, traits)
    else:
        meta["source"] = rng.choice(pk.SOURCES[stype])
        structured = pk.graph_structure(rng, name, content) if rng.random() < 0.85 else None
    status = status or rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
    return (str(uuid.UUID(int=rng.getrandbits(128), version=4)), person_id, stype, json.dumps(meta), content,
            json.dumps(structured) if structured else None, status, at, at)


def _copy_observations(conn, rows) -> None:
    with conn.cursor().copy("COPY raw_personakit.observations (observation_id, person_id, source_type, source_metadata, "
                            "content_raw, content_structured, processing_status, created_at, updated_at) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="tessera bench traits")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--daily-share", type=float, default=0.1, help="share of users with a new observation in the new day")
    args = parser.parse_args(argv)

    import psycopg

    from assets.dbt.project import conninfo_dbt_env, run_dbt
    from assets.ingest import feed
    from assets.persona.traits import refresh_traits
    from core.embedded import warehouse_database_url
    from core.settings import Settings

    rng = random.Random(args.seed)
    warehouse_url = warehouse_database_url(Settings.from_env())
    info = psycopg.conninfo.conninfo_to_dict(warehouse_url)
    name = f"bench_traits_{uuid.uuid4().hex[:8]}"
    admin_url = psycopg.conninfo.make_conninfo(warehouse_url, dbname="postgres")
    bench_url = psycopg.conninfo.make_conninfo(warehouse_url, dbname=name)
    anchor = datetime(2025, 6, 1, tzinfo=timezone.utc)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    figures: dict = {"users": args.users, "days": args.days, "seed": args.seed, "database_host": info.get("host")}
    try:
        people = []
        with psycopg.connect(bench_url) as conn:
            conn.execute(RAW_DDL)
            started = time.perf_counter()
            with conn.cursor().copy("COPY raw_personakit.persons (person_id, display_name, created_at, updated_at) FROM STDIN") as copy:
                for i in range(args.users):
                    pid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                    traits = {t: rng.uniform(0.05, 0.95) for t in ("openness", "conscientiousness", "extraversion",
                                                                     "agreeableness", "neuroticism")}
                    people.append((pid, f"Person{i}", traits))
                    copy.write_row((pid, f"Person{i}", anchor - timedelta(days=args.days), anchor - timedelta(days=args.days)))
            rows = []
            for pid, pname, traits in people:
                for day in range(args.days):
                    if rng.random() < 0.1:
                        at = anchor - timedelta(days=args.days - day, seconds=rng.randint(0, 86399))
                        rows.append(_observation(rng, pid, pname, traits, at))
            _copy_observations(conn, rows)
            conn.execute("ANALYZE raw_personakit.observations")
            conn.commit()
            figures["observations"] = len(rows)
            figures["eligible_observations"] = sum(1 for r in rows if r[6] in ("approved", "processed"))
            figures["load_seconds"] = round(time.perf_counter() - started, 2)
            feed.ensure_feed(conn)  # as ingest does (dbt's run-end hook prunes the change feed)
            conn.commit()
            run_dbt(["run", "--select", *VIEWS], env=conninfo_dbt_env(bench_url), check=True)

            t0 = time.perf_counter()
            full = refresh_traits(conn, anchor, full=True)
            conn.commit()
            figures["full_seconds"] = round(time.perf_counter() - t0, 3)
            figures["full"] = full

            t0 = time.perf_counter()
            noop = refresh_traits(conn, anchor + timedelta(hours=1))
            conn.commit()
            figures["noop_seconds"] = round(time.perf_counter() - t0, 3)
            figures["noop_persons_recomputed"] = noop["persons_recomputed"]

            # one day later: new observations, some rejections and approvals of older ones
            day_rows = [_observation(rng, pid, pname, traits, anchor + timedelta(seconds=rng.randint(0, 86399)),
                                     status=rng.choice(("approved", "processed")))
                        for pid, pname, traits in people if rng.random() < args.daily_share]
            _copy_observations(conn, day_rows)
            rejected = conn.execute("UPDATE raw_personakit.observations SET processing_status = 'rejected' WHERE observation_id IN "
                                    "(SELECT observation_id FROM raw_personakit.observations WHERE processing_status = 'processed' "
                                    "ORDER BY observation_id LIMIT 20)").rowcount
            approved = conn.execute("UPDATE raw_personakit.observations SET processing_status = 'approved' WHERE observation_id IN "
                                    "(SELECT observation_id FROM raw_personakit.observations WHERE processing_status = 'pending' "
                                    "ORDER BY observation_id LIMIT 20)").rowcount
            conn.commit()
            t0 = time.perf_counter()
            incremental = refresh_traits(conn, anchor + timedelta(days=1))
            conn.commit()
            figures["incremental_seconds"] = round(time.perf_counter() - t0, 3)
            figures["incremental"] = incremental
            figures["day_changes"] = {"new_observations": len(day_rows), "rejected": rejected, "approved": approved}
            figures["ratio_incremental_to_full"] = round(figures["incremental_seconds"] / figures["full_seconds"], 4)
            figures["ratio_noop_to_full"] = round(figures["noop_seconds"] / figures["full_seconds"], 4)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(figures, indent=2, default=str))
    return figures


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
