-- Texts of AI-eligible entries of the given users between %(from)s and %(end)s (period plus baseline),
-- with the stored text valence (the entry's scoring.text_valence). Only rows of the dbt model
-- eligibility.eligible_journal_entries flagged ai_eligible are read: private entries and private-mode
-- users are filtered there, before any text leaves the database (DESIGN rule 2).
SELECT e.user_id, e.entry_date AS date, e.title, e.content, m.text_valence
  FROM eligibility.eligible_journal_entries e
  LEFT JOIN {an}.mood_events m ON m.journal_entry_id = e.id AND m.time = e.entry_date::timestamp AT TIME ZONE 'UTC'
 WHERE e.user_id = ANY(%(users)s) AND e.entry_date BETWEEN %(from)s AND %(end)s
   AND e.ai_eligible
 ORDER BY e.user_id, e.entry_date
