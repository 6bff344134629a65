"""mood_score: a number in [-1, 1] for one journal entry.

Method (pure, deterministic, no model download):

1. Label prior. The entry's mood label maps to a fixed score (`MOOD_SCORES`):
   ecstatic 0.9, happy 0.6, neutral 0.0, anxious -0.4, sad -0.6, angry -0.7.
2. Text refinement, ONLY when the entry is eligible for AI (DESIGN rule 2: not `is_private` and the
   user not in `private_mode`). Ineligible entries keep the label score: their text is never read.
   The text is tokenised (lower-case words), each token looked up in a small hand-written valence
   lexicon (`LEXICON`, values in [-1, 1]). A negator ("not", "never", "no", "n't" ...) within the
   three preceding tokens flips and damps a hit (x -0.5); an intensifier right before it ("very",
   "really", "so", ...) scales it by 1.3 (capped at +-1). The refined score is a shrinkage estimate
   that treats the label as `PRIOR_WEIGHT` pseudo-observations:

       refined = (PRIOR_WEIGHT * label + sum(hits)) / (PRIOR_WEIGHT + len(hits))

   so a short text barely moves the label and a long, consistently worded text moves it most.
3. The result is clamped to [-1, 1] and rounded half-up to 2 decimals (the column is NUMERIC(3,2)).

Evaluated against the generator's ground truth (public.generator_entry_truth.valence) by
`assets.mood.evaluation.evaluate_scores`: mean absolute error and Pearson correlation of the
label-only and the refined scores (tests/test_mood_scoring.py, bench/rollups.py --evaluate).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

MOODS = ("ecstatic", "happy", "neutral", "sad", "anxious", "angry")
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
PRIOR_WEIGHT = 4.0

_POSITIVE = {
    # strong
    "ecstatic": 1.0, "thrilled": 0.95, "elated": 0.95, "overjoyed": 0.95, "euphoric": 0.95, "blissful": 0.9,
    "amazing": 0.85, "wonderful": 0.85, "fantastic": 0.85, "incredible": 0.8, "awesome": 0.8, "joy": 0.85,
    "joyful": 0.85, "love": 0.8, "loved": 0.8, "loving": 0.75, "excited": 0.8, "exciting": 0.75,
    "delighted": 0.85, "celebrate": 0.75, "celebrated": 0.75, "celebration": 0.75, "triumph": 0.8,
    "brilliant": 0.8, "perfect": 0.8, "best": 0.7, "beautiful": 0.7, "grateful": 0.7, "gratitude": 0.7,
    "thankful": 0.7, "blessed": 0.7, "proud": 0.7, "happy": 0.7, "happiness": 0.7, "glad": 0.6,
    # moderate
    "good": 0.45, "great": 0.6, "nice": 0.4, "pleasant": 0.45, "fun": 0.55, "enjoyed": 0.55, "enjoy": 0.5,
    "smile": 0.5, "smiled": 0.5, "laugh": 0.55, "laughed": 0.55, "laughing": 0.55, "hopeful": 0.5,
    "hope": 0.35, "optimistic": 0.55, "cheerful": 0.6, "content": 0.35, "satisfied": 0.45, "relaxed": 0.45,
    "relief": 0.4, "relieved": 0.45, "calm": 0.35, "peaceful": 0.45, "peace": 0.4, "rested": 0.35,
    "energized": 0.5, "energetic": 0.5, "inspired": 0.55, "motivated": 0.5, "productive": 0.45,
    "accomplished": 0.55, "success": 0.55, "successful": 0.55, "win": 0.5, "won": 0.5, "progress": 0.35,
    "confident": 0.5, "kind": 0.35, "warm": 0.3, "friends": 0.25, "friend": 0.2, "together": 0.2,
    "sunny": 0.3, "sunshine": 0.35, "bright": 0.3, "fresh": 0.2, "better": 0.3, "improved": 0.35,
    "comfortable": 0.35, "lucky": 0.5, "fortunate": 0.5, "alive": 0.35, "free": 0.3, "easy": 0.2,
    "okay": 0.05, "ok": 0.05, "fine": 0.1, "steady": 0.1, "balanced": 0.2,
}
_NEGATIVE = {
    # strong
    "furious": -0.95, "enraged": -0.95, "rage": -0.9, "hate": -0.85, "hated": -0.85, "livid": -0.9,
    "devastated": -0.95, "miserable": -0.9, "hopeless": -0.9, "despair": -0.9, "heartbroken": -0.9,
    "panic": -0.8, "terrified": -0.85, "awful": -0.8, "terrible": -0.8, "horrible": -0.8, "worst": -0.8,
    "depressed": -0.85, "grief": -0.8, "crying": -0.65, "cried": -0.65, "tears": -0.55,
    # moderate
    "angry": -0.75, "anger": -0.7, "mad": -0.65, "annoyed": -0.55, "irritated": -0.55, "frustrated": -0.6,
    "frustrating": -0.6, "frustration": -0.6, "resentful": -0.65, "bitter": -0.55, "unfair": -0.5,
    "yelled": -0.6, "argument": -0.5, "argued": -0.5, "fight": -0.5, "conflict": -0.45,
    "sad": -0.65, "sadness": -0.65, "unhappy": -0.65, "lonely": -0.6, "alone": -0.4, "empty": -0.5,
    "down": -0.3, "gloomy": -0.5, "blue": -0.2, "hurt": -0.55, "loss": -0.5, "lost": -0.35, "missed": -0.25,
    "disappointed": -0.55, "disappointing": -0.55, "regret": -0.5, "sorry": -0.3, "tired": -0.35,
    "exhausted": -0.5, "drained": -0.5, "sick": -0.45, "pain": -0.55, "bad": -0.5, "worse": -0.5,
    "anxious": -0.6, "anxiety": -0.6, "worried": -0.55, "worry": -0.5, "worrying": -0.55, "nervous": -0.5,
    "stressed": -0.55, "stress": -0.5, "stressful": -0.55, "overwhelmed": -0.6, "afraid": -0.6, "fear": -0.6,
    "scared": -0.6, "uneasy": -0.45, "restless": -0.4, "tense": -0.45, "dread": -0.7, "uncertain": -0.3,
    "deadline": -0.2, "pressure": -0.35, "insomnia": -0.45, "sleepless": -0.45, "struggle": -0.45,
    "struggled": -0.45, "struggling": -0.5, "difficult": -0.35, "hard": -0.2, "problem": -0.3,
    "failed": -0.55, "failure": -0.6, "mistake": -0.4, "boring": -0.3, "bored": -0.3, "rain": -0.1,
    "grey": -0.1, "gray": -0.1, "meh": -0.1,
}
LEXICON: dict[str, float] = {**_POSITIVE, **_NEGATIVE}
NEGATORS = frozenset({"not", "no", "never", "nothing", "nobody", "neither", "nor", "without", "hardly",
                      "barely", "isn't", "wasn't", "aren't", "weren't", "don't", "didn't", "doesn't",
                      "can't", "couldn't", "won't", "wouldn't", "shouldn't", "cannot"})
INTENSIFIERS = frozenset({"very", "really", "so", "extremely", "incredibly", "truly", "deeply", "totally",
                          "absolutely", "super", "completely", "utterly"})
NEGATION_SCOPE = 3
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
_CENT = Decimal("0.01")


def tokenize(text: str | None) -> list[str]:
    return _TOKEN.findall((text or "").lower())


def lexicon_hits(tokens: list[str]) -> list[float]:
    """The valence of every lexicon word in `tokens`, after negation and intensifiers."""
    hits: list[float] = []
    for i, tok in enumerate(tokens):
        value = LEXICON.get(tok)
        if value is None:
            continue
        window = tokens[max(0, i - NEGATION_SCOPE):i]
        if any(w in NEGATORS or w.endswith("n't") for w in window):
            value = -0.5 * value
        if i > 0 and tokens[i - 1] in INTENSIFIERS:
            value = max(-1.0, min(1.0, value * 1.3))
        hits.append(value)
    return hits


def quantize_score(value: float) -> Decimal:
    clamped = max(-1.0, min(1.0, value))
    return Decimal(repr(clamped)).quantize(_CENT, rounding=ROUND_HALF_UP)


def label_score(mood: str) -> Decimal:
    return quantize_score(MOOD_SCORES[mood])


def refined_score(mood: str, text: str | None) -> Decimal:
    hits = lexicon_hits(tokenize(text))
    prior = MOOD_SCORES[mood]
    return quantize_score((PRIOR_WEIGHT * prior + sum(hits)) / (PRIOR_WEIGHT + len(hits)))


def mood_score(mood: str, text: str | None, ai_eligible: bool) -> Decimal:
    """The score stored in analytics.mood_events: text refinement only for AI-eligible entries."""
    if not ai_eligible:
        return label_score(mood)
    return refined_score(mood, text)
