-- Users with rows in analytics who are no longer live (soft-deleted, hard-deleted or quarantined):
-- every derived row of theirs leaves (DESIGN rule 1), rollups included.
CREATE TEMP TABLE _removed_users ON COMMIT DROP AS
SELECT t.user_id FROM (
    SELECT DISTINCT user_id FROM {an}._entry_state
    UNION SELECT DISTINCT user_id FROM {an}.user_activity_events
    UNION SELECT DISTINCT user_id FROM {an}.mood_daily_summary
    UNION SELECT DISTINCT user_id FROM {an}.user_weekly_activity
) t WHERE NOT EXISTS (SELECT 1 FROM _live_users lu WHERE lu.user_id = t.user_id);
DELETE FROM {an}.user_activity_events u USING _removed_users r WHERE u.user_id = r.user_id;
DELETE FROM {an}.mood_events m USING _removed_users r WHERE m.user_id = r.user_id;
INSERT INTO {an}._rollup_dirty (rollup, bucket, user_id)
SELECT x.rollup, '-infinity'::timestamptz, r.user_id
  FROM _removed_users r CROSS JOIN (VALUES ('mood_daily_summary'), ('user_weekly_activity')) AS x(rollup)
ON CONFLICT (rollup, bucket, user_id) DO UPDATE SET marked_at = excluded.marked_at
