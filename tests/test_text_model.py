"""The text scorers with the bundled model (loaded once per test process): valence, mood, eligibility."""

from __future__ import annotations

from decimal import Decimal

from assets.mood import scoring


def test_valence_reads_whole_sentences():
    assert scoring.text_valence("My best friend died last week and I cannot stop crying.") < 0  # the old lexicon: > 0
    assert scoring.text_valence("We got the keys to our first home today and danced in the empty rooms!") > 0
    assert scoring.text_valence("") == 0.0
    # a text with no word VADER knows still gets a valence from the embedding
    assert scoring.text_valence("The biopsy results come on Friday.") != 0.0
    values = scoring.text_valences(["awful", "wonderful", None])
    assert values[0] < 0 < values[1] and values[2] == 0.0


def test_mood_score_refines_only_eligible_text():
    assert scoring.mood_score("happy", "awful terrible horrible day", ai_eligible=True) < Decimal("0.60")
    assert scoring.mood_score("sad", "wonderful amazing grateful", ai_eligible=True) > Decimal("-0.60")
    assert scoring.mood_score("happy", "awful terrible horrible day", ai_eligible=False) == Decimal("0.60")
    assert scoring.mood_score("neutral", "", ai_eligible=True) == Decimal("0.00")


def test_infer_mood_names_clear_moods_and_abstains_on_nothing():
    assert scoring.infer_mood("")[0] is None and scoring.infer_mood(None) == (None, 0.0)
    cases = {
        "I am so nervous about the interview tomorrow that I could not sleep at all.": "anxious",
        "He lied to my face and took the credit, I was furious.": "angry",
        "I miss my grandmother so much, the house feels empty without her.": "sad",
    }
    for text, mood in cases.items():
        got, confidence = scoring.infer_mood(text)
        assert got == mood, (text, got)
        assert 0 < confidence <= 1
