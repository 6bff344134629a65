"""`tessera materialize`: run assets in process, in dependency order, against the configured stores.

Assets with different partitioning cannot share a run, so the toposorted graph is cut into stages of
consecutive assets with the same partitions definition; each stage is one run (its checks included).
Partitioned stages run their latest partition, or a range (one run when the asset's backfill policy
allows it) with --backfill.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import click

from orchestration.dagster_home import ensure_dagster_home
from orchestration.settings import Settings

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass
class StageResult:
    keys: list[str]
    partition: str | None
    success: bool
    seconds: float
    run_id: str
    failed_steps: list[str] = field(default_factory=list)


def plan_stages(graph, selected) -> list[tuple[object, list]]:
    """[(partitions_def or None, [asset keys])] in dependency order; consecutive keys that share a
    partitions definition share a stage."""
    stages: list[tuple[object, list]] = []
    for key in graph.toposorted_asset_keys:
        if key not in selected:
            continue
        partitions_def = graph.get(key).partitions_def
        if stages and stages[-1][0] == partitions_def:
            stages[-1][1].append(key)
        else:
            stages.append((partitions_def, [key]))
    return stages


def _select(graph, patterns: tuple[str, ...]) -> set:
    keys = set(graph.materializable_asset_keys)
    if not patterns:
        return keys
    chosen = set()
    for pattern in patterns:
        matched = {k for k in keys if k.to_user_string() == pattern or k.path[0] == pattern
                   or graph.get(k).group_name == pattern}
        if not matched:
            raise click.UsageError(f"no asset, schema or group matches {pattern!r}")
        chosen |= matched
    return chosen


def materialize_all(patterns: tuple[str, ...] = (), backfill: bool = False, echo=click.echo) -> list[StageResult]:
    settings = Settings.from_env()
    ensure_dagster_home(settings)
    import dagster as dg

    from orchestration.definitions import defs

    instance = dg.DagsterInstance.get()
    graph = defs.resolve_asset_graph()
    results = []
    for partitions_def, keys in plan_stages(graph, _select(graph, patterns)):
        job = defs.resolve_implicit_job_def_def_for_assets(keys)
        tags: dict[str, str] = {}
        partition_key = None
        if partitions_def is not None:
            all_keys = partitions_def.get_partition_keys(dynamic_partitions_store=instance)
            if not all_keys:
                echo(f"skipping {len(keys)} partitioned assets: no partitions yet")
                continue
            if backfill:
                tags = {RANGE_START_TAG: all_keys[0], RANGE_END_TAG: all_keys[-1]}
            else:
                partition_key = all_keys[-1]
        label = ", ".join(k.to_user_string() for k in keys[:4]) + (f" (+{len(keys) - 4} more)" if len(keys) > 4 else "")
        echo(f"==> {label}" + (f" [partition {partition_key}]" if partition_key else "") +
             (f" [partitions {tags[RANGE_START_TAG]}..{tags[RANGE_END_TAG]}]" if tags else ""))
        started = time.monotonic()
        result = job.execute_in_process(instance=instance, asset_selection=keys, partition_key=partition_key,
                                        tags=tags, raise_on_error=False)
        failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        results.append(StageResult([k.to_user_string() for k in keys], partition_key, result.success,
                                   time.monotonic() - started, result.run_id, failed))
        echo(f"    {'ok' if result.success else 'FAILED: ' + ', '.join(failed)} in {time.monotonic() - started:.1f}s")
    return results


@click.command()
@click.argument("select", nargs=-1)
@click.option("--backfill", is_flag=True, help="Partitioned assets: run every partition, not only the latest.")
def materialize(select: tuple[str, ...], backfill: bool) -> None:
    """Materialize assets in process (all, or those matching SELECT: an asset key like
    marts/journals_view, a schema like raw_mindflow, or a group like ingest)."""
    results = materialize_all(select, backfill)
    failed = [r for r in results if not r.success]
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(results)} runs failed; see the Dagster UI (make dev)")
