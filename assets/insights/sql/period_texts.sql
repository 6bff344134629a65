-- Texts of AI-eligible entries of the given users between %(from)s and %(end)s (period plus baseline),
-- with the stored text valence (the entry's scoring.text_valence). Private entries and private-mode users are filtered here, before any text
-- leaves the database (DESIGN rule 2).
SELECT e.user_id, e.date, e.title, e.content, m.text_valence
  FROM {raw}.journal_entries e
  JOIN {raw}.users u ON u.id = e.user_id
  LEFT JOIN {raw}.user_settings s ON s.user_id = e.user_id
  LEFT JOIN {an}.mood_events m ON m.journal_entry_id = e.id AND m.time = e.date::timestamp AT TIME ZONE 'UTC'
 WHERE e.user_id = ANY(%(users)s) AND e.date BETWEEN %(from)s AND %(end)s
   AND e.deleted_at IS NULL AND u.deleted_at IS NULL
   AND NOT e.is_private AND NOT coalesce(s.private_mode, false)
   AND {entry_ok} AND {user_ok}
 ORDER BY e.user_id, e.date
