"""BI access: read-only roles on marts and analytics only, with row level security on per-user marts.

- `tessera_analyst`: analysts' notebooks and BI tools; reads every row of marts and analytics.
- `tessera_dashboard`: the products' dashboards; reads marts and analytics, and on per-user tables only
  the rows of the user named by `SET app.current_user_id = '<uuid>'` (the seed's RLS pattern).
Neither role can read raw_*, staging, vectors, persona, search or quality. Grants and policies are
re-applied after every build (dbt may recreate a table), so this is idempotent.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

READ_SCHEMAS = ("marts", "analytics")
ANALYST_ROLE = "tessera_analyst"
DASHBOARD_ROLE = "tessera_dashboard"
USER_COLUMN = "user_id"


def _ensure_role(conn: psycopg.Connection, role: str, password: str | None) -> None:
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if not exists:
        try:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT").format(sql.Identifier(role)))
        except psycopg.errors.DuplicateObject:
            pass  # created concurrently (roles are cluster-wide)
    if password:
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))


def per_user_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        """SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = %s
                          AND NOT a.attisdropped)
            ORDER BY 1, 2""",
        (list(READ_SCHEMAS), USER_COLUMN),
    ).fetchall()


def apply_bi_access(conn: psycopg.Connection, password: str | None = None) -> dict:
    """Create the roles, grant read on marts and analytics, enable RLS on per-user tables."""
    database = conn.execute("SELECT current_database()").fetchone()[0]
    for role in (ANALYST_ROLE, DASHBOARD_ROLE):
        _ensure_role(conn, role, password)
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), sql.Identifier(role)))
    for schema in READ_SCHEMAS:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        for role in (ANALYST_ROLE, DASHBOARD_ROLE):
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(role)))
            conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(role)))
            conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                sql.Identifier(schema), sql.Identifier(role)))
    protected = per_user_tables(conn)
    for schema, table in protected:
        target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(target))
        for policy in ("dashboard_own_rows", "analyst_all_rows"):
            conn.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(sql.Identifier(policy), target))
        conn.execute(sql.SQL(
            "CREATE POLICY dashboard_own_rows ON {} FOR SELECT TO {} "
            "USING ({} = NULLIF(current_setting('app.current_user_id', true), '')::uuid)"
        ).format(target, sql.Identifier(DASHBOARD_ROLE), sql.Identifier(USER_COLUMN)))
        conn.execute(sql.SQL("CREATE POLICY analyst_all_rows ON {} FOR SELECT TO {} USING (true)").format(
            target, sql.Identifier(ANALYST_ROLE)))
    return {"roles": [ANALYST_ROLE, DASHBOARD_ROLE], "schemas": list(READ_SCHEMAS),
            "row_level_security": [f"{s}.{t}" for s, t in protected]}
