"""Free-text evidence (chat logs, documents, interviews, imports) through the anchor lexicons.

For each trait, an observation with p high-pole and n low-pole anchor hits gives
    value  = (p + 0.5) / (p + n + 1)                   (a smoothed share: 1 hit -> 0.75 or 0.25)
    weight = SOURCE_WEIGHT[source_type] * (1 - exp(-(p + n) / 2))
so one passing remark in a chat counts for little and a document full of anchors for more, but free
text never reaches an assessment's weight.

mood_valence comes from VADER instead of an anchor list: value = (compound + 1) / 2, and the hits are
the tokens VADER's lexicon knows (so a text without any sentiment word gives no evidence).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from assets.mood import keywords as kw
from assets.mood import text_model
from assets.persona.evidence.lexicons import NEGATIONS, TRAIT_LEXICONS
from assets.persona.evidence.model import Evidence, Observation

SOURCE_WEIGHT = {"interview": 0.7, "document": 0.6, "chat_log": 0.5, "api_import": 0.4}
TOKEN = re.compile(r"[a-z][a-z']*")
MAX_PHRASE = 4


def tokenize(text: str) -> list[str]:
    return TOKEN.findall((text or "").lower())


@lru_cache(maxsize=1)
def _phrase_index() -> dict[tuple[str, ...], tuple[tuple[str, int], ...]]:
    """phrase tokens -> ((trait, +1 high pole | -1 low pole), ...)."""
    index: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    for trait, (_, high, low) in TRAIT_LEXICONS.items():
        for pole, words in ((1, high), (-1, low)):
            for phrase in words:
                index.setdefault(tuple(phrase.split()), []).append((trait, pole))
    return {k: tuple(v) for k, v in index.items()}


def anchor_counts(text: str) -> dict[str, tuple[int, int]]:
    """trait -> (high-pole hits, low-pole hits); longest phrase wins, negation within 2 tokens flips."""
    tokens = tokenize(text)
    index = _phrase_index()
    counts: dict[str, list[int]] = {}
    i = 0
    while i < len(tokens):
        for n in range(MAX_PHRASE, 0, -1):
            hits = index.get(tuple(tokens[i:i + n]))
            if hits:
                negated = any(t in NEGATIONS for t in tokens[max(0, i - 2):i])
                for trait, pole in hits:
                    pole = -pole if negated else pole
                    slot = counts.setdefault(trait, [0, 0])
                    slot[0 if pole > 0 else 1] += 1
                i += n
                break
        else:
            i += 1
    return {trait: (p, n) for trait, (p, n) in counts.items()}


def lexicon_value(high: int, low: int) -> float:
    return (high + 0.5) / (high + low + 1)


def lexicon_weight(source_type: str, hits: int) -> float:
    return SOURCE_WEIGHT.get(source_type, 0.4) * (1 - math.exp(-hits / 2))


VALENCE_TRAIT = ("mood_valence", "high")


def valence_counts(text: str) -> tuple[float, int] | None:
    """(value in [0, 1], VADER lexicon hits) of a text, None when VADER knows none of its words."""
    lexicon = text_model.vader().lexicon
    hits = sum(1 for t in tokenize(text) if t in lexicon)
    if not hits:
        return None
    return (text_model.vader_compound(text) + 1) / 2, hits


def text_evidence(obs: Observation) -> list[Evidence]:
    out = []
    valence = valence_counts(obs.content_raw)
    if valence is not None:
        trait, volatility = VALENCE_TRAIT
        out.append(Evidence(trait, round(valence[0], 4), "numeric", volatility,
                            lexicon_weight(obs.source_type, valence[1]), obs.observation_id, obs.observed_at, "vader"))
    for trait, (high, low) in sorted(anchor_counts(obs.content_raw).items()):
        volatility = TRAIT_LEXICONS[trait][0]
        out.append(Evidence(
            trait, round(lexicon_value(high, low), 4), "numeric", volatility,
            lexicon_weight(obs.source_type, high + low), obs.observation_id, obs.observed_at, "lexicon",
        ))
    return sorted(out, key=lambda e: e.trait)


def keywords(text: str, k: int = 8) -> list[tuple[str, int]]:
    """Top-k key phrases (YAKE, assets.mood.keywords) with their counts."""
    return kw.keywords(text, k)
