"""mood_score against the generator's ground truth (public.generator_entry_truth.valence)."""

from __future__ import annotations

import json

import psycopg
import pytest


@pytest.mark.slow
def test_scores_against_generator_truth(modelled):
    from assets.mood.evaluation import evaluate_scores
    from assets.mood.events import maintain_events

    with psycopg.connect(modelled.warehouse_url) as conn:
        maintain_events(conn)
        conn.commit()
    report = evaluate_scores(modelled.source_url, modelled.warehouse_url)
    print("mood_score evaluation:", json.dumps(report))
    elig = report["ai_eligible"]
    assert elig["n"] > 50
    # both estimators track the truth; the figures themselves are reported, not tuned here
    assert elig["label_only_r"] > 0.5 and elig["refined_r"] > 0.5
    assert 0 <= elig["refined_mae"] < 0.5
    # entries saved without a label got a mood from their text; it is judged against the written mood
    inferred = report["inferred"]
    if inferred["n"]:
        assert inferred["accuracy"] is not None and 0 <= inferred["accuracy"] <= 1
    # ineligible entries are never refined: over them the two scores coincide
    with psycopg.connect(modelled.warehouse_url) as conn:
        differs = conn.execute(
            "SELECT count(*) FROM analytics.mood_events m JOIN raw_mindflow.journal_entries e ON e.id = m.journal_entry_id "
            "LEFT JOIN raw_mindflow.user_settings s ON s.user_id = e.user_id "
            "WHERE (e.is_private OR coalesce(s.private_mode, false)) AND m.mood_score <> CASE m.mood "
            "WHEN 'ecstatic' THEN 0.9 WHEN 'happy' THEN 0.6 WHEN 'neutral' THEN 0 WHEN 'anxious' THEN -0.4 "
            "WHEN 'sad' THEN -0.6 WHEN 'angry' THEN -0.7 END").fetchone()[0]
    assert differs == 0
