"""Deterministic synthetic data for the five product schemas (`tessera seed`).

`generate(url, users=N, days=D, seed=S, anchor=A)` fills mindflow, mosaic, personakit, coach and
devassist in the migrated source database with COPY, in one transaction. The same (N, D, S, A) gives
byte-identical rows (every id and timestamp comes from named `random.Random` streams; see core.py);
`table_checksums(url)` proves it. Activity covers the D days ending at the anchor (default: today UTC).

Scale (N = --users, the MindFlow user count):
    mosaic users N/2, legacies N/10 (about 8 stories each), personakit persons N/4 (about 12
    observations each), coach learners N/2, devassist developers N/4 (minimum 2 to 4 of each).

Privacy cases later stages must honour (shares of the table's rows):
    mindflow: private entries ~5%, users in private mode ~3%, soft-deleted entries ~2%, soft-deleted
    users ~2% (deleted_at set, is_active false, rows kept); personakit: observations pending ~15% and
    rejected ~10%, soft-deleted persons ~2%; coach: soft-deleted learners ~2%, deleted dialogue
    messages ~3%; mosaic: stories of every visibility (public, private, group).

Planted rule breaks (the database does not enforce these; the quality stage must catch exactly
these rows, listed in public.generator_rule_breaks(source_table, record_key, rule)). "1 in P" means
every P-th row in generation order, the first at the 4th row, so small runs still hold one:
    story_content_not_empty        mosaic.stories              content empty or whitespace only   1 in 150
    story_has_approver             mosaic.stories              approved_at set, approved_by NULL  1 in 150
    observation_confidence_in_range personakit.observations    content_structured.confidence
                                                                outside [0, 1]                     1 in 150
    jsonb_timestamp_iso_utc        personakit.observations     source_metadata.timestamp not ISO
                                                                8601 UTC (local format or offset)  1 in 150
    goal_confidence_in_range       personakit.goals            confidence > 1                     1 in 128
    belief_confidence_in_range     personakit.beliefs          confidence > 1                     1 in 128
    entry_word_count_matches       mindflow.journal_entries    word_count != words in content     1 in 131
    streak_consistent              mindflow.user_streaks       totals/longest streak disagree with
                                                                the user's live entries            1 in 128
    agent_running_has_approval     devassist.agent_sessions    inserted 'running' with no approved
                                                                pre_agent_spawn/consensus_check    1 in 128
    plugin_metadata_has_plugin     mosaic.story_plugin_metadata plugin_id names no mosaic.plugins
                                                                row (by name or id)                1 in 150
    jsonb_uuid_valid               mosaic.ai_conversations     conversation_history[].metadata
                                                                .stories_referenced[] not a UUID   1 in 128
Exact definitions (SQL) are in RULE_BREAKING.md. Ground truth for the mood stage:
public.generator_entry_truth(entry_id, valence, mood, topics): the latent valence, the mood and the topic
tags each entry's text was written from (the mood also for entries saved without a label).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from sources.generator.core import Progress, Scale

TRUTH_DDL = """
CREATE TABLE IF NOT EXISTS public.generator_rule_breaks (
    source_table TEXT NOT NULL,
    record_key   TEXT NOT NULL,
    rule         TEXT NOT NULL,
    PRIMARY KEY (source_table, record_key, rule));
CREATE TABLE IF NOT EXISTS public.generator_entry_truth (
    entry_id UUID PRIMARY KEY,
    valence  NUMERIC NOT NULL CHECK (valence BETWEEN -1 AND 1),
    mood     VARCHAR(20),
    topics   TEXT[]);
ALTER TABLE public.generator_entry_truth ADD COLUMN IF NOT EXISTS mood VARCHAR(20);
ALTER TABLE public.generator_entry_truth ADD COLUMN IF NOT EXISTS topics TEXT[];
"""
TRUTH_TABLES = {
    "public.generator_rule_breaks": ("source_table", "record_key", "rule"),
    "public.generator_entry_truth": ("entry_id", "valence", "mood", "topics"),
}


# Above this many user-days, secondary indexes are dropped for the load and rebuilt after it.
BULK_INDEX_THRESHOLD = 20_000


class GeneratorError(RuntimeError):
    pass


@dataclass
class GenerationReport:
    users: int
    days: int
    seed: int
    anchor: dt.date
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time (generation + COPY client side); the machine is shared
    per_table: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.per_table.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {"users": self.users, "days": self.days, "seed": self.seed, "anchor": self.anchor.isoformat(),
                "rows": self.rows, "seconds": round(self.seconds, 2), "cpu_seconds": round(self.cpu_seconds, 2),
                "rows_per_second": round(self.rows_per_second), "per_table": dict(sorted(self.per_table.items()))}


def product_tables() -> list[str]:
    from sources.registry import TABLES

    return [t.qualified for t in TABLES]


def _tables_with_rows(conn) -> list[str]:
    from psycopg import sql

    found = []
    for name in product_tables():
        schema, table = name.split(".")
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {}.{})").format(sql.Identifier(schema), sql.Identifier(table))
        if conn.execute(query).fetchone()[0]:
            found.append(name)
    return found


def _truncate(conn, names: list[str]) -> None:
    from psycopg import sql

    targets = sql.SQL(", ").join(
        sql.SQL("{}.{}").format(sql.Identifier(n.split(".")[0]), sql.Identifier(n.split(".")[1])) for n in names)
    conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(targets))


def _drop_secondary_indexes(conn) -> list[str]:
    """Drop the product tables' indexes that back no constraint; returns their definitions.

    Building an index once after a bulk load is much cheaper than maintaining it row by row (the GIN
    full-text indexes most of all). It all happens inside the load's transaction, so no reader ever
    sees a table without its indexes, and `_recreate_indexes` restores the exact definitions (indexes
    whose text would not survive a round trip, array predicates, are kept and maintained instead).
    """
    from psycopg import sql

    rows = conn.execute(
        """SELECT n.nspname, c.relname, pg_get_indexdef(i.indexrelid)
             FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
              -- predicates over arrays deparse differently once re-parsed: leave those in place
              AND pg_get_indexdef(i.indexrelid) NOT LIKE '%%ANY (%%'
            ORDER BY n.nspname, c.relname""",
        (["mindflow", "mosaic", "personakit", "coach", "devassist"],)).fetchall()
    for schema, name, _ in rows:
        conn.execute(sql.SQL("DROP INDEX {}.{}").format(sql.Identifier(schema), sql.Identifier(name)))
    return [definition for _, _, definition in rows]


def _recreate_indexes(conn, definitions: list[str]) -> None:
    for definition in definitions:
        conn.execute(definition)


def generate(source_url: str, *, users: int, days: int, seed: int, anchor: dt.date | None = None,
             progress: Progress | None = None, reset: bool = False) -> GenerationReport:
    """Fill the five product schemas of the migrated database at `source_url`; see the module doc."""
    import psycopg

    from sources.generator import coach, devassist, mindflow, mosaic, personakit
    from sources.generator.core import Sink

    if users < 1 or days < 1:
        raise GeneratorError("users and days must be at least 1")
    anchor = anchor or dt.datetime.now(dt.timezone.utc).date()
    scale = Scale(users=users, days=days, seed=seed, anchor=anchor)
    report = GenerationReport(users=users, days=days, seed=seed, anchor=anchor)
    started, cpu_started = time.perf_counter(), time.process_time()
    with psycopg.connect(source_url, application_name="tessera-generator") as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET synchronous_commit = off")
        busy = _tables_with_rows(conn)
        if busy and not reset:
            raise GeneratorError(
                f"product tables already hold data ({', '.join(busy[:5])}{', ...' if len(busy) > 5 else ''}); "
                "pass reset=True (tessera seed --reset) to truncate them first")
        if reset:
            _truncate(conn, product_tables())
        conn.execute(TRUTH_DDL)
        _truncate(conn, list(TRUTH_TABLES))
        dropped = _drop_secondary_indexes(conn) if users * days >= BULK_INDEX_THRESHOLD else []
        for module in (mindflow, mosaic, personakit, coach, devassist):
            name = module.__name__.rsplit(".", 1)[1]
            if progress:
                progress(name, "generating")
            sink = Sink(conn, {**module.TABLES, **TRUTH_TABLES})
            module.generate(scale, sink, progress)
            sink.flush()
            for table, count in sink.counts.items():
                report.per_table[table] = report.per_table.get(table, 0) + count
            if progress:
                progress(name, f"loaded {sum(c for t, c in sink.counts.items() if t.startswith(name))} rows")
        audit_rows = devassist.normalise_audit_log(conn, seed)
        report.per_table["devassist.audit_log"] = audit_rows
        if progress and dropped:
            progress("indexes", f"rebuilding {len(dropped)} secondary indexes")
        _recreate_indexes(conn, dropped)
        conn.commit()
    report.seconds = time.perf_counter() - started
    report.cpu_seconds = time.process_time() - cpu_started
    return report


def table_checksums(url: str) -> dict[str, str]:
    """Per source table (the registry's, plus the generator's truth tables) an order-independent md5:
    md5 of the sorted md5(row::text) of every row."""
    import psycopg
    from psycopg import sql

    out: dict[str, str] = {}
    with psycopg.connect(url) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for name in product_tables() + list(TRUTH_TABLES):
            schema, table = name.split(".")
            query = sql.SQL(
                "SELECT coalesce(md5(string_agg(h, '' ORDER BY h)), md5('')) "
                "FROM (SELECT md5(t::text) AS h FROM {}.{} t) s").format(sql.Identifier(schema), sql.Identifier(table))
            out[name] = conn.execute(query).fetchone()[0]
    return out


__all__ = ["GenerationReport", "GeneratorError", "generate", "table_checksums"]
