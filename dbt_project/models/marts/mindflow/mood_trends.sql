-- The seed's mood trend (004, Redis mood:user:{userId}:trend:{days}, e.g. {"positive":65,"neutral":25,
-- "negative":10}) for 7, 30 and 90 days: per live user and window, the share of the user's live
-- entries with a mood in each class (mood_class: ecstatic and happy positive, neutral, sad, anxious and
-- angry negative). A window is the last N days up to today (entry_date > current_date - N). Entries
-- without a mood are not counted. Private entries count (the trend is the user's own dashboard figure,
-- as the calendar); entries breaking a quality rule count and are flagged in flagged_entries.
-- Strategy: table, rebuilt on each refresh: every row moves with the calendar (a window slides each
-- day), and one pass over 90 days of entries is small.
with windows as (
    select unnest(array[{{ var('mood_trend_days') | join(', ') }}]) as days
),

entries as (
    select
        e.user_id,
        e.entry_date,
        {{ mood_class('e.mood') }} as mood_class,
        jsonb_array_length(e.quality_issues) > 0 as has_quality_issues
    from {{ ref('int_mindflow__live_entries') }} as e
    where e.mood is not null
      and e.entry_date > current_date - {{ var('mood_trend_days') | max }}
      and e.entry_date <= current_date
),

counts as (
    select
        e.user_id,
        w.days,
        count(*) as entries,
        count(*) filter (where e.mood_class = 'positive') as positive_entries,
        count(*) filter (where e.mood_class = 'neutral') as neutral_entries,
        count(*) filter (where e.mood_class = 'negative') as negative_entries,
        count(*) filter (where e.has_quality_issues) as flagged_entries
    from entries as e
    join windows as w on e.entry_date > current_date - w.days
    group by e.user_id, w.days
)

select
    c.user_id,
    c.days,
    (current_date - c.days + 1) as window_start,
    current_date as window_end,
    c.entries,
    c.positive_entries,
    c.neutral_entries,
    c.negative_entries,
    round(100.0 * c.positive_entries / c.entries, 2) as positive_pct,
    round(100.0 * c.neutral_entries / c.entries, 2) as neutral_pct,
    round(100.0 * c.negative_entries / c.entries, 2) as negative_pct,
    jsonb_build_object(
        'positive', round(100.0 * c.positive_entries / c.entries)::int,
        'neutral', round(100.0 * c.neutral_entries / c.entries)::int,
        'negative', round(100.0 * c.negative_entries / c.entries)::int
    ) as trend,
    c.flagged_entries,
    now() as computed_at
from counts as c
