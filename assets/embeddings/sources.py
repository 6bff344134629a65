"""The embedded sources as data: one entry per vectors.<table>.

Each entry names its eligibility query (sql/eligible_<table>.sql: source_id, the extra columns, body),
the extra columns the vectors table carries, and the relations the query reads (`upstream`, also the
asset's dependencies). The queries read the dbt eligibility models (schema `eligibility`), where each
privacy and quarantine rule is written once.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from psycopg import sql

from sources.sql_files import sql_text

SCHEMA = "vectors"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a Postgres type name (trusted, from this module only)


@dataclass(frozen=True)
class EmbeddedSource:
    table: str  # vectors.<table>; also the `source` key in vectors.active_models
    source_table: str  # the product table, e.g. mindflow.journal_entries
    description: str
    columns: tuple[Column, ...]  # extra columns copied from the eligibility query
    upstream: tuple[tuple[str, str], ...] = ()  # relations read: (schema, table) = their asset key

    @property
    def asset_key(self) -> list[str]:
        return [SCHEMA, self.table]

    @property
    def lock_key(self) -> int:
        return 7_240_900_000 + zlib.crc32(self.table.encode()) % 100_000

    def eligible_query(self) -> sql.SQL:
        """The rows this source embeds: source_id, the extra columns, body."""
        return sql.SQL(sql_text(__package__, f"eligible_{self.table}.sql"))


SOURCES: tuple[EmbeddedSource, ...] = (
    EmbeddedSource(
        table="journal_entries",
        source_table="mindflow.journal_entries",
        description="MindFlow journal entries eligible for AI (not deleted, not private, author not in private mode)",
        columns=(Column("user_id", "uuid"),),
        upstream=(("eligibility", "eligible_journal_entries"),),
    ),
    EmbeddedSource(
        table="mosaic_stories",
        source_table="mosaic.stories",
        description="Mosaic Life stories (all live stories; access is applied at query time)",
        columns=(Column("legacy_id", "uuid"),),
        upstream=(("eligibility", "eligible_mosaic_stories"),),
    ),
    EmbeddedSource(
        table="personakit_observations",
        source_table="personakit.observations",
        description="PersonaKit observations approved or processed, of live persons (warm layer)",
        columns=(Column("person_id", "uuid"), Column("content_type", "text"), Column("metadata", "jsonb")),
        upstream=(("eligibility", "eligible_personakit_observations"),),
    ),
    EmbeddedSource(
        table="coach_dialogue_messages",
        source_table="coach.dialogue_messages",
        description="Study-coach dialogue messages flagged for recall (not deleted, learner not deleted)",
        columns=(Column("user_id", "uuid"), Column("session_id", "uuid")),
        upstream=(("eligibility", "eligible_coach_dialogue_messages"),),
    ),
    EmbeddedSource(
        table="coach_knowledge_resources",
        source_table="coach.knowledge_resources",
        description="Study-coach knowledge resources of learners not deleted (seed 002 vector store)",
        columns=(Column("user_id", "uuid"), Column("metadata", "jsonb")),
        upstream=(("eligibility", "eligible_coach_knowledge_resources"),),
    ),
)


def get_source(table: str) -> EmbeddedSource:
    for source in SOURCES:
        if source.table == table:
            return source
    raise KeyError(f"unknown embedded source {table!r}; known: {', '.join(s.table for s in SOURCES)}")
