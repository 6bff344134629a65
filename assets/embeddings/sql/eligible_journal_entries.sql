-- MindFlow journal entries that may reach AI outputs (DESIGN.md privacy rules 1 and 2):
-- not soft-deleted, author not soft-deleted, not is_private, author not in private mode,
-- and neither the entry, its author nor the author's settings actively quarantined.
SELECT je.id AS source_id,
       je.user_id,
       concat_ws(E'\n\n', nullif(btrim(je.title), ''), je.content) AS body
  FROM raw_mindflow.journal_entries je
  JOIN raw_mindflow.users u ON u.id = je.user_id
  LEFT JOIN raw_mindflow.user_settings st ON st.user_id = je.user_id
 WHERE je.deleted_at IS NULL
   AND u.deleted_at IS NULL
   AND je.is_private IS NOT TRUE
   AND st.private_mode IS NOT TRUE
   AND btrim(concat(je.title, je.content)) <> ''
   AND {entry_not_quarantined}
   AND {user_not_quarantined}
   AND {settings_not_quarantined}
