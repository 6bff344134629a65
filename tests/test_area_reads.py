"""The embeddings, search, mood and insights areas read the dbt models (eligibility, staging,
intermediate), never the raw copies ingest owns: each privacy and quarantine rule is written once, in
dbt, and a change to it reaches every derived store. The check reads the areas' files (pure)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
AREAS = ("embeddings", "search", "mood", "insights")
RAW_SCHEMA = re.compile(r"\braw_(mindflow|mosaic|personakit|coach|devassist)\b")
NOT_YET: set[tuple[str, str]] = set()  # (file, schema) pairs allowed to read a raw copy: none


def raw_reads(root: Path = REPO) -> list[tuple[str, int, str]]:
    found = []
    for area in AREAS:
        for path in sorted((root / "assets" / area).rglob("*")):
            if path.suffix not in (".py", ".sql") or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            for number, line in enumerate(path.read_text().splitlines(), 1):
                for match in RAW_SCHEMA.finditer(line):
                    if (rel, match.group(0)) not in NOT_YET:
                        found.append((rel, number, line.strip()))
    return found


def test_the_areas_read_no_raw_copy():
    assert raw_reads() == []


def test_the_scan_sees_a_raw_read(tmp_path):
    sql_dir = tmp_path / "assets" / "search" / "sql"
    sql_dir.mkdir(parents=True)
    (sql_dir / "q.sql").write_text("SELECT 1\nFROM raw_mindflow.journal_entries e\n")
    assert raw_reads(tmp_path) == [("assets/search/sql/q.sql", 2, "FROM raw_mindflow.journal_entries e")]


def test_the_embedded_sources_depend_on_what_they_read():
    from assets.embeddings.sources import SOURCES

    for source in SOURCES:
        text = (REPO / "assets" / "embeddings" / "sql" / f"eligible_{source.table}.sql").read_text()
        for schema, name in source.upstream:
            assert f"{schema}.{name}" in text, (source.table, schema, name)


def test_a_rule_changed_in_the_eligibility_model_reaches_every_area(modelled):
    """Rule 2 changed in one place (the model eligibility.eligible_journal_entries: one more author whose
    text may not reach AI outputs) changes what embeddings, search, mood and insights read, with no
    change to any area."""
    import psycopg
    from psycopg import sql

    from assets.embeddings.sources import get_source
    from assets.insights.build import period_stats
    from assets.mood.events import maintain_events
    from assets.search import postgres as pg

    with psycopg.connect(modelled.warehouse_url) as conn:
        author, first, last = conn.execute(
            "SELECT user_id, min(entry_date), max(entry_date) FROM eligibility.eligible_journal_entries"
            " WHERE ai_eligible GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1").fetchone()
    span = (first.replace(day=1), last)

    def what_the_areas_read() -> dict[str, int]:
        pg.rebuild(modelled.warehouse_url, pg.JOURNAL_INDEX)
        with psycopg.connect(modelled.warehouse_url) as conn:
            embeddable = conn.execute(sql.SQL("SELECT count(*) FROM ({}) q WHERE q.user_id = %s").format(
                get_source("journal_entries").eligible_query()), (author,)).fetchone()[0]
            maintain_events(conn, full=True)
            conn.commit()
            valences = conn.execute("SELECT count(text_valence) FROM analytics.mood_events WHERE user_id = %s",
                                    (author,)).fetchone()[0]
            searchable, ai_docs = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE ai_eligible) FROM search.journal_documents WHERE user_id = %s",
                (author,)).fetchone()
            insights = sum(1 for s in period_stats(conn, *span) if s["user_id"] == author)
        return {"embeddable": embeddable, "text_valences": valences, "searchable": searchable,
                "ai_documents": ai_docs, "insight_rows": insights}

    before = what_the_areas_read()
    assert all(before.values()), before

    with psycopg.connect(modelled.warehouse_url) as conn:  # the rule, changed in the model only
        columns = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'eligibility'"
            " AND table_name = 'eligible_journal_entries' ORDER BY ordinal_position").fetchall()]
        conn.execute("ALTER VIEW eligibility.eligible_journal_entries RENAME TO eligible_journal_entries_before")
        conn.execute(sql.SQL("CREATE VIEW eligibility.eligible_journal_entries AS SELECT {} FROM "
                             "eligibility.eligible_journal_entries_before r").format(sql.SQL(", ").join(
            sql.SQL("(r.ai_eligible AND r.user_id <> {}) AS ai_eligible").format(sql.Literal(author))
            if c == "ai_eligible" else sql.Identifier("r", c) for c in columns)))
        conn.commit()

    after = what_the_areas_read()
    assert after == {"embeddable": 0, "text_valences": 0, "searchable": before["searchable"],
                     "ai_documents": 0, "insight_rows": 0}
