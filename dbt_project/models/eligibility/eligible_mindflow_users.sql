-- The MindFlow users whose rows may appear in a derived store (DESIGN privacy rule 1): not
-- soft-deleted and not quarantined (quality.active_quarantine). Every store drops the rows of a user
-- who leaves this set (analytics, insights); eligible_journal_entries keeps only their entries.
select
    u.id,
    u.created_at,
    u._ingested_at,
    u._source_lsn
from {{ ref('stg_mindflow__users') }} as u
where not u.is_deleted
  and jsonb_array_length(u.quality_issues) = 0
