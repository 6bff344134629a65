-- Preferences incl. private_mode: raw_mindflow.user_settings renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    user_id,
    auto_save,
    private_mode,
    email_weekly_insights,
    email_monthly_insights,
    email_reminder_to_write,
    created_at,
    updated_at,
    {{ quality_issues('mindflow.user_settings', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'user_settings') }} as src
