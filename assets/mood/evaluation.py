"""How good is mood_score? Compare label-only and refined scores with the generator's ground truth.

The generator writes public.generator_entry_truth(entry_id, valence) into the SOURCE database: the latent
valence each entry's text was written from. For the entries of analytics.mood_events we compute the
label-only score (scoring.label_score) and take the stored score (refined where AI-eligible), and report
mean absolute error and Pearson correlation of both against the truth, over all entries and over the
AI-eligible ones (the only entries the text may refine). Inferred moods (`mood_source = 'inferred'`, entries
saved without a label) are compared with the mood the generator wrote their text from (truth `mood`):
accuracy over the six moods and over sad / anxious / angry / happy.
"""

from __future__ import annotations

import math

import psycopg


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return None if sxx == 0 or syy == 0 else sxy / math.sqrt(sxx * syy)


def compare(truth: list[float], label: list[float], refined: list[float]) -> dict:
    n = len(truth)
    if not n:
        return {"n": 0}
    return {
        "n": n,
        "label_only_mae": round(sum(abs(t - l) for t, l in zip(truth, label)) / n, 4),
        "refined_mae": round(sum(abs(t - r) for t, r in zip(truth, refined)) / n, 4),
        "label_only_r": round(_pearson(truth, label) or 0.0, 4),
        "refined_r": round(_pearson(truth, refined) or 0.0, 4),
    }


def evaluate_scores(source_url: str, warehouse_url: str) -> dict:
    from assets.mood.scoring import MOOD_SCORES

    with psycopg.connect(source_url) as src:
        truth = {str(k): float(v) for k, v in src.execute(
            "SELECT entry_id, valence FROM public.generator_entry_truth").fetchall()}
    with psycopg.connect(warehouse_url) as wh:
        rows = wh.execute(
            "SELECT m.journal_entry_id::text, m.mood, m.mood_score::float8, e.ai_eligible "
            "  FROM analytics.mood_events m"
            "  JOIN eligibility.eligible_journal_entries e ON e.id = m.journal_entry_id").fetchall()
    out = {"inferred": inferred_accuracy(source_url, warehouse_url)}
    for name, keep in (("all", lambda el: True), ("ai_eligible", lambda el: el)):
        sel = [(truth[i], MOOD_SCORES[m], s) for i, m, s, el in rows if i in truth and keep(el)]
        out[name] = compare([t for t, _, _ in sel], [l for _, l, _ in sel], [s for _, _, s in sel])
    return out


def inferred_accuracy(source_url: str, warehouse_url: str) -> dict:
    with psycopg.connect(source_url) as src:
        truth = {str(k): m for k, m in src.execute(
            "SELECT entry_id, mood FROM public.generator_entry_truth WHERE mood IS NOT NULL").fetchall()}
    with psycopg.connect(warehouse_url) as wh:
        rows = [(str(i), m) for i, m in wh.execute(
            "SELECT journal_entry_id, mood FROM analytics.mood_events WHERE mood_source = 'inferred'").fetchall()]
    pairs = [(truth[i], m) for i, m in rows if i in truth]
    four = [(t, m) for t, m in pairs if t in ("sad", "anxious", "angry", "happy")]
    return {"n": len(pairs),
            "accuracy": round(sum(t == m for t, m in pairs) / len(pairs), 4) if pairs else None,
            "accuracy_sad_anxious_angry_happy": round(sum(t == m for t, m in four) / len(four), 4) if four else None}
