"""BI access: read-only roles on marts and analytics only, row level security on per-user tables, and
column-level privacy for analysts.

- `tessera_analyst`: analysts' notebooks and BI tools; reads every row of marts and analytics, but never
  a private journal entry's text nor a raw email (DESIGN rules 2 and 5): a relation with such columns is
  not granted; the analyst reads `analyst.<name>` instead, a view that omits email and secret columns and
  shows title/content as NULL on rows with `is_private` (`analyst_projection`, the one place the rule is
  written). Relations without such columns are granted as they are.
- `tessera_dashboard`: the products' dashboards; reads marts and analytics, and on per-user relations only
  the rows of the user named by `SET app.current_user_id = '<uuid>'` (seed 003's RLS pattern); with
  no user set it sees no per-user rows. Every per-user relation has a security-barrier view
  `dashboard.<name>` filtered to that user, on both warehouses, so dashboards run the same SQL on
  TimescaleDB and on plain Postgres. Where the table can take row level security it also gets the
  policy and a direct grant; where it cannot (a TimescaleDB hypertable with columnstore compression
  raises FeatureNotSupported, a continuous aggregate or any view runs with its owner's rights) the
  dashboard reads only through the view.
Neither role can read the raw copies, staging, intermediate, vectors, persona, search or quality (no USAGE on
those schemas), and both sessions are read-only (default_transaction_read_only).

Both roles fail closed: they get SELECT only per relation, after its policy or view is in place, never
through default privileges, so a table dbt rebuilds is unreadable to them until the next apply (dbt's
DROP ... CASCADE also drops the views over it). Partitions are never granted (reading one directly would
bypass the parent's policy and masking). Grants, policies and views are re-applied by the
`tessera_meta/bi_access` asset; this is idempotent, and a relation that refuses RLS does not roll the
other grants back (each attempt runs in a savepoint).
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

READ_SCHEMAS = ("marts", "analytics")
ANALYST_ROLE = "tessera_analyst"
DASHBOARD_ROLE = "tessera_dashboard"
DASHBOARD_SCHEMA = "dashboard"
ANALYST_SCHEMA = "analyst"
USER_COLUMN = "user_id"
# per-user tables whose user column is not called user_id
USER_COLUMN_OVERRIDES = {("marts", "user_profile_view"): "id"}
POLICY = "dashboard_own_rows"
# column-level privacy for analysts (DESIGN rules 2 and 5)
EMAIL_COLUMN = re.compile(r"(^|_)email(_address)?$")
SECRET_COLUMNS = frozenset({"password_hash"})
PRIVATE_FLAG = "is_private"
PRIVATE_TEXT_COLUMNS = frozenset({"title", "content"})


def user_column(schema: str, table: str, columns) -> str | None:
    """The column naming the row's user, or None for a table that is not per-user (pure)."""
    override = USER_COLUMN_OVERRIDES.get((schema, table))
    if override and override in columns:
        return override
    return USER_COLUMN if USER_COLUMN in columns else None


def own_rows_predicate(column: str) -> sql.Composed:
    return sql.SQL("{} = NULLIF(current_setting('app.current_user_id', true), '')::uuid").format(sql.Identifier(column))


def analyst_projection(columns: list[str]) -> list[sql.Composable] | None:
    """Pure: the select list of the analyst's masked view, or None when nothing in the relation is
    private (it is granted as is). Email and secret columns are omitted; on a relation with is_private,
    the entry text columns are NULL where is_private is true."""
    omitted = [c for c in columns if EMAIL_COLUMN.search(c) or c in SECRET_COLUMNS]
    masked = [c for c in columns if c in PRIVATE_TEXT_COLUMNS] if PRIVATE_FLAG in columns else []
    if not omitted and not masked:
        return None
    out: list[sql.Composable] = []
    for c in columns:
        if c in omitted:
            continue
        if c in masked:
            out.append(sql.SQL("CASE WHEN {flag} THEN NULL ELSE {c} END AS {c}").format(
                flag=sql.Identifier(PRIVATE_FLAG), c=sql.Identifier(c)))
        else:
            out.append(sql.Identifier(c))
    return out


def view_names(relations: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Pure: the name of each relation's view in the dashboard / analyst schema (its own name, or
    <schema>_<name> when two read schemas share it)."""
    counts: dict[str, int] = {}
    for _, name in relations:
        counts[name] = counts.get(name, 0) + 1
    return {(schema, name): name if counts[name] == 1 else f"{schema}_{name}" for schema, name in relations}


def _ensure_role(conn: psycopg.Connection, role: str) -> None:
    if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
        try:
            with conn.transaction():
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOBYPASSRLS")
                             .format(sql.Identifier(role)))
        except psycopg.errors.DuplicateObject:
            pass  # created concurrently (roles are cluster-wide)
    conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(sql.Identifier(role)))


def relations(conn: psycopg.Connection) -> list[tuple[str, str, str, list[str]]]:
    """(schema, name, relkind, columns in order) of every relation in READ_SCHEMAS (no partitions)."""
    rows = conn.execute(
        """SELECT n.nspname, c.relname, c.relkind::text,
                  array(SELECT a.attname::text FROM pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
            ORDER BY 1, 2""",
        (list(READ_SCHEMAS),),
    ).fetchall()
    return [(s, n, k, list(cols)) for s, n, k, cols in rows]


def _try_row_level_security(conn: psycopg.Connection, target: sql.Composed, column: str) -> bool:
    """Enable RLS with the two policies; False (and nothing changed) where the table refuses it."""
    analyst, dashboard = sql.Identifier(ANALYST_ROLE), sql.Identifier(DASHBOARD_ROLE)
    try:
        with conn.transaction():
            conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(target))
            for policy in (POLICY, "analyst_all_rows"):
                conn.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(sql.Identifier(policy), target))
            conn.execute(sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING ({})").format(
                sql.Identifier(POLICY), target, dashboard, own_rows_predicate(column)))
            conn.execute(sql.SQL("CREATE POLICY analyst_all_rows ON {} FOR SELECT TO {} USING (true)").format(
                target, analyst))
        return True
    except psycopg.errors.FeatureNotSupported:  # e.g. a hypertable with columnstore compression
        return False


def _replace_view(conn: psycopg.Connection, view: sql.Composed, body: sql.Composed, role: sql.Identifier) -> None:
    conn.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(view))
    conn.execute(sql.SQL("CREATE VIEW {} WITH (security_barrier = true) AS {}").format(view, body))
    conn.execute(sql.SQL("REVOKE ALL ON {} FROM PUBLIC").format(view))
    conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(view, role))


def apply_bi_access(conn: psycopg.Connection) -> dict:
    """Create the roles, grant read on marts and analytics, RLS or security-barrier views on per-user
    relations, and the analyst's masked views (caller's transaction)."""
    database = conn.execute("SELECT current_database()").fetchone()[0]
    for role in (ANALYST_ROLE, DASHBOARD_ROLE):
        _ensure_role(conn, role)
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), sql.Identifier(role)))
    analyst, dashboard = sql.Identifier(ANALYST_ROLE), sql.Identifier(DASHBOARD_ROLE)
    for schema in READ_SCHEMAS:
        ident = sql.Identifier(schema)
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}, {}").format(ident, analyst, dashboard))
        # fail closed: no grant on a relation before its columns were checked (earlier versions granted
        # every table by default)
        conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} REVOKE SELECT ON TABLES FROM {}").format(ident, analyst))
    for schema, role in ((DASHBOARD_SCHEMA, dashboard), (ANALYST_SCHEMA, analyst)):
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), role))
    rels = relations(conn)
    names = view_names([(s, t) for s, t, _, _ in rels])
    protected, views, shared, masked = [], [], [], []
    wanted_views = {DASHBOARD_SCHEMA: set(), ANALYST_SCHEMA: set()}
    for schema, table, kind, columns in rels:
        target = sql.Identifier(schema, table)
        # analyst: the relation as it is, or its masked view
        projection = analyst_projection(columns)
        if projection is None:
            conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(target, analyst))
        else:
            conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(target, analyst))
            view = sql.Identifier(ANALYST_SCHEMA, names[(schema, table)])
            _replace_view(conn, view, sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(projection), target), analyst)
            wanted_views[ANALYST_SCHEMA].add(names[(schema, table)])
            masked.append(f"{ANALYST_SCHEMA}.{names[(schema, table)]}")
        # dashboard: own rows only
        column = user_column(schema, table, columns)
        if column:
            view = sql.Identifier(DASHBOARD_SCHEMA, names[(schema, table)])
            _replace_view(conn, view, sql.SQL("SELECT * FROM {} WHERE {}").format(target, own_rows_predicate(column)),
                          dashboard)
            wanted_views[DASHBOARD_SCHEMA].add(names[(schema, table)])
            views.append(f"{DASHBOARD_SCHEMA}.{names[(schema, table)]}")
            if kind in ("r", "p") and _try_row_level_security(conn, target, column):
                conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(target, dashboard))
                protected.append(f"{schema}.{table}")
            else:
                conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(target, dashboard))
        elif not table.startswith("_"):
            conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(target, dashboard))
            shared.append(f"{schema}.{table}")
        else:
            conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(target, dashboard))
    # views left from relations that are gone or no longer need one
    for schema, wanted in wanted_views.items():
        for (name,) in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'v'", (schema,)).fetchall():
            if name not in wanted:
                conn.execute(sql.SQL("DROP VIEW {}").format(sql.Identifier(schema, name)))
    # partitions: reachable only through their parent (where the policy and the masking are)
    for schema, table in conn.execute(
        """SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(%s) AND c.relispartition AND c.relkind IN ('r', 'p')""",
            (list(READ_SCHEMAS),)).fetchall():
        conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}, {}").format(sql.Identifier(schema, table), dashboard, analyst))
    return {"roles": [ANALYST_ROLE, DASHBOARD_ROLE], "schemas": list(READ_SCHEMAS),
            "row_level_security": protected, "dashboard_views": views, "dashboard_shared": shared,
            "analyst_masked": masked}
