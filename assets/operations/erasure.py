"""Erasure: remove a person from every derived store, keep the audit trail, and prove it.

A subject is erased when its account is deleted in the source (MindFlow and coach users and PersonaKit
persons with deleted_at set) or on demand (`tessera erase --user ID`). One run:
1. collects every id the subject owns in the raw copies, following the registry's `owner` paths
   (a user owns entries, an entry owns its tags and attachments, and so on);
2. deletes those rows from the raw copies, except audit tables (kept for 7 years, DESIGN rule 1),
   and removes the subject from uuid[] membership columns (Mosaic group members);
3. in every table of the derived schemas (staging .. search, and the quality quarantine and check
   history, which hold copies of rows): deletes each row with a uuid column equal to the subject or an
   owned id, removes those ids from uuid[] columns (a story's readers stay a story), and deletes each
   row whose text or json mentions one of them (ids held as text, e.g. a quarantined row's JSON);
4. calls the hooks of stores outside the warehouse (ERASURE_HOOKS: the Elasticsearch indices when
   TESSERA_ELASTICSEARCH_URL is set), inside the same transaction, so a failing hook rolls it back;
5. records the erasure with per-table counts in tessera_meta.erasures.
Continuous aggregates (TimescaleDB) lose the subject's rows by deletion from their materialization
hypertables in step 3, and materialized views still holding an id are refreshed after the deletions.
The erasure check scans every table, partitioned table, materialized view and continuous aggregate
materialization of every schema (uuid, uuid[], text and jsonb columns) for the subject's id, reports
where it is still found, and reports every relation of a kind it cannot read (foreign tables), so it
never claims a proof it does not have. The catalog drives step 3 and the check, so a table added by
any area is covered without changing this module.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from assets.ingest import feed
from core.db import table_exists
from sources.registry import TABLES, SourceTable, raw_schema_of

log = logging.getLogger(__name__)

META_KEPT = frozenset({("tessera_meta", "erasures")})
DERIVED_SCHEMAS = ("marts", "intermediate", "staging", "analytics", "vectors", "persona", "search", "quality")
UUID_PATTERN = "([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
TEXT_TYPES = ("text", "character varying", "jsonb", "json")
# source tables whose soft-deleted rows are deleted accounts: (product, table, key column)
ACCOUNT_TABLES = (("mindflow", "users", "id"), ("coach", "users", "id"), ("personakit", "persons", "person_id"))

DDL = """
CREATE SCHEMA IF NOT EXISTS tessera_meta;
CREATE TABLE IF NOT EXISTS tessera_meta.erasures (
    erasure_id    BIGSERIAL PRIMARY KEY,
    subject_id    UUID NOT NULL,
    trigger       TEXT NOT NULL CHECK (trigger IN ('source_deletion', 'on_demand')),
    requested_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at  TIMESTAMPTZ,
    rows_removed  JSONB NOT NULL DEFAULT '{}'::jsonb,
    run_id        TEXT
);
CREATE INDEX IF NOT EXISTS erasures_subject ON tessera_meta.erasures (subject_id);
"""


@dataclass
class ErasureResult:
    subject_ids: list[str]
    rows_removed: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows_removed.values())


def parse_subject(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ValueError(f"not a user id (UUID): {value!r}") from exc


def owner_plan(tables: tuple[SourceTable, ...] = TABLES) -> list[tuple[SourceTable, str, SourceTable | None]]:
    """For each owned raw table: (table, owner column, parent table or None when the column holds the
    subject itself). Parents come before their children, as in the registry."""
    by_name = {(t.product, t.name): t for t in tables}
    plan = []
    for table in tables:
        if table.owner is None:
            continue
        if isinstance(table.owner, str):
            plan.append((table, table.owner, None))
        else:
            column, parent = table.owner
            plan.append((table, column, by_name[(table.product, parent)]))
    return plan


def _raw(table: SourceTable) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(table.raw_schema), sql.Identifier(table.name))


def collect_owned_ids(conn: psycopg.Connection, subjects: list[uuid.UUID]) -> dict[str, set]:
    """{qualified table: keys (single-column keys) owned by any of the subjects}, across every product."""
    owned: dict[str, set] = {}
    for table, column, parent in owner_plan():
        if not table_exists(conn, table.raw_schema, table.name) or len(table.key) != 1:
            continue
        wanted = [str(s) for s in subjects] if parent is None else [str(k) for k in owned.get(parent.qualified, ())]
        if not wanted:
            continue
        rows = conn.execute(
            sql.SQL("SELECT {key} FROM {t} WHERE {col}::text = ANY(%s)").format(
                key=sql.Identifier(table.key[0]), t=_raw(table), col=sql.Identifier(column)),
            (wanted,),
        ).fetchall()
        if rows:
            owned.setdefault(table.qualified, set()).update(r[0] for r in rows)
    return owned


def _count(result: ErasureResult, where: str, n: int) -> None:
    if n:
        result.rows_removed[where] = result.rows_removed.get(where, 0) + n


def _erase_raw(conn: psycopg.Connection, subjects: list[uuid.UUID], owned: dict[str, set], result: ErasureResult) -> None:
    for table, _column, _parent in reversed(owner_plan()):
        keys = owned.get(table.qualified)
        if not keys or table.audit:
            continue
        deleted = feed.delete_rows(
            conn, table, sql.SQL("{key}::text = ANY(%s)").format(key=sql.Identifier(table.key[0])), ([str(k) for k in keys],))
        _count(result, f"{table.raw_schema}.{table.name}", deleted)
    # membership arrays (Mosaic groups.members) lose the subjects
    audit = {(t.raw_schema, t.name) for t in TABLES if t.audit}
    raw_schemas = sorted({t.raw_schema for t in TABLES})
    for schema, table, column in _columns_of_type(conn, raw_schemas, ("uuid[]",)):
        changed = feed.update_rows(
            conn, _raw_table(schema, table),
            sql.SQL("{c} = ARRAY(SELECT m FROM unnest({c}) m WHERE m <> ALL(%s::uuid[]))").format(c=sql.Identifier(column)),
            sql.SQL("{c} && %s::uuid[]").format(c=sql.Identifier(column)), (subjects,), (subjects,))
        _count(result, f"{schema}.{table}.{column}", changed)
    # rows outside the owner paths that still name a subject (a uuid column, or the id inside text/json)
    wanted = [str(s).lower() for s in subjects]
    for schema, table, column in _columns_of_type(conn, raw_schemas, ("uuid",)):
        if (schema, table) not in audit:
            deleted = feed.delete_rows(conn, _raw_table(schema, table),
                                       sql.SQL("{} = ANY(%s::uuid[])").format(sql.Identifier(column)), (subjects,))
            _count(result, f"{schema}.{table}", deleted)
    for schema, table, column in _columns_of_type(conn, raw_schemas, TEXT_TYPES):
        if (schema, table) not in audit:
            deleted = feed.delete_rows(conn, _raw_table(schema, table), mention_condition(column), (wanted,))
            _count(result, f"{schema}.{table}", deleted)


def _raw_table(schema: str, table: str) -> SourceTable:
    found = feed.registry_table(schema, table)
    if found is None:
        raise ValueError(f"{schema}.{table} is in a raw schema but not in the table registry (sources/registry.py)")
    return found


def continuous_aggregates(conn: psycopg.Connection, schemas) -> dict[int, str]:
    """{oid of the materialization hypertable: "schema.view"} of the TimescaleDB continuous aggregates
    whose view lives in one of the schemas ({} without TimescaleDB). The aggregate's rows are stored
    there (relkind r in _timescaledb_internal), not in the view."""
    if not conn.execute("SELECT to_regclass('timescaledb_information.continuous_aggregates') IS NOT NULL").fetchone()[0]:
        return {}
    return dict(conn.execute(
        """SELECT format('%%I.%%I', materialization_hypertable_schema, materialization_hypertable_name)::regclass::oid,
                  view_schema || '.' || view_name
             FROM timescaledb_information.continuous_aggregates WHERE view_schema = ANY(%s)""",
        (list(schemas),)).fetchall())


def _columns_of_type(conn: psycopg.Connection, schemas, types: tuple[str, ...], kinds: tuple[str, ...] = ("r", "p"),
                     extra: dict[int, str] | None = None) -> list[tuple[str, str, str]]:
    """(schema, table, column) of relations of `kinds` (tables by default) in schemas whose column type
    is one of types, plus the relations whose oid is in `extra` (materialization hypertables)."""
    return conn.execute(
        """SELECT n.nspname, c.relname, a.attname
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE ((n.nspname = ANY(%s) AND c.relkind = ANY(%s) AND NOT c.relispartition) OR c.oid = ANY(%s))
              AND a.attnum > 0 AND NOT a.attisdropped AND format_type(a.atttypid, NULL) = ANY(%s)
            ORDER BY 1, 2, 3""",
        (list(schemas), list(kinds), list(extra or ()), list(types)),
    ).fetchall()


def _label(schema: str, table: str, extra: dict[int, str], oids: dict[tuple[str, str], int]) -> str:
    oid = oids.get((schema, table))
    return f"{extra[oid]} (materialization {schema}.{table})" if oid in extra else f"{schema}.{table}"


def _erase_derived(conn: psycopg.Connection, ids: list[uuid.UUID], result: ErasureResult,
                   schemas: tuple[str, ...] = DERIVED_SCHEMAS, skip: frozenset = frozenset()) -> None:
    """Tables, partitioned tables and the materializations of continuous aggregates in `schemas`
    (deleting there is how an aggregate loses a user whose raw rows are gone; a later refresh of those
    buckets recomputes them from raw rows that no longer hold the user)."""
    caggs = continuous_aggregates(conn, schemas)
    oids = {tuple(r[1:]): r[0] for r in conn.execute(
        "SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.oid = ANY(%s)", (list(caggs),)).fetchall()}

    def columns(types):
        return [(s, t, c) for s, t, c in _columns_of_type(conn, schemas, types, extra=caggs) if (s, t) not in skip]

    for schema, table, column in columns(("uuid",)):
        deleted = conn.execute(
            sql.SQL("DELETE FROM {}.{} WHERE {} = ANY(%s::uuid[])").format(
                sql.Identifier(schema), sql.Identifier(table), sql.Identifier(column)), (ids,)
        ).rowcount
        _count(result, _label(schema, table, caggs, oids), deleted)
    for schema, table, column in columns(("uuid[]",)):
        changed = conn.execute(
            sql.SQL("UPDATE {}.{} SET {c} = ARRAY(SELECT m FROM unnest({c}) m WHERE m <> ALL(%s::uuid[])) "
                    "WHERE {c} && %s::uuid[]").format(sql.Identifier(schema), sql.Identifier(table), c=sql.Identifier(column)),
            (ids, ids),
        ).rowcount
        _count(result, f"{_label(schema, table, caggs, oids)}.{column}", changed)
    wanted = [str(i).lower() for i in ids]
    for schema, table, column in columns(TEXT_TYPES):
        deleted = conn.execute(mention_delete(schema, table, column), (wanted,)).rowcount
        _count(result, _label(schema, table, caggs, oids), deleted)


def _refresh_materialized_views(conn: psycopg.Connection, ids: list[uuid.UUID], result: ErasureResult,
                                schemas: tuple[str, ...] = DERIVED_SCHEMAS) -> None:
    """Materialized views cannot be deleted from: the ones still holding an id are refreshed, after the
    rows they are computed from are gone (plain REFRESH, which runs inside the erasure's transaction)."""
    wanted = [str(i).lower() for i in ids]
    views = {(s, t) for s, t, _ in _columns_of_type(conn, schemas, ("uuid", "uuid[]", *TEXT_TYPES), kinds=("m",))}
    for schema, view in sorted(views):
        target = sql.Identifier(schema, view)
        if _mentions(conn, target, wanted):
            conn.execute(sql.SQL("REFRESH MATERIALIZED VIEW {}").format(target))
            _count(result, f"{schema}.{view} (materialized view refreshed)", 1)


def _mentions(conn: psycopg.Connection, target: sql.Composable, wanted: list[str]) -> bool:
    """Whether any row of the relation, as text, holds one of the (lower-case) ids."""
    return conn.execute(sql.SQL(
        "SELECT EXISTS (SELECT 1 FROM {} t WHERE EXISTS (SELECT 1 FROM unnest(%s::text[]) w "
        "WHERE strpos(lower(t::text), w) > 0))").format(target), (wanted,)).fetchone()[0]


def mention_condition(column: str) -> sql.Composed:
    """True for a row whose text/json column mentions one of the ids (%s: lower-case text[])."""
    col = sql.SQL("{}::text").format(sql.Identifier(column))
    return sql.SQL(
        "{col} ~ '[0-9a-fA-F]{{8}}-' AND EXISTS ("
        "SELECT 1 FROM regexp_matches({col}, {pattern}, 'g') m WHERE lower(m[1]) = ANY(%s::text[]))"
    ).format(col=col, pattern=sql.Literal(UUID_PATTERN))


def mention_delete(schema: str, table: str, column: str) -> sql.Composed:
    """DELETE of the rows whose text/json column mentions one of the ids (%s: lower-case text[])."""
    return sql.SQL("DELETE FROM {}.{} WHERE {}").format(sql.Identifier(schema), sql.Identifier(table), mention_condition(column))


def erase_subjects(conn: psycopg.Connection, subjects: list[uuid.UUID], *, trigger: str,
                   run_id: str | None = None) -> ErasureResult:
    """Erase the subjects in the caller's transaction, one pass over every store, and record each."""
    conn.execute(DDL)
    result = ErasureResult([str(s) for s in subjects])
    if not subjects:
        return result
    owned = collect_owned_ids(conn, subjects)
    ids = sorted({*subjects, *(uuid.UUID(str(k)) for keys in owned.values() for k in keys if _is_uuid(k))}, key=str)
    _erase_derived(conn, ids, result)
    _erase_raw(conn, subjects, owned, result)
    # bookkeeping that may copy raw rows (e.g. the read views' deletion log, filled by the raw deletes
    # just made); the erasure record itself stays
    _erase_derived(conn, ids, result, schemas=("tessera_meta",), skip=META_KEPT)
    _refresh_materialized_views(conn, ids, result)
    for hook in ERASURE_HOOKS:
        for where, n in (hook(subjects, ids) or {}).items():
            _count(result, where, n)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO tessera_meta.erasures (subject_id, trigger, completed_at, rows_removed, run_id) "
            "VALUES (%s, %s, now(), %s, %s)",
            [(s, trigger, psycopg.types.json.Jsonb(result.rows_removed), run_id) for s in subjects],
        )
    return result


def _is_uuid(value) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


# Elasticsearch (full stack): the search area's indices are aliases `journal_entries` (documents keyed
# by entry id, owner in `userId`) and `mosaic_stories` (keyed by story id, author in `submittedBy`).
# Their sync would never delete an erased user's documents (the ledger rows go with the erasure), so
# the erasure deletes them itself. Stories the user could only read are re-indexed without them by
# the next sync (their readers changed in raw).
ES_INDICES = {"journal_entries": "userId", "mosaic_stories": "submittedBy"}


def es_delete_body(owner_field: str, subjects: list[str], doc_ids: list[str]) -> dict:
    """delete_by_query body: documents owned by a subject, or whose id is one of the owned ids."""
    return {"query": {"bool": {"should": [
        {"terms": {owner_field: sorted(subjects)}},
        {"ids": {"values": sorted(doc_ids)}},
    ], "minimum_should_match": 1}}}


def es_probe_body(owner_field: str, subject: str) -> dict:
    """count body: documents that still name the subject as owner or author."""
    return {"query": {"term": {owner_field: subject}}}


def _es_client(url: str):
    from elasticsearch import Elasticsearch

    return Elasticsearch(url, request_timeout=60, retry_on_timeout=True, max_retries=3)


def elasticsearch_erasure_hook(subjects: list[uuid.UUID], ids: list[uuid.UUID]) -> dict[str, int]:
    """Delete the subjects' documents from every Elasticsearch index (no-op without an Elasticsearch URL)."""
    from core.settings import Settings

    url = Settings.from_env().elasticsearch_url
    if not url:
        return {}
    client = _es_client(url)
    removed = {}
    try:
        for alias, owner_field in ES_INDICES.items():
            if not client.indices.exists_alias(name=alias):
                continue
            response = client.delete_by_query(
                index=alias, body=es_delete_body(owner_field, [str(s) for s in subjects], [str(i) for i in ids]),
                refresh=True, conflicts="proceed", slices="auto")
            if response.get("failures"):
                raise RuntimeError(f"Elasticsearch erasure failed on {alias}: {response['failures'][:3]}")
            removed[f"elasticsearch.{alias}"] = int(response.get("deleted", 0))
    finally:
        client.close()
    return removed


def find_in_elasticsearch(subject: uuid.UUID) -> list[str]:
    """Elasticsearch indices still holding documents of (or readable by) the subject; [] without ES."""
    from core.settings import Settings

    url = Settings.from_env().elasticsearch_url
    if not url:
        return []
    client = _es_client(url)
    try:
        return [f"elasticsearch.{alias}" for alias, owner_field in ES_INDICES.items()
                if client.indices.exists_alias(name=alias)
                and client.count(index=alias, body=es_probe_body(owner_field, str(subject)))["count"] > 0]
    finally:
        client.close()


# Stores outside the warehouse register a callable here: hook(subject_ids, all_owned_ids) ->
# {"where": rows_removed}. Hooks run inside the erasure's transaction, before it commits.
ERASURE_HOOKS: list = [elasticsearch_erasure_hook]


def pending_subjects(conn: psycopg.Connection) -> list[uuid.UUID]:
    """Accounts soft-deleted in the source whose raw copies still hold them, plus erased subjects whose
    rows came back (a late change re-ingested them)."""
    conn.execute(DDL)
    pending: set[uuid.UUID] = set()
    for product, table, key in ACCOUNT_TABLES:
        schema = raw_schema_of(product)
        if table_exists(conn, schema, table):
            pending.update(r[0] for r in conn.execute(
                sql.SQL("SELECT {k} FROM {s}.{t} WHERE deleted_at IS NOT NULL").format(
                    k=sql.Identifier(key), s=sql.Identifier(schema), t=sql.Identifier(table))).fetchall())
    erased = [r[0] for r in conn.execute("SELECT DISTINCT subject_id FROM tessera_meta.erasures").fetchall()]
    if erased:
        for table, column, parent in owner_plan():
            if parent is None and not table.audit and table_exists(conn, table.raw_schema, table.name):
                pending.update(r[0] for r in conn.execute(
                    sql.SQL("SELECT DISTINCT {c}::uuid FROM {t} WHERE {c}::text = ANY(%s)").format(
                        c=sql.Identifier(column), t=_raw(table)), ([str(e) for e in erased],)).fetchall())
    return sorted(pending, key=str)


# Relation kinds of pg_class: the check reads r, p (through the parent) and m directly, and a continuous
# aggregate through its materialization hypertable. Views (v) store nothing (their base relations are
# read). Anything else that can hold rows (foreign tables) it cannot read, and says so.
INSPECTED_KINDS = ("r", "p", "m")
UNINSPECTABLE_KINDS = {"f": "foreign table"}
SYSTEM_SCHEMA_PREFIXES = ("pg_", "_timescaledb", "timescaledb_")


def check_schemas(conn: psycopg.Connection) -> list[str]:
    """Every schema of the warehouse a user's rows could be stored in: all but the system catalogs and
    TimescaleDB's internal schemas (whose stores are reached through their hypertables and aggregates)."""
    return [r[0] for r in conn.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname <> 'information_schema' ORDER BY 1").fetchall()
        if not r[0].startswith(SYSTEM_SCHEMA_PREFIXES)]


def uninspectable(conn: psycopg.Connection, schemas) -> list[str]:
    """Relations in schemas of a kind the check cannot read (each is a reason not to claim 'verified')."""
    return [f"cannot inspect {s}.{t} ({UNINSPECTABLE_KINDS[k]})" for s, t, k in conn.execute(
        """SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(%s) AND c.relkind = ANY(%s) ORDER BY 1, 2""",
        (list(schemas), list(UNINSPECTABLE_KINDS))).fetchall()]


def find_subject(conn: psycopg.Connection, subject: uuid.UUID, *, include_raw: bool = True) -> list[str]:
    """Every place ("schema.table.column") the warehouse still holds the subject's id, as a uuid or
    inside text/jsonb: tables, partitioned tables, materialized views and continuous aggregates (their
    materialization hypertables), in every schema; plus Elasticsearch indices still holding its documents,
    plus one "cannot inspect ..." entry per relation the check cannot read, so an empty answer is a proof.
    Audit tables are exempt (kept by rule 1); `include_raw=False` skips the raw copies."""
    raw_schemas = {t.raw_schema for t in TABLES}
    schemas = [s for s in check_schemas(conn) if include_raw or s not in raw_schemas]
    audit = {(t.raw_schema, t.name) for t in TABLES if t.audit} | META_KEPT
    caggs = continuous_aggregates(conn, schemas)
    oids = {tuple(r[1:]): r[0] for r in conn.execute(
        "SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.oid = ANY(%s)", (list(caggs),)).fetchall()}
    found = []
    text_id = str(subject)
    for schema, table, column in _columns_of_type(
        conn, schemas, ("uuid", "uuid[]", "text", "character varying", "jsonb", "json"),
        kinds=INSPECTED_KINDS, extra=caggs,
    ):
        if (schema, table) in audit:
            continue
        hit = conn.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {}.{} WHERE strpos(lower({}::text), %s) > 0)").format(
                sql.Identifier(schema), sql.Identifier(table), sql.Identifier(column)), (text_id.lower(),)
        ).fetchone()[0]
        if hit:
            found.append(f"{_label(schema, table, caggs, oids)}.{column}")
    return found + uninspectable(conn, schemas) + find_in_elasticsearch(subject)
