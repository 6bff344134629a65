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
from core.settings import Settings

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


@dataclass
class Stage:
    keys: list
    label: str
    groups: dict[str, int]
    runs: list[tuple[str | None, dict[str, str], str]]
    skipped: str | None = None


def _plan(graph, instance, patterns, backfill_days, max_runs_per_stage) -> list[Stage]:
    from orchestration.console import counts_by_group

    stages = []
    for partitions_def, keys in plan_stages(graph, _select(graph, patterns)):
        label = ", ".join(k.to_user_string() for k in keys[:4]) + (f" (+{len(keys) - 4} more)" if len(keys) > 4 else "")
        groups = counts_by_group(keys, lambda k: graph.get(k).group_name)
        runs: list[tuple[str | None, dict[str, str], str]] = []
        if partitions_def is None:
            runs.append((None, {}, ""))
        else:
            chosen = partitions_to_run(partitions_def, instance, backfill_days)
            if not chosen:
                stages.append(Stage(keys, label, groups, [], skipped="no partitions yet"))
                continue
            if len(chosen) > 1 and _single_run(graph, keys):
                runs.append((None, {RANGE_START_TAG: chosen[0], RANGE_END_TAG: chosen[-1]},
                             f"partitions {chosen[0]}..{chosen[-1]}"))
            else:
                chosen = chosen[-max_runs_per_stage:]
                runs += [(key, {}, f"partition {key}") for key in chosen]
        stages.append(Stage(keys, label, groups, runs))
    return stages


PROCESS_TAG = "tessera/cli_process"  # "<pid>:<process start time>" of the `tessera` command running the run
UNFINISHED = ("NOT_STARTED", "STARTING", "STARTED")


def process_tag(pid: int | None = None) -> str:
    import os

    import psutil

    process = psutil.Process(pid or os.getpid())
    return f"{process.pid}:{process.create_time():.2f}"


def abandoned(runs: list[tuple[str, str, str | None]], alive) -> list[str]:
    """Run ids of unfinished runs whose `tessera` process is gone: runs is [(run_id, status, process tag)],
    alive(tag) says whether that process still runs. Runs without the tag (launched by the daemon, whose
    run monitoring looks after them) are never touched."""
    return [run_id for run_id, status, tag in runs if tag and status in UNFINISHED and not alive(tag)]


def _process_alive(tag: str) -> bool:
    import psutil

    pid, _, started = tag.partition(":")
    try:
        return f"{psutil.Process(int(pid)).create_time():.2f}" == started
    except (psutil.Error, ValueError):
        return False


def release_abandoned_runs(instance, echo=None) -> list[str]:
    """A `tessera materialize` killed mid-run (SIGKILL, or SIGTERM after the grace period) leaves its run
    STARTED and its concurrency-pool slots claimed, so the next run of the same pool would wait forever.
    Mark such runs failed and free their slots (what the daemon's run monitoring does for launched runs)."""
    import dagster as dg

    records = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus(s) for s in UNFINISHED],
                                                     ))
    runs = [(r.dagster_run.run_id, r.dagster_run.status.value, r.dagster_run.tags.get(PROCESS_TAG)) for r in records]
    released = abandoned(runs, _process_alive)
    for run_id in released:
        run = instance.get_run_by_id(run_id)
        instance.report_run_failed(run, message="the tessera command running it stopped before it finished")
        if instance.event_log_storage.supports_global_concurrency_limits:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        if echo:
            echo(f"released run {run_id[:8]}, left unfinished by a stopped tessera command")
    return released


def materialize_all(patterns: tuple[str, ...] = (), backfill_days: int | None = None, echo=click.echo,
                    max_runs_per_stage: int = 16, stop=None) -> list[StageResult]:
    """Run the selected assets stage by stage; echo one line per asset group of each stage
    ("[i/N] group  materialized/planned assets  checks  seconds") and, plainly, the warnings that
    matter (failed steps, failed blocking checks, blocking checks that did not run). `stop` (a
    threading.Event set on SIGTERM/Ctrl-C) ends the loop after the run in progress."""
    settings = Settings.from_env()
    ensure_dagster_home(settings)
    import dagster as dg

    from orchestration.console import digest_run, group_line, merge_digests
    from orchestration.definitions import defs

    instance = dg.DagsterInstance.get()
    release_abandoned_runs(instance, echo)
    mine = {PROCESS_TAG: process_tag()}
    graph = defs.resolve_asset_graph()
    group_of = lambda key: graph.get(key).group_name or "default"  # noqa: E731
    stages = _plan(graph, instance, patterns, backfill_days, max_runs_per_stage)
    total = sum(len(stage.groups) for stage in stages)
    line_no = 0
    results = []
    for stage in stages:
        if stage.skipped:
            for group in stage.groups:
                line_no += 1
                echo(f"[{line_no:>{len(str(total))}}/{total}] {group:<18} skipped: {stage.skipped}")
            continue
        job = defs.resolve_implicit_job_def_def_for_assets(stage.keys)
        blocking = {k.to_user_string() for k in graph.get_check_keys_for_assets(set(stage.keys))
                    if graph.get_check_spec(k).blocking}
        digests = []
        for partition_key, tags, note in stage.runs:
            started = time.monotonic()
            result = job.execute_in_process(instance=instance, asset_selection=stage.keys, partition_key=partition_key,
                                            tags={**tags, **mine}, raise_on_error=False)
            events = result.all_events
            failed = [e.step_key for e in events if e.event_type_value == "STEP_FAILURE"]
            results.append(StageResult([k.to_user_string() for k in stage.keys], partition_key, result.success,
                                       time.monotonic() - started, result.run_id, failed))
            timed = [_Timed(r.dagster_event, r.timestamp) for r in instance.all_logs(result.run_id)
                     if r.dagster_event is not None]
            digests.append(digest_run(timed, group_of, stage.groups, blocking))
            if stop is not None and stop.is_set():  # Dagster ended the run at a step boundary
                raise KeyboardInterrupt
        digest = merge_digests(digests)
        notes = [note for _, _, note in stage.runs if note]
        suffix = (f"  [{notes[0]}]" if len(notes) == 1 else f"  [{len(notes)} partitions]") if notes else ""
        for summary in digest.groups:
            line_no += 1
            echo(group_line(summary, line_no, total, suffix))
        for warning in dict.fromkeys(digest.warnings):
            echo(f"    WARNING {warning}")
    return results


class _Timed:
    """A Dagster event with the timestamp of its event-log entry."""

    def __init__(self, event, timestamp: float) -> None:
        self._event, self.timestamp = event, timestamp

    def __getattr__(self, name):
        return getattr(self._event, name)


def log_path(settings: Settings, command: str) -> "Path":
    from datetime import datetime
    from pathlib import Path

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(settings.home) / "logs" / f"{command}-{stamp}.log"


def summary_lines(results: list[StageResult], log: "Path", seconds: float) -> list[str]:
    failed = [r for r in results if not r.success]
    lines = [f"Runs: {len(results) - len(failed)} succeeded, {len(failed)} failed, in {seconds:.0f}s"]
    for r in failed:
        partition = f" [partition {r.partition}]" if r.partition else ""
        lines.append(f"  FAILED {r.keys[0]}{' (+%d more)' % (len(r.keys) - 1) if len(r.keys) > 1 else ''}{partition}: "
                     f"{', '.join(r.failed_steps) or 'see the log'} (run {r.run_id})")
    lines.append(f"Full log (Dagster events, dbt output, tracebacks): {log}")
    return lines


@click.command()
@click.argument("select", nargs=-1)
@click.option("--backfill-days", type=int, default=None,
              help="Partitioned assets: run every partition of the last N days (one run where the asset allows), "
                   "not only the latest.")
def materialize(select: tuple[str, ...], backfill_days: int | None) -> None:
    """Materialize assets in process (all, or those matching SELECT: an asset key like
    marts/journals_view, a schema like raw_mindflow, or a group like ingest)."""
    from core.signals import EXIT_INTERRUPTED, stop_on_signal
    from orchestration.console import quiet_console

    settings = Settings.from_env()
    log = log_path(settings, "materialize")
    started = time.monotonic()
    with quiet_console(log) as echo, stop_on_signal(echo=echo) as stop:
        try:
            results = materialize_all(select, backfill_days, echo=echo, stop=stop)
        except KeyboardInterrupt:
            echo(f"interrupted: the running step rolled back; the next run picks up from there. Log: {log}")
            raise SystemExit(EXIT_INTERRUPTED)
        for line in summary_lines(results, log, time.monotonic() - started):
            echo(line)
    failed = [r for r in results if not r.success]
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(results)} runs failed; see {log}")
