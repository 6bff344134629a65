-- Task outcomes per live learner: done and actionable (not skipped) counts.
SELECT p.user_id::text,
       count(*) FILTER (WHERE t.status = 'done') AS done,
       count(*) FILTER (WHERE t.status <> 'skipped') AS actionable
  FROM staging.stg_coach__tasks t
  JOIN staging.stg_coach__plans p ON p.id = t.plan_id
  JOIN staging.stg_coach__users u ON u.id = p.user_id AND NOT u.is_deleted
 WHERE jsonb_array_length(t.quality_issues) = 0
 GROUP BY p.user_id
