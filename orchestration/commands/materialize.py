"""`tessera materialize`: run assets in process, in dependency order, against the configured stores.

Assets with different partitioning cannot share a run, so the toposorted graph is cut into stages of
consecutive assets with the same partitions definition; each stage is one run (its checks included).
Partitioned stages run their latest partition, or with --backfill-days every partition of that span
(one ranged run when the assets' backfill policy allows it, else one run per partition).
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


def partitions_to_run(partitions_def, instance, backfill_days: int | None, now=None) -> list[str]:
    """The latest partition, or every partition whose window ends within the last backfill_days."""
    from datetime import datetime, timedelta, timezone

    keys = partitions_def.get_partition_keys(dynamic_partitions_store=instance)
    if not keys or not backfill_days:
        return keys[-1:]
    now = now or datetime.now(timezone.utc)
    since = now - timedelta(days=backfill_days)
    chosen = []
    for key in reversed(keys):  # newest first; stop at the first window that ended before the range
        if partitions_def.time_window_for_partition_key(key).end <= since:
            break
        chosen.append(key)
    return chosen[::-1]


def _single_run(graph, keys) -> bool:
    import dagster as dg

    return all(isinstance(graph.get(k).backfill_policy, dg.BackfillPolicy)
               and graph.get(k).backfill_policy.max_partitions_per_run is None for k in keys)


def materialize_all(patterns: tuple[str, ...] = (), backfill_days: int | None = None, echo=click.echo,
                    max_runs_per_stage: int = 16) -> list[StageResult]:
    settings = Settings.from_env()
    ensure_dagster_home(settings)
    import dagster as dg

    from orchestration.definitions import defs

    instance = dg.DagsterInstance.get()
    graph = defs.resolve_asset_graph()
    results = []
    for partitions_def, keys in plan_stages(graph, _select(graph, patterns)):
        job = defs.resolve_implicit_job_def_def_for_assets(keys)
        label = ", ".join(k.to_user_string() for k in keys[:4]) + (f" (+{len(keys) - 4} more)" if len(keys) > 4 else "")
        runs: list[tuple[str | None, dict[str, str], str]] = []
        if partitions_def is None:
            runs.append((None, {}, ""))
        else:
            chosen = partitions_to_run(partitions_def, instance, backfill_days)
            if not chosen:
                echo(f"skipping {label}: no partitions yet")
                continue
            if len(chosen) > 1 and _single_run(graph, keys):
                runs.append((None, {RANGE_START_TAG: chosen[0], RANGE_END_TAG: chosen[-1]},
                             f" [partitions {chosen[0]}..{chosen[-1]}]"))
            else:
                if len(chosen) > max_runs_per_stage:
                    echo(f"    ({len(chosen)} partitions in range; running the latest {max_runs_per_stage})")
                    chosen = chosen[-max_runs_per_stage:]
                runs += [(key, {}, f" [partition {key}]") for key in chosen]
        for partition_key, tags, suffix in runs:
            echo(f"==> {label}{suffix}")
            started = time.monotonic()
            result = job.execute_in_process(instance=instance, asset_selection=keys, partition_key=partition_key,
                                            tags=tags, raise_on_error=False)
            failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
            seconds = time.monotonic() - started
            results.append(StageResult([k.to_user_string() for k in keys], partition_key, result.success,
                                       seconds, result.run_id, failed))
            echo(f"    {'ok' if result.success else 'FAILED: ' + ', '.join(failed)} in {seconds:.1f}s")
    return results


@click.command()
@click.argument("select", nargs=-1)
@click.option("--backfill-days", type=int, default=None,
              help="Partitioned assets: run every partition of the last N days (one run where the asset allows), "
                   "not only the latest.")
def materialize(select: tuple[str, ...], backfill_days: int | None) -> None:
    """Materialize assets in process (all, or those matching SELECT: an asset key like
    marts/journals_view, a schema like raw_mindflow, or a group like ingest)."""
    results = materialize_all(select, backfill_days)
    failed = [r for r in results if not r.success]
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(results)} runs failed; see the Dagster UI (make dev)")
