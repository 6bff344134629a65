"""Which ingest errors can heal by retrying (pure: tested without Dagster or a server).

A dropped connection, a restarting server, a deadlock or a lock held by someone else heal on their own:
the ingest step retries them with backoff. A source without logical decoding, a missing extension or
privilege, a bad setting or a full set of replication slots do not: retrying only delays the message by
minutes, so the run fails at once with it (dagster.Failure(allow_retries=False)).
"""

from __future__ import annotations

# SQLSTATEs that need a person: configuration, privileges, missing objects or files, unsupported features.
PERMANENT_SQLSTATES = {
    "55000": "object not in prerequisite state",  # e.g. logical decoding needs wal_level = logical
    "42501": "insufficient privilege",  # e.g. replication slots need REPLICATION, schema publications superuser
    "42704": "undefined object",  # e.g. an unrecognized configuration parameter
    "42883": "undefined function",  # an extension's function missing
    "58P01": "undefined file",  # e.g. an extension's control file not installed
    "0A000": "feature not supported",
    "22023": "invalid parameter value",  # a bad setting
    "53400": "configuration limit exceeded",  # e.g. all replication slots are in use
    "28000": "invalid authorization",
    "28P01": "invalid password",
    "3D000": "database does not exist",
}
# Everything else is retried: connection exceptions (08), transaction rollbacks (40: serialization,
# deadlock), resources (53: disk full, out of memory, too many connections), operator intervention (57:
# shutdown, restart), an object in use (55006: the slot read by another run), a lock not available (55P03).

# A connection refused at start-up carries no SQLSTATE (libpq reports only the server's FATAL text):
# these server messages there cannot heal either.
PERMANENT_CONNECT_MESSAGES = {
    "invalid value for parameter": "22023",
    "unrecognized configuration parameter": "42704",
    "password authentication failed": "28P01",
    "no pg_hba.conf entry": "28000",
    "does not exist": "3D000",  # role or database
}


def permanent_reason(sqlstate: str | None, message: str, *, known_permanent: bool = False) -> str | None:
    """Why retrying cannot help (a line for the run's failure), or None when it may."""
    message = " ".join((message or "").split())
    if known_permanent:
        return message
    if not sqlstate and "FATAL:" in message:
        sqlstate = next((code for text, code in PERMANENT_CONNECT_MESSAGES.items() if text in message), None)
    if sqlstate in PERMANENT_SQLSTATES:
        return f"{message} (SQLSTATE {sqlstate}, {PERMANENT_SQLSTATES[sqlstate]}: retrying cannot fix this)"
    return None  # transient classes and codes, and anything unknown: the retry policy tries


def classify(exc: BaseException) -> str | None:
    """permanent_reason for an exception: a psycopg error by its SQLSTATE (also when it is the cause of
    another error), Tessera's own wal_level check always."""
    import psycopg

    from assets.ingest.stream import WalLevelError

    seen = exc
    while seen is not None:
        if isinstance(seen, WalLevelError):
            return permanent_reason(None, str(seen), known_permanent=True)
        if isinstance(seen, psycopg.Error):
            return permanent_reason(seen.sqlstate, str(seen))
        seen = seen.__cause__ or seen.__context__
    return None
