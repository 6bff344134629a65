"""Which runs go first and which may only take part of the run queue (pure: data and arithmetic).

The daemon's run queue (orchestration/dagster.yaml) dequeues higher `dagster/priority` first, and caps
the cold kinds of run with tag concurrency limits, so an ingest or read-view run never waits behind a
burst of insight partitions, an embeddings run or a backfill:

- ingest runs: priority 10, at most one at a time (`tessera/concurrency=ingest`);
- read-view runs (the automation of everything unpartitioned but embeddings): priority 5;
- embeddings runs: priority 0, their own runs, at most one at a time (`tessera/queue=ai`);
- partitioned runs (insight periods, daily snapshots, mood event partitions) and every backfill:
  priority -5, at most one each (`tessera/queue=partitions`, `dagster/backfill`).
"""

from __future__ import annotations

PRIORITY_TAG = "dagster/priority"
QUEUE_TAG = "tessera/queue"
INGEST_CONCURRENCY_TAG = {"tessera/concurrency": "ingest"}

INGEST_RUN_TAGS = {**INGEST_CONCURRENCY_TAG, PRIORITY_TAG: "10"}
READ_VIEW_RUN_TAGS = {PRIORITY_TAG: "5"}
AI_RUN_TAGS = {PRIORITY_TAG: "0", QUEUE_TAG: "ai"}
PARTITION_RUN_TAGS = {PRIORITY_TAG: "-5", QUEUE_TAG: "partitions"}

# Tag limits of the cold runs: (key, value or None for every value), as dagster.yaml writes them.
COLD_LIMITS = {(QUEUE_TAG, "ai"), (QUEUE_TAG, "partitions"), ("dagster/backfill", None)}
HOT_RUNS_AT_ONCE = 2  # an ingest and a read-view run


def slots_left_for_hot_runs(runs_config: dict) -> int:
    """Run slots no cold run can take: max_concurrent_runs minus the limits on the cold tags (a run
    carrying two cold tags counts once per tag, so this is a lower bound)."""
    limits = runs_config.get("tag_concurrency_limits") or []
    cold = 0
    for limit in limits:
        value = limit.get("value")
        if (limit["key"], value if isinstance(value, str) else None) in COLD_LIMITS:
            cold += int(limit["limit"])
    return int(runs_config["max_concurrent_runs"]) - cold


def cold_limits_missing(runs_config: dict) -> set:
    """Cold tags the config leaves unlimited (should be empty)."""
    have = {(limit["key"], limit.get("value") if isinstance(limit.get("value"), str) else None)
            for limit in runs_config.get("tag_concurrency_limits") or []}
    return COLD_LIMITS - have
