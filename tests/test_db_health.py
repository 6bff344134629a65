"""db_health_check (seed 003) run on the source and shown: asset metadata, tessera_meta.db_health and a
warning check; the floor/ceiling reading of thresholds as a pure function."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg
import psycopg

from assets.operations import health


def test_thresholds_are_ceilings_except_the_cache_hit_ratio_floor():
    assert health.is_healthy("active_connections", 3, 100)
    assert not health.is_healthy("db_size_mb", 20000, 10240)
    assert health.is_healthy("cache_hit_ratio", Decimal("99.5"), 90)  # the seed's own status says WARNING here
    assert not health.is_healthy("cache_hit_ratio", 80, 90)
    m = health.HealthMetric("cache_hit_ratio", Decimal("99"), "WARNING", Decimal("90"))
    assert m.healthy and "| cache_hit_ratio | 99.00 | 90 | WARNING | yes |" in health.markdown([m])


def test_db_health_asset_runs_the_seed_function_and_records_it(databases):
    from assets.operations.definitions import db_health, db_health_within_thresholds
    from assets.resources import default_resources

    result = dg.materialize([db_health, db_health_within_thresholds], resources=default_resources())
    assert result.success
    metadata = result.asset_materializations_for_node("tessera_meta__db_health")[0].metadata
    with psycopg.connect(databases.source_url) as src:
        size_mb = src.execute("select pg_database_size(current_database()) / 1024 / 1024").fetchone()[0]
    assert abs(metadata["db_size_mb"].value - size_mb) <= 1
    assert metadata["database"].value == databases.source_db
    assert "| active_connections |" in metadata["metrics"].value
    with psycopg.connect(databases.warehouse_url) as wh:
        rows = wh.execute("select metric, value, threshold, seed_status, healthy from tessera_meta.db_health "
                          "where run_id = %s", (result.run_id,)).fetchall()
    assert {r[0] for r in rows} == {"active_connections", "db_size_mb", "cache_hit_ratio"}
    for metric, value, threshold, seed_status, healthy in rows:
        assert seed_status == ("OK" if value <= threshold else "WARNING")  # the seed's comparison, as returned
        assert healthy == health.is_healthy(metric, value, threshold)
    evaluation = result.get_asset_check_evaluations()[0]
    assert evaluation.passed == all(r[4] for r in rows)
