-- Study-coach dialogue messages flagged for recall (seed 002: "vector db updated if assistant
-- response flagged for recall"): not deleted, learner not deleted.
SELECT m.id AS source_id,
       m.user_id,
       m.session_id,
       m.content AS body
  FROM raw_coach.dialogue_messages m
  JOIN raw_coach.users u ON u.id = m.user_id
 WHERE m.flagged_for_recall
   AND m.deleted_at IS NULL
   AND u.deleted_at IS NULL
   AND btrim(m.content) <> ''
   AND {message_not_quarantined}
   AND {user_not_quarantined}
