-- GDPR consent: raw_mindflow.user_gdpr_consent renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    user_id,
    terms_accepted_at,
    terms_version::text as terms_version,
    privacy_policy_accepted_at,
    privacy_policy_version::text as privacy_policy_version,
    data_processing_consent,
    marketing_consent,
    consent_ip_address,
    consent_user_agent,
    created_at,
    updated_at,
    {{ quality_issues('mindflow.user_gdpr_consent', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'user_gdpr_consent') }} as src
