-- Diff of analytics.mood_events against the desired rows, restricted to the entries in scope.
CREATE TEMP TABLE _mood_changes ON COMMIT DROP AS
SELECT coalesce(d.journal_entry_id, a.journal_entry_id) AS entry_id,
       a.time AS old_time, a.user_id AS old_user, d.time AS new_time, d.user_id AS new_user
  FROM (SELECT m.* FROM {an}.mood_events m JOIN _scope_entries s ON s.entry_id = m.journal_entry_id) a
  FULL JOIN _desired_mood d ON d.journal_entry_id = a.journal_entry_id
 WHERE (a.time, a.user_id, a.mood, a.mood_score, a.tags, a.word_count, a.mood_source, a.text_conflict, a.text_valence)
       IS DISTINCT FROM (d.time, d.user_id, d.mood, d.mood_score, d.tags, d.word_count, d.mood_source, d.text_conflict, d.text_valence);
-- Retention: rows older than the retention floor are never (re)inserted or updated, only removed.
DELETE FROM _mood_changes WHERE new_time < %(floor)s AND (old_time IS NULL OR old_time < %(floor)s);
UPDATE _mood_changes SET new_time = NULL, new_user = NULL WHERE new_time < %(floor)s;
DELETE FROM {an}.mood_events m USING _mood_changes c
 WHERE c.old_time IS NOT NULL AND m.journal_entry_id = c.entry_id AND m.time = c.old_time;
INSERT INTO {an}.mood_events (time, user_id, journal_entry_id, mood, mood_score, tags, word_count, mood_source, text_conflict, text_valence)
SELECT d.time, d.user_id, d.journal_entry_id, d.mood, d.mood_score, d.tags, d.word_count, d.mood_source, d.text_conflict, d.text_valence
  FROM _desired_mood d JOIN _mood_changes c ON c.entry_id = d.journal_entry_id AND c.new_time IS NOT NULL;
INSERT INTO {an}._rollup_dirty (rollup, bucket, user_id)
SELECT DISTINCT 'mood_daily_summary', date_bin(INTERVAL '1 day', t.time, TIMESTAMPTZ '2000-01-03 00:00:00+00'), t.user_id
  FROM (SELECT old_time AS time, old_user AS user_id FROM _mood_changes WHERE old_time IS NOT NULL
        UNION SELECT new_time, new_user FROM _mood_changes WHERE new_time IS NOT NULL) t
ON CONFLICT (rollup, bucket, user_id) DO UPDATE SET marked_at = excluded.marked_at
