"""Warehouse I/O shared by the persona assets: schema, eligible observations, the incremental planner.

The persona assets read the dbt models, never the raw copies: rule 4 is
eligibility.eligible_personakit_observations, stories are eligibility.eligible_mosaic_stories, the rest
staging.stg_* (is_deleted, quality_issues). READS names them so the assets declare them as deps.

The planner is the heart of incremental refresh. Each area (traits, knowledge, graph, related
stories, story metadata) keeps in persona.refresh_state one fingerprint per entity it derived from.
A run computes the current fingerprints (cheap, in SQL), then
  changed  = entities whose fingerprint is new or different, plus entities with time-dependent
             output (`redecay`) last computed more than `redecay_after` ago;
  removed  = entities in the state that no longer qualify (their outputs are deleted).
Only `changed` entities are recomputed in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Iterator

import psycopg
from psycopg import sql

from assets.dbt.keys import model_keys
from core.db import table_exists
from quality.quarantine import ensure_quarantine_schema
from sources.sql_files import sql_text

BATCH_SIZE = 500


def sql_file(name: str) -> str:
    return sql_text(__package__, name)


def ensure_schema(conn: psycopg.Connection) -> None:
    ensure_quarantine_schema(conn)
    conn.execute(sql_file("ddl.sql"))


# The dbt models each persona input comes from (their Dagster keys are the assets' deps).
OBSERVATIONS = "eligibility.eligible_personakit_observations"
MINDSCAPES = "staging.stg_personakit__mindscapes"
STORIES = "eligibility.eligible_mosaic_stories"
OBSERVATION_DEPS = model_keys(OBSERVATIONS)
MINDSCAPE_DEPS = model_keys(MINDSCAPES)
STORY_DEPS = model_keys(STORIES)


def relation_exists(conn: psycopg.Connection, relation: str) -> bool:
    """Whether the dbt model 'schema.name' has been built in this warehouse."""
    return table_exists(conn, *relation.split("."))


def eligible_observations_sql() -> sql.SQL:
    """Rule 4's observations (the dbt eligibility model), the columns the persona stores read."""
    return sql.SQL(sql_file("eligible_observations.sql"))


def person_fingerprints(conn: psycopg.Connection) -> dict[str, tuple[str, int]]:
    """person_id -> (fingerprint, eligible observation count) for every person with eligible observations."""
    query = sql.SQL(sql_file("person_fingerprints.sql")).format(eligible=eligible_observations_sql())
    return {pid: (fp, n) for pid, fp, n in conn.execute(query).fetchall()}


def read_observations(conn: psycopg.Connection, person_ids: list[str]) -> dict[str, list]:
    """Eligible observations of the given persons, grouped by person, as evidence.model.Observation."""
    from assets.persona.evidence.model import Observation

    query = sql.SQL("WITH eligible AS ({}) SELECT * FROM eligible WHERE person_id = ANY(%s::uuid[]) "
                    "ORDER BY person_id, created_at, observation_id").format(eligible_observations_sql())
    grouped: dict[str, list] = {pid: [] for pid in person_ids}
    with conn.cursor() as cur:
        cur.execute(query, (person_ids,))
        for oid, pid, source_type, meta, raw, structured, created_at in cur:
            grouped[str(pid)].append(Observation(
                observation_id=str(oid), person_id=str(pid), source_type=source_type,
                content_raw=raw or "", content_structured=structured,
                source_metadata=meta if isinstance(meta, dict) else {}, created_at=created_at,
            ))
    return grouped


@dataclass(frozen=True)
class RefreshPlan:
    changed: list[str]
    removed: list[str]
    unchanged: int
    fingerprints: dict[str, str]

    @property
    def total(self) -> int:
        return len(self.fingerprints)


def plan_refresh(current: dict[str, str], state: dict[str, tuple[str, datetime, bool]], as_of: datetime,
                 redecay_after: timedelta | None = None, full: bool = False) -> RefreshPlan:
    """Pure: which entities to recompute and which to drop (see the module docstring)."""
    changed = []
    for key, fingerprint in current.items():
        previous = state.get(key)
        if full or previous is None or previous[0] != fingerprint:
            changed.append(key)
        elif redecay_after is not None and previous[2] and as_of - previous[1] >= redecay_after:
            changed.append(key)
    removed = sorted(k for k in state if k not in current)
    return RefreshPlan(sorted(changed), removed, len(current) - len(changed), dict(current))


def load_state(conn: psycopg.Connection, area: str) -> dict[str, tuple[str, datetime, bool]]:
    rows = conn.execute("SELECT entity_key, fingerprint, as_of, redecay FROM persona.refresh_state WHERE area = %s",
                        (area,)).fetchall()
    return {k: (fp, as_of, redecay) for k, fp, as_of, redecay in rows}


def save_state(conn: psycopg.Connection, area: str, plan: RefreshPlan, as_of: datetime,
               redecay: dict[str, bool] | None = None, full: bool = False) -> None:
    if full:
        conn.execute("DELETE FROM persona.refresh_state WHERE area = %s", (area,))
    elif plan.removed:
        conn.execute("DELETE FROM persona.refresh_state WHERE area = %s AND entity_key = ANY(%s)", (area, plan.removed))
    if not plan.changed:
        return
    conn.execute("DELETE FROM persona.refresh_state WHERE area = %s AND entity_key = ANY(%s)", (area, plan.changed))
    redecay = redecay or {}
    with conn.cursor().copy(
        "COPY persona.refresh_state (area, entity_key, fingerprint, as_of, redecay) FROM STDIN"
    ) as copy:
        for key in plan.changed:
            copy.write_row((area, key, plan.fingerprints[key], as_of, bool(redecay.get(key, False))))


def batches(items: list, size: int = BATCH_SIZE) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def copy_rows(conn: psycopg.Connection, table: str, columns: Iterable[str], types: list[str], rows: Iterable[tuple]) -> int:
    """COPY rows into persona.<table>; returns the count."""
    statement = sql.SQL("COPY persona.{} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
    n = 0
    with conn.cursor().copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def mindscapes_by_person(conn: psycopg.Connection, person_ids: list[str]) -> dict[str, str]:
    """person -> mindscape id (the most recently updated one if the source broke the one-per-person rule)."""
    if not relation_exists(conn, MINDSCAPES):
        return {}
    rows = conn.execute(
        "SELECT DISTINCT ON (person_id) person_id::text, mindscape_id::text FROM staging.stg_personakit__mindscapes "
        "WHERE person_id = ANY(%s::uuid[]) ORDER BY person_id, updated_at DESC, mindscape_id",
        (person_ids,),
    ).fetchall()
    return dict(rows)
