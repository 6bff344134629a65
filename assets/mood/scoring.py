"""mood_score, text valence and text mood for journal entries.

Method:

1. Label prior. The entry's mood label maps to a fixed score (`MOOD_SCORES`):
   ecstatic 0.9, happy 0.6, neutral 0.0, anxious -0.4, sad -0.6, angry -0.7.
2. Text valence (`text_valence`, in [-1, 1]) from two maintained, offline components
   (assets.mood.text_model): VADER's compound score (lexicon with negation and intensity rules) and the
   bundled MiniLM embedding's similarity to described positive and negative prototypes:

       text_valence = VADER_WEIGHT * vader + (1 - VADER_WEIGHT) * tanh(EMBEDDING_SCALE * margin)

   where margin = similarity to the positive prototypes - similarity to the negative ones. VADER finds no
   word at all in about a third of first-person texts (score 0) and reads "my best friend died" as
   positive; the embedding scores every text and understands the sentence as a whole, VADER adds its
   negation and intensity rules. On the shipped evaluation set (bench/data, `tessera bench nlp`) the
   blend reaches polarity AUC ~0.92 where VADER alone reaches ~0.78 with 68% coverage.
3. Refinement, ONLY when the entry is eligible for AI (DESIGN rule 2: not `is_private` and the user not in
   `private_mode`). Ineligible entries keep the label score: their text is never read.

       refined = label + TEXT_WEIGHT * (text_valence - label)

   TEXT_WEIGHT (0.1) was re-tuned for the new valence with `tessera bench nlp`, which reports MAE and
   Pearson r against the generator's latent valence for weights 0 to 0.5: the generator writes that
   valence as the label's centre plus small noise, so no text weight improves on the label there
   (MAE 0.131 label-only, 0.132 at 0.1, 0.161 at 0.35, 0.192 at 0.5). 0.1 is the largest weight that
   costs under 0.001 MAE on generated entries; the label is the user's own statement and stays the
   larger part, while a text that clearly contradicts it still moves the score by up to ~0.15 and is
   flagged (`text_conflict`). The old lexicon refinement used a hit-count shrinkage instead; VADER plus
   the embedding give one calibrated number per text, so a fixed weight replaces the hit count.
4. The result is clamped to [-1, 1] and rounded half-up to 2 decimals (the column is NUMERIC(3,2)).

`infer_mood(text)`: the six moods from the MiniLM similarity to described mood prototypes (a softmax
over the per-mood similarities); when the text valence is clearly positive or negative (|v| >=
VALENCE_GATE) only the moods of that side compete (on the shipped evaluation set this lifts accuracy
on sad/anxious/angry/happy from 0.61 to 0.64, on generated entries from 0.57 to 0.74, mostly by not
calling emotional text "neutral"); `(None, 0.0)` for empty text or when the best mood's probability is
below `MIN_MOOD_CONFIDENCE`. Used only on AI-eligible text (the caller's duty: events.py reads text only
for eligible entries) to fill mood analytics for entries saved without a mood (`mood_source =
'inferred'`) and to flag entries whose text strongly disagrees with their label (`text_conflict`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Sequence

import numpy as np

from assets.mood import text_model

MOODS = text_model.MOODS
MOOD_SCORES: dict[str, float] = {
    "ecstatic": 0.9,
    "happy": 0.6,
    "neutral": 0.0,
    "anxious": -0.4,
    "sad": -0.6,
    "angry": -0.7,
}
MOOD_CLASS = {  # used by insights: share of positive / neutral / negative entries
    "ecstatic": "positive",
    "happy": "positive",
    "neutral": "neutral",
    "sad": "negative",
    "anxious": "negative",
    "angry": "negative",
}
VADER_WEIGHT = 0.4
EMBEDDING_SCALE = 10.0
TEXT_WEIGHT = 0.1
MOOD_TEMPERATURE = 0.02  # softmax temperature over cosine similarities
MIN_MOOD_CONFIDENCE = 0.3
VALENCE_GATE = 0.4  # |text valence| from which infer_mood keeps to the moods of that side
CONFLICT_VALENCE = 0.5  # a labelled entry conflicts when its text valence is this far on the other side
METHOD = "vader+minilm-prototypes-v1"
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class TextReading:
    """What the text of one entry says: valence in [-1, 1] and the inferred mood (or None)."""

    valence: float
    mood: str | None
    confidence: float


def _clamp(value: float) -> float:
    return max(-1.0, min(1.0, value))


def blend_valence(vader: float, margin: float) -> float:
    """The valence formula (pure): VADER compound and the prototype similarity margin."""
    return _clamp(VADER_WEIGHT * vader + (1 - VADER_WEIGHT) * math.tanh(EMBEDDING_SCALE * margin))


def mood_probabilities(similarities: Sequence[float]) -> list[float]:
    """Softmax over per-mood similarities (order of MOODS)."""
    z = np.asarray(similarities, dtype=np.float64) / MOOD_TEMPERATURE
    z = np.exp(z - z.max())
    return (z / z.sum()).tolist()


def pick_mood(similarities: Sequence[float], valence: float | None = None) -> tuple[str | None, float]:
    """The most similar mood; with `valence`, a clearly positive (negative) text picks among the
    positive (negative) moods only (VALENCE_GATE)."""
    probs = mood_probabilities(similarities)
    allowed = list(range(len(MOODS)))
    if valence is not None and abs(valence) >= VALENCE_GATE:
        side = "positive" if valence > 0 else "negative"
        allowed = [j for j, m in enumerate(MOODS) if MOOD_CLASS[m] == side]
        total = sum(probs[j] for j in allowed)
        probs = [p / total if j in allowed else 0.0 for j, p in enumerate(probs)]
    best = max(allowed, key=lambda j: probs[j])
    if probs[best] < MIN_MOOD_CONFIDENCE:
        return None, 0.0
    return MOODS[best], round(float(probs[best]), 4)


def read_texts(texts: Sequence[str | None], *, valence_gate: bool = True) -> list[TextReading]:
    """Valence and mood of many texts in one embedding pass. Empty texts read as (0.0, None, 0.0).
    `valence_gate=False` picks the mood from the prototypes alone (the bench compares both)."""
    present = [i for i, t in enumerate(texts) if t and t.strip()]
    out = [TextReading(0.0, None, 0.0)] * len(texts)
    if not present:
        return list(out)
    vectors = text_model.embed([texts[i] for i in present])
    margins, sims = text_model.prototype_scores(vectors)
    out = list(out)
    for k, i in enumerate(present):
        valence = round(blend_valence(text_model.vader_compound(texts[i]), float(margins[k])), 4)
        mood, confidence = pick_mood(sims[k], valence if valence_gate else None)
        out[i] = TextReading(valence, mood, confidence)
    return out


def text_valence(text: str | None) -> float:
    """Valence of a text in [-1, 1] (0.0 for empty text)."""
    return read_texts([text])[0].valence


def text_valences(texts: Sequence[str | None]) -> list[float]:
    return [r.valence for r in read_texts(texts)]


def infer_mood(text: str | None) -> tuple[str | None, float]:
    """(mood, confidence) of a text among the six moods, or (None, 0.0) when the text does not say."""
    reading = read_texts([text])[0]
    return reading.mood, reading.confidence


def quantize_score(value: float) -> Decimal:
    clamped = _clamp(value)
    return Decimal(repr(clamped)).quantize(_CENT, rounding=ROUND_HALF_UP)


def label_score(mood: str) -> Decimal:
    return quantize_score(MOOD_SCORES[mood])


def refine(mood: str, valence: float, weight: float = TEXT_WEIGHT) -> Decimal:
    """Label prior moved toward the text valence (pure)."""
    prior = MOOD_SCORES[mood]
    return quantize_score(prior + weight * (valence - prior))


def conflicts(mood: str, valence: float) -> bool:
    """True when a labelled entry's text clearly says the opposite of its label (pure)."""
    cls = MOOD_CLASS[mood]
    return (cls == "positive" and valence <= -CONFLICT_VALENCE) or (cls == "negative" and valence >= CONFLICT_VALENCE)


@dataclass(frozen=True)
class MoodRow:
    """The mood_events fields of one entry: None when the entry has no mood row."""

    mood: str
    score: Decimal
    source: str  # 'label' | 'inferred'
    conflict: bool
    valence: Decimal | None = None  # the text's valence, None when the text was not read


def mood_row(label: str | None, ai_eligible: bool, reading: TextReading | None) -> MoodRow | None:
    """Pure: the row of one entry from its label, eligibility and (eligible only) text reading."""
    if label is not None and label not in MOOD_SCORES:
        return None
    if not ai_eligible or reading is None:
        return MoodRow(label, label_score(label), "label", False) if label else None
    valence = quantize_score(reading.valence)
    if label:
        return MoodRow(label, refine(label, reading.valence), "label", conflicts(label, reading.valence), valence)
    if reading.mood is None:
        return None
    return MoodRow(reading.mood, refine(reading.mood, reading.valence), "inferred", False, valence)


def mood_score(mood: str, text: str | None, ai_eligible: bool) -> Decimal:
    """The score stored in analytics.mood_events: text refinement only for AI-eligible entries."""
    if not ai_eligible:
        return label_score(mood)
    return refine(mood, text_valence(text))
