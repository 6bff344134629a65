"""The seeds' data-quality monitors as data: which raw table, which rows count as a problem.

- Mosaic (seed 000, DataQualityMonitor): incomplete stories, orphaned plugin metadata.
- PersonaKit (seed 001, section 6 Data Validation Rules): confidence in [0, 1], valid UUIDs, ISO 8601
  UTC dates, semantic mapper versions, one mindscape per person, feedback only for existing personas.
- AI Development Assistant (seed 003): no agent session runs without governance approval.
- MindFlow (seed 004): user_streaks agrees with the entries.

A monitor reports how many rows it finds, how many of them the quarantine already holds, and a sample.
It passes when every problem row is quarantined (a rule the quarantine enforces) or when there are none.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from quality.rules import ROW_RULES, key_expression, raw_relation
from sources.registry import SourceTable, get_table

SAMPLE_ROWS = 5


@dataclass(frozen=True)
class Monitor:
    id: str
    source_table: str
    predicate: str  # TRUE for a problem row `t`; `{raw}` = the product's raw schema
    description: str
    seed: str

    @property
    def table(self) -> SourceTable:
        return get_table(self.source_table)


def _rule(rule_id: str, source_table: str) -> str:
    for rule in ROW_RULES:
        if rule.id == rule_id and rule.source_table == source_table:
            return rule.predicate
    raise KeyError((rule_id, source_table))


SECTION6_RULES = frozenset({
    "observation_confidence_in_range", "goal_confidence_in_range", "belief_confidence_in_range",
    "jsonb_uuid_valid", "jsonb_timestamp_iso_utc",
})


MONITORS: tuple[Monitor, ...] = (
    Monitor("mosaic_incomplete_stories", "mosaic.stories",
            "t.title IS NULL OR t.content !~ '[^[:space:]]' OR t.legacy_id IS NULL",
            "Stories missing a title, content or legacy (data_quality.incomplete_stories)",
            "000 DataQualityMonitor.check_story_completeness"),
    Monitor("mosaic_orphaned_plugin_metadata", "mosaic.story_plugin_metadata",
            "NOT EXISTS (SELECT 1 FROM {raw}.stories s WHERE s.id = t.story_id) OR ("
            + _rule("plugin_metadata_has_plugin", "mosaic.story_plugin_metadata") + ")",
            "Plugin metadata whose story or plugin does not exist (data_quality.orphaned_metadata)",
            "000 DataQualityMonitor.check_orphaned_metadata"),
    Monitor("devassist_governance_consistency", "devassist.agent_sessions",
            _rule("agent_running_has_approval", "devassist.agent_sessions"),
            "Agent sessions running without an approved pre_agent_spawn or consensus_check event",
            "003 check_governance_approval()"),
    Monitor("mindflow_streak_consistency", "mindflow.user_streaks",
            _rule("streak_consistent", "mindflow.user_streaks"),
            "user_streaks rows that disagree with the user's live journal entries",
            "004 user_streaks"),
    # PersonaKit section 6.1, wherever the generator plants a break of it (one monitor per rule and table)
    *(Monitor(f"section6_{r.id}__{r.source_table.replace('.', '_')}", r.source_table, r.predicate,
              f"PersonaKit 6.1: {r.description}", "001 section 6.1")
      for r in ROW_RULES if r.id in SECTION6_RULES),
    Monitor("personakit_mapper_semver", "personakit.persona_mappers",
            "t.version !~ '^[0-9]+\\.[0-9]+\\.[0-9]+$'",
            "Persona mappers whose version is not semantic (MAJOR.MINOR.PATCH)", "001 section 6.1"),
    Monitor("personakit_one_mindscape_per_person", "personakit.mindscapes",
            "EXISTS (SELECT 1 FROM {raw}.mindscapes m WHERE m.person_id = t.person_id AND m.mindscape_id <> t.mindscape_id)",
            "Persons with more than one mindscape", "001 section 6.2"),
    Monitor("personakit_feedback_has_persona", "personakit.feedback",
            "NOT EXISTS (SELECT 1 FROM {raw}.personas p WHERE p.persona_instance_id = t.persona_instance_id)",
            "Feedback on personas that do not exist", "001 section 6.2"),
)


def monitor_query(monitor: Monitor) -> sql.Composed:
    """record_key, whether it is quarantined, and the row, for every problem row."""
    table = monitor.table
    predicate = sql.SQL(monitor.predicate.replace("{raw}", table.raw_schema))
    key = key_expression(table)
    return sql.SQL(
        "SELECT {key} AS record_key, EXISTS (SELECT 1 FROM quality.active_quarantine aq "
        "WHERE aq.source_table = {src} AND aq.record_key = {key}) AS quarantined, "
        "to_jsonb(t) - '_ingested_at' - '_source_lsn' AS row_data FROM {rel} AS t WHERE ({pred}) ORDER BY 1"
    ).format(key=key, src=sql.Literal(monitor.source_table), rel=raw_relation(table), pred=predicate)


@dataclass
class MonitorResult:
    monitor: str
    built: bool
    problems: int = 0
    quarantined: int = 0
    sample: list | None = None

    @property
    def unquarantined(self) -> int:
        return self.problems - self.quarantined

    @property
    def passed(self) -> bool:
        return self.built and self.unquarantined == 0


def evaluate_monitor(conn: psycopg.Connection, monitor: Monitor) -> MonitorResult:
    from core.db import table_exists
    from quality.quarantine import ensure_quarantine_schema

    table = monitor.table
    if not table_exists(conn, table.raw_schema, table.name):
        return MonitorResult(monitor.id, built=False)
    ensure_quarantine_schema(conn)
    rows = conn.execute(monitor_query(monitor)).fetchall()
    unq = [r for r in rows if not r[1]]
    sample = [{"record_key": r[0], "quarantined": r[1], "row": r[2]} for r in (unq or rows)[:SAMPLE_ROWS]]
    return MonitorResult(monitor.id, True, len(rows), sum(1 for r in rows if r[1]), sample)
