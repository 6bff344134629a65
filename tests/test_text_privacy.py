"""Privacy rule 2 for the text models: infer_mood / text valence and the keyword extractor never read the
text of an ineligible entry (private entry, or any entry of a user in private mode).

Method: a canary word is appended to every ineligible entry; the text functions are wrapped to record
every text they receive (the real functions still run), the mood events and the insights are built, and
neither the recorded inputs nor any output holds the canary. A second canary in eligible entries shows
the recording sees what it should (the method can detect a leak)."""

from __future__ import annotations

import psycopg

from test_mood_events import read, run_events
from test_mood_helpers import build_dataset, sync

PRIVATE_CANARY = "quokkazebra"
PUBLIC_CANARY = "velvetcanary"


def test_text_models_never_read_ineligible_text(databases, monkeypatch):
    from assets.insights.build import build_period
    from assets.mood import keywords, scoring

    src, wh = databases.source_url, databases.warehouse_url
    ds = build_dataset(src)
    ineligible = [eid for eid, e in ds.entries.items() if e["private"] or e["user_id"] == ds.private_mode_user]
    eligible = [eid for eid in ds.entries if eid not in set(ineligible)]
    assert ineligible and eligible
    with psycopg.connect(src) as conn:
        # the unlabelled case too: an ineligible entry without a mood must not be inferred from its text
        conn.execute("UPDATE mindflow.journal_entries SET content = content || %s, mood = NULL WHERE id = ANY(%s)",
                     (f" {PRIVATE_CANARY}" * 5, ineligible))
        conn.execute("UPDATE mindflow.journal_entries SET content = content || %s WHERE id = ANY(%s)",
                     (f" {PUBLIC_CANARY}" * 5, eligible[:4]))
        # an eligible entry whose text contradicts its label, and one saved without a mood
        conn.execute("UPDATE mindflow.journal_entries SET mood = 'ecstatic', content = %s WHERE id = %s",
                     ("My best friend died last night. I cried for hours and I feel empty and hopeless.", eligible[5]))
        conn.execute("UPDATE mindflow.journal_entries SET mood = NULL, content = %s WHERE id = %s",
                     ("I am terrified about the biopsy results tomorrow and I cannot sleep.", eligible[6]))
    sync(src, wh)

    seen: list[str] = []
    real_read, real_phrases = scoring.read_texts, keywords.key_phrases

    def record_read(texts):
        seen.extend(t or "" for t in texts)
        return real_read(texts)

    def record_phrases(text, *args, **kwargs):
        seen.append(text or "")
        return real_phrases(text, *args, **kwargs)

    monkeypatch.setattr(scoring, "read_texts", record_read)
    monkeypatch.setattr(keywords, "key_phrases", record_phrases)

    run_events(wh)
    with psycopg.connect(wh) as conn:
        build_period(conn, "custom", ds.first_day, ds.last_day)
        conn.commit()

    joined = " ".join(seen)
    assert PUBLIC_CANARY in joined  # the recording does see eligible text
    assert PRIVATE_CANARY not in joined
    # outputs: no inferred mood for an ineligible entry, no canary in any insight
    inferred = read(wh, "SELECT journal_entry_id::text AS id FROM analytics.mood_events WHERE mood_source = 'inferred'")
    assert not set(inferred.id) & {str(e) for e in ineligible}
    assert str(eligible[6]) in set(inferred.id)
    flagged = read(wh, "SELECT journal_entry_id::text AS id FROM analytics.mood_events WHERE text_conflict")
    assert str(eligible[5]) in set(flagged.id)
    insights = read(wh, "SELECT themes::text AS t, summary FROM analytics.journal_insights")
    assert len(insights) > 0
    assert PRIVATE_CANARY not in " ".join(insights.t) + " ".join(insights.summary)
    # ineligible entries saved without a mood have no mood row at all (their text is never read)
    count = read(wh, "SELECT count(*) AS n FROM analytics.mood_events WHERE journal_entry_id = ANY(%s::uuid[])",
                 ([str(e) for e in ineligible],))
    assert int(count.n[0]) == 0


def test_story_keywords_and_sentiment_read_only_the_story(monkeypatch):
    """Pure: Mosaic metadata is a function of title + content alone (nothing else is passed in)."""
    from assets.mood import keywords, scoring
    from assets.persona import plugin_metadata

    seen: list[str] = []
    real_read = scoring.read_texts
    monkeypatch.setattr(scoring, "read_texts", lambda texts: seen.extend(texts) or real_read(texts))
    meta = plugin_metadata.story_metadata("Sunday lunches", "She loved cooking for everyone on Sundays.")
    assert seen == ["Sunday lunches\nShe loved cooking for everyone on Sundays."]
    assert meta["sentiment"]["label"] == "positive"
    assert all(k["term"] in seen[0].lower() for k in meta["keywords"]["keywords"])
    assert keywords.keywords("") == []
