-- Progress snapshot of every live learner for one local calendar day %(day)s (users.timezone; invalid
-- or unknown zones fall back to UTC). Definitions:
--   study_minutes   = total minutes of study sessions recorded on that day (that day's total, not cumulative)
--   streak_days     = consecutive days ending on that day with study minutes > 0 (0 if none that day)
--   completed_tasks = tasks with status 'done' and completed_at on or before that day (cumulative)
-- Learners appear from the day their account was created; soft-deleted learners never. Learners, sessions
-- and tasks that break a quality rule (quality_issues) are left out.
WITH zones AS MATERIALIZED (SELECT name FROM pg_timezone_names),
learners AS (
    SELECT u.id AS user_id, CASE WHEN z.name IS NULL THEN 'UTC' ELSE u.timezone END AS tz, u.created_at
      FROM staging.stg_coach__users u
      LEFT JOIN zones z ON z.name = u.timezone
     WHERE NOT u.is_deleted AND jsonb_array_length(u.quality_issues) = 0
),
daily AS (
    SELECT user_id, day, minutes FROM (
        SELECT l.user_id, (ss.recorded_at AT TIME ZONE l.tz)::date AS day, sum(ss.minutes) AS minutes
          FROM learners l
          JOIN staging.stg_coach__study_sessions ss ON ss.user_id = l.user_id
         WHERE ss.recorded_at < %(day)s::date + 2 AND jsonb_array_length(ss.quality_issues) = 0
         GROUP BY 1, 2) d
     WHERE day <= %(day)s AND minutes > 0
),
islands AS (
    SELECT user_id, day, day - (row_number() OVER (PARTITION BY user_id ORDER BY day))::int AS grp FROM daily
),
streaks AS (
    SELECT i.user_id, count(*) AS streak
      FROM islands i
      JOIN islands today ON today.user_id = i.user_id AND today.day = %(day)s AND today.grp = i.grp
     GROUP BY i.user_id
),
done AS (
    SELECT l.user_id, count(*) AS completed
      FROM staging.stg_coach__tasks t
      JOIN staging.stg_coach__plans p ON p.id = t.plan_id
      JOIN learners l ON l.user_id = p.user_id
     WHERE t.status = 'done' AND t.completed_at IS NOT NULL
       AND (t.completed_at AT TIME ZONE l.tz)::date <= %(day)s AND jsonb_array_length(t.quality_issues) = 0
     GROUP BY l.user_id
)
SELECT l.user_id, %(day)s::date AS snapshot_date,
       coalesce(s.streak, 0)::int AS streak_days,
       coalesce(d.completed, 0)::int AS completed_tasks,
       coalesce(m.minutes, 0)::int AS study_minutes
  FROM learners l
  LEFT JOIN streaks s ON s.user_id = l.user_id
  LEFT JOIN done d ON d.user_id = l.user_id
  LEFT JOIN daily m ON m.user_id = l.user_id AND m.day = %(day)s
 WHERE (l.created_at AT TIME ZONE l.tz)::date <= %(day)s
