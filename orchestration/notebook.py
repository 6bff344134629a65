"""The one helper analysts' notebooks use: read a mart (or an analytics table) into a polars DataFrame,
run a read-only query, and search through the same interface as the CLI.

    from orchestration.notebook import read_mart, read_sql, search_journal, show
    entries = read_mart("journals_view", user_id=uid)                # marts.journals_view, polars
    daily = read_mart("analytics.mood_daily_summary", limit=1000)    # schema-qualified
    df = read_sql("SELECT mood, count(*) AS n FROM marts.journals_view GROUP BY 1")
    pdf = read_mart("journals_view", frame="pandas")                 # pandas on request
    show(fig)                                                         # a matplotlib figure as a PNG output

Only `marts` and `analytics` are readable here (the BI roles' scope); the connection comes from
Settings at call time (TESSERA_WAREHOUSE_URL, or the embedded server).

The rows travel columnar: the ADBC PostgreSQL driver reads the result as Arrow (binary COPY) and polars
takes the Arrow buffers as they are. Identifiers are checked and quoted by `build_select`, values are bound
by psycopg (client-side literals), and the session is read-only from the start
(`default_transaction_read_only`); the ADBC session is kept open per warehouse for the next read
(`close_sessions()` closes it). Postgres types come out as:

    numeric(p, s)            Decimal(p, s)        numeric (no typmod)   Float64
    timestamptz              Datetime(us, UTC)    timestamp             Datetime(us)
    json, jsonb              decoded into structs and lists (String when the documents do not share a shape)
    uuid                     String (canonical 8-4-4-4-12 text)
    arrays                   List of the element type
    interval                 Duration(us), a month counted as 30 days (as Postgres's extract(epoch) does)
"""

from __future__ import annotations

from typing import Any, Iterable, Literal

from core.embedded import warehouse_database_url
from core.settings import Settings

READABLE_SCHEMAS = ("marts", "analytics")
FRAMES = ("polars", "pandas")
MAX_DECIMAL_PRECISION = 38  # Arrow's decimal128 and polars' Decimal
PG_TYPE_KEY = b"POSTGRESQL:type"
PG_TYPMOD_KEY = b"POSTGRESQL:typmod"


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


def read_only_conninfo(url: str) -> str:
    """The warehouse URL as a libpq conninfo whose sessions start read-only (any `options` it already has kept)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    options = conninfo_to_dict(url).get("options") or ""
    return make_conninfo(url, application_name="tessera-notebook",
                         options=f"{options} -c default_transaction_read_only=on".strip())


def numeric_dtype(typmod: int):
    """numeric(p, s) -> Decimal(p, s) (exact, when it fits 38 digits); unconstrained numeric -> Float64.

    Postgres stores the declared precision and scale in the typmod as ((p << 16) | s) + 4."""
    import polars as pl

    if typmod >= 4:
        precision, scale = (typmod - 4) >> 16, (typmod - 4) & 0xFFFF
        if 0 < precision <= MAX_DECIMAL_PRECISION and scale <= precision:
            return pl.Decimal(precision, scale)
    return pl.Float64


def _field_pg_type(field) -> tuple[str, int]:
    meta = field.metadata or {}
    return meta.get(PG_TYPE_KEY, b"").decode(), int(meta.get(PG_TYPMOD_KEY, b"-1") or -1)


def _interval_micros(array):
    """Postgres intervals (Arrow month_day_nano) as microseconds, a month counted as 30 days."""
    import pyarrow as pa

    day = 86_400_000_000
    return pa.array([None if v is None else v.months * 30 * day + v.days * day + v.nanoseconds // 1000
                     for v in array.to_pylist()], type=pa.duration("us"))


def _plain_arrow(array, field):
    """One Arrow column with Postgres extension types replaced by their storage (polars reads plain Arrow).
    Returns (array, conversion) where conversion names what polars still has to do."""
    import pyarrow as pa

    pg_type, typmod = _field_pg_type(field)
    kind = field.type
    if pa.types.is_interval(kind):
        return _interval_micros(array), None
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        values, inner = _plain_arrow(array.values, kind.value_field)
        mask = array.is_null() if array.null_count else None
        rebuilt = (pa.LargeListArray if pa.types.is_large_list(kind) else pa.ListArray).from_arrays(
            array.offsets, values, mask=mask)
        return rebuilt, (("list", inner) if inner else None)
    if isinstance(kind, pa.BaseExtensionType):
        storage = array.storage
        if pg_type == "numeric":
            return storage, ("numeric", typmod)
        if pg_type == "uuid":
            return storage, ("uuid",)
        if pg_type in ("json", "jsonb"):
            return storage, ("json",)
        if pa.types.is_string(storage.type) or pa.types.is_large_string(storage.type):
            return storage, None
        raise ValueError(f"column {field.name!r} has Postgres type {pg_type or kind}, which the columnar reader "
                         f"cannot decode; select it as text ({field.name}::text)")
    return array, None


def _polars_expr(expr, conversion):
    """The polars expression that finishes one column's conversion (numbers, uuids, lists of them)."""
    import polars as pl

    if conversion[0] == "numeric":
        return expr.cast(numeric_dtype(conversion[1]))
    if conversion[0] == "uuid":
        hexa = expr.bin.encode("hex")
        return pl.concat_str([hexa.str.slice(0, 8), hexa.str.slice(8, 4), hexa.str.slice(12, 4),
                              hexa.str.slice(16, 4), hexa.str.slice(20, 12)], separator="-")
    if conversion[0] == "list":
        return expr.list.eval(_polars_expr(pl.element(), conversion[1]))
    return expr  # json inside arrays stays text


def decode_json(series):
    """JSON text decoded into polars structs and lists, inferred over every row; the text itself when the
    documents do not share one shape (or there are none)."""
    import polars as pl

    if series.null_count() == series.len():
        return series
    try:
        decoded = series.str.json_decode(infer_schema_length=None)
    except pl.exceptions.PolarsError:
        return series
    return series if decoded.dtype == pl.Null else decoded


def arrow_to_polars(table):
    """An ADBC PostgreSQL Arrow table as a polars DataFrame with the types in this module's docstring."""
    import polars as pl
    import pyarrow as pa

    columns, conversions = {}, {}
    for field, column in zip(table.schema, table.columns):
        chunks = [_plain_arrow(chunk, field) for chunk in column.chunks or [pa.array([], type=field.type)]]
        columns[field.name] = pa.chunked_array([array for array, _ in chunks])
        if chunks[0][1]:
            conversions[field.name] = chunks[0][1]
    if len(columns) != table.num_columns:
        raise ValueError(f"the result has duplicate column names: {', '.join(table.column_names)}")
    frame = pl.from_arrow(pa.table(columns), rechunk=False)
    if not isinstance(frame, pl.DataFrame):  # a one-column table comes back as a Series
        frame = frame.to_frame()
    exprs = [_polars_expr(pl.col(name), c).alias(name) for name, c in conversions.items() if c[0] != "json"]
    if exprs:
        frame = frame.with_columns(exprs)
    for name in [n for n, c in conversions.items() if c[0] == "json"]:
        frame = frame.with_columns(decode_json(frame[name]).alias(name))
    return frame


def _check_frame(frame: str) -> None:
    if frame not in FRAMES:
        raise ValueError(f"frame={frame!r}: choose one of {', '.join(FRAMES)}")


def _connect():
    import psycopg

    conn = psycopg.connect(read_only_conninfo(warehouse_database_url(Settings.from_env())))
    conn.read_only = True
    return conn


def _render(conn, query, params) -> str:
    """The query as one text with its values bound as literals by psycopg (quoting, escaping, types)."""
    import psycopg
    from psycopg import sql

    if params is None:
        return query.as_string(conn) if isinstance(query, sql.Composable) else query
    return psycopg.ClientCursor(conn).mogrify(query, params)


_SESSIONS: dict[str, Any] = {}  # conninfo -> open ADBC connection (opening one reads the type catalog: ~0.1 s)


def close_sessions() -> None:
    """Close the reader's cached ADBC sessions (they are also closed when the process exits)."""
    while _SESSIONS:
        _, conn = _SESSIONS.popitem()
        try:
            conn.close()
        except Exception:  # already broken: nothing left to release
            pass


def _session(conninfo: str):
    import atexit

    import adbc_driver_postgresql.dbapi as adbc

    if conninfo not in _SESSIONS:
        if not _SESSIONS:
            atexit.register(close_sessions)
        _SESSIONS[conninfo] = adbc.connect(conninfo)
    return _SESSIONS[conninfo]


def _fetch(text: str, frame: str):
    """Run one query on the cached read-only ADBC session; polars (or pandas) from the Arrow result.

    Each query is its own transaction (rolled back after the fetch: nothing to keep). A failure discards
    the session and the query runs once more on a fresh one, so a session the server closed (a restart, a
    dropped database) costs one reconnect; a query that is itself wrong fails again and its error is raised."""
    conninfo = read_only_conninfo(warehouse_database_url(Settings.from_env()))
    for attempt in (1, 2):
        conn = _session(conninfo)
        try:
            with conn.cursor() as cur:
                cur.execute(text)
                table = cur.fetch_arrow_table()
            conn.rollback()
            break
        except Exception:
            _SESSIONS.pop(conninfo, None)
            try:
                conn.close()
            except Exception:  # the session is already gone
                pass
            if attempt == 2:
                raise
    result = arrow_to_polars(table)
    return result.to_pandas() if frame == "pandas" else result


def read_sql(query, params: Any = None, *, frame: Literal["polars", "pandas"] = "polars"):
    """Run one query (psycopg placeholders, `%s`) in a read-only session; a polars DataFrame, or pandas
    with frame="pandas"."""
    _check_frame(frame)
    from psycopg import sql

    if params is None and not isinstance(query, sql.Composable):
        return _fetch(query, frame)
    with _connect() as conn:
        text = _render(conn, query, params)
    return _fetch(text, frame)


def read_mart(name: str, *, limit: int | None = None, order_by: str | None = None,
              frame: Literal["polars", "pandas"] = "polars", **filters: Any):
    """A mart (or `analytics.<table>`) filtered by column equality, as a polars DataFrame (pandas with
    frame="pandas")."""
    _check_frame(frame)
    schema, table = qualified_name(name)
    with _connect() as conn:
        columns = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (schema, table)).fetchall()]
        if not columns:
            raise LookupError(f"{schema}.{table} does not exist (materialize it first: tessera materialize {schema}/{table})")
        query, params = build_select(schema, table, filters, columns, limit, order_by)
        text = _render(conn, query, params)
    return _fetch(text, frame)


def figure_png(fig, dpi: int = 80) -> bytes:
    """A matplotlib figure drawn by Agg into PNG bytes (no display, no GUI backend)."""
    from io import BytesIO

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)  # draw with Agg whatever backend the session selected
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def show(fig, dpi: int = 80) -> None:
    """Show a figure in the notebook as a PNG output (it stays in the saved notebook) and close it."""
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    display(Image(data=figure_png(fig, dpi), format="png"))
    plt.close(fig)


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
