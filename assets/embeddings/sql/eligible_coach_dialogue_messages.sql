-- Study-coach dialogue messages flagged for recall: the dbt model
-- eligibility.eligible_coach_dialogue_messages (the rules are written there), with some text to embed.
SELECT m.id AS source_id,
       m.user_id,
       m.session_id,
       m.content AS body
  FROM eligibility.eligible_coach_dialogue_messages m
 WHERE btrim(m.content) <> ''
