-- Numeric insight columns per user for one period [%(start)s, %(end)s] (both inclusive), computed from
-- AI-eligible entries only: the rows of the dbt model eligibility.eligible_journal_entries flagged
-- ai_eligible (live entry, live user, not private, user not in private mode, not quarantined).
WITH eligible AS NOT MATERIALIZED (
    SELECT e.id, e.user_id, e.entry_date AS date, e.mood, e.word_count
      FROM eligibility.eligible_journal_entries e
     WHERE e.ai_eligible
), e AS (
    SELECT * FROM eligible WHERE date BETWEEN %(start)s AND %(end)s
), base AS (
    SELECT user_id, count(*) AS n, coalesce(sum(word_count), 0) AS words, count(mood) AS n_mood,
           count(*) FILTER (WHERE mood IN ('ecstatic', 'happy')) AS pos,
           count(*) FILTER (WHERE mood = 'neutral') AS neu,
           count(*) FILTER (WHERE mood IN ('sad', 'anxious', 'angry')) AS neg,
           mode() WITHIN GROUP (ORDER BY mood) FILTER (WHERE mood IS NOT NULL) AS dominant_mood
      FROM e GROUP BY user_id
), dow AS (
    SELECT DISTINCT ON (user_id) user_id, to_char(any_day, 'FMDay') AS day
      FROM (SELECT user_id, extract(isodow FROM date) AS isodow, min(date) AS any_day,
                   coalesce(sum(word_count), 0) AS w
              FROM e GROUP BY 1, 2) x
     ORDER BY user_id, w DESC, isodow
), streak AS (
    SELECT user_id, max(len) AS longest
      FROM (SELECT user_id, count(*) AS len
              FROM (SELECT user_id, date - (row_number() OVER (PARTITION BY user_id ORDER BY date))::int AS grp
                      FROM (SELECT DISTINCT user_id, date FROM e) d) g
             GROUP BY user_id, grp) s
     GROUP BY user_id
), before AS (
    SELECT e.user_id, count(*) AS n, coalesce(sum(e.word_count), 0) AS words
      FROM eligible e
      JOIN base b ON b.user_id = e.user_id
     WHERE e.date < %(start)s
     GROUP BY e.user_id
)
SELECT b.user_id, b.n::int AS entries_analyzed, b.words::int AS total_words,
       round(b.words::numeric / b.n)::int AS average_words,
       dow.day AS most_productive_day, streak.longest::int AS longest_streak,
       CASE WHEN b.n_mood > 0 THEN round(100.0 * b.pos / b.n_mood, 2) END AS mood_positive_pct,
       CASE WHEN b.n_mood > 0 THEN round(100.0 * b.neu / b.n_mood, 2) END AS mood_neutral_pct,
       CASE WHEN b.n_mood > 0 THEN round(100.0 * b.neg / b.n_mood, 2) END AS mood_negative_pct,
       b.dominant_mood,
       coalesce(before.n, 0)::int AS entries_before, coalesce(before.words, 0)::bigint AS words_before
  FROM base b
  JOIN dow USING (user_id)
  JOIN streak USING (user_id)
  LEFT JOIN before USING (user_id)
 ORDER BY b.user_id
