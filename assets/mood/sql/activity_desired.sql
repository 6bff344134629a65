-- Desired activity events for the scope: audit-derived events of the audit rows in scope, then
-- entry-lifecycle events of the entries in scope derived from their timestamps, each only when the
-- audit trail has no event of that type for that entry (no event is counted twice).
-- metadata holds only identifiers (event_key, source, audit_id, entry_id): no IPs, user agents or
-- before/after content from the audit row (DESIGN rule 5, rule 2).
CREATE TEMP TABLE _desired_activity ON COMMIT DROP AS
SELECT a.occurred_at AS time, a.user_id,
       CASE a.action WHEN 'LOGIN' THEN 'login' WHEN 'LOGOUT' THEN 'logout'
                     WHEN 'ENTRY_CREATE' THEN 'entry_created' WHEN 'ENTRY_UPDATE' THEN 'entry_updated'
                     WHEN 'ENTRY_DELETE' THEN 'entry_deleted' WHEN 'INSIGHT_VIEW' THEN 'insight_viewed'
                     WHEN 'SETTINGS_UPDATE' THEN 'settings_updated' WHEN 'PROFILE_UPDATE' THEN 'profile_updated'
       END AS event_type,
       jsonb_strip_nulls(jsonb_build_object('event_key', 'audit:' || a.id, 'source', 'audit_logs',
                                            'audit_id', a.id, 'entry_id', a.metadata->>'entryId')) AS metadata
  FROM _scope_audit sa
  JOIN staging.stg_mindflow__audit_logs a ON a.id = sa.audit_id
  JOIN _live_users lu ON lu.user_id = a.user_id
 WHERE a.action IN ('LOGIN', 'LOGOUT', 'ENTRY_CREATE', 'ENTRY_UPDATE', 'ENTRY_DELETE', 'INSIGHT_VIEW',
                    'SETTINGS_UPDATE', 'PROFILE_UPDATE')
   AND jsonb_array_length(a.quality_issues) = 0;
CREATE TEMP TABLE _entry_audit ON COMMIT DROP AS
SELECT DISTINCT x.metadata->>'entry_id' AS entry_id, x.event_type
  FROM (SELECT metadata, event_type FROM _desired_activity
        UNION ALL
        SELECT u.metadata, u.event_type FROM {an}.user_activity_events u
          JOIN _scope_entries s ON u.metadata->>'entry_id' = s.entry_id::text
         WHERE u.metadata->>'source' = 'audit_logs'
           AND NOT EXISTS (SELECT 1 FROM _scope_audit sa WHERE u.metadata->>'event_key' = 'audit:' || sa.audit_id)) x
 WHERE x.event_type IN ('entry_created', 'entry_updated', 'entry_deleted') AND x.metadata ? 'entry_id';
INSERT INTO _desired_activity (time, user_id, event_type, metadata)
SELECT ev.time, e.user_id, ev.event_type,
       jsonb_build_object('event_key', 'entry:' || e.id || ':' || ev.suffix, 'source', 'journal_entries',
                          'entry_id', e.id::text)
  FROM _scope_entries sc
  JOIN staging.stg_mindflow__journal_entries e ON e.id = sc.entry_id
  JOIN _live_users lu ON lu.user_id = e.user_id
 CROSS JOIN LATERAL (VALUES
        ('entry_created', e.created_at, 'created', true),
        ('entry_updated', e.updated_at, 'updated:' || extract(epoch FROM e.updated_at)::text,
         e.updated_at > e.created_at + INTERVAL '1 second'
         AND NOT (e.deleted_at IS NOT NULL AND e.updated_at >= e.deleted_at - INTERVAL '1 second')),
        ('entry_deleted', e.deleted_at, 'deleted', e.deleted_at IS NOT NULL)
     ) AS ev(event_type, time, suffix, present)
 WHERE ev.present AND jsonb_array_length(e.quality_issues) = 0
   AND NOT EXISTS (SELECT 1 FROM _entry_audit ea WHERE ea.entry_id = e.id::text AND ea.event_type = ev.event_type);
CREATE INDEX ON _desired_activity ((metadata->>'event_key'));
ANALYZE _desired_activity
