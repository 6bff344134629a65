"""The rules the generator plants breaks of, each as SQL over the source schemas.

`RULES[rule_id] = (source_table, query)`: the query returns the record_key (primary key as text) of
every row that breaks the rule. The generator's ground truth (public.generator_rule_breaks) lists
exactly the rows these queries return; tests/test_generator.py holds the two together, and the
quality stage may reuse the definitions.
"""

from __future__ import annotations

ISO_UTC_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|\+00:00)$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
WORD_COUNT_SQL = r"(SELECT count(*) FROM regexp_split_to_table({content}, '\s+') w WHERE w ~ '[[:alnum:]]')"

RULES: dict[str, tuple[str, str]] = {
    "story_content_not_empty": (
        "mosaic.stories",
        r"SELECT id::text FROM mosaic.stories WHERE btrim(content, E' \t\n\r') = ''"),
    "story_has_approver": (
        "mosaic.stories",
        "SELECT id::text FROM mosaic.stories WHERE approved_at IS NOT NULL AND approved_by IS NULL"),
    "observation_confidence_in_range": (
        "personakit.observations",
        "SELECT observation_id::text FROM personakit.observations "
        "WHERE jsonb_typeof(content_structured->'confidence') = 'number' "
        "AND (content_structured->>'confidence')::numeric NOT BETWEEN 0 AND 1"),
    "goal_confidence_in_range": (
        "personakit.goals",
        "SELECT goal_id::text FROM personakit.goals WHERE confidence NOT BETWEEN 0 AND 1"),
    "belief_confidence_in_range": (
        "personakit.beliefs",
        "SELECT belief_id::text FROM personakit.beliefs WHERE confidence NOT BETWEEN 0 AND 1"),
    "entry_word_count_matches": (
        "mindflow.journal_entries",
        "SELECT e.id::text FROM mindflow.journal_entries e WHERE e.word_count <> "
        + WORD_COUNT_SQL.format(content="e.content")),
    "streak_consistent": (
        "mindflow.user_streaks",
        """WITH live AS (
               SELECT user_id, date, word_count,
                      date - (row_number() OVER (PARTITION BY user_id ORDER BY date))::int AS grp
                 FROM mindflow.journal_entries WHERE deleted_at IS NULL),
           islands AS (SELECT user_id, count(*) AS len, min(date) AS start, max(date) AS stop
                         FROM live GROUP BY user_id, grp),
           totals AS (SELECT user_id, count(*) AS entries, sum(word_count) AS words, max(date) AS last_date
                        FROM live GROUP BY user_id),
           longest AS (SELECT user_id, max(len) AS longest FROM islands GROUP BY user_id),
           cur AS (SELECT i.user_id, i.len AS current, i.start
                     FROM islands i JOIN totals t ON t.user_id = i.user_id AND i.stop = t.last_date)
           SELECT s.id::text
             FROM mindflow.user_streaks s
             LEFT JOIN totals t ON t.user_id = s.user_id
             LEFT JOIN longest l ON l.user_id = s.user_id
             LEFT JOIN cur c ON c.user_id = s.user_id
            WHERE (s.total_entries, s.total_words, s.longest_streak, s.current_streak)
                  IS DISTINCT FROM (coalesce(t.entries, 0), coalesce(t.words, 0), coalesce(l.longest, 0),
                                    coalesce(c.current, 0))
               OR s.last_entry_date IS DISTINCT FROM t.last_date
               OR s.streak_start_date IS DISTINCT FROM c.start"""),
    "agent_running_has_approval": (
        "devassist.agent_sessions",
        """SELECT a.agent_session_id::text FROM devassist.agent_sessions a
            WHERE (a.status IN ('running', 'completed', 'failed') OR a.started_at IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM devassist.governance_events g
                               WHERE g.agent_session_id = a.agent_session_id AND g.approved
                                 AND g.event_type IN ('pre_agent_spawn', 'consensus_check'))"""),
    "plugin_metadata_has_plugin": (
        "mosaic.story_plugin_metadata",
        """SELECT m.id::text FROM mosaic.story_plugin_metadata m
            WHERE NOT EXISTS (SELECT 1 FROM mosaic.plugins p WHERE p.name = m.plugin_id OR p.id::text = m.plugin_id)"""),
    "jsonb_uuid_valid": (
        "mosaic.ai_conversations",
        f"""SELECT DISTINCT c.id::text
              FROM mosaic.ai_conversations c
              CROSS JOIN LATERAL jsonb_array_elements(c.conversation_history) AS turn
              CROSS JOIN LATERAL jsonb_array_elements_text(
                  coalesce(turn->'metadata'->'stories_referenced', '[]'::jsonb)) AS ref
             WHERE ref !~* '{UUID_PATTERN}'"""),
    "jsonb_timestamp_iso_utc": (
        "personakit.observations",
        f"""SELECT observation_id::text FROM personakit.observations
             WHERE source_metadata ? 'timestamp' AND source_metadata->>'timestamp' !~ '{ISO_UTC_PATTERN}'"""),
}
