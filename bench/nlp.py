"""Text understanding and search relevance: `tessera bench nlp [--entries 600] [--skip-search]`.

Only data we ship or generate (never any held-back corpus):
- `bench/data/emotion_eval.tsv`: our own first-person texts labelled with an emotion (see bench/data/README.md);
- journal entries written by the generator (sources.generator.text) with their ground truth (mood, latent
  valence, topic tag).

Scorers compared in the same process:
- `lexicon_v1`: the hand-written 193-word mood lexicon Tessera used before, read from git history
  (commit BEFORE_COMMIT, not from the working tree, which no longer holds a word list); skipped when git
  or that commit is unavailable;
- `vader`: VADER's compound score alone;
- `minilm_prototypes`: the MiniLM prototype similarity margin alone;
- `text_valence`: the shipped blend (assets.mood.scoring.text_valence).
For each: polarity ROC AUC (joy + elation against the six negative emotions; positive against negative
mood labels on generated entries), coverage (share of texts scored non-zero), texts/s. Moods: macro F1
over the six moods and accuracy on sad / anxious / angry / happy, for `infer_mood` and, as the old
baseline, the valence scorers mapped to the nearest label score. The label-prior weight of the mood
score is reported as the MAE against the generator's latent valence for several TEXT_WEIGHT values.

Search relevance: a generated journal (one user) is indexed with the real Postgres backend (real
MiniLM embeddings, `postgres.index.rebuild`) in its own database `tessera_bench_nlp`; queries are
generated from the entries' ground truth: topic + mood ("worried about the exam": grade 2 = the tag and the
mood, 1 = the tag only) and topic alone ("the exam": grade 1 = the tag). nDCG@10 and recall@20 (of the
top-grade entries) per mode, overall and per query kind.

Prints JSON and returns it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import time
import types
import uuid
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

DATA = Path(__file__).resolve().parent / "data" / "emotion_eval.tsv"
BEFORE_COMMIT = "cbf41b8"
POSITIVE = {"joy", "elation"}
NEGATIVE = {"fear", "anger", "sadness", "disgust", "shame", "guilt"}
EMOTION_MOOD = {"joy": "happy", "elation": "ecstatic", "calm": "neutral", "sadness": "sad", "fear": "anxious",
                "anger": "angry"}
FOUR = ("happy", "sad", "anxious", "angry")
DATABASE = "tessera_bench_nlp"
QUERY_MOOD_WORDS = {"ecstatic": "thrilled", "happy": "happy", "neutral": "ordinary", "sad": "sad",
                    "anxious": "worried", "angry": "angry"}


# --- metrics (pure) ---------------------------------------------------------------------------------

def roc_auc(labels: Sequence[bool], scores: Sequence[float]) -> float:
    """Mann-Whitney AUC with ties counted half."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return float("nan")
    order = sorted(pos + neg)
    ranks: dict[float, float] = {}
    i = 0
    while i < len(order):
        j = i
        while j < len(order) and order[j] == order[i]:
            j += 1
        ranks[order[i]] = (i + j + 1) / 2
        i = j
    r = sum(ranks[s] for s in pos)
    return (r - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def macro_f1(truth: Sequence[str], predicted: Sequence[str | None], classes: Sequence[str]) -> float:
    scores = []
    for c in classes:
        tp = sum(1 for t, p in zip(truth, predicted) if t == c and p == c)
        fp = sum(1 for t, p in zip(truth, predicted) if t != c and p == c)
        fn = sum(1 for t, p in zip(truth, predicted) if t == c and p != c)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)


def ndcg_at(ranked: Sequence[str], grades: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** grades.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], relevant: set[str], k: int = 20) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


# --- scorers ----------------------------------------------------------------------------------------

def old_lexicon_scorer() -> Callable[[str], float] | None:
    """The pre-VADER lexicon scorer, loaded from git history (label-free: mean of its hits)."""
    try:
        source = subprocess.run(["git", "show", f"{BEFORE_COMMIT}:assets/mood/scoring.py"], capture_output=True,
                                text=True, check=True, cwd=Path(__file__).resolve().parent.parent).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("lexicon_v1")
    exec(compile(source, "lexicon_v1", "exec"), module.__dict__)  # noqa: S102 - our own file from history

    def score(text: str) -> float:
        hits = module.lexicon_hits(module.tokenize(text))
        return sum(hits) / len(hits) if hits else 0.0

    return score


def _timed(fn: Callable[[list[str]], list[float]], texts: list[str]) -> tuple[list[float], float]:
    started = time.perf_counter()
    out = fn(texts)
    return out, len(texts) / max(1e-9, time.perf_counter() - started)


def valence_scorers() -> dict[str, Callable[[list[str]], list[float]]]:
    from assets.mood import scoring, text_model

    def minilm(texts: list[str]) -> list[float]:
        margins, _ = text_model.prototype_scores(text_model.embed(texts))
        return [math.tanh(scoring.EMBEDDING_SCALE * float(m)) for m in margins]

    scorers: dict[str, Callable[[list[str]], list[float]]] = {}
    old = old_lexicon_scorer()
    if old is not None:
        scorers["lexicon_v1"] = lambda texts: [old(t) for t in texts]
    scorers["vader"] = lambda texts: [text_model.vader_compound(t) for t in texts]
    scorers["minilm_prototypes"] = minilm
    scorers["text_valence"] = scoring.text_valences
    return scorers


def nearest_mood(valence: float) -> str:
    from assets.mood.scoring import MOOD_SCORES

    return min(MOOD_SCORES, key=lambda m: (abs(MOOD_SCORES[m] - valence), m))


def score_texts(texts: list[str], polarity: list[bool | None], moods: list[str | None]) -> dict[str, Any]:
    """Polarity, coverage, speed and mood figures of every scorer over one labelled text set."""
    from assets.mood import scoring

    idx = [i for i, p in enumerate(polarity) if p is not None]
    mood_idx = [i for i, m in enumerate(moods) if m is not None]
    four_idx = [i for i in mood_idx if moods[i] in FOUR]
    out: dict[str, Any] = {}
    for name, fn in valence_scorers().items():
        fn(texts[:8])  # warm-up (model load, prototype vectors)
        values, rate = _timed(fn, texts)
        predicted = [nearest_mood(v) for v in values]
        out[name] = {
            "polarity_auc": round(roc_auc([polarity[i] for i in idx], [values[i] for i in idx]), 4),
            "coverage": round(sum(1 for v in values if v != 0) / len(values), 4),
            "texts_per_second": round(rate, 1),
            "mood_macro_f1_via_valence": round(macro_f1([moods[i] for i in mood_idx], [predicted[i] for i in mood_idx],
                                                        scoring.MOODS), 4),
        }
    readings, rate = _timed(lambda ts: scoring.read_texts(ts), texts)
    predicted = [r.mood for r in readings]
    out["infer_mood"] = {
        "mood_macro_f1": round(macro_f1([moods[i] for i in mood_idx], [predicted[i] for i in mood_idx], scoring.MOODS), 4),
        "accuracy_sad_anxious_angry_happy": round(
            sum(1 for i in four_idx if predicted[i] == moods[i]) / max(1, len(four_idx)), 4),
        "coverage": round(sum(1 for p in predicted if p is not None) / len(predicted), 4),
        "texts_per_second": round(rate, 1),
    }
    plain = [r.mood for r in scoring.read_texts(texts, valence_gate=False)]
    out["infer_mood_without_valence_gate"] = {
        "mood_macro_f1": round(macro_f1([moods[i] for i in mood_idx], [plain[i] for i in mood_idx], scoring.MOODS), 4),
        "accuracy_sad_anxious_angry_happy": round(
            sum(1 for i in four_idx if plain[i] == moods[i]) / max(1, len(four_idx)), 4),
    }
    return out


def eval_set() -> tuple[list[str], list[str]]:
    rows = [line.rstrip("\n").split("\t", 1) for line in DATA.read_text().splitlines() if line.strip()]
    return [r[0] for r in rows], [r[1] for r in rows]


def generated_entries(n: int, seed: int) -> list[dict]:
    from sources.generator import text

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        mood = rng.choice(text.MOODS)
        valence = max(-1.0, min(1.0, text.MOOD_VALENCE[mood] + rng.gauss(0, 0.15)))
        tag = rng.choice(text.TAGS)
        title, content = text.journal_entry(rng, mood, [tag], rng.randint(50, 140), valence)
        out.append({"id": str(uuid.UUID(int=rng.getrandbits(128))), "mood": mood, "valence": valence, "tag": tag,
                    "title": title, "content": content})
    return out


def prior_weights(entries: list[dict], valences: list[float]) -> dict[str, float]:
    from assets.mood import scoring

    out = {}
    truth = [e["valence"] for e in entries]
    for w in (0.0, 0.1, 0.15, 0.25, 0.35, 0.5):
        refined = [float(scoring.refine(e["mood"], v, w)) for e, v in zip(entries, valences)]
        out[f"text_weight_{w}"] = {"mae": round(sum(abs(r - t) for r, t in zip(refined, truth)) / len(truth), 4),
                                   "pearson_r": round(float(np.corrcoef(refined, truth)[0, 1]), 4)}
    return out


# --- search relevance -------------------------------------------------------------------------------

def _bench_url() -> str:
    import psycopg
    from psycopg.conninfo import make_conninfo

    from core.embedded import warehouse_database_url
    from core.settings import Settings

    warehouse = warehouse_database_url(Settings.from_env())
    with psycopg.connect(make_conninfo(warehouse, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return make_conninfo(warehouse, dbname=DATABASE)


def queries_for(entries: list[dict], rng: random.Random, count: int) -> list[tuple[str, str, dict[str, int]]]:
    """(kind, query text, graded relevance). Two kinds, alternating:
    - 'topic_mood' for a (tag, mood) pair, e.g. "worried about the exam": 2 = the tag and the mood, 1 = the tag;
    - 'topic' for a tag, phrased with one of its nouns, e.g. "the exam": 1 = entries with the tag.
    Only pairs with at least two grade-2 entries are asked."""
    from sources.generator import text

    pairs = sorted({(e["tag"], e["mood"]) for e in entries})
    rng.shuffle(pairs)
    out = []
    for n, (tag, mood) in enumerate(pairs):
        noun = rng.choice(text.TAG_BANK[tag]["noun"])
        if n % 2:
            grades = {e["id"]: 1 for e in entries if e["tag"] == tag}
            if len(grades) >= 2:
                out.append(("topic", noun, grades))
        else:
            grades = {e["id"]: (2 if e["mood"] == mood else 1) for e in entries if e["tag"] == tag}
            if sum(1 for g in grades.values() if g == 2) >= 2:
                out.append(("topic_mood", f"{QUERY_MOOD_WORDS[mood]} about {noun}", grades))
        if len(out) == count:
            break
    return out


def search_relevance(entries: list[dict], queries: int, seed: int) -> dict[str, Any]:
    import psycopg

    from assets.mood import text_model
    from assets.search import postgres as pg
    from assets.search.api import search_journal
    from bench.search import DDL, build_views

    url = _bench_url()
    encoder = text_model.encoder()
    user = str(uuid.UUID(int=seed))
    started = time.perf_counter()
    vectors = encoder.encode([f"{e['title']}\n{e['content']}" for e in entries])
    embed_seconds = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        conn.execute(DDL)
        conn.commit()
        build_views(url)  # the dbt views search reads, over the raw copies written below
        conn.execute("INSERT INTO raw_mindflow.users (id, email, _source_lsn) VALUES (%s, 'bench@example.com', '0/10')", (user,))
        conn.execute("INSERT INTO raw_mindflow.user_settings (user_id, private_mode, _source_lsn) VALUES (%s, false, '0/10')",
                     (user,))
        tag_ids = {t: str(uuid.UUID(int=i + 1)) for i, t in enumerate(sorted({e["tag"] for e in entries}))}
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO raw_mindflow.tags (id, name, _source_lsn) VALUES (%s, %s, '0/10')",
                            [(i, t) for t, i in tag_ids.items()])
            cur.executemany(
                "INSERT INTO raw_mindflow.journal_entries (id, user_id, date, title, content, mood, word_count, _source_lsn) "
                "VALUES (%s, %s, DATE '2024-01-01' + %s, %s, %s, %s, %s, '0/20')",
                [(e["id"], user, i, e["title"][:200], e["content"], e["mood"], len(e["content"].split()))
                 for i, e in enumerate(entries)])
            cur.executemany("INSERT INTO raw_mindflow.journal_entry_tags (journal_entry_id, tag_id, _source_lsn) "
                            "VALUES (%s, %s, '0/20')", [(e["id"], tag_ids[e["tag"]]) for e in entries])
            cur.executemany(
                "INSERT INTO vectors.journal_entries (source_id, chunk_index, model_id, user_id, content_hash, embedding) "
                "VALUES (%s, 0, %s, %s, md5(%s), %s::vector)",
                [(e["id"], encoder.model_id, user, e["id"], "[" + ",".join(f"{x:.6f}" for x in v) + "]")
                 for e, v in zip(entries, vectors)])
        conn.execute("INSERT INTO vectors.active_models VALUES ('journal_entries', %s, %s, now())",
                     (encoder.model_id, int(vectors.shape[1])))
        conn.commit()
    pg.rebuild(url, pg.JOURNAL_INDEX)
    backend = pg.PostgresBackend(url, encoder_for=lambda model_id: encoder)
    cases = queries_for(entries, random.Random(seed), queries)
    figures: dict[str, Any] = {"entries": len(entries), "queries": len(cases), "embed_seconds": round(embed_seconds, 1),
                               "example_queries": [q for _, q, _ in cases[:4]]}
    for mode in ("keyword", "semantic", "hybrid"):
        per_kind: dict[str, tuple[list[float], list[float]]] = {}
        for kind, q, grades in cases:
            ids = search_journal(q, user_id=user, mode=mode, limit=20, backend=backend).ids
            top = max(grades.values())
            ndcg, recall = per_kind.setdefault(kind, ([], []))
            ndcg.append(ndcg_at(ids, grades, 10))
            recall.append(recall_at(ids, {d for d, g in grades.items() if g == top}, 20))
        every = ([x for n, _ in per_kind.values() for x in n], [x for _, r in per_kind.values() for x in r])
        figures[mode] = {"ndcg_at_10": round(float(np.mean(every[0])), 4), "recall_at_20": round(float(np.mean(every[1])), 4),
                         **{kind: {"ndcg_at_10": round(float(np.mean(n)), 4), "recall_at_20": round(float(np.mean(r)), 4),
                                   "queries": len(n)} for kind, (n, r) in sorted(per_kind.items())}}
    backend.close()
    figures["hybrid_at_least_best_single"] = figures["hybrid"]["ndcg_at_10"] >= max(
        figures["keyword"]["ndcg_at_10"], figures["semantic"]["ndcg_at_10"])
    return figures


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="tessera bench nlp")
    parser.add_argument("--entries", type=int, default=600, help="generated journal entries")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args(argv)

    emotions, texts = eval_set()
    figures: dict[str, Any] = {"eval_set": {"texts": len(texts), "source": str(DATA.relative_to(DATA.parent.parent.parent))}}
    figures["eval_set"].update(score_texts(
        texts, [True if e in POSITIVE else False if e in NEGATIVE else None for e in emotions],
        [EMOTION_MOOD.get(e) for e in emotions]))
    entries = generated_entries(args.entries, args.seed)
    gen_texts = [f"{e['title']}\n{e['content']}" for e in entries]
    figures["generated"] = {"texts": len(entries), **score_texts(
        gen_texts, [True if e["mood"] in ("ecstatic", "happy") else False if e["mood"] in ("sad", "anxious", "angry")
                    else None for e in entries], [e["mood"] for e in entries])}
    from assets.mood import scoring

    figures["generated"]["label_prior_mae"] = {"label_only": round(sum(
        abs(scoring.MOOD_SCORES[e["mood"]] - e["valence"]) for e in entries) / len(entries), 4),
        **prior_weights(entries, scoring.text_valences(gen_texts)), "shipped_text_weight": scoring.TEXT_WEIGHT}
    if not args.skip_search:
        figures["search_relevance"] = search_relevance(entries, args.queries, args.seed)
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
