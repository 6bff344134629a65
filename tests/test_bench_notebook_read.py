"""`tessera bench notebook_read` at a tiny size against the embedded Postgres: both read paths agree on the
mart, the polars types are the reader's, the themes equal the previous loop's, the throw-away database goes."""

from __future__ import annotations

import psycopg


def test_distribution_of_hand_made_latencies():
    from bench.notebook_read import distribution

    d = distribution([0.004, 0.001, 0.003, 0.002, 0.010])
    assert (d["runs"], d["min_ms"], d["p50_ms"], d["p90_ms"], d["max_ms"]) == (5, 1.0, 3.0, 10.0, 10.0)
    assert d["mean_ms"] == 4.0


def test_bench_runs_small_and_cleans_up(databases):
    from bench import notebook_read

    figures = notebook_read.main(["--users", "3", "--days", "10", "--repeats", "1", "--theme-users", "2",
                                  "--period-days", "5"])
    assert figures["rows"] > 0 and figures["whole_mart"]["polars"]["runs"] == 1
    assert figures["polars_schema"]["mood_score"] == "Decimal(precision=3, scale=2)"
    assert figures["polars_schema"]["created_at"] == "Datetime(time_unit='us', time_zone='UTC')"
    assert figures["themes"]["identical_themes_for_every_user"] is True
    for part in ("document_frequencies_all_users", "extract_themes_all_users"):
        assert figures["themes"][part]["ratio_old_to_polars_p50"] > 0
    with psycopg.connect(databases.warehouse_url) as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'bench_nbread_%'").fetchone()[0]
    assert left == 0
