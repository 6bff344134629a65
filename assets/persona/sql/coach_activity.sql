-- Study sessions of live learners in the persona window, in local time, with the coaching session's focus.
WITH zones AS MATERIALIZED (SELECT name FROM pg_timezone_names),
learners AS (
    SELECT u.id AS user_id, CASE WHEN z.name IS NULL THEN 'UTC' ELSE u.timezone END AS tz
      FROM raw_coach.users u LEFT JOIN zones z ON z.name = u.timezone
     WHERE u.deleted_at IS NULL AND {user_ok}
)
SELECT l.user_id::text, (ss.recorded_at AT TIME ZONE l.tz) AS local_time, ss.minutes, se.focus
  FROM learners l
  JOIN raw_coach.study_sessions ss ON ss.user_id = l.user_id
  LEFT JOIN raw_coach.sessions se ON se.id = ss.session_id
 WHERE ss.recorded_at > %(since)s AND ss.recorded_at <= %(as_of)s AND {session_ok}
