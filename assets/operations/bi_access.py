"""BI access: read-only roles on marts and analytics only, with row level security on per-user tables.

- `tessera_analyst`: analysts' notebooks and BI tools; reads every row of marts and analytics.
- `tessera_dashboard`: the products' dashboards; reads marts and analytics, and on per-user tables only
  the rows of the user named by `SET app.current_user_id = '<uuid>'` (seed 003's RLS pattern); with
  no user set it sees no per-user rows.
Neither role can read raw_*, staging, intermediate, vectors, persona, search or quality (no USAGE on
those schemas), and both sessions are read-only (default_transaction_read_only).

The dashboard role fails closed: it gets SELECT only per relation, after that relation's policy is in
place, never through default privileges, so a table dbt rebuilds is unreadable to dashboards until the
next apply (not readable without RLS). It never gets partitions (reading one directly would bypass the
parent's policy) nor views over per-user data (a view runs with its owner's rights). Grants and
policies are re-applied by the `tessera_meta/bi_access` asset; this is idempotent.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

READ_SCHEMAS = ("marts", "analytics")
ANALYST_ROLE = "tessera_analyst"
DASHBOARD_ROLE = "tessera_dashboard"
USER_COLUMN = "user_id"
# per-user tables whose user column is not called user_id
USER_COLUMN_OVERRIDES = {("marts", "user_profile_view"): "id"}
POLICY = "dashboard_own_rows"


def user_column(schema: str, table: str, columns: set[str]) -> str | None:
    """The column naming the row's user, or None for a table that is not per-user (pure)."""
    override = USER_COLUMN_OVERRIDES.get((schema, table))
    if override and override in columns:
        return override
    return USER_COLUMN if USER_COLUMN in columns else None


def own_rows_predicate(column: str) -> sql.Composed:
    return sql.SQL("{} = NULLIF(current_setting('app.current_user_id', true), '')::uuid").format(sql.Identifier(column))


def _ensure_role(conn: psycopg.Connection, role: str) -> None:
    if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
        try:
            with conn.transaction():
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOBYPASSRLS")
                             .format(sql.Identifier(role)))
        except psycopg.errors.DuplicateObject:
            pass  # created concurrently (roles are cluster-wide)
    conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(sql.Identifier(role)))


def relations(conn: psycopg.Connection) -> list[tuple[str, str, str, set[str]]]:
    """(schema, name, relkind, columns) of every readable relation in READ_SCHEMAS (no partitions)."""
    rows = conn.execute(
        """SELECT n.nspname, c.relname, c.relkind::text,
                  array(SELECT a.attname::text FROM pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
            ORDER BY 1, 2""",
        (list(READ_SCHEMAS),),
    ).fetchall()
    return [(s, n, k, set(cols)) for s, n, k, cols in rows]


def apply_bi_access(conn: psycopg.Connection) -> dict:
    """Create the roles, grant read on marts and analytics, and row level security on per-user tables."""
    database = conn.execute("SELECT current_database()").fetchone()[0]
    for role in (ANALYST_ROLE, DASHBOARD_ROLE):
        _ensure_role(conn, role)
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), sql.Identifier(role)))
    analyst, dashboard = sql.Identifier(ANALYST_ROLE), sql.Identifier(DASHBOARD_ROLE)
    for schema in READ_SCHEMAS:
        ident = sql.Identifier(schema)
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}, {}").format(ident, analyst, dashboard))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(ident, analyst))
        conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(ident, analyst))
    protected, shared, withheld = [], [], []
    for schema, table, kind, columns in relations(conn):
        target = sql.Identifier(schema, table)
        column = user_column(schema, table, columns)
        if column and kind in ("r", "p"):
            conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(target))
            for policy in (POLICY, "analyst_all_rows"):
                conn.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(sql.Identifier(policy), target))
            conn.execute(sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING ({})").format(
                sql.Identifier(POLICY), target, dashboard, own_rows_predicate(column)))
            conn.execute(sql.SQL("CREATE POLICY analyst_all_rows ON {} FOR SELECT TO {} USING (true)").format(target, analyst))
            conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(target, dashboard))
            protected.append(f"{schema}.{table}")
        elif column:  # a view or materialized view over per-user rows: RLS cannot apply
            conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(target, dashboard))
            withheld.append(f"{schema}.{table}")
        elif not table.startswith("_"):
            conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(target, dashboard))
            shared.append(f"{schema}.{table}")
    # partitions: reachable only through their parent (where the policy is)
    for schema, table in conn.execute(
        """SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(%s) AND c.relispartition AND c.relkind IN ('r', 'p')""",
            (list(READ_SCHEMAS),)).fetchall():
        conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(sql.Identifier(schema, table), dashboard))
    return {"roles": [ANALYST_ROLE, DASHBOARD_ROLE], "schemas": list(READ_SCHEMAS),
            "row_level_security": protected, "dashboard_shared": shared, "dashboard_withheld": withheld}
