"""Themes of a period, extracted from the user's own words (pure, no model).

For one user and one period:
- documents = the period's AI-eligible entries (title + content); baseline = the same user's AI-eligible
  entries in the window before the period (`build.BASELINE_DAYS`, at least the period's length).
- terms = lower-case word tokens of 3+ letters that are not stop words and not numbers.
- score(term) = df_period(term) * idf(term), idf = ln((1 + N_all) / (1 + df_all(term))) + 1 over period
  plus baseline documents: words the user always uses (their usual vocabulary) sink, words that are
  frequent now but rare in the user's own past rise. A term must occur in at least `min_df` period
  entries (2 when the period has 3+ entries, else 1).
- the top `k` terms (ties: alphabetical) become themes: {name, frequency (period entries containing it),
  sentiment (mean mood_score of those entries, 2 decimals; null when none has a score),
  relatedWords (up to 3 terms co-occurring with it in the most period entries; ties alphabetical)}.
"""

from __future__ import annotations

import math
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from assets.mood.scoring import tokenize

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing done down during each even ever every few for from
further get got had has have having he her here hers herself him himself his how i if in into is it its
itself just like made make many me more most much my myself no nor not now of off on once only or other
our ours ourselves out over own really same she should so some still such than that the their theirs
them themselves then there these they this those through to today too under until up us very was we
were what when where which while who whom why will with would yet you your yours yourself yourselves
day days felt feel feeling feels thing things time went got one two lot bit maybe think thought
much also back going way quite something anything nothing everything someone really just today tonight
yesterday tomorrow morning evening night week
""".split())


def terms(text: str | None) -> list[str]:
    return [t for t in tokenize(text) if len(t) >= 3 and t not in STOPWORDS and "'" not in t]


def extract_themes(period_docs: list[str], baseline_docs: list[str], scores: list[Decimal | None] | None = None,
                   k: int = 5) -> list[dict]:
    if not period_docs:
        return []
    scores = scores if scores is not None else [None] * len(period_docs)
    period_sets = [set(terms(d)) for d in period_docs]
    base_sets = [set(terms(d)) for d in baseline_docs]
    df_period = Counter(t for s in period_sets for t in s)
    df_all = df_period + Counter(t for s in base_sets for t in s)
    n_all = len(period_sets) + len(base_sets)
    min_df = 2 if len(period_docs) >= 3 else 1
    ranked = sorted(
        ((df_period[t] * (math.log((1 + n_all) / (1 + df_all[t])) + 1), t) for t in df_period if df_period[t] >= min_df),
        key=lambda x: (-x[0], x[1]),
    )[:k]
    themes = []
    for _, term in ranked:
        holders = [i for i, s in enumerate(period_sets) if term in s]
        vals = [scores[i] for i in holders if scores[i] is not None]
        sentiment = None
        if vals:
            sentiment = float((sum(vals, Decimal(0)) / len(vals)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        co = Counter(t for i in holders for t in period_sets[i] if t != term)
        related = [t for t, _ in sorted(co.items(), key=lambda x: (-x[1], x[0]))[:3]]
        themes.append({"name": term, "frequency": len(holders), "sentiment": sentiment, "relatedWords": related})
    return themes
