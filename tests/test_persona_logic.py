"""Pure persona logic with known answers: trait evidence, confidence combination, decay, lexicons,
graph metrics, top-k related stories, sentiment, the refresh planner. No database, no Dagster."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assets.persona.evidence.model import Observation
from assets.persona.evidence.text import anchor_counts, keywords
from assets.persona.graph import graph_metadata
from assets.persona.knowledge import build_knowledge
from assets.persona.plugin_metadata import sentiment_label
from assets.persona.related_stories import top_k_related
from assets.persona.scoring import build_traits, combine_categorical, combine_numeric, decay_factor, noisy_or
from assets.persona.snapshots import build_persona_snapshot, part_of_day
from assets.persona.store import plan_refresh

NOW = datetime(2025, 6, 1, 12, tzinfo=timezone.utc)


def obs(oid: str, source_type: str = "chat_log", text: str = "", structured=None, days_ago: float = 1.0) -> Observation:
    at = NOW - timedelta(days=days_ago)
    return Observation(observation_id=oid, person_id="p1", source_type=source_type, content_raw=text,
                       content_structured=structured, source_metadata={"timestamp": at.isoformat(), "source": "slack"},
                       created_at=at)


def mbti(oid: str, type_: str, scores: dict | None = None, confidence: float = 0.9, days_ago: float = 1.0) -> Observation:
    result = {"type": type_, **({"scores": scores} if scores else {})}
    return obs(oid, "assessment", "", {"assessmentType": "mbti", "result": result, "confidence": confidence}, days_ago)


def traits_of(observations) -> dict:
    return {t.trait_name: t for t in build_traits("p1", observations, NOW)}


def test_mbti_assessment_yields_its_traits():
    traits = traits_of([mbti("o1", "INTJ", {"E": 0.2, "N": 0.8, "F": 0.3, "J": 0.9}, confidence=0.9)])
    assert traits["mbti_type"].value == "INTJ"
    assert traits["mbti_type"].data_type == "categorical" and traits["mbti_type"].volatility == "low"
    assert traits["mbti_type"].confidence == pytest.approx(0.9)
    assert traits["extraversion"].value == pytest.approx(0.2)
    assert traits["intuition"].value == pytest.approx(0.8)
    assert traits["thinking"].value == pytest.approx(0.7)  # only F given: thinking = 1 - F
    assert traits["judging"].value == pytest.approx(0.9)
    assert traits["openness"].value == pytest.approx(0.8)  # N bridges to openness
    assert traits["extraversion"].data_type == "numeric"
    assert all(t.derived_from == ("o1",) for t in traits.values())


def test_disc_and_enneagram_in_generator_shape():
    disc = obs("d1", "assessment", "", {"assessmentType": "disc", "confidence": 0.8,
                                        "result": {"primary": "I", "scores": {"D": 0.3, "I": 0.9, "S": 0.5, "C": 0.4}}})
    ennea = obs("e1", "assessment", "", {"assessmentType": "enneagram", "confidence": 0.7,
                                         "result": {"type": 5, "wing": "5w6", "scores": {"1": 0.2}}})
    traits = traits_of([disc, ennea])
    assert traits["disc_style"].value == "I"
    assert traits["disc_dominance"].value == pytest.approx(0.3)
    assert traits["disc_profile"].data_type == "complex" and traits["disc_profile"].value["I"] == pytest.approx(0.9)
    assert traits["enneagram_type"].value == "5" and traits["enneagram_type"].confidence == pytest.approx(0.7)
    assert traits["enneagram_wing"].value == "5w6"


def test_two_agreeing_observations_beat_one_and_a_contradiction_lowers():
    one = traits_of([mbti("o1", "ESTP", confidence=0.6)])
    two = traits_of([mbti("o1", "ESTP", confidence=0.6), mbti("o2", "ESTP", confidence=0.6)])
    contradicted = traits_of([mbti("o1", "ESTP", confidence=0.6), mbti("o2", "ESTP", confidence=0.6),
                              mbti("o3", "INFJ", confidence=0.6)])
    assert two["mbti_type"].confidence == pytest.approx(1 - 0.4 * 0.4)  # noisy-or 0.84 > 0.6
    assert two["mbti_type"].confidence > one["mbti_type"].confidence
    assert contradicted["mbti_type"].value == "ESTP"
    assert contradicted["mbti_type"].confidence < two["mbti_type"].confidence
    assert contradicted["mbti_type"].confidence == pytest.approx(0.84 * 2 / 3)
    # numeric traits follow the same rule
    assert two["extraversion"].confidence > one["extraversion"].confidence
    assert contradicted["extraversion"].confidence < two["extraversion"].confidence
    # lineage lists exactly the contributing observations, the contradicting one included
    assert contradicted["mbti_type"].derived_from == ("o1", "o2", "o3")
    assert two["mbti_type"].derived_from == ("o1", "o2")


def test_free_text_agrees_with_assessment_and_raises_confidence():
    assessment = mbti("o1", "ENFP", {"E": 0.85, "N": 0.8, "F": 0.7, "P": 0.6}, confidence=0.7)
    chat = obs("c1", "chat_log", "I talked to so many people at the event. Let us get everyone together!")
    quiet = obs("c2", "interview", "I would rather work alone on this. I need some quiet time. A small meeting is enough for me.")
    base = traits_of([assessment])["extraversion"]
    agree = traits_of([assessment, chat])["extraversion"]
    disagree = traits_of([assessment, quiet])["extraversion"]
    assert agree.confidence > base.confidence
    assert disagree.confidence < base.confidence
    assert agree.derived_from == ("c1", "o1")
    assert set(agree.metadata["methods"]) == {"assessment:mbti", "lexicon"}


def test_lexicon_counts_phrases_and_negation():
    counts = anchor_counts("I am not outgoing. I skipped the party to read. The checklist is done and reviewed.")
    assert counts["extraversion"] == (0, 2)  # negated "outgoing" and the phrase "skipped the party"
    assert counts["conscientiousness"] == (1, 0)
    assert "agreeableness" not in counts
    assert anchor_counts("I forgot about the deadline again")["conscientiousness"] == (0, 1)


def test_high_volatility_traits_decay_with_age_low_do_not():
    assert decay_factor(30, 30) == pytest.approx(0.5)
    assert decay_factor(0, 30) == 1.0 and decay_factor(-5, 30) == 1.0
    text = "I am so stressed and overwhelmed, I feel anxious."
    fresh = traits_of([obs("s1", "document", text, days_ago=0)])
    old = traits_of([obs("s1", "document", text, days_ago=60)])
    assert fresh["stress_level"].volatility == "high"
    assert old["stress_level"].confidence == pytest.approx(fresh["stress_level"].confidence * 0.25, rel=0.02)
    assert old["stress_level"].metadata["halfLifeDays"] == 30.0
    # low volatility: age does not matter
    assert traits_of([mbti("m", "INTJ", days_ago=400)])["mbti_type"].confidence == pytest.approx(0.9)


def test_combination_primitives():
    assert noisy_or([0.5, 0.5]) == pytest.approx(0.75)
    value, confidence, stats = combine_numeric([(0.2, 0.5), (0.8, 0.5)])
    assert value == pytest.approx(0.5) and stats["dispersion"] == pytest.approx(0.6)
    assert confidence == pytest.approx(0.75 * 0.4)
    best, conf, stats = combine_categorical([("A", 0.5, NOW), ("B", 0.5, NOW - timedelta(days=1))])
    assert best == "A" and conf == pytest.approx(0.25)  # tie broken by the latest evidence


def test_graph_metadata_matches_a_hand_computed_graph():
    # triangle A-B-C with a tail C-D, plus a separate pair E-F, plus isolated G:
    # N=7, E=5, density = 2*5/(7*6) = 0.238095; degrees C=3, A=B=2, D=E=F=1
    docs = [
        {"entities": [{"name": "A"}, {"name": "B"}, {"name": "G"}],
         "relations": [{"source": "A", "target": "B", "type": "KNOWS"}, {"source": "B", "target": "C", "type": "KNOWS"}]},
        {"entities": ["C", "D"], "relations": [{"source": "C", "target": "A", "type": "KNOWS"},
                                               {"source": "D", "target": "C", "type": "KNOWS"},
                                               {"source": "B", "target": "A", "type": "KNOWS"}]},  # duplicate edge
        {"entities": [{"name": "E"}, {"name": "F"}], "relations": [{"source": "E", "target": "F", "type": "WORKS_WITH"},
                                                                   {"source": "E", "target": "E", "type": "SELF"}]},
    ]
    meta = graph_metadata(docs, NOW)
    assert meta["total_nodes"] == 7 and meta["total_edges"] == 5
    assert meta["graph_density"] == pytest.approx(10 / 42, abs=1e-6)
    assert meta["central_nodes"] == ["C", "A", "B", "D", "E"]
    communities = {tuple(c["nodeIds"]): c for c in meta["communities"]}
    assert set(communities) == {("A", "B", "C", "D"), ("E", "F")}
    assert communities[("A", "B", "C", "D")]["cohesionScore"] == pytest.approx(4 / 6, abs=1e-4)
    assert communities[("E", "F")]["cohesionScore"] == 1.0
    assert communities[("A", "B", "C", "D")]["name"] == "C cluster"


def test_top_k_related_threshold_and_rank():
    ids = ["s1", "s2", "s3", "s4"]
    vectors = [[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0.7, 0.7, 0]]
    edges = top_k_related(ids, vectors, k=2, min_similarity=0.5)
    by_source = {}
    for s, r, score, rank in edges:
        by_source.setdefault(s, []).append((r, rank))
    assert by_source["s1"] == [("s2", 1), ("s4", 2)]
    assert by_source["s3"] == [("s4", 1)]  # s1 and s2 are below the threshold
    assert all(s != r for s, r, _, _ in edges)
    assert top_k_related(["only"], [[1, 0]], k=3) == []


def test_sentiment_label_rule():
    assert sentiment_label(0.5, 0.3, 0.0) == "positive" and sentiment_label(-0.5, 0.0, 0.3) == "negative"
    assert sentiment_label(0.0, 0.2, 0.2) == "mixed" and sentiment_label(0.1, 0.0, 0.05) == "neutral"


def test_keywords_are_phrases_of_the_text_with_counts():
    text = "Garden garden roses. The garden and the roses and a tomato."
    got = keywords(text, k=3)
    assert 1 <= len(got) <= 3
    tokens = text.lower()
    for term, count in got:
        assert term in tokens and count >= 1
        assert term not in {"the", "and", "a"}
    assert "garden" in {t for term, _ in got for t in term.split()}
    assert keywords("", k=3) == []


def test_refresh_planner_changed_removed_and_redecay():
    state = {"a": ("fa", NOW - timedelta(days=1), False), "b": ("fb", NOW - timedelta(days=10), True),
             "c": ("fc", NOW, False), "gone": ("x", NOW, False)}
    plan = plan_refresh({"a": "fa", "b": "fb", "c": "fc2", "new": "fn"}, state, NOW, timedelta(days=7))
    assert plan.changed == ["b", "c", "new"] and plan.removed == ["gone"] and plan.unchanged == 1
    assert plan_refresh({"a": "fa"}, state, NOW, None, full=True).changed == ["a"]


def test_knowledge_facts_ttl_and_lineage():
    observations = [mbti("m1", "INTJ", confidence=0.8, days_ago=100),
                    obs("c1", "chat_log", "planning the garden project with Maria", {"entities": [{"name": "Maria"}]}, days_ago=3),
                    obs("c2", "chat_log", "garden tools and seeds", None, days_ago=40)]
    facts = {f.key: f for f in build_knowledge(observations, NOW)}
    assert facts["personality_type"].value == "INTJ" and facts["personality_type"].ttl is None
    assert facts["recent_topics"].derived_from == ("c1",)  # c2 is outside the 14-day window
    assert facts["recent_topics"].expires_at == observations[1].observed_at + timedelta(days=7)
    assert facts["known_entities"].value == ["Maria"]
    assert facts["observation_mix"].derived_from == ("c1", "c2", "m1")
    later = {f.key for f in build_knowledge(observations, NOW + timedelta(days=10))}
    assert "recent_topics" not in later and "personality_type" in later  # expired facts are not produced


def test_persona_snapshot_preferences():
    sessions = [(datetime(2025, 5, 5, 8), 30, "Calculus"), (datetime(2025, 5, 6, 9), 50, "calculus"),
                (datetime(2025, 5, 7, 20), 20, "History"), (datetime(2025, 5, 7, 23), 0, None)]
    traits, prefs, words = build_persona_snapshot(sessions, done=3, actionable=4, window_days=10)
    assert prefs["preferred_study_time"] == "morning"
    assert prefs["focus_areas"] == ["calculus", "history"]
    assert prefs["preferred_days"] == ["tuesday", "monday"]
    assert traits["consistency"] == pytest.approx(0.3) and traits["completion_rate"] == 0.75
    assert traits["total_minutes"] == 100 and "calculus" in words
    assert part_of_day(4) == "night" and part_of_day(12) == "afternoon"
