"""Row-level rules as data: what a loose app lets through and Tessera must catch.

Every rule names the source table it judges, a SQL predicate that is TRUE for a row that BREAKS the
rule (the row is aliased `t`; the raw copy of the same product is reachable as `{raw}`), and a SQL
expression that renders the reason with the offending value. The rule ids are the generator's
(sources/generator/RULE_BREAKING.md, table public.generator_rule_breaks): the quarantine must catch
exactly the planted breaks, so a rule here is changed only together with the generator's definition.

The same predicates drive three things: the quarantine (quality.quarantine), the GX suites (an
UnexpectedRowsExpectation per rule over rows not quarantined) and the seeds' monitors.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from sources.registry import SourceTable, get_table

# Patterns shared by rules and suites (PersonaKit section 6.1).
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
ISO_UTC_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|\+00:00|\+00)$"

# Words as the apps count them (sources/generator/text.py `word_count`): whitespace-separated tokens
# holding at least one letter or digit, so markdown markers ("##", "-", ">") are not words.
WORD_COUNT_SQL = "(SELECT count(*) FROM regexp_split_to_table({col}, '\\s+') w WHERE w ~ '[[:alnum:]]')"

# A user's streak facts from their live entries (generator `streak_stats`): runs of consecutive
# dates; the current streak is the run ending at the last entry date.
STREAK_FACTS_SQL = (
    "SELECT coalesce(sum(r.n), 0) AS total, coalesce(max(r.n), 0) AS longest, max(r.e) AS last, "
    "coalesce((array_agg(r.n ORDER BY r.e DESC))[1], 0) AS current, (array_agg(r.s ORDER BY r.e DESC))[1] AS start "
    "FROM (SELECT min(g.date) AS s, max(g.date) AS e, count(*) AS n FROM ("
    "SELECT e.date, e.date - (row_number() OVER (ORDER BY e.date))::int AS grp "
    "FROM {raw}.journal_entries e WHERE e.user_id = t.user_id AND e.deleted_at IS NULL) g GROUP BY g.grp) r"
)


@dataclass(frozen=True)
class RowRule:
    id: str
    source_table: str  # "<product>.<table>" (the source table; judged on its raw copy)
    predicate: str  # SQL, TRUE when row `t` breaks the rule; `{raw}` = raw schema of the product
    reason: str  # SQL expression rendering the reason text for row `t`
    description: str
    seed: str  # where the rule comes from

    @property
    def table(self) -> SourceTable:
        return get_table(self.source_table)

    def predicate_sql(self) -> sql.SQL:
        return sql.SQL(self.predicate.replace("{raw}", self.table.raw_schema))

    def reason_sql(self) -> sql.SQL:
        return sql.SQL(self.reason.replace("{raw}", self.table.raw_schema))


def _jsonb_strings_failing(column: str, path: str, pattern: str) -> str:
    """Predicate: some string reached by the jsonpath `path` in `column` does not match `pattern`."""
    return (
        f"jsonb_path_exists(t.{column}, '{path} ? (@.type() == \"string\" && !(@ like_regex \"{pattern}\"))')"
    )


def _jsonb_first_failing(column: str, path: str, pattern: str) -> str:
    return (
        f"jsonb_path_query_first(t.{column}, '{path} ? (@.type() == \"string\" && !(@ like_regex \"{pattern}\"))') #>> '{{}}'"
    )


_JSON_UUID = UUID_PATTERN.replace("\\", "\\\\")
_JSON_ISO = ISO_UTC_PATTERN.replace("\\", "\\\\")

ROW_RULES: tuple[RowRule, ...] = (
    RowRule(
        id="story_content_not_empty",
        source_table="mosaic.stories",
        predicate="t.content !~ '[^[:space:]]'",
        reason="'story content is empty (title ' || quote_literal(t.title) || ')'",
        description="A story must carry text (Mosaic data-quality monitor: incomplete stories).",
        seed="000 Monitoring: check_story_completeness",
    ),
    RowRule(
        id="story_has_approver",
        source_table="mosaic.stories",
        predicate="t.approved_at IS NOT NULL AND t.approved_by IS NULL",
        reason="'story approved at ' || t.approved_at::text || ' without approved_by'",
        description="An approved story names who approved it.",
        seed="000 stories: approved_by / approved_at (idx_stories_approved)",
    ),
    RowRule(
        id="observation_confidence_in_range",
        source_table="personakit.observations",
        predicate="jsonb_path_exists(t.content_structured, 'strict $.confidence ? (@ < 0 || @ > 1)')",
        reason="'content_structured.confidence ' || (t.content_structured ->> 'confidence') || ' outside [0,1]'",
        description="Confidence scores inside observation JSONB lie in [0, 1].",
        seed="001 section 6.1: confidence scores must be between 0 and 1",
    ),
    RowRule(
        id="goal_confidence_in_range",
        source_table="personakit.goals",
        predicate="t.confidence < 0 OR t.confidence > 1",
        reason="'goal confidence ' || t.confidence::text || ' outside [0,1]'",
        description="Goal confidence lies in [0, 1].",
        seed="001 section 1.2 Goal.confidence and 6.1",
    ),
    RowRule(
        id="belief_confidence_in_range",
        source_table="personakit.beliefs",
        predicate="t.confidence < 0 OR t.confidence > 1",
        reason="'belief confidence ' || t.confidence::text || ' outside [0,1]'",
        description="Belief confidence lies in [0, 1].",
        seed="001 section 1.2 Belief.confidence and 6.1",
    ),
    RowRule(
        id="entry_word_count_matches",
        source_table="mindflow.journal_entries",
        predicate="t.word_count <> " + WORD_COUNT_SQL.format(col="t.content"),
        reason="'word_count ' || t.word_count::text || ' but content has ' || "
        + WORD_COUNT_SQL.format(col="t.content")
        + "::text || ' words'",
        description="word_count equals the number of words in content.",
        seed="004 journal_entries.word_count",
    ),
    RowRule(
        id="streak_consistent",
        source_table="mindflow.user_streaks",
        predicate=(
            "NOT EXISTS (SELECT 1 FROM (" + STREAK_FACTS_SQL + ") c WHERE c.total = t.total_entries "
            "AND c.longest = t.longest_streak AND c.current = t.current_streak "
            "AND c.last IS NOT DISTINCT FROM t.last_entry_date AND c.start IS NOT DISTINCT FROM t.streak_start_date)"
        ),
        reason=(
            "(SELECT format('streak row says total %s, longest %s, current %s, last %s; entries say %s, %s, %s, %s', "
            "t.total_entries, t.longest_streak, t.current_streak, t.last_entry_date, c.total, c.longest, c.current, c.last) "
            "FROM (" + STREAK_FACTS_SQL + ") c)"
        ),
        description="user_streaks agrees with the user's live journal entries (total, current and longest streak, last and start dates).",
        seed="004 user_streaks / user_profile_view",
    ),
    RowRule(
        id="agent_running_has_approval",
        source_table="devassist.agent_sessions",
        predicate=(
            "t.status = 'running' AND NOT EXISTS (SELECT 1 FROM {raw}.governance_events g "
            "WHERE g.agent_session_id = t.agent_session_id AND g.approved "
            "AND g.event_type IN ('pre_agent_spawn', 'consensus_check'))"
        ),
        reason="'agent session running without an approved pre_agent_spawn or consensus_check event'",
        description="No agent session runs without governance approval.",
        seed="003 check_governance_approval()",
    ),
    RowRule(
        id="plugin_metadata_has_plugin",
        source_table="mosaic.story_plugin_metadata",
        predicate="NOT EXISTS (SELECT 1 FROM {raw}.plugins p WHERE p.name = t.plugin_id OR p.id::text = t.plugin_id)",
        reason="'plugin ' || quote_literal(t.plugin_id) || ' is not a registered plugin'",
        description="Plugin metadata belongs to a registered plugin (orphaned plugin metadata).",
        seed="000 Monitoring: check_orphaned_metadata; plugin nodes",
    ),
    RowRule(
        id="jsonb_uuid_valid",
        source_table="mosaic.ai_conversations",
        predicate=_jsonb_strings_failing("conversation_history", "strict $[*].metadata.stories_referenced[*]", _JSON_UUID),
        reason="'stories_referenced holds a non-UUID: ' || coalesce("
        + _jsonb_first_failing("conversation_history", "strict $[*].metadata.stories_referenced[*]", _JSON_UUID)
        + ", '?')",
        description="Story ids referenced inside conversation JSONB are valid UUIDs.",
        seed="001 section 6.1: all UUIDs must be valid UUID v4 format; 000 ai_conversations.conversation_history",
    ),
    RowRule(
        id="jsonb_timestamp_iso_utc",
        source_table="personakit.observations",
        predicate=_jsonb_strings_failing("source_metadata", "strict $.timestamp", _JSON_ISO),
        reason="'timestamp not ISO 8601 UTC: ' || coalesce(t.source_metadata ->> 'timestamp', '?')",
        description="Timestamps inside JSONB are ISO 8601 in UTC.",
        seed="001 section 6.1: all dates must be ISO 8601 format in UTC",
    ),
)

RULE_IDS = tuple(r.id for r in ROW_RULES)


def rules_for(source_table: str) -> tuple[RowRule, ...]:
    return tuple(r for r in ROW_RULES if r.source_table == source_table)


def key_expression(table: SourceTable, alias: str = "t") -> sql.Composed:
    """The record key as text, '|'-joined for composite keys (the quarantine contract)."""
    parts = [sql.SQL("{}.{}::text").format(sql.Identifier(alias), sql.Identifier(k)) for k in table.key]
    if len(parts) == 1:
        return parts[0]
    return sql.SQL("concat_ws('|', {})").format(sql.SQL(", ").join(parts))


def raw_relation(table: SourceTable) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(table.raw_schema), sql.Identifier(table.name))


def failing_rows_query(rule: RowRule, limit: int | None = None) -> sql.Composed:
    """SELECT record_key, reason, row_data for every raw row breaking `rule`."""
    table = rule.table
    query = sql.SQL(
        "SELECT {key} AS record_key, ({reason}) AS reason, "
        "to_jsonb(t) - '_ingested_at' - '_source_lsn' AS row_data "
        "FROM {rel} AS t WHERE ({pred}) ORDER BY 1"
    ).format(key=key_expression(table), reason=rule.reason_sql(), rel=raw_relation(table), pred=rule.predicate_sql())
    if limit is not None:
        query = sql.SQL("{} LIMIT {}").format(query, sql.Literal(limit))
    return query


def unquarantined_failures_sql(rule: RowRule, batch_alias: str = "t") -> str:
    """The rule as a GX UnexpectedRowsExpectation query: breaking rows that are NOT quarantined.

    `{batch}` is GX's placeholder for the table (it renders as a sub-select)."""
    table = rule.table
    keys = " || '|' || ".join(f"t.{k}::text" for k in table.key)
    return (
        f"SELECT t.* FROM (SELECT * FROM {{batch}}) AS t WHERE ({rule.predicate.replace('{raw}', table.raw_schema)}) "
        f"AND NOT EXISTS (SELECT 1 FROM quality.active_quarantine aq WHERE aq.source_table = '{rule.source_table}' "
        f"AND aq.record_key = {keys})"
    )
