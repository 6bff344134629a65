-- Live entries in scope (not soft-deleted, live user, not quarantined), with what scoring and the
-- insight fingerprint need. Text is selected ONLY for AI-eligible entries (DESIGN rule 2).
SELECT e.id, e.user_id, e.date, e.mood, e.word_count,
       (NOT e.is_private AND NOT coalesce(s.private_mode, false)) AS ai_eligible,
       CASE WHEN NOT e.is_private AND NOT coalesce(s.private_mode, false) THEN e.title END AS title,
       CASE WHEN NOT e.is_private AND NOT coalesce(s.private_mode, false) THEN e.content END AS content,
       coalesce((SELECT array_agg(DISTINCT t.name ORDER BY t.name)
                   FROM {raw}.journal_entry_tags jt JOIN {raw}.tags t ON t.id = jt.tag_id
                  WHERE jt.journal_entry_id = e.id), '{{}}'::text[]) AS tags
  FROM _scope_entries sc
  JOIN {raw}.journal_entries e ON e.id = sc.entry_id
  JOIN {raw}.users u ON u.id = e.user_id
  LEFT JOIN {raw}.user_settings s ON s.user_id = e.user_id
 WHERE e.deleted_at IS NULL AND u.deleted_at IS NULL
   AND {entry_ok} AND {user_ok}
