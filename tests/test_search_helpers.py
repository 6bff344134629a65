"""Helpers for the search tests (no tests here).

`land_raw` copies source tables into raw_<product>.* of the warehouse the way the ingest does (exact
columns plus _ingested_at and _source_lsn), so search can be tested on hand-made rows independently of
the ingest area, and builds the dbt views search reads (staging and eligibility) over them once. `make_vectors_tables` / `add_vector` create rows of the shape the
embeddings area writes (vectors.journal_entries, vectors.mosaic_stories, vectors.active_models).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

import numpy as np
import psycopg
from psycopg import sql

MINDFLOW_TABLES = ("users", "user_settings", "journal_entries", "tags", "journal_entry_tags")
MOSAIC_TABLES = ("users", "legacies", "stories", "groups", "persons", "person_relationships")
# The dbt views the search documents read, with the staging views beneath them.
VIEWS = {"mindflow": "+eligible_journal_entries stg_mindflow__journal_entry_tags stg_mindflow__tags",
         "mosaic": "+eligible_mosaic_stories +int_mosaic__story_grants"}


def land_raw(source_url: str, warehouse_url: str, product: str, tables=None) -> None:
    tables = tables or (MINDFLOW_TABLES if product == "mindflow" else MOSAIC_TABLES)
    raw = f"raw_{product}"
    with psycopg.connect(source_url) as src, psycopg.connect(warehouse_url) as wh:
        lsn = src.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
        wh.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(raw)))
        for table in tables:
            cols = src.execute(
                """SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
                    ORDER BY a.attnum""", (product, table)).fetchall()
            target = sql.Identifier(raw, table)
            if wh.execute("SELECT to_regclass(%s)", (f"{raw}.{table}",)).fetchone()[0]:
                wh.execute(sql.SQL("TRUNCATE {}").format(target))  # the views over it stay
            else:
                wh.execute(sql.SQL("CREATE TABLE {} ({}, _ingested_at timestamptz NOT NULL DEFAULT now(), "
                                   "_source_lsn pg_lsn)").format(
                    target, sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in cols)))
            names = sql.SQL(", ").join(sql.Identifier(n) for n, _ in cols)
            with src.cursor().copy(sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT").format(
                    names, sql.Identifier(product, table))) as out, \
                    wh.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(target, names)) as into:
                for block in out:
                    into.write(block)
            wh.execute(sql.SQL("UPDATE {} SET _source_lsn = %s::pg_lsn").format(target), (lsn,))
        wh.commit()
        views_built = wh.execute("SELECT to_regclass(%s)", ("eligibility." + VIEWS[product].split()[0].lstrip("+"),)).fetchone()[0]
    if not views_built:
        build_views(warehouse_url, VIEWS[product])


def build_views(warehouse_url: str, select: str) -> None:
    """dbt run of the selected views (the eligibility and staging models the areas read)."""
    from assets.dbt.project import run_dbt
    from assets.ingest.feed import ensure_feed

    with psycopg.connect(warehouse_url) as wh:  # dbt's run-end hook prunes the change feed ingest keeps
        ensure_feed(wh)
    run_dbt(["run", "--select", *select.split()], url=warehouse_url, check=True)


def make_vectors_tables(warehouse_url: str) -> None:
    with psycopg.connect(warehouse_url) as wh:
        wh.execute("CREATE EXTENSION IF NOT EXISTS vector")
        wh.execute("CREATE SCHEMA IF NOT EXISTS vectors")
        wh.execute("""CREATE TABLE IF NOT EXISTS vectors.journal_entries (
            source_id uuid NOT NULL, chunk_index int NOT NULL, model_id text NOT NULL, content_hash text NOT NULL,
            embedding vector NOT NULL, embedded_at timestamptz NOT NULL DEFAULT now(), user_id uuid,
            PRIMARY KEY (source_id, chunk_index, model_id))""")
        wh.execute("""CREATE TABLE IF NOT EXISTS vectors.mosaic_stories (
            source_id uuid NOT NULL, chunk_index int NOT NULL, model_id text NOT NULL, content_hash text NOT NULL,
            embedding vector NOT NULL, embedded_at timestamptz NOT NULL DEFAULT now(), user_id uuid, legacy_id uuid,
            PRIMARY KEY (source_id, chunk_index, model_id))""")
        wh.execute("""CREATE TABLE IF NOT EXISTS vectors.active_models (
            source text PRIMARY KEY, model_id text NOT NULL, dimension int NOT NULL,
            activated_at timestamptz NOT NULL DEFAULT now())""")


def activate_model(warehouse_url: str, source: str, model_id: str, dimension: int) -> None:
    with psycopg.connect(warehouse_url) as wh:
        wh.execute("INSERT INTO vectors.active_models (source, model_id, dimension) VALUES (%s, %s, %s) "
                   "ON CONFLICT (source) DO UPDATE SET model_id = EXCLUDED.model_id, dimension = EXCLUDED.dimension, "
                   "activated_at = now()", (source, model_id, dimension))


def add_vector(warehouse_url: str, table: str, source_id, vector, *, model_id: str = "stub", chunk_index: int = 0,
               user_id=None) -> None:
    vec = np.asarray(vector, dtype=np.float32)
    literal = "[" + ",".join(f"{x:.7g}" for x in vec) + "]"
    with psycopg.connect(warehouse_url) as wh:
        wh.execute(sql.SQL("INSERT INTO {} (source_id, chunk_index, model_id, content_hash, embedding, user_id) "
                           "VALUES (%s, %s, %s, %s, %s::vector, %s) ON CONFLICT (source_id, chunk_index, model_id) "
                           "DO UPDATE SET embedding = EXCLUDED.embedding, content_hash = EXCLUDED.content_hash").format(
            sql.Identifier("vectors", table)),
            (str(source_id), chunk_index, model_id, hashlib.md5(literal.encode()).hexdigest(), literal,
             str(user_id) if user_id else None))


def unit(dim: int, *axes: float) -> np.ndarray:
    """A normalised vector with the given leading components."""
    v = np.zeros(dim, dtype=np.float32)
    v[: len(axes)] = axes
    return v / np.linalg.norm(v)


class StubEncoder:
    """A stand-in encoder for ranking-logic tests: known query texts map to chosen vectors."""

    def __init__(self, table: dict[str, np.ndarray], dimension: int, model_id: str = "stub"):
        self.table, self.dimension, self.model_id = table, dimension, model_id

    def encode(self, texts):
        return np.stack([self.table[t] for t in texts]).astype(np.float32)


# --------------------------------------------------------------------------------------------------
# A hand-made MindFlow world with canaries
# --------------------------------------------------------------------------------------------------

@dataclass
class JournalWorld:
    users: dict[str, str] = field(default_factory=dict)      # label -> user id
    entries: dict[str, str] = field(default_factory=dict)    # label -> entry id
    canaries: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # label -> (token, owner label)


def _uid() -> str:
    return str(uuid.uuid4())


def insert_user(conn, label: str, *, deleted: bool = False, private_mode: bool = False) -> str:
    uid = _uid()
    conn.execute("INSERT INTO mindflow.users (id, email, password_hash, display_name, deleted_at) "
                 "VALUES (%s, %s, 'x', %s, CASE WHEN %s THEN now() END)",
                 (uid, f"{label}-{uid[:8]}@example.com", label, deleted))
    conn.execute("INSERT INTO mindflow.user_settings (user_id, private_mode) VALUES (%s, %s)", (uid, private_mode))
    return uid


def insert_entry(conn, user_id: str, date: str, title: str, content: str, *, mood: str | None = "neutral",
                 tags=(), private: bool = False, deleted: bool = False, location: str | None = None) -> str:
    eid = _uid()
    conn.execute("INSERT INTO mindflow.journal_entries (id, user_id, date, title, content, mood, is_private, "
                 "deleted_at, location, word_count) VALUES (%s, %s, %s, %s, %s, %s, %s, CASE WHEN %s THEN now() END, %s, %s)",
                 (eid, user_id, date, title, content, mood, private, deleted, location, len(content.split())))
    for tag in tags:
        conn.execute("INSERT INTO mindflow.tags (name) VALUES (%s) ON CONFLICT (name) DO NOTHING", (tag,))
        conn.execute("INSERT INTO mindflow.journal_entry_tags (journal_entry_id, tag_id) "
                     "SELECT %s, id FROM mindflow.tags WHERE name = %s", (eid, tag))
    return eid


def build_journal_world(source_url: str) -> JournalWorld:
    world = JournalWorld()
    with psycopg.connect(source_url) as conn:
        a = world.users["alice"] = insert_user(conn, "alice")
        b = world.users["bob_private_mode"] = insert_user(conn, "bob", private_mode=True)
        c = world.users["carol_erased"] = insert_user(conn, "carol", deleted=True)
        d = world.users["dave"] = insert_user(conn, "dave")
        e = world.entries
        e["cafe"] = insert_entry(conn, a, "2025-01-05", "Morning at the café",
                                 "I wrote in the café near the river. The espresso was strong and the morning calm.",
                                 mood="happy", tags=("coffee", "morning"))
        e["running"] = insert_entry(conn, a, "2025-01-10", "Long run",
                                    "Running along the river in the rain; my legs were running on empty but I kept going.",
                                    mood="ecstatic", tags=("running", "health"))
        e["work"] = insert_entry(conn, a, "2025-02-01", "Deadline stress",
                                 "Work deadlines everywhere, anxious about the release and the review meeting.",
                                 mood="anxious", tags=("work", "stress"))
        e["work2"] = insert_entry(conn, a, "2025-02-15", "Review went fine",
                                  "The review meeting at work went fine after all; relief and a quiet evening.",
                                  mood="happy", tags=("work", "relief"))
        e["private"] = insert_entry(conn, a, "2025-03-01", "Secret",
                                    "zqxprivatetoken a private note about the river and work.", mood="sad",
                                    tags=("secret",), private=True)
        e["deleted"] = insert_entry(conn, a, "2025-03-02", "Deleted",
                                    "zqxdeletedtoken an entry I deleted about the river and work.", mood="sad",
                                    tags=("gone",), deleted=True)
        e["bob"] = insert_entry(conn, b, "2025-01-07", "Bob's day",
                                "zqxprivmodetoken river walk, work and coffee in private mode.", mood="neutral",
                                tags=("coffee",))
        e["carol"] = insert_entry(conn, c, "2025-01-08", "Carol's day",
                                  "zqxerasedtoken river walk, work and coffee before erasure.", mood="happy",
                                  tags=("coffee",))
        e["dave"] = insert_entry(conn, d, "2025-01-09", "Dave's café",
                                 "Dave at the cafe by the river with coffee after work.", mood="happy",
                                 tags=("coffee", "cafeteria"))
        # entry label -> (unique token, owner allowed to find it by keyword or None)
        world.canaries = {"private": ("zqxprivatetoken", "alice"), "deleted": ("zqxdeletedtoken", None),
                          "bob": ("zqxprivmodetoken", "bob_private_mode"), "carol": ("zqxerasedtoken", None)}
    return world


# --------------------------------------------------------------------------------------------------
# A hand-made Mosaic world
# --------------------------------------------------------------------------------------------------

@dataclass
class StoryWorld:
    users: dict[str, str] = field(default_factory=dict)
    legacies: dict[str, str] = field(default_factory=dict)
    stories: dict[str, str] = field(default_factory=dict)


def build_story_world(source_url: str) -> StoryWorld:
    w = StoryWorld()
    with psycopg.connect(source_url) as conn:
        for label in ("admin1", "admin2", "writer", "member", "family", "stranger"):
            uid = w.users[label] = _uid()
            conn.execute("INSERT INTO mosaic.users (id, email, full_name) VALUES (%s, %s, %s)",
                         (uid, f"{label}-{uid[:6]}@example.com", label))
        u = w.users
        for label, admin in (("grandma", "admin1"), ("uncle", "admin2")):
            lid = w.legacies[label] = _uid()
            conn.execute("INSERT INTO mosaic.legacies (id, person_name, created_by) VALUES (%s, %s, %s)",
                         (lid, label.title(), u[admin]))
        conn.execute("INSERT INTO mosaic.groups (legacy_id, name, created_by, members) VALUES (%s, 'cousins', %s, %s)",
                     (w.legacies["grandma"], u["admin1"], [u["member"]]))
        conn.execute("INSERT INTO mosaic.persons (name, relationship_type, legacy_id, user_id) VALUES ('Fam', 'family', %s, %s)",
                     (w.legacies["uncle"], u["family"]))
        specs = [
            ("g_public", "grandma", "writer", "public", "The lighthouse summer", "Grandma kept the lighthouse lamp burning."),
            ("g_private", "grandma", "writer", "private", "Lighthouse letters", "Private lighthouse letters from grandma."),
            ("g_group", "grandma", "writer", "group", "Lighthouse picnic", "The cousins' lighthouse picnic by the sea."),
            ("u_public", "uncle", "admin2", "public", "Uncle's boat", "The lighthouse seen from uncle's boat."),
            ("u_private", "uncle", "family", "private", "Uncle's diary", "A lighthouse in uncle's private diary."),
            ("u_group", "uncle", "admin2", "group", "Uncle's workshop", "Lighthouse models in the workshop."),
        ]
        for label, legacy, writer, visibility, title, content in specs:
            sid = w.stories[label] = _uid()
            conn.execute("INSERT INTO mosaic.stories (id, legacy_id, submitted_by, title, content, visibility_level, tags) "
                         "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                         (sid, w.legacies[legacy], u[writer], title, content, visibility, ["lighthouse", legacy]))
    return w


def accessible_stories(source_url: str, user_id: str) -> set[str]:
    """The ground truth: Mosaic's own access function, on the source."""
    with psycopg.connect(source_url) as conn:
        rows = conn.execute("SELECT id::text FROM mosaic.stories WHERE mosaic.user_can_access_story(%s, id)",
                            (user_id,)).fetchall()
    return {r[0] for r in rows}
