-- Live entries in scope: the rows of the dbt model eligibility.eligible_journal_entries (not
-- soft-deleted, live user, not quarantined), with what scoring and the insight fingerprint need. Text
-- is selected ONLY for AI-eligible entries (the model's ai_eligible, DESIGN rule 2).
SELECT e.id, e.user_id, e.entry_date AS date, e.mood, e.word_count, e.ai_eligible,
       CASE WHEN e.ai_eligible THEN e.title END AS title,
       CASE WHEN e.ai_eligible THEN e.content END AS content,
       coalesce((SELECT array_agg(DISTINCT t.name ORDER BY t.name)
                   FROM staging.stg_mindflow__journal_entry_tags jt
                   JOIN staging.stg_mindflow__tags t ON t.id = jt.tag_id
                  WHERE jt.journal_entry_id = e.id), '{{}}'::text[]) AS tags
  FROM _scope_entries sc
  JOIN eligibility.eligible_journal_entries e ON e.id = sc.entry_id
