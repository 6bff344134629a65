-- Diff of analytics.user_activity_events keyed by event identity (metadata->>'event_key') within scope.
CREATE TEMP TABLE _activity_actual ON COMMIT DROP AS
SELECT u.time, u.user_id, u.event_type, u.metadata FROM {an}.user_activity_events u
  JOIN _scope_audit sa ON u.metadata->>'event_key' = 'audit:' || sa.audit_id
UNION
SELECT u.time, u.user_id, u.event_type, u.metadata FROM {an}.user_activity_events u
  JOIN _scope_entries s ON u.metadata->>'entry_id' = s.entry_id::text
 WHERE u.metadata->>'source' = 'journal_entries';
CREATE TEMP TABLE _activity_changes ON COMMIT DROP AS
SELECT coalesce(d.metadata->>'event_key', a.metadata->>'event_key') AS event_key,
       a.time AS old_time, a.user_id AS old_user, d.time AS new_time, d.user_id AS new_user
  FROM _activity_actual a
  FULL JOIN _desired_activity d ON d.metadata->>'event_key' = a.metadata->>'event_key'
 WHERE (a.time, a.user_id, a.event_type, a.metadata) IS DISTINCT FROM (d.time, d.user_id, d.event_type, d.metadata);
DELETE FROM _activity_changes WHERE new_time < %(floor)s AND (old_time IS NULL OR old_time < %(floor)s);
UPDATE _activity_changes SET new_time = NULL, new_user = NULL WHERE new_time < %(floor)s;
DELETE FROM {an}.user_activity_events u USING _activity_changes c
 WHERE c.old_time IS NOT NULL AND u.metadata->>'event_key' = c.event_key AND u.time = c.old_time;
INSERT INTO {an}.user_activity_events (time, user_id, event_type, metadata)
SELECT d.time, d.user_id, d.event_type, d.metadata
  FROM _desired_activity d JOIN _activity_changes c
    ON c.event_key = d.metadata->>'event_key' AND c.new_time IS NOT NULL;
INSERT INTO {an}._rollup_dirty (rollup, bucket, user_id)
SELECT DISTINCT 'user_weekly_activity', date_bin(INTERVAL '7 days', t.time, TIMESTAMPTZ '2000-01-03 00:00:00+00'), t.user_id
  FROM (SELECT old_time AS time, old_user AS user_id FROM _activity_changes WHERE old_time IS NOT NULL
        UNION SELECT new_time, new_user FROM _activity_changes WHERE new_time IS NOT NULL) t
 WHERE t.time >= %(floor)s
ON CONFLICT (rollup, bucket, user_id) DO UPDATE SET marked_at = excluded.marked_at
