"""Where the dbt project lives, how dbt connects, and the manifest Dagster needs at load time.

- `dbt_env(url)`: the TESSERA_DBT_* variables profiles.yml reads, derived from a libpq URL
  (core.embedded.warehouse_database_url() by default; the host may be a unix-socket directory).
- `ensure_manifest()`: runs `dbt parse` when target/manifest.json is missing or older than any
  project file, so `dagster dev`, tests and CI work on a clean clone (prepare_if_dev only acts under
  `dagster dev`). Parsing needs no database.
- `partial_parse_target(env)`: a target directory whose partial-parse file was written for this
  warehouse. dbt ties partial parsing to the profile's host, port, user and database, and dagster-dbt
  seeds each invocation from the partial-parse file under DBT_TARGET_PATH: with target/'s file (parsed
  for the defaults) every `dbt build` of a run parsed the whole project again ("Unable to do partial
  parsing because profile has changed"), seconds per step on every tick.
- `run_dbt(args, url)`: a dbt command in a subprocess with that environment (used by tests and bench).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, unquote, urlsplit

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
TARGET_DIR = PROJECT_DIR / "target"
MANIFEST = TARGET_DIR / "manifest.json"
_PROJECT_GLOBS = ("dbt_project.yml", "profiles.yml", "models/**/*", "macros/**/*", "tests/**/*")


def dbt_env(url: str) -> dict[str, str]:
    """TESSERA_DBT_HOST/PORT/USER/PASSWORD/DBNAME from a postgresql:// URL.

    >>> dbt_env("postgresql://postgres@/warehouse?host=/tmp/pg&port=5432")["TESSERA_DBT_HOST"]
    '/tmp/pg'
    """
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = query.get("host") or (unquote(parts.hostname) if parts.hostname else "") or "localhost"
    port = query.get("port") or (str(parts.port) if parts.port else "5432")
    return {
        "TESSERA_DBT_HOST": host,
        "TESSERA_DBT_PORT": port,
        "TESSERA_DBT_USER": unquote(query.get("user") or parts.username or "postgres"),
        "TESSERA_DBT_PASSWORD": unquote(query.get("password") or parts.password or ""),
        "TESSERA_DBT_DBNAME": query.get("dbname") or parts.path.lstrip("/") or "warehouse",
    }


def conninfo_dbt_env(conninfo: str) -> dict[str, str]:
    """TESSERA_DBT_* from a psycopg conninfo, key=value or URL (make_conninfo gives key=value)."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(conninfo)
    defaults = (("host", "localhost"), ("port", "5432"), ("user", "postgres"), ("password", ""), ("dbname", "warehouse"))
    return {f"TESSERA_DBT_{k.upper()}": str(params.get(k) or default) for k, default in defaults}


@contextmanager
def temporary_environ(values: dict[str, str]) -> Iterator[None]:
    """os.environ with `values` set inside the block, restored (or removed) after it: dbt reads the
    TESSERA_DBT_* variables of profiles.yml from the process environment."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def warehouse_dbt_env() -> dict[str, str]:
    from core.embedded import warehouse_database_url
    from core.settings import Settings

    return dbt_env(warehouse_database_url(Settings.from_env()))


def _newest_project_mtime() -> float:
    newest = 0.0
    for pattern in _PROJECT_GLOBS:
        for path in PROJECT_DIR.glob(pattern):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def _is_fresh(artifact: Path) -> bool:
    """The artifact exists and no project file changed after it was written."""
    return artifact.exists() and artifact.stat().st_mtime >= _newest_project_mtime()


def _parse_into(target: Path, artifact: Path, env: dict[str, str]) -> None:
    """`dbt parse` into `target` unless `artifact` is fresh, once across processes (a lock in `target`:
    several processes loading definitions, or two runs starting at once)."""
    if _is_fresh(artifact):
        return
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_fresh(artifact):
            return
        result = run_dbt(["parse", "--quiet", "--target-path", str(target)], env=env)
        if result.returncode != 0 or not artifact.exists():
            raise RuntimeError(f"dbt parse failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        artifact.touch()


def ensure_manifest() -> Path:
    """Parse the project when the manifest is missing or stale; returns the manifest path."""
    _parse_into(TARGET_DIR, MANIFEST, env={})
    return MANIFEST


PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def profile_stamp(env: dict[str, str]) -> str:
    """What dbt's partial parsing is tied to: the connection's host, port, user and database (pure).

    >>> profile_stamp({"TESSERA_DBT_HOST": "/tmp/pg", "TESSERA_DBT_PORT": "5432", "TESSERA_DBT_USER": "postgres",
    ...                "TESSERA_DBT_PASSWORD": "secret", "TESSERA_DBT_DBNAME": "warehouse"})
    '/tmp/pg|5432|postgres|warehouse'
    """
    return "|".join(env.get(f"TESSERA_DBT_{k}", "") for k in ("HOST", "PORT", "USER", "DBNAME"))


def partial_parse_target(env: dict[str, str]) -> Path:
    """target/parsed/<warehouse>/, holding a partial-parse file dbt accepts for this warehouse (parsed
    once, and again after a project file changes). Point DBT_TARGET_PATH at it when invoking dbt through
    dagster-dbt, which copies that file into each invocation's own target directory."""
    directory = TARGET_DIR / "parsed" / hashlib.sha256(profile_stamp(env).encode()).hexdigest()[:12]
    _parse_into(directory, directory / PARTIAL_PARSE_FILE, env)
    return directory


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(args: list[str], url: str | None = None, env: dict[str, str] | None = None,
            check: bool = False) -> subprocess.CompletedProcess:
    """Run `dbt <args>` against the project; url (or env) says which warehouse."""
    full_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    full_env.update(env if env is not None else dbt_env(url) if url else warehouse_dbt_env())
    cmd = [dbt_executable(), *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    result = subprocess.run(cmd, cwd=PROJECT_DIR, env=full_env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
    return result
