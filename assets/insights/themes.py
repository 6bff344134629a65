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
    """The themes of one user's period (see the module docstring)."""
    return extract_themes_many([(period_docs, baseline_docs, scores)], k)[0]


def extract_themes_many(users: list[tuple[list[str], list[str], list[Decimal | None] | None]],
                        k: int = 5) -> list[list[dict]]:
    """extract_themes for many users at once, each (period_docs, baseline_docs, scores): the candidates are
    per document (YAKE), the document frequencies of every user's candidates one polars pass."""
    prepared = [_candidates(period, baseline) for period, baseline, _ in users]
    holdings = term_holders_many([pool for _, _, pool, _ in prepared],
                                 [period_tokens + base_tokens for period_tokens, base_tokens, _, _ in prepared])
    return [_themes(period, baseline, scores, prepared_user, holding, k) if period else []
            for (period, baseline, scores), prepared_user, holding in zip(users, prepared, holdings)]


def _candidates(period_docs: list[str], baseline_docs: list[str]):
    """(period tokens, baseline tokens, candidate pool, YAKE picks) of one user's period."""
    if not period_docs:
        return [], [], [], Counter()
    period_tokens = [keywords.words(d) for d in period_docs]
    base_tokens = [keywords.words(d) for d in baseline_docs]
    picked = Counter(t for d in period_docs for t in keywords.candidates(d))
    min_df = 2 if len(period_docs) >= 3 else 1
    pool = sorted(t for t, c in picked.items() if c >= min_df)
    return period_tokens, base_tokens, pool, picked


def _themes(period_docs, baseline_docs, scores, prepared, holding: dict[str, list[int]], k: int) -> list[dict]:
    period_tokens, _, pool, picked = prepared
    n_period = len(period_docs)
    held = {t: [i for i in holding.get(t, []) if i < n_period] for t in pool}
    df_base = {t: len(holding.get(t, [])) - len(held[t]) for t in pool}
    return rank_themes(period_tokens, len(baseline_docs), scores, pool, picked, held, df_base, k)


def rank_themes(period_tokens: list[list[str]], n_base: int, scores, pool: list[str], picked: Counter,
                held: dict[str, list[int]], df_base: dict[str, int], k: int) -> list[dict]:
    """The k themes of one period from its candidates' document frequencies: `held[term]` the period
    documents holding the term, `df_base[term]` how many baseline documents do."""
    n_period = len(period_tokens)
    scores = scores if scores is not None else [None] * n_period
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
    (lists of word tokens) holding it as a run of consecutive tokens; terms no document holds are absent."""
    return term_holders_many([terms], [docs])[0]


def term_holders_many(terms: list[list[str]], docs: list[list[list[str]]]) -> list[dict[str, list[int]]]:
    """term_holders of many (terms, documents) groups in one polars pass. Every document becomes one row
    per token (split in polars); for terms of n words the next n-1 tokens of the same document are put
    beside each token (shifts that stop at the document's end), and an inner join on (group, words) with
    the group's terms keeps the runs that are terms; grouped by (group, term)."""
    import polars as pl

    wanted = [(g, t) for g, group_terms in enumerate(terms) for t in sorted(set(group_terms))]
    if not wanted or not any(docs):
        return [{} for _ in terms]
    groups, indexes, texts = [], [], []
    for g, group_docs in enumerate(docs):
        for i, tokens in enumerate(group_docs):
            groups.append(g)
            indexes.append(i)
            texts.append(" ".join(tokens))
    tokens = (pl.DataFrame({"group": groups, "index": indexes, "text": texts},
                           schema={"group": pl.Int32, "index": pl.Int32, "text": pl.String})
              .with_row_index("doc")
              .select("doc", "group", "index", pl.col("text").str.split(" ").alias("w0"))
              .explode("w0")
              .filter(pl.col("w0") != ""))
    wanted_terms = (pl.DataFrame({"group": [g for g, _ in wanted], "term": [t for _, t in wanted]},
                                 schema={"group": pl.Int32, "term": pl.String})
                    .with_columns(pl.col("term").str.split(" ").alias("parts")))
    found = []
    for size in sorted(set(wanted_terms["parts"].list.len().to_list())):
        words = [f"w{k}" for k in range(size)]
        of_size = (wanted_terms.filter(pl.col("parts").list.len() == size)
                   .select("group", "term", *[pl.col("parts").list.get(k).alias(w) for k, w in enumerate(words)]))
        runs = tokens.with_columns([pl.when(pl.col("doc").shift(-k) == pl.col("doc")).then(pl.col("w0").shift(-k)).alias(w)
                                    for k, w in enumerate(words) if k])
        found.append(runs.filter(pl.col("w0").is_in(of_size["w0"].unique().implode()))
                     .join(of_size, on=["group", *words], how="inner")
                     .select("group", "index", "term"))
    held = pl.concat(found).unique().group_by("group", "term").agg(pl.col("index").sort())
    out: list[dict[str, list[int]]] = [{} for _ in terms]
    for group, term, held_by in held.iter_rows():
        out[group][term] = held_by
    return out


def picked_words(picked: Counter) -> set[str]:
    """Every word that appears in some YAKE candidate of the period (related words come from these)."""
    return {w for phrase in picked for w in phrase.split()}
