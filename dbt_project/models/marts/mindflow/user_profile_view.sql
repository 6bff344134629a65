-- The seed's user_profile_view (004): live users with streak statistics, settings and GDPR consent
-- as JSON, joined_days_ago and avg_words_per_entry. email is kept as the seed's view shows it;
-- password_hash never leaves staging. The app's streak figures (user_streaks) are shown as the app
-- keeps them, even when the row breaks streak_consistent (flagged in streak_quality_issues), and beside
-- them the same figures recomputed from the user's live entries (int_mindflow__entry_streaks).
-- Strategy: incremental, dbt's delete+insert on id: a refresh rewrites the users
-- changed_user_profile_view lists from the change feed (macros/change_feed.sql) (their row, streaks, settings,
-- consent or entries changed), and every row computed on an earlier day (joined_days_ago moves with the
-- calendar; the pre-hook's stale condition), so the day's first refresh is a pass over one row per user.
-- depends_on: {{ ref('changed_user_profile_view') }}
-- refs inside its incremental branch:
-- depends_on: {{ ref('stg_mindflow__users') }}
-- depends_on: {{ ref('stg_mindflow__user_streaks') }}
-- depends_on: {{ ref('stg_mindflow__user_settings') }}
-- depends_on: {{ ref('stg_mindflow__user_gdpr_consent') }}
-- depends_on: {{ ref('stg_mindflow__journal_entries') }}
{{ config(
    materialized='incremental',
    unique_key='id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ feed_open([{'model': 'changed_user_profile_view', 'columns': ['id']}], stale='computed_at::date < current_date') }}",
    post_hook="{{ feed_close() }}",
    indexes=[
        {'columns': ['id'], 'unique': true},
        {'columns': ['email']},
        {'columns': ['_ingested_at']},
    ]
) }}

with users as (
    select * from {{ ref('stg_mindflow__users') }}
    where not is_deleted
    {% if is_incremental() %}
      -- the users the pre-hook took out (changed, or computed on an earlier day) and any not yet in
      -- the mart: the pre-hook left exactly those missing
      and not exists (select 1 from {{ this }} as t where t.id = stg_mindflow__users.id)
    {% endif %}
)

select
    u.id,
    u.email,
    u.display_name,
    u.photo_url,
    u.timezone,
    u.language,
    u.theme,
    u.created_at,
    u.last_login_at,
    coalesce(us.current_streak, 0) as current_streak,
    coalesce(us.longest_streak, 0) as longest_streak,
    coalesce(us.total_entries, 0) as total_entries,
    coalesce(us.total_words, 0) as total_words,
    us.last_entry_date,
    jsonb_build_object(
        'autoSave', st.auto_save,
        'privateMode', st.private_mode,
        'emailNotifications', jsonb_build_object(
            'weeklyInsights', st.email_weekly_insights,
            'monthlyInsights', st.email_monthly_insights,
            'reminderToWrite', st.email_reminder_to_write
        )
    ) as settings,
    jsonb_build_object(
        'termsAcceptedAt', gc.terms_accepted_at,
        'privacyPolicyAcceptedAt', gc.privacy_policy_accepted_at,
        'dataProcessingConsent', gc.data_processing_consent,
        'marketingConsent', gc.marketing_consent
    ) as gdpr_consent,
    extract(day from (current_date - u.created_at))::int as joined_days_ago,
    case when us.total_entries > 0 then us.total_words / us.total_entries else 0 end as avg_words_per_entry,
    now() as computed_at,
    greatest(u._ingested_at, us._ingested_at, st._ingested_at, gc._ingested_at, es._ingested_at) as _ingested_at,
    coalesce(es.current_streak, 0) as computed_current_streak,
    coalesce(es.longest_streak, 0) as computed_longest_streak,
    coalesce(es.total_entries, 0) as computed_total_entries,
    es.last_entry_date as computed_last_entry_date,
    coalesce(us.quality_issues, '[]'::jsonb) as streak_quality_issues,
    (coalesce(us.current_streak, 0) = coalesce(es.current_streak, 0)
     and coalesce(us.longest_streak, 0) = coalesce(es.longest_streak, 0)
     and coalesce(us.total_entries, 0) = coalesce(es.total_entries, 0)
     and us.last_entry_date is not distinct from es.last_entry_date) as streak_matches_entries
from users as u
left join {{ ref('stg_mindflow__user_streaks') }} as us on us.user_id = u.id
left join {{ ref('stg_mindflow__user_settings') }} as st on st.user_id = u.id
left join {{ ref('stg_mindflow__user_gdpr_consent') }} as gc on gc.user_id = u.id
left join {{ ref('int_mindflow__entry_streaks') }} as es on es.user_id = u.id
