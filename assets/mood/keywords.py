"""Keywords and key phrases from YAKE (a maintained, unsupervised, offline keyword extractor).

YAKE scores candidate words and phrases of ONE text from statistics of that text alone (position,
frequency, casing, spread over sentences, co-occurrence context); lower scores are more relevant. Its
stop words are its own English list. We keep phrases of up to `MAX_NGRAM` words, drop numbers, and
lower-case the result.

Used by the Mosaic story keywords (`keywords`) and, through `candidates`, by the insight themes, which
add the user-baseline contrast on top (assets.insights.themes). Callers pass only text they may read
(AI-eligible journal text; Mosaic story text).
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_NGRAM = 2
METHOD = "yake-0.7-n2"
_WORD = re.compile(r"[a-z][a-z'-]*")


@lru_cache(maxsize=8)
def _extractor(top: int, n: int):
    import yake

    return yake.KeywordExtractor(lan="en", n=n, top=top, dedup_lim=0.9)


def stopwords() -> frozenset[str]:
    return frozenset(_extractor(20, MAX_NGRAM).stopword_set)


def words(text: str | None) -> list[str]:
    """Lower-case word tokens (apostrophes and hyphens kept inside a word)."""
    return _WORD.findall((text or "").lower())


def key_phrases(text: str | None, top: int = 10, n: int = MAX_NGRAM) -> list[tuple[str, float]]:
    """YAKE's top phrases of one text, lower-cased, as (phrase, yake score) best first; numbers dropped."""
    if not text or not text.strip():
        return []
    out, seen = [], set()
    for phrase, score in _extractor(top, n).extract_keywords(text):
        norm = " ".join(_squeeze(words(phrase)))
        if not norm or norm in seen or len(norm) < 3:
            continue
        seen.add(norm)
        out.append((norm, float(score)))
    return out


def _squeeze(tokens: list[str]) -> list[str]:
    """Drop a word repeating the one before it ("canary canary" is the word "canary")."""
    return [t for i, t in enumerate(tokens) if i == 0 or t != tokens[i - 1]]


def occurrences(phrase: str, tokens: list[str]) -> int:
    """How often `phrase` (space-separated words) occurs as a run of `tokens`."""
    parts = phrase.split()
    n = len(parts)
    return sum(1 for i in range(len(tokens) - n + 1) if tokens[i:i + n] == parts)


def keywords(text: str | None, k: int = 8) -> list[tuple[str, int]]:
    """Top-k key phrases of a text in YAKE's order, each with its number of occurrences in the text."""
    tokens = words(text)
    return [(p, max(1, occurrences(p, tokens))) for p, _ in key_phrases(text, top=k)][:k]


def candidates(text: str | None, top: int = 15) -> set[str]:
    """The phrases of one document a theme may be named after."""
    return {p for p, _ in key_phrases(text, top=top)}
