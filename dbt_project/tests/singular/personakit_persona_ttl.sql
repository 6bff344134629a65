-- PersonaKit 6.2 "Personas expire after configured TTL (default 24 hours)": every persona's expires_at is
-- created_at + its TTL, the TTL is positive, and no persona is served after it expired.
{{ config(severity='warn') }}
select * from {{ ref('personakit_rule_findings') }}
where rule in ('persona_ttl_mismatch', 'persona_ttl_not_positive', 'persona_accessed_after_expiry')
