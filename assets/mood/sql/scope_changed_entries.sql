-- Entries whose derived rows may have changed since the watermark (%(since)s): the entry itself, its
-- user (soft delete, private mode), its tag links, quarantine decisions, and rows gone from the
-- warehouse. Read through the staging views, which carry each row's _ingested_at.
INSERT INTO _scope_entries (entry_id)
SELECT e.id FROM staging.stg_mindflow__journal_entries e WHERE e._ingested_at >= %(since)s
UNION
SELECT e.id FROM staging.stg_mindflow__journal_entries e
  JOIN (SELECT id AS user_id FROM staging.stg_mindflow__users WHERE _ingested_at >= %(since)s
        UNION SELECT user_id FROM staging.stg_mindflow__user_settings WHERE _ingested_at >= %(since)s) u ON u.user_id = e.user_id
UNION
SELECT t.journal_entry_id FROM staging.stg_mindflow__journal_entry_tags t WHERE t._ingested_at >= %(since)s
UNION
SELECT (a.metadata->>'entryId')::uuid FROM staging.stg_mindflow__audit_logs a
 WHERE a._ingested_at >= %(since)s AND a.action IN ('ENTRY_CREATE', 'ENTRY_UPDATE', 'ENTRY_DELETE')
   AND a.metadata->>'entryId' ~* '^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$'
UNION
SELECT q.record_key::uuid FROM quality.quarantine q
 WHERE q.source_table = 'mindflow.journal_entries' AND (q.quarantined_at >= %(qsince)s OR q.released_at >= %(qsince)s)
UNION
SELECT e.id FROM staging.stg_mindflow__journal_entries e JOIN quality.quarantine q
    ON q.source_table = 'mindflow.users' AND q.record_key = e.user_id::text
 WHERE q.quarantined_at >= %(qsince)s OR q.released_at >= %(qsince)s
UNION
SELECT e.id FROM staging.stg_mindflow__journal_entries e
  JOIN staging.stg_mindflow__user_settings st ON st.user_id = e.user_id
  JOIN quality.quarantine q ON q.source_table = 'mindflow.user_settings' AND q.record_key = st.id::text
 WHERE q.quarantined_at >= %(qsince)s OR q.released_at >= %(qsince)s
UNION
SELECT s.entry_id FROM {an}._entry_state s
 WHERE NOT EXISTS (SELECT 1 FROM staging.stg_mindflow__journal_entries e WHERE e.id = s.entry_id)
    OR NOT EXISTS (SELECT 1 FROM staging.stg_mindflow__users u WHERE u.id = s.user_id)
ON CONFLICT DO NOTHING
