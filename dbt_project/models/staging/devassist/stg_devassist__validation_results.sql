-- Validator outcomes: raw_devassist.validation_results renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    result_id,
    event_id,
    validator::text as validator,
    passed,
    score,
    details,
    created_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'validation_results') }} as src
where {{ not_quarantined('devassist.validation_results', "src.result_id::text") }}
