"""Text understanding shared by mood scoring, story sentiment and insight themes.

Two maintained components, both offline:
- VADER (`vaderSentiment`): a 7,500-word valence lexicon with negation, intensity and contrast rules,
  thousands of texts per second. Its compound score is 0 when it finds no word it knows.
- the bundled all-MiniLM-L6-v2 sentence embedding (the embedding assets' encoder), compared with
  written descriptions of each mood ("prototypes"). Every text gets a vector, so every text gets a
  similarity; the descriptions are ours, short first-person sketches of the mood, not training data.

Nothing here reads the database: callers pass the texts they are allowed to read (AI-eligible only).
The model is loaded once per process; torch and sentence_transformers import inside functions.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Sequence

import numpy as np

MOODS = ("ecstatic", "happy", "neutral", "sad", "anxious", "angry")

# Described prototypes, one list per mood: short sketches of what people write in that mood.
MOOD_PROTOTYPES: dict[str, tuple[str, ...]] = {
    "ecstatic": (
        "I am overjoyed and thrilled, this is the best day of my life.",
        "I could burst with excitement, I am jumping and screaming with joy.",
        "Absolutely ecstatic, on top of the world, everything came true at once.",
        "We celebrated wildly, cheering and dancing, I was euphoric.",
    ),
    "happy": (
        "I feel happy and content, it was a good day.",
        "I am glad and grateful, things went well and I smiled a lot.",
        "A pleasant time with people I love, I felt warm and cheerful.",
        "I was pleased and proud when it worked out well.",
        "Good news arrived and I felt relieved and happy.",
    ),
    "neutral": (
        "An ordinary day of routine tasks, errands and work.",
        "I went to a meeting, answered emails and cooked dinner.",
        "Nothing special happened, I did the chores and read for a while.",
        "I took the train, bought groceries and planned the week.",
    ),
    "sad": (
        "I feel sad and lonely, I miss them terribly.",
        "Someone I loved died and I am grieving and crying.",
        "I feel down, empty and hopeless, everything is grey and heavy.",
        "I lost something that mattered to me and my heart is broken.",
        "I was disappointed and hurt, left out and alone.",
    ),
    "anxious": (
        "I am anxious and worried about what will happen.",
        "I was scared and afraid, my heart was pounding with fear.",
        "I feel nervous and tense, I cannot sleep because of the stress.",
        "I panicked, I was terrified something terrible would happen to me.",
        "I dread tomorrow and keep imagining everything that could go wrong.",
    ),
    "angry": (
        "I am angry and furious about how I was treated.",
        "It was unfair and I was so frustrated and annoyed.",
        "Someone lied to me and cheated me and I was livid.",
        "I shouted because I was fed up with their rudeness and disrespect.",
        "They blamed me for something I did not do and it made my blood boil.",
    ),
}
# Valence prototypes: the positive and the negative pole of experience in general (wider than the
# moods: disgust, shame and guilt are negative too).
POSITIVE_PROTOTYPES = MOOD_PROTOTYPES["ecstatic"] + MOOD_PROTOTYPES["happy"] + (
    "Something wonderful happened and I felt loved and lucky.",
    "I achieved what I had hoped for and felt joy and pride.",
)
NEGATIVE_PROTOTYPES = MOOD_PROTOTYPES["sad"] + MOOD_PROTOTYPES["anxious"] + MOOD_PROTOTYPES["angry"] + (
    "It was disgusting and revolting, it made me feel sick.",
    "I was ashamed and embarrassed, humiliated in front of everyone.",
    "I feel guilty, I hurt someone and I regret what I did.",
)

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_compound(text: str | None) -> float:
    """VADER's compound score in [-1, 1]; 0.0 for empty text or text without a known word."""
    if not text or not text.strip():
        return 0.0
    return float(vader().polarity_scores(text)["compound"])


def encoder():
    """The bundled MiniLM encoder through the embedding assets' loader (one per process)."""
    from assets.embeddings.model import get_encoder

    return get_encoder()


@lru_cache(maxsize=4)
def _prototype_matrix(model_id: str, kind: str) -> np.ndarray:
    enc = encoder()
    if kind == "valence":
        texts = list(POSITIVE_PROTOTYPES) + list(NEGATIVE_PROTOTYPES)
    else:
        texts = [t for m in MOODS for t in MOOD_PROTOTYPES[m]]
    return np.asarray(enc.encode(texts), dtype=np.float32)


def embed(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised embeddings of `texts` (empty texts embed as the empty string)."""
    with _LOCK:
        return np.asarray(encoder().encode([t or "" for t in texts]), dtype=np.float32)


def prototype_scores(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(valence similarity margin per text, mood similarity matrix [texts x MOODS]).

    A pole's or a mood's similarity is the mean of its two closest prototypes (robust to one odd one)."""
    model_id = encoder().model_id
    val = _prototype_matrix(model_id, "valence")
    moods = _prototype_matrix(model_id, "mood")
    n_pos = len(POSITIVE_PROTOTYPES)
    sims = vectors @ val.T
    margin = _top2_mean(sims[:, :n_pos]) - _top2_mean(sims[:, n_pos:])
    msims = vectors @ moods.T
    out = np.zeros((len(vectors), len(MOODS)), dtype=np.float32)
    start = 0
    for j, mood in enumerate(MOODS):
        count = len(MOOD_PROTOTYPES[mood])
        out[:, j] = _top2_mean(msims[:, start:start + count])
        start += count
    return margin, out


def _top2_mean(block: np.ndarray) -> np.ndarray:
    if block.shape[1] == 1:
        return block[:, 0]
    part = np.sort(block, axis=1)[:, -2:]
    return part.mean(axis=1)
