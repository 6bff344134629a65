-- Diff of the per-entry insight fingerprints; every changed day marks its weekly, monthly and yearly
-- insight periods (old and new day, old and new user) as stale.
CREATE TEMP TABLE _state_changes ON COMMIT DROP AS
SELECT coalesce(d.entry_id, a.entry_id) AS entry_id, a.day AS old_day, a.user_id AS old_user,
       d.day AS new_day, d.user_id AS new_user
  FROM (SELECT s.* FROM {an}._entry_state s JOIN _scope_entries sc ON sc.entry_id = s.entry_id) a
  FULL JOIN _desired_state d ON d.entry_id = a.entry_id
 WHERE (a.day, a.user_id, a.fingerprint) IS DISTINCT FROM (d.day, d.user_id, d.fingerprint);
DELETE FROM {an}._entry_state s USING _state_changes c WHERE s.entry_id = c.entry_id;
INSERT INTO {an}._entry_state (entry_id, user_id, day, fingerprint)
SELECT d.entry_id, d.user_id, d.day, d.fingerprint
  FROM _desired_state d JOIN _state_changes c ON c.entry_id = d.entry_id AND c.new_day IS NOT NULL;
INSERT INTO {an}._insight_dirty (insight_type, period_start, user_id)
SELECT DISTINCT p.insight_type, p.period_start, t.user_id
  FROM (SELECT old_day AS day, old_user AS user_id FROM _state_changes WHERE old_day IS NOT NULL
        UNION SELECT new_day, new_user FROM _state_changes WHERE new_day IS NOT NULL) t
 CROSS JOIN LATERAL (VALUES ('weekly', date_trunc('week', t.day)::date),
                            ('monthly', date_trunc('month', t.day)::date),
                            ('yearly', date_trunc('year', t.day)::date)) AS p(insight_type, period_start)
ON CONFLICT (insight_type, period_start, user_id) DO UPDATE SET marked_at = excluded.marked_at
;
-- An entry removed whose day lies before the mood_events retention floor: its row is gone from the warehouse, so the
-- mood diff cannot see it; its (day, user) daily bucket holds exactly that entry (one entry per user and
-- date), so the bucket is marked and the refresh removes it (rule 1 reaches past retention).
INSERT INTO {an}._rollup_dirty (rollup, bucket, user_id)
SELECT DISTINCT 'mood_daily_summary', (old_day::timestamp AT TIME ZONE 'UTC'), old_user
  FROM _state_changes WHERE new_day IS NULL AND old_day IS NOT NULL AND old_day < (%(floor)s::timestamptz AT TIME ZONE 'UTC')::date
ON CONFLICT (rollup, bucket, user_id) DO UPDATE SET marked_at = excluded.marked_at
