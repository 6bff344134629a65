"""The pure metrics of `tessera bench nlp` and its generated relevance judgements (no model, no database)."""

from __future__ import annotations

import math
import random

from bench import nlp


def test_metrics_on_hand_checked_cases():
    assert nlp.roc_auc([True, True, False, False], [0.9, 0.8, 0.1, 0.2]) == 1.0
    assert nlp.roc_auc([True, False], [0.5, 0.5]) == 0.5  # ties count half
    assert nlp.roc_auc([True, False, True, False], [0.1, 0.9, 0.2, 0.8]) == 0.0
    assert nlp.macro_f1(["a", "b"], ["a", "b"], ["a", "b"]) == 1.0
    assert nlp.macro_f1(["a", "b"], [None, None], ["a", "b"]) == 0.0
    grades = {"x": 2, "y": 1}
    assert nlp.ndcg_at(["x", "y"], grades) == 1.0
    assert 0 < nlp.ndcg_at(["y", "x"], grades) < 1.0
    assert nlp.ndcg_at(["z"], grades) == 0.0
    assert math.isclose(nlp.recall_at(["x", "z"], {"x", "y"}, 20), 0.5)


def test_generated_queries_carry_graded_judgements():
    entries = nlp.generated_entries(120, 3)
    assert entries == nlp.generated_entries(120, 3)  # deterministic per seed
    cases = nlp.queries_for(entries, random.Random(1), 10)
    assert cases
    by_id = {e["id"]: e for e in entries}
    assert {kind for kind, _, _ in cases} == {"topic", "topic_mood"}
    for kind, query, grades in cases:
        tags = {by_id[i]["tag"] for i in grades}
        assert len(tags) == 1  # every judged entry is about the query's topic
        if kind == "topic":
            assert set(grades.values()) == {1}
            continue
        assert " about " in query and sum(1 for g in grades.values() if g == 2) >= 2
        moods = {by_id[i]["mood"] for i, g in grades.items() if g == 2}
        assert len(moods) == 1 and nlp.QUERY_MOOD_WORDS[moods.pop()] in query
