"""Themes of a period, extracted from the user's own words (pure apart from YAKE, no model).

For one user and one period:
- documents = the period's AI-eligible entries (title + content); baseline = the same user's AI-eligible
  entries in the window before the period (`build.BASELINE_DAYS`, at least the period's length).
- candidates = the key phrases YAKE picks in each period document (assets.mood.keywords: words and
  two-word phrases, YAKE's stop words out).
- contrast with the user's baseline (a document "has" a term when the term occurs in it, picked by YAKE
  or not): lift(term) = ((df_period + 0.5) / (N_period + 1)) / ((df_baseline + 0.5) / (N_baseline + 1)),
  the term's share of entries now against its share in the user's own past, and
  score(term) = df_period * ln(1 + lift). Words the user always uses (their usual vocabulary) sink,
  words frequent now but rare in the user's past rise; with no baseline the lift only rewards
  frequency. A term must be a YAKE candidate in at least `min_df` period entries (2 when the period has
  3+ entries, else 1) and be more frequent now than usual (lift > 1) when there is a baseline; a
  two-word phrase beats its own words on ties and hides a word it contains when it holds as many entries.
- document frequencies (which period and baseline entries hold each candidate term) are one polars pass
  over every entry's word runs (`term_holders`), not a scan of every entry per term.
- the top `k` terms (ties: alphabetical) become themes: {name, frequency (period entries containing it),
  sentiment (mean text valence of those entries, `mood_events.text_valence`, the same
  valence as the mood score and the story sentiment; 2 decimals; null when none has one), relatedWords
  (up to 3 terms co-occurring with it in the most period entries; ties alphabetical)}.
"""

from __future__ import annotations

import math
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from assets.mood import keywords


def extract_themes(period_docs: list[str], baseline_docs: list[str], scores: list[Decimal | None] | None = None,
                   k: int = 5) -> list[dict]:
    if not period_docs:
        return []
    scores = scores if scores is not None else [None] * len(period_docs)
    period_tokens = [keywords.words(d) for d in period_docs]
    base_tokens = [keywords.words(d) for d in baseline_docs]
    picked = Counter(t for d in period_docs for t in keywords.candidates(d))
    min_df = 2 if len(period_docs) >= 3 else 1
    pool = sorted(t for t, c in picked.items() if c >= min_df)

    n_period, n_base = len(period_docs), len(baseline_docs)
    holding = term_holders(pool, period_tokens + base_tokens)
    held = {t: [i for i in holding.get(t, []) if i < n_period] for t in pool}
    df_base = {t: len(holding.get(t, [])) - len(held[t]) for t in pool}
    scored = []
    for term in pool:
        df_period = len(held[term])
        lift = ((df_period + 0.5) / (n_period + 1)) / ((df_base[term] + 0.5) / (n_base + 1))
        if n_base and lift <= 1:
            continue
        scored.append((df_period * math.log(1 + lift), len(term.split()), term))
    ranked = sorted(scored, key=lambda x: (-x[0], -x[1], x[2]))
    chosen: list[str] = []
    for _, _, term in ranked:
        if len(chosen) == k:
            break
        if any(term in c.split() and len(held[c]) >= len(held[term]) for c in chosen if " " in c):
            continue
        chosen.append(term)
    period_sets = [set(t) for t in period_tokens]
    stop = keywords.stopwords()
    vocabulary = picked_words(picked)
    themes = []
    for term in chosen:
        idx = held[term]
        vals = [scores[i] for i in idx if scores[i] is not None]
        sentiment = None
        if vals:
            sentiment = float((sum(vals, Decimal(0)) / len(vals)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        own = set(term.split())
        co = Counter(t for i in idx for t in period_sets[i]
                     if t not in own and t not in stop and len(t) >= 3 and t in vocabulary)
        related = [t for t, _ in sorted(co.items(), key=lambda x: (-x[1], x[0]))[:3]]
        themes.append({"name": term, "frequency": len(idx), "sentiment": sentiment, "relatedWords": related})
    return themes


def term_holders(terms: list[str], docs: list[list[str]]) -> dict[str, list[int]]:
    """For each term (a word, or words separated by single spaces), the ascending indexes of the documents
    (lists of word tokens) holding it as a run of consecutive tokens; terms no document holds are absent.

    One polars pass: every document's runs of 1..n tokens (n = the longest term) are formed with shifts
    inside the document, kept when they are one of `terms`, and grouped by term."""
    import polars as pl

    if not terms or not docs:
        return {}
    longest = max(len(t.split(" ")) for t in terms)
    tokens = (pl.DataFrame({"doc": list(range(len(docs))), "word": docs},
                           schema={"doc": pl.Int64, "word": pl.List(pl.String)})
              .explode("word").drop_nulls("word"))
    runs = [pl.col("word")]
    for size in range(2, longest + 1):
        runs.append(pl.concat_str([pl.col("word").shift(-k).over("doc") if k else pl.col("word")
                                   for k in range(size)], separator=" "))
    wanted = pl.Series("term", sorted(set(terms)), dtype=pl.String)
    held = (tokens.select("doc", pl.concat_list(runs).alias("term"))
            .explode("term")
            .filter(pl.col("term").is_in(wanted.implode()))
            .unique()
            .group_by("term").agg(pl.col("doc").sort()))
    return dict(zip(held["term"].to_list(), held["doc"].to_list()))


def picked_words(picked: Counter) -> set[str]:
    """Every word that appears in some YAKE candidate of the period (related words come from these)."""
    return {w for phrase in picked for w in phrase.split()}
