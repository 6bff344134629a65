-- Study sessions of live learners in the persona window, in local time, with the coaching session's focus.
-- Learners and sessions that break a quality rule (quality_issues) are left out.
WITH zones AS MATERIALIZED (SELECT name FROM pg_timezone_names),
learners AS (
    SELECT u.id AS user_id, CASE WHEN z.name IS NULL THEN 'UTC' ELSE u.timezone END AS tz
      FROM staging.stg_coach__users u LEFT JOIN zones z ON z.name = u.timezone
     WHERE NOT u.is_deleted AND jsonb_array_length(u.quality_issues) = 0
)
SELECT l.user_id::text, (ss.recorded_at AT TIME ZONE l.tz) AS local_time, ss.minutes, se.focus
  FROM learners l
  JOIN staging.stg_coach__study_sessions ss ON ss.user_id = l.user_id
  LEFT JOIN staging.stg_coach__sessions se ON se.id = ss.session_id
 WHERE ss.recorded_at > %(since)s AND ss.recorded_at <= %(as_of)s AND jsonb_array_length(ss.quality_issues) = 0
