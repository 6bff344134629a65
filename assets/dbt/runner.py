"""A warm, in-process dbt session: parse the project once, then run dbt commands against one warehouse
without paying dbt's per-invocation start-up again.

A `dbt` subprocess spends about 3.5 s before its first SQL statement (imports, then loading the
partial-parse cache into a manifest). `DbtSession` pays that once: it parses the project in this
process (`dbt parse`, nothing written but the parse cache), keeps the Manifest, and hands it to every
`dbtRunner` invocation, so a refresh of the incremental marts costs what their SQL costs.

    with DbtSession(url) as dbt:                 # url: the warehouse (libpq URL); None = settings
        run = dbt.invoke(["run", "--exclude", "config.materialized:view"])
        run.seconds, run.nodes["journals_view"].seconds, run.nodes["journals_view"].status

- The TESSERA_DBT_* variables profiles.yml reads come from the URL (assets.dbt.project.dbt_env); they
  are set in os.environ only while a command runs (dbt reads them when it loads the profile) and
  restored after. No chdir: --project-dir / --profiles-dir are passed on every command.
- Every command runs with --no-write-json (as Dagster's dbt assets do: manifest.json and
  run_results.json are not read back, and writing them costs seconds per invocation). By default also
  silent (quiet: --log-level none; failures raise DbtCommandError with dbt's messages), without
  logs/dbt.log (log_file=False) and with --no-populate-cache (no relation cache filled before the first
  node: that costs three catalog queries and their Python, about 0.05 s, on every command's critical
  path, where a model that asks for its relation lists its own schema in its own thread): each saves a
  few hundredths of a second per command, which is most of what a small refresh costs. (With
  populate_cache=True, --cache-selected-only limits the cache to the selected models' schemas.)
- Commands write what they compile (target/compiled, target/run: two small files per model, and
  graph_summary.json) under a session-private target directory, on a memory file system when
  /dev/shm is there, removed on close(): rewriting a small file in place on ext4 flushes it to disk
  on close (about 1 ms each, 2-3% of a small refresh). Pass target_path= to keep them elsewhere (e.g.
  the project's target/ to read them after). `dbt parse` keeps the project's target/, whose partial-
  parse cache the dbt CLI shares.
- Each dbt thread keeps one connection for the whole command (reuse_connections=True; dbt-postgres
  alone opens a new connection, i.e. a new server process with cold catalog caches, for every node),
  reset between nodes with DISCARD ALL: assets/dbt/kept_connections.py. About a tenth of a small
  refresh.
- A failed command raises DbtCommandError naming the failed nodes and their messages (check=False
  returns the DbtInvocation instead).
- The manifest is the project as parsed at construction (or the last `reparse()`): after editing the
  project, call reparse(). The manifest is tied to the warehouse's database name (dbt stores it on
  every node), hence one session per warehouse.
- dbt keeps process-global state (adapter registry, event manager, flags): one command at a time per
  process; the session holds a lock around each command.

`import dbt` happens inside the methods: importing this module stays cheap.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assets.dbt.kept_connections import kept_connections
from assets.dbt.project import PROJECT_DIR, dbt_env, temporary_environ, warehouse_dbt_env

_LOCK = threading.RLock()  # dbt's globals are per process, not per session


class DbtCommandError(RuntimeError):
    """A dbt command failed; `invocation` holds what dbt returned."""

    def __init__(self, message: str, invocation: "DbtInvocation") -> None:
        super().__init__(message)
        self.invocation = invocation


@dataclass(frozen=True)
class NodeResult:
    """One node of a command's result (a model, a test, a hook...)."""

    unique_id: str
    name: str
    resource_type: str
    status: str  # dbt's RunStatus / TestStatus value: success, error, skipped, pass, fail, warn...
    seconds: float  # dbt's execution_time for the node
    message: str | None = None
    rows_affected: int | None = None


@dataclass
class DbtInvocation:
    args: list[str]
    success: bool
    seconds: float  # wall clock of the whole invocation, in this process
    execution_s: float | None  # dbt's own elapsed time of the run (after start-up), when it reports one
    nodes: dict[str, NodeResult] = field(default_factory=dict)  # by node name (hooks: their unique_id)
    result: Any = None  # dbt's result object (RunExecutionResult, Manifest...)
    exception: BaseException | None = None

    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes.values() if n.status in ("error", "fail", "runtime error")]

    def node_seconds(self) -> dict[str, float]:
        return {name: round(node.seconds, 3) for name, node in self.nodes.items()}


def _private_target_dir() -> Path:
    """A new directory for a session's compiled SQL: under /dev/shm (memory) when writable, else the
    system's temp directory."""
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="tessera-dbt-target-", dir=base))


def _status(value: Any) -> str:
    return str(getattr(value, "value", value))


class DbtSession:
    """dbt commands in this process, against the warehouse at `url`, over one parsed manifest."""

    def __init__(self, url: str | None = None, *, project_dir: Path | str = PROJECT_DIR,
                 profiles_dir: Path | str | None = None, quiet: bool = True, log_file: bool = False,
                 populate_cache: bool = False, target_path: Path | str | None = None,
                 reuse_connections: bool = True) -> None:
        self.project_dir = Path(project_dir).resolve()
        self.profiles_dir = Path(profiles_dir).resolve() if profiles_dir else self.project_dir
        self.env = {**(dbt_env(url) if url else warehouse_dbt_env()), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        self.quiet = quiet
        self.log_file = log_file
        self.populate_cache = populate_cache
        self.reuse_connections = reuse_connections
        self.manifest = None
        self.parse_seconds: float | None = None
        self._own_target = target_path is None
        self.target_path = Path(target_path) if target_path is not None else _private_target_dir()
        try:
            self.reparse()
        except BaseException:
            self.close()
            raise

    # -- environment ---------------------------------------------------------------------------------

    def _common_args(self) -> list[str]:
        args = ["--project-dir", str(self.project_dir), "--profiles-dir", str(self.profiles_dir), "--no-write-json"]
        if self.quiet:  # nothing on stdout: results and errors come back as objects (DbtCommandError)
            args += ["--log-level", "none"]
        if not self.log_file:  # no logs/dbt.log: formatting every event for it costs ~5% of a refresh
            args += ["--log-level-file", "none"]
        if not self.populate_cache:  # each model lists its schema when it needs its relation
            args += ["--no-populate-cache"]
        else:  # list relations of the selected models' schemas only
            args += ["--cache-selected-only"]
        return args

    # -- commands ------------------------------------------------------------------------------------

    def reparse(self) -> None:
        """Parse the project (partial parsing applies) and keep the manifest for every later command."""
        from dbt.cli.main import dbtRunner

        with _LOCK, temporary_environ(self.env):
            t = time.perf_counter()
            res = dbtRunner().invoke(["parse", *self._common_args()])
            self.parse_seconds = time.perf_counter() - t
        if not res.success or res.result is None:
            raise DbtCommandError(f"dbt parse failed: {res.exception!r}",
                                  DbtInvocation(["parse"], False, self.parse_seconds, None, exception=res.exception))
        self.manifest = res.result

    def invoke(self, args: list[str], check: bool = True, callbacks: list | None = None) -> DbtInvocation:
        """Run `dbt <args>` (run, build, test, run-operation, ...) over the kept manifest. callbacks:
        functions given every dbt event of the command (dbt's EventMsg objects)."""
        from dbt.cli.main import dbtRunner

        if self.manifest is None:
            raise RuntimeError("DbtSession is closed")

        runner = dbtRunner(manifest=self.manifest, callbacks=callbacks or [])
        with _LOCK, temporary_environ(self.env), (kept_connections() if self.reuse_connections else nullcontext()):
            t = time.perf_counter()
            target = [] if "--target-path" in args else ["--target-path", str(self.target_path)]
            res = runner.invoke([*args, *self._common_args(), *target])
            seconds = time.perf_counter() - t
        invocation = DbtInvocation(args=list(args), success=bool(res.success), seconds=seconds, execution_s=None,
                                   result=res.result, exception=res.exception)
        results = getattr(res.result, "results", None)
        if results is not None:
            elapsed = getattr(res.result, "elapsed_time", None)
            invocation.execution_s = float(elapsed) if elapsed is not None else None
            for r in results:
                node = getattr(r, "node", None)
                if node is None:
                    continue
                resource_type = _status(getattr(node, "resource_type", ""))
                name = node.unique_id if resource_type == "operation" else node.name
                response = getattr(r, "adapter_response", None) or {}
                invocation.nodes[name] = NodeResult(
                    unique_id=node.unique_id, name=node.name, resource_type=resource_type,
                    status=_status(r.status), seconds=float(r.execution_time or 0.0),
                    message=r.message, rows_affected=response.get("rows_affected") if isinstance(response, dict) else None)
        if check and not invocation.success:
            failed = invocation.failed()
            detail = "\n".join(f"  {n.name} ({n.status}): {n.message}" for n in failed)
            if invocation.exception is not None:
                detail = f"{detail}\n  {type(invocation.exception).__name__}: {invocation.exception}".strip("\n")
            raise DbtCommandError(f"dbt {' '.join(args)} failed:\n{detail or '  (no node failed; see dbt logs)'}",
                                  invocation)
        return invocation

    def run(self, *selection: str, full_refresh: bool = False, check: bool = True) -> DbtInvocation:
        """`dbt run` with selection arguments (e.g. "--exclude", "config.materialized:view")."""
        return self.invoke(["run", *(["--full-refresh"] if full_refresh else []), *selection], check=check)

    def close(self) -> None:
        """Drop the manifest. (dbt resets its adapters when a command starts and closes their
        connections when it ends, so no connection outlives a command.) Removes the session's own
        target directory."""
        self.manifest = None
        if self._own_target:
            shutil.rmtree(self.target_path, ignore_errors=True)

    def __enter__(self) -> "DbtSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
