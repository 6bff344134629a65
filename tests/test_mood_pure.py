"""Pure functions of the mood/insights areas (no Dagster, no database) and the Timescale DDL strings."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from assets.insights import periods, text, themes
from assets.mood import buckets, schema, scoring

UTC = timezone.utc


def test_label_scores_and_refinement():
    assert scoring.mood_score("happy", "awful terrible day", ai_eligible=False) == Decimal("0.60")
    assert scoring.label_score("angry") == Decimal("-0.70")
    # the refinement moves the label toward the text valence by TEXT_WEIGHT, never past it
    assert scoring.refine("happy", 0.6) == Decimal("0.60")
    assert Decimal("-0.60") < scoring.refine("sad", 1.0) < Decimal("0")
    assert scoring.refine("angry", -1.0) < Decimal("-0.70")
    for mood in scoring.MOODS:
        for valence in (-1.0, 0.0, 1.0):
            s = scoring.refine(mood, valence)
            assert Decimal(-1) <= s <= Decimal(1) and s.as_tuple().exponent == -2


def test_valence_blend_and_mood_pick_are_bounded():
    for vader in (-1.0, 0.0, 1.0):
        for margin in (-0.5, 0.0, 0.5):
            assert -1.0 <= scoring.blend_valence(vader, margin) <= 1.0
    assert scoring.blend_valence(0.0, 0.0) == 0.0
    assert scoring.blend_valence(0.0, 0.1) > 0 > scoring.blend_valence(0.0, -0.1)
    sims = [0.1] * len(scoring.MOODS)
    assert scoring.pick_mood(sims) == (None, 0.0)  # no mood stands out
    sims[scoring.MOODS.index("anxious")] = 0.5
    mood, conf = scoring.pick_mood(sims)
    assert mood == "anxious" and 0.3 <= conf <= 1.0
    # a clearly positive text keeps to the positive moods, whatever the prototypes say
    assert scoring.pick_mood(sims, valence=0.9)[0] in {"ecstatic", "happy"}
    assert scoring.pick_mood(sims, valence=-0.9)[0] == "anxious"
    assert scoring.conflicts("happy", -0.8) and scoring.conflicts("sad", 0.8)
    assert not scoring.conflicts("happy", 0.2) and not scoring.conflicts("neutral", -0.9)


def test_mood_row_never_uses_text_of_ineligible_entries():
    reading = scoring.TextReading(-0.9, "sad", 0.8)
    assert scoring.mood_row("happy", False, reading) == scoring.MoodRow("happy", Decimal("0.60"), "label", False)
    assert scoring.mood_row(None, False, reading) is None  # never inferred without eligibility
    row = scoring.mood_row(None, True, reading)
    assert row.mood == "sad" and row.source == "inferred" and not row.conflict
    assert scoring.mood_row("happy", True, reading).conflict
    assert scoring.mood_row(None, True, scoring.TextReading(0.0, None, 0.0)) is None


def test_time_bucket_replica():
    monday = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
    assert buckets.bucket_start(datetime(2024, 1, 7, 23, 59, tzinfo=UTC), buckets.WEEK) == monday
    assert buckets.bucket_start(datetime(2024, 1, 8, tzinfo=UTC), buckets.WEEK) == monday + buckets.WEEK
    assert buckets.bucket_start(datetime(1999, 12, 30, tzinfo=UTC), buckets.WEEK) == datetime(1999, 12, 27, tzinfo=UTC)
    assert buckets.chunk_start(datetime(2024, 1, 1, tzinfo=UTC), buckets.WEEK).weekday() == 3  # Thursday (epoch)


def test_retention_ranges():
    ranges = buckets.weekly_ranges(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC))
    cutoff = datetime(2024, 2, 1, 12, tzinfo=UTC)
    dropped = buckets.droppable(ranges, cutoff)
    assert dropped and all(hi <= cutoff for _, hi in dropped)
    kept = [r for r in ranges if r not in dropped]
    assert kept[0][0] <= cutoff < kept[0][1] and kept[0][0] == buckets.retention_floor(cutoff, buckets.WEEK)


def test_timescale_ddl_strings():
    stmts = [s.as_string(None) for s in schema.timescale_ddl()]
    joined = "\n".join(stmts)
    assert stmts[0] == "CREATE EXTENSION IF NOT EXISTS timescaledb"
    assert ("SELECT create_hypertable('analytics.mood_events', 'time', chunk_time_interval => INTERVAL '7 days', "
            "if_not_exists => TRUE)") in stmts
    assert ("SELECT create_hypertable('analytics.user_activity_events', 'time', chunk_time_interval => INTERVAL "
            "'7 days', if_not_exists => TRUE)") in stmts
    assert ("SELECT create_hypertable('analytics.journal_insights', 'generated_at', chunk_time_interval => "
            "INTERVAL '1 month', if_not_exists => TRUE)") in stmts
    cagg = next(s for s in stmts if s.startswith('CREATE MATERIALIZED VIEW IF NOT EXISTS "analytics"."mood_daily_summary"'))
    assert "WITH (timescaledb.continuous, timescaledb.materialized_only = true)" in cagg
    assert "time_bucket(INTERVAL '1 day', \"time\") AS \"day\"" in cagg and cagg.endswith("WITH NO DATA")
    assert "MODE() WITHIN GROUP (ORDER BY mood) AS most_common_mood" in cagg
    weekly = next(s for s in stmts if '"user_weekly_activity" WITH' in s)
    assert "time_bucket(INTERVAL '7 days', \"time\") AS \"week\"" in weekly
    assert "COUNT(*) FILTER (WHERE event_type = 'login') AS login_count" in weekly
    assert ("SELECT add_continuous_aggregate_policy('analytics.mood_daily_summary', start_offset => INTERVAL '7 days', "
            "end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour', if_not_exists => TRUE)") in stmts
    assert ("SELECT add_continuous_aggregate_policy('analytics.user_weekly_activity', start_offset => INTERVAL "
            "'4 weeks', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour', if_not_exists => TRUE)") in stmts
    assert ("SELECT add_retention_policy('analytics.mood_events', drop_after => INTERVAL '1 year', "
            "if_not_exists => TRUE)") in stmts
    assert ("SELECT add_retention_policy('analytics.user_activity_events', drop_after => INTERVAL '6 months', "
            "if_not_exists => TRUE)") in stmts
    assert "add_retention_policy('analytics.journal_insights'" not in joined  # seed: insights kept forever
    assert ("ALTER TABLE \"analytics\".\"mood_events\" SET (timescaledb.compress, timescaledb.compress_segmentby = "
            "'user_id', timescaledb.compress_orderby = 'time DESC')") in stmts
    assert ("SELECT add_compression_policy('analytics.mood_events', compress_after => INTERVAL '30 days', "
            "if_not_exists => TRUE)") in stmts
    assert "PRIMARY KEY (id, generated_at)" in joined and "PARTITION BY" not in joined
    # the hypertable must exist before its caggs and policies
    idx = lambda prefix: next(i for i, s in enumerate(stmts) if s.startswith(prefix))
    assert idx("SELECT create_hypertable('analytics.mood_events'") < idx("CREATE MATERIALIZED VIEW") < idx(
        "SELECT add_retention_policy")


def test_native_and_timescale_share_the_aggregate():
    spec = schema.rollup("mood_daily_summary")
    ts = schema.rollup_select(spec, "analytics", timescale=True).as_string(None)
    nat = schema.rollup_select(spec, "analytics", timescale=False).as_string(None)
    assert ts.replace("time_bucket(INTERVAL '1 day', \"time\")",
                      "date_bin(INTERVAL '1 day', \"time\", TIMESTAMPTZ '2000-01-03 00:00:00+00')") == nat
    native = "\n".join(s.as_string(None) for s in schema.native_ddl())
    assert 'PARTITION BY RANGE ("time")' in native and 'PARTITION BY RANGE ("generated_at")' in native
    assert "CREATE TABLE IF NOT EXISTS \"analytics\".mood_daily_summary" in native


def test_policy_validation_catches_the_refresh_trap():
    schema.validate_policies()
    bad = schema.RollupSpec("x", "mood_events", "day", "1 day", "COUNT(*) AS n", start_offset="2 years",
                            end_offset="1 hour", schedule_interval="1 hour")
    with pytest.raises(ValueError, match="retention"):
        schema.validate_policies(rollups=(bad,))
    inside = schema.RollupSpec("x", "mood_events", "day", "1 day", "COUNT(*) AS n", start_offset="60 days",
                               end_offset="1 hour", schedule_interval="1 hour")
    with pytest.raises(ValueError, match="compress_after"):
        schema.validate_policies(rollups=(inside,))


def test_themes_against_baseline_and_related_words():
    period = ["marathon training legs sore", "marathon race plans with coach", "coach said marathon pace",
              "work meeting"]
    baseline = ["work meeting project"] * 10 + ["coach lesson"]
    th = themes.extract_themes(period, baseline, [Decimal("0.5"), Decimal("0.7"), None, Decimal("-0.2")])
    assert th[0]["name"] == "marathon" and th[0]["frequency"] == 3 and th[0]["sentiment"] == 0.6
    assert "coach" in th[0]["relatedWords"]
    assert "work" not in [t["name"] for t in th]  # a word of the user's usual baseline, seen once now
    assert themes.extract_themes([], baseline) == []


def test_term_holders_by_hand():
    docs = [["long", "run", "today"], ["run", "long"], [], ["long", "run", "long", "run"], ["today"]]
    assert themes.term_holders(["long run", "run", "today", "run today", "swim", "long run today"], docs) == {
        "long run": [0, 3], "run": [0, 1, 3], "today": [0, 4], "run today": [0], "long run today": [0]}
    assert themes.term_holders([], docs) == {} and themes.term_holders(["run"], []) == {}


def test_term_holders_many_keeps_groups_apart():
    groups = themes.term_holders_many([["rain", "rain walk"], ["walk"], []],
                                      [[["rain", "walk"], ["walk"]], [["rain"], ["walk", "walk"], []], [["rain"]]])
    assert groups == [{"rain": [0], "rain walk": [0]}, {"walk": [1]}, {}]
    period = ["garden roses bloom", "garden roses again", "office work"]
    assert themes.extract_themes_many([(period, [], None), ([], ["x"], None)]) == [themes.extract_themes(period, []), []]


def test_term_holders_match_a_scan_of_each_document():
    import random

    rng = random.Random(3)
    vocab = ["calm", "work", "run", "sleep", "coach", "rain"]
    for _ in range(20):
        docs = [[rng.choice(vocab) for _ in range(rng.randint(0, 12))] for _ in range(rng.randint(1, 15))]
        terms = sorted({rng.choice(vocab) for _ in range(4)} | {f"{rng.choice(vocab)} {rng.choice(vocab)}" for _ in range(6)})

        def holds(doc, term):
            parts = term.split()
            return any(doc[i:i + len(parts)] == parts for i in range(len(doc)))

        scan = {t: [i for i, d in enumerate(docs) if holds(d, t)] for t in terms}
        assert themes.term_holders(terms, docs) == {t: ix for t, ix in scan.items() if ix}


def test_text_assembly_uses_numbers_and_themes():
    stats = {"entries_analyzed": 5, "total_words": 600, "average_words": 120, "most_productive_day": "Tuesday",
             "longest_streak": 7, "mood_positive_pct": Decimal("60.00"), "mood_neutral_pct": Decimal("20.00"),
             "mood_negative_pct": Decimal("20.00"), "dominant_mood": "happy", "entries_before": 8, "words_before": 900}
    th = [{"name": "garden", "frequency": 3, "sentiment": 0.5, "relatedWords": []}]
    s = text.summary("weekly", stats, th)
    assert "5 entries" in s and "600 words" in s and "garden" in s and "Tuesday" in s
    ms = text.milestones("weekly", stats, 7)
    assert "Reached 10 journal entries" in ms and "Wrote 1,000 words in total" in ms
    assert "Completed a 7-day writing streak" in ms
    assert any("garden" in x for x in text.suggestions("weekly", stats, th))
    assert text.llm_summary("weekly", stats, th, enabled=False) is None


def test_periods():
    assert periods.period_of("weekly", date(2024, 1, 10)) == (date(2024, 1, 8), date(2024, 1, 14))
    assert periods.period_of("monthly", date(2024, 2, 10)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert periods.closed_period_key("weekly", datetime(2026, 11, 23, 3, tzinfo=UTC)) == "2026-11-16"
    assert periods.closed_period_key("yearly", datetime(2026, 1, 1, 3, tzinfo=UTC)) == "2025-01-01"
    weekly = periods.partitions_def("weekly")
    keys = weekly.get_partition_keys(current_time=datetime(2020, 2, 1, tzinfo=UTC))
    assert keys[0] == "2020-01-06" and all(date.fromisoformat(k).weekday() == 0 for k in keys)
    yearly = periods.partitions_def("yearly")
    assert yearly.get_partition_keys(current_time=datetime(2023, 6, 1, tzinfo=UTC)) == ["2020-01-01", "2021-01-01",
                                                                                          "2022-01-01"]
