-- MindFlow journal entries whose text may reach AI outputs: the AI-eligible rows of the dbt model
-- eligibility.eligible_journal_entries (privacy rules 1 and 2 and the quarantine are written there),
-- with some text to embed.
SELECT e.id AS source_id,
       e.user_id,
       concat_ws(E'\n\n', nullif(btrim(e.title), ''), e.content) AS body
  FROM eligibility.eligible_journal_entries e
 WHERE e.ai_eligible
   AND btrim(concat(e.title, e.content)) <> ''
