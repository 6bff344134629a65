"""One Postgres connection per dbt thread for a whole command, instead of one per node.

dbt-postgres closes a thread's connection after every node and opens a new one for the next (dbt-core
made "release" always close, for Snowflake's sake; dbt-snowflake alone got a `reuse_connections`
setting back, dbt-postgres has none). On Postgres every new connection is a new server process: a
fork, authentication, and catalog caches that start cold, so the node's first statements re-read the
catalog rows of every relation and function they touch. For a refresh that does little work per mart
that is a large share of it: measured on the benchmark's refresh (9 marts, 2 threads, 2 cores),
keeping the connections took the median refresh from 0.63 s to 0.56 s and the machine's CPU time
from 0.99 s to 0.90 s (interleaved runs in one process).

`kept_connections()` makes dbt-postgres keep them while a command runs in this process: between nodes a
thread's connection has its transaction rolled back (dbt commits what a node writes; what is left
open is a failed node's) and its session state reset to that of a new connection with `DISCARD ALL`
(temp tables, session settings, prepared statements, advisory locks, LISTEN), so no node sees another
node's session. A connection that is closed or broken is released the usual way (closed) and the
next node opens a new one. dbt closes every thread's connection when the command ends
(`cleanup_connections`), as before.

The switch is process-wide while it lasts (dbt looks the connection manager class up on the adapter
class when it registers the adapter, at the start of each command): DbtSession holds its lock around
a command, so no other dbt command runs in the process meanwhile.

`import dbt` happens inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache


@lru_cache(maxsize=1)
def _kept_connection_manager() -> type:
    """PostgresConnectionManager whose release() keeps a usable connection open (reset) for the
    thread's next node."""
    from dbt.adapters.postgres.connections import PostgresConnectionManager

    class KeptPostgresConnectionManager(PostgresConnectionManager):
        def release(self) -> None:
            conn = self.get_if_exists()
            if conn is None or conn.state != "open":  # never opened (lazy) or already closed
                return
            handle = conn.handle
            if getattr(handle, "closed", 1):  # psycopg2: 0 while the connection is open
                return super().release()
            try:
                if conn.transaction_open:
                    self._rollback(conn)
                handle.rollback()  # psycopg2's own transaction, if any (no round trip when idle)
                handle.autocommit = True  # DISCARD ALL cannot run inside a transaction block
                try:
                    with handle.cursor() as cursor:
                        cursor.execute("discard all")
                finally:
                    handle.autocommit = False
            except Exception:
                super().release()  # close it: the thread's next node opens a new one

    return KeptPostgresConnectionManager


@contextmanager
def kept_connections() -> Iterator[None]:
    """While this lasts, dbt-postgres commands started in this process keep one connection per
    thread for the whole command (see the module's docstring)."""
    from dbt.adapters.postgres.impl import PostgresAdapter

    before = PostgresAdapter.ConnectionManager
    PostgresAdapter.ConnectionManager = _kept_connection_manager()
    try:
        yield
    finally:
        PostgresAdapter.ConnectionManager = before
