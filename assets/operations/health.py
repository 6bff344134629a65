"""The AI assistant's db_health_check (seed 003 "Monitoring & Maintenance"), run on the source database
and recorded: active connections, database size (MB) and cache hit ratio against the seed's thresholds.

The seed's function marks a metric OK when `value <= threshold`. That reads right for connections and
size (ceilings) but not for the cache hit ratio, whose threshold the seed calls a "90% hit ratio
threshold", a floor: a 99% hit ratio comes back WARNING. The function's own status is kept as it
returns it (`seed_status`); `healthy` judges each metric the way its threshold is meant (`FLOORS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg

FLOORS = frozenset({"cache_hit_ratio"})  # metrics whose threshold is a minimum, not a maximum

DDL = """
CREATE SCHEMA IF NOT EXISTS tessera_meta;
CREATE TABLE IF NOT EXISTS tessera_meta.db_health (
    id          BIGSERIAL PRIMARY KEY,
    run_id      TEXT,
    checked_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    database    TEXT NOT NULL,
    metric      TEXT NOT NULL,
    value       NUMERIC NOT NULL,
    threshold   NUMERIC NOT NULL,
    seed_status TEXT NOT NULL,
    healthy     BOOLEAN NOT NULL
)
"""


@dataclass(frozen=True)
class HealthMetric:
    metric: str
    value: Decimal
    seed_status: str
    threshold: Decimal

    @property
    def healthy(self) -> bool:
        return is_healthy(self.metric, self.value, self.threshold)


def is_healthy(metric: str, value, threshold) -> bool:
    """A ceiling metric is healthy at or below its threshold, a floor metric at or above it."""
    return value >= threshold if metric in FLOORS else value <= threshold


def run_health_check(source: psycopg.Connection) -> list[HealthMetric]:
    """Call the source's devassist.db_health_check() as the seed defines it."""
    rows = source.execute("SELECT metric, value, status, threshold FROM devassist.db_health_check()").fetchall()
    return [HealthMetric(m, Decimal(v), s, Decimal(t)) for m, v, s, t in rows]


def record(warehouse: psycopg.Connection, database: str, metrics: list[HealthMetric], run_id: str | None) -> None:
    warehouse.execute(DDL)
    with warehouse.cursor() as cur:
        cur.executemany(
            "INSERT INTO tessera_meta.db_health (run_id, database, metric, value, threshold, seed_status, healthy) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(run_id, database, m.metric, m.value, m.threshold, m.seed_status, m.healthy) for m in metrics])


def markdown(metrics: list[HealthMetric]) -> str:
    lines = ["| metric | value | threshold | seed status | healthy |", "|---|---|---|---|---|"]
    lines += [f"| {m.metric} | {round(m.value, 2)} | {m.threshold} | {m.seed_status} | {'yes' if m.healthy else 'no'} |"
              for m in metrics]
    return "\n".join(lines)
