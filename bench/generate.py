"""Generator throughput: `tessera bench generate [--users 2000] [--days 365] [--seed 7]`.

Generates into a fresh migrated database on the embedded server (dropped afterwards) and prints
{rows, seconds, rows_per_second, per_table, baseline}. The baseline, measured in the same run, is a
bare COPY of 200k pre-built narrow rows into an unindexed temp table: `ratio_to_bare_copy` says how
close the generator (text, ids, constraints, indexes, triggers included) comes to raw load speed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time


def _bare_copy_rows_per_second(url: str, n: int = 200_000) -> float:
    import psycopg

    rows = [(i, f"row {i}", i * 0.5) for i in range(n)]
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE bench_copy (a bigint, b text, c float8)")
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY bench_copy (a, b, c) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return n / (time.perf_counter() - started)


def main(argv: list[str]) -> dict:
    import psycopg

    from core.embedded import ensure_embedded_server
    from core.settings import Settings
    from sources.generator import generate
    from sources.migrate import apply_migrations

    parser = argparse.ArgumentParser(prog="tessera bench generate")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    server = ensure_embedded_server(Settings.from_env())
    name = f"bench_generate_{os.getpid()}"
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = server.url(name)
        apply_migrations(url)
        baseline = _bare_copy_rows_per_second(url)
        report = generate(url, users=args.users, days=args.days, seed=args.seed, anchor=dt.date(2025, 6, 30))
    finally:
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    result = report.as_dict()
    result["baseline"] = {"bare_copy_rows_per_second": round(baseline)}
    result["ratio_to_bare_copy"] = round(report.rows_per_second / baseline, 3)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
