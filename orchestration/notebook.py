"""The one helper analysts' notebooks use: read a mart (or an analytics table) into pandas, run a
read-only query, and search through the same interface as the CLI.

    from orchestration.notebook import read_mart, read_sql, search_journal
    entries = read_mart("journals_view", user_id=uid)                # marts.journals_view
    daily = read_mart("analytics.mood_daily_summary", limit=1000)    # schema-qualified
    df = read_sql("SELECT mood, count(*) AS n FROM marts.journals_view GROUP BY 1")

Only `marts` and `analytics` are readable here (the BI roles' scope); the connection comes from
Settings at call time (TESSERA_WAREHOUSE_URL, or the embedded server).
"""

from __future__ import annotations

from typing import Any, Iterable

from orchestration.settings import Settings

READABLE_SCHEMAS = ("marts", "analytics")


def qualified_name(name: str) -> tuple[str, str]:
    """'journals_view' -> ('marts', 'journals_view'); 'analytics.mood_events' -> ('analytics', 'mood_events')."""
    schema, _, table = name.rpartition(".")
    schema = schema or "marts"
    if schema not in READABLE_SCHEMAS:
        raise ValueError(f"{name!r}: notebooks read {' and '.join(READABLE_SCHEMAS)} only")
    return schema, table


def build_select(schema: str, table: str, filters: dict[str, Any], columns: Iterable[str],
                 limit: int | None = None, order_by: str | None = None):
    """SELECT * with equality filters (a list or tuple value means IN); identifiers checked against the
    table's columns and quoted. Returns (query, params)."""
    from psycopg import sql

    known = set(columns)
    unknown = [c for c in [*filters, *([order_by] if order_by else [])] if c not in known]
    if unknown:
        raise ValueError(f"{schema}.{table} has no column(s) {', '.join(unknown)}; it has {', '.join(sorted(known))}")
    conditions, params = [], []
    for column, value in filters.items():
        if isinstance(value, (list, tuple, set)):
            conditions.append(sql.SQL("{} = ANY(%s)").format(sql.Identifier(column)))
            params.append([str(v) if not isinstance(v, (int, float)) else v for v in value])
        elif value is None:
            conditions.append(sql.SQL("{} IS NULL").format(sql.Identifier(column)))
        else:
            conditions.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, table))
    if conditions:
        query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions)
    if order_by:
        query += sql.SQL(" ORDER BY {}").format(sql.Identifier(order_by))
    if limit is not None:
        query += sql.SQL(" LIMIT {}").format(sql.Literal(int(limit)))
    return query, params


def _connect():
    import psycopg

    return psycopg.connect(Settings.from_env().warehouse_database_url(), application_name="tessera-notebook")


def _frame(cursor):
    import pandas as pd

    columns = [d.name for d in cursor.description]
    return pd.DataFrame(cursor.fetchall(), columns=columns)


def read_sql(query, params: Any = None):
    """Run one query in a read-only transaction and return a pandas DataFrame."""
    with _connect() as conn:
        conn.read_only = True
        with conn.cursor() as cur:
            cur.execute(query, params)
            return _frame(cur)


def read_mart(name: str, *, limit: int | None = None, order_by: str | None = None, **filters: Any):
    """A mart (or `analytics.<table>`) as a pandas DataFrame, filtered by column equality."""
    schema, table = qualified_name(name)
    with _connect() as conn:
        conn.read_only = True
        columns = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (schema, table)).fetchall()]
        if not columns:
            raise LookupError(f"{schema}.{table} does not exist (materialize it first: tessera materialize {schema}/{table})")
        query, params = build_select(schema, table, filters, columns, limit, order_by)
        with conn.cursor() as cur:
            cur.execute(query, params)
            return _frame(cur)


def search_journal(*args, **kwargs):
    """assets.search.api.search_journal (imported on first use)."""
    from assets.search.api import search_journal as _search

    return _search(*args, **kwargs)


def search_stories(*args, **kwargs):
    """assets.search.api.search_stories (imported on first use)."""
    from assets.search.api import search_stories as _search

    return _search(*args, **kwargs)


def autocomplete_tags(*args, **kwargs):
    from assets.search.api import autocomplete_tags as _complete

    return _complete(*args, **kwargs)
