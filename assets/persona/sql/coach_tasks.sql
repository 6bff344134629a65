-- Task outcomes per live learner: done and actionable (not skipped) counts.
SELECT p.user_id::text,
       count(*) FILTER (WHERE t.status = 'done') AS done,
       count(*) FILTER (WHERE t.status <> 'skipped') AS actionable
  FROM raw_coach.tasks t
  JOIN raw_coach.plans p ON p.id = t.plan_id
  JOIN raw_coach.users u ON u.id = p.user_id AND u.deleted_at IS NULL
 WHERE {task_ok}
 GROUP BY p.user_id
