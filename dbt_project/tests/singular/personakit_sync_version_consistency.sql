-- PersonaKit 6.2 "Sync operations must maintain version consistency": no persona core or device cache
-- of a mindscape version newer than the mindscape's, every cached core of an older version flagged
-- stale, and every cached core a persona of that person.
{{ config(severity='warn') }}
select * from {{ ref('personakit_rule_findings') }}
where rule in ('persona_core_version_ahead', 'sync_core_version_ahead', 'sync_core_stale_unflagged',
               'sync_core_unknown_persona', 'sync_mindscape_version_ahead')
