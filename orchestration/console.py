"""What the `tessera` commands show on the terminal (how they stop: core/signals.py).

- `quiet_console(log_path)`: while a command runs Dagster and dbt, file descriptors 1 and 2 point at a
  log file, so Dagster's event stream (DEBUG included), dbt's output, library warnings and tracebacks
  land there whole; the command writes its own short lines to the real terminal through the `echo` it
  yields.
- `group_lines(...)`: one line per asset group from a run's events (assets materialized of those
  planned, checks, wall time), plus the warnings a user must see (failed steps, failed or missing
  blocking checks).
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator



@contextmanager
def quiet_console(log_path: Path) -> Iterator[Callable[[str], None]]:
    """Redirect fds 1 and 2 to `log_path` (appended); yield an echo to the original stdout."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1)
    with open(log_path, "a", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)

        def echo(message: str = "") -> None:
            terminal.write(message + "\n")
            terminal.flush()

        try:
            yield echo
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()


@dataclass
class GroupSummary:
    group: str
    planned: int
    materialized: int = 0
    checks_passed: int = 0
    checks_warned: int = 0
    checks_failed: int = 0
    first: float | None = None
    last: float | None = None

    def touch(self, timestamp: float) -> None:
        self.first = timestamp if self.first is None else min(self.first, timestamp)
        self.last = timestamp if self.last is None else max(self.last, timestamp)

    @property
    def seconds(self) -> float:
        return (self.last - self.first) if self.first is not None and self.last is not None else 0.0


@dataclass
class RunDigest:
    groups: list[GroupSummary]
    warnings: list[str] = field(default_factory=list)


def digest_run(events, group_of: Callable[[object], str | None], planned: dict[str, int],
               blocking_checks: set[str]) -> RunDigest:
    """Summarise one run's events (pure: Dagster event records in, plain data out).

    group_of(asset_key) -> group name; planned = {group: number of assets the run selected};
    blocking_checks = user strings ("asset:check") of the blocking checks the run selected.
    The in-process executor runs steps one after another, so a group's time runs from the previous
    group's last event (or the run's first) to its own last event."""
    groups = {g: GroupSummary(g, n) for g, n in planned.items()}
    warnings: list[str] = []
    evaluated: set[str] = set()
    cursor: float | None = None

    def touch(group: str | None, timestamp: float) -> GroupSummary | None:
        summary = groups.get(group)
        if summary:
            if summary.first is None:
                summary.touch(cursor if cursor is not None else timestamp)
            summary.touch(timestamp)
        return summary

    for event in events:
        kind = event.event_type_value
        timestamp = getattr(event, "timestamp", None) or time.time()
        cursor = timestamp if cursor is None else cursor
        if kind == "ASSET_MATERIALIZATION":
            summary = touch(group_of(event.asset_key), timestamp)
            if summary:
                summary.materialized += 1
            cursor = timestamp
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            name = f"{data.asset_key.to_user_string()}:{data.check_name}"
            evaluated.add(name)
            severity = getattr(data.severity, "value", str(data.severity))
            summary = touch(group_of(data.asset_key), timestamp)
            if summary:
                if data.passed:
                    summary.checks_passed += 1
                elif severity == "ERROR":
                    summary.checks_failed += 1
                else:
                    summary.checks_warned += 1
            if not data.passed and severity == "ERROR":
                warnings.append(f"blocking check failed: {name}")
            cursor = timestamp
        elif kind == "STEP_FAILURE":
            error = getattr(event.event_specific_data, "error", None)
            message = (getattr(error, "message", "") or "").strip().splitlines()
            warnings.append(f"step failed: {event.step_key}" + (f" ({message[0][:160]})" if message else ""))
    for name in sorted(blocking_checks - evaluated):
        warnings.append(f"blocking check did not run: {name}")
    return RunDigest([groups[g] for g in planned], warnings)


def merge_digests(digests: list[RunDigest]) -> RunDigest:
    """The digests of one stage's runs (one per partition) as one: counts and times add up."""
    merged: dict[str, GroupSummary] = {}
    warnings: list[str] = []
    for digest in digests:
        warnings += digest.warnings
        for g in digest.groups:
            m = merged.setdefault(g.group, GroupSummary(g.group, 0))
            m.planned += g.planned
            m.materialized += g.materialized
            m.checks_passed += g.checks_passed
            m.checks_warned += g.checks_warned
            m.checks_failed += g.checks_failed
            m.first, m.last = 0.0, (m.seconds + g.seconds)
    return RunDigest(list(merged.values()), warnings)


def group_line(summary: GroupSummary, index: int, total: int, suffix: str = "") -> str:
    checks = summary.checks_passed + summary.checks_warned + summary.checks_failed
    check_text = f"{checks} checks" if checks else "no checks"
    if summary.checks_warned or summary.checks_failed:
        parts = [f"{summary.checks_warned} warned"] if summary.checks_warned else []
        parts += [f"{summary.checks_failed} FAILED"] if summary.checks_failed else []
        check_text += f" ({', '.join(parts)})"
    width = len(str(total))
    return (f"[{index:>{width}}/{total}] {summary.group:<18} {summary.materialized:>3}/{summary.planned:<3} assets  "
            f"{check_text:<26} {summary.seconds:6.1f}s{suffix}")


def counts_by_group(keys, group_of) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for key in keys:
        counts[group_of(key) or "default"] += 1
    return dict(counts)
