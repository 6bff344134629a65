-- Validator outcomes: raw_devassist.validation_results renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    result_id,
    event_id,
    validator::text as validator,
    passed,
    score,
    details,
    created_at,
    {{ quality_issues('devassist.validation_results', "src.result_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'validation_results') }} as src
