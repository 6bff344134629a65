"""Summary, milestones and suggestions assembled from the numbers and the top themes (pure).

Nothing here sees entry text: inputs are the period's numeric columns and theme objects (which come
only from AI-eligible entries). An optional OpenAI-compatible endpoint can rewrite the summary
(`llm_summary`): off unless TESSERA_LLM_URL is set at run time AND the asset is configured with
use_llm=True; it receives the same facts (numbers and theme names), never entry text, and any failure
falls back to the extractive summary. Tests never call it.
"""

from __future__ import annotations

import json
import os

ENTRY_MILESTONES = (10, 25, 50, 100, 250, 500, 1000)
WORD_MILESTONES = (1_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000)
PERIOD_NOUN = {"weekly": "week", "monthly": "month", "yearly": "year", "custom": "period"}


def _pct(value) -> str:
    return "n/a" if value is None else f"{float(value):g}%"


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def summary(insight_type: str, stats: dict, themes: list[dict]) -> str:
    noun = PERIOD_NOUN[insight_type]
    n = stats["entries_analyzed"]
    parts = [f"This {noun} you wrote {n} {'entry' if n == 1 else 'entries'} ({stats['total_words']} words, "
             f"about {stats['average_words']} per entry)."]
    if stats.get("dominant_mood"):
        parts.append(f"Your mood was mostly {stats['dominant_mood']} ({_pct(stats['mood_positive_pct'])} positive, "
                     f"{_pct(stats['mood_neutral_pct'])} neutral, {_pct(stats['mood_negative_pct'])} negative).")
    if themes:
        parts.append(f"Recurring themes: {_join([t['name'] for t in themes[:3]])}.")
    if stats.get("most_productive_day"):
        parts.append(f"You wrote most on {stats['most_productive_day']}; your longest streak was "
                     f"{stats['longest_streak']} day{'s' if stats['longest_streak'] != 1 else ''}.")
    return " ".join(parts)


def milestones(insight_type: str, stats: dict, period_days: int) -> list[str]:
    out = []
    before, now = stats["entries_before"], stats["entries_before"] + stats["entries_analyzed"]
    out += [f"Reached {m} journal entries" for m in ENTRY_MILESTONES if before < m <= now]
    wb, wn = stats["words_before"], stats["words_before"] + stats["total_words"]
    out += [f"Wrote {m:,} words in total" for m in WORD_MILESTONES if wb < m <= wn]
    if stats["longest_streak"] and stats["longest_streak"] >= 7:
        out.append(f"Completed a {stats['longest_streak']}-day writing streak")
    if stats["entries_analyzed"] >= period_days:
        out.append(f"Journaled every day this {PERIOD_NOUN[insight_type]}")
    return out


def suggestions(insight_type: str, stats: dict, themes: list[dict]) -> list[str]:
    out = []
    neg = float(stats["mood_negative_pct"] or 0)
    if neg >= 50:
        out.append("Try ending difficult days with three things you are grateful for")
    if stats["average_words"] < 40:
        out.append("Try writing a few more sentences: longer entries reveal clearer patterns")
    if insight_type == "weekly" and (stats["longest_streak"] or 0) < 3:
        out.append("Try journaling at the same time each day to build a streak")
    scored = [t for t in themes if t.get("sentiment") is not None]
    if scored:
        low = min(scored, key=lambda t: (t["sentiment"], t["name"]))
        high = max(scored, key=lambda t: (t["sentiment"], t["name"]))
        if low["sentiment"] <= -0.3:
            out.append(f"Reflect on what weighs on you around '{low['name']}'")
        if high["sentiment"] >= 0.3:
            out.append(f"Make room for more '{high['name']}': it shows up on your good days")
    if not out:
        out.append("Keep going: your consistency is paying off")
    return out


def llm_summary(insight_type: str, stats: dict, themes: list[dict], *, enabled: bool) -> str | None:
    """Optional rewrite of the summary by an OpenAI-compatible endpoint (facts only, never entry text)."""
    url = os.environ.get("TESSERA_LLM_URL")
    if not enabled or not url:
        return None
    import urllib.request

    facts = {k: (str(v) if v is not None else None) for k, v in stats.items() if not k.endswith("_before")}
    facts["themes"] = [t["name"] for t in themes]
    body = json.dumps({
        "model": os.environ.get("TESSERA_LLM_MODEL", "default"),
        "messages": [
            {"role": "system", "content": "Write a warm two-sentence journal insight from these facts only."},
            {"role": "user", "content": json.dumps({"period": insight_type, **facts})},
        ],
    }).encode()
    req = urllib.request.Request(url.rstrip("/") + "/v1/chat/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())["choices"][0]["message"]["content"].strip() or None
    except Exception:
        return None
