"""Querying the Postgres search index: keyword (full text), semantic (pgvector) and hybrid (reciprocal
rank fusion in SQL), with highlights and facets, in one statement per search; and tag autocomplete.

Every query is scoped in SQL: journal documents by `user_id`, stories by the indexed access fields
(`is_public OR readers @> ARRAY[user]`). Semantic and hybrid arms only read rows with `ai_eligible` and a
vector. Statement building is pure (tested without a server); the functions at the end run one search on a
connection and turn its rows into the interface's values. Building the index is index.py.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import psycopg
from psycopg import sql

from assets.search.analysis import POST_TAG, PRE_TAG, escape_like, normalize_tag_prefix, restore_fragments
from assets.search.model import Hit, JournalQuery, SearchResult, StoryQuery, candidate_count
from assets.search.postgres.layout import JOURNAL_INDEX, SCHEMA, STORY_INDEX, PgIndex
from assets.search.rrf import RRF_K

_HEADLINE_OPTIONS = (f'StartSel={PRE_TAG}, StopSel={POST_TAG}, MaxFragments=3, MaxWords=20, MinWords=6, '
                     'FragmentDelimiter="\x1e"')
_TITLE_OPTIONS = f"StartSel={PRE_TAG}, StopSel={POST_TAG}, HighlightAll=true"
TAG_FACET_SIZE = 20


def vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


def journal_conditions(query: JournalQuery) -> tuple[list[sql.Composable], dict[str, Any]]:
    """WHERE conditions of a journal query: the user scope first, then the filters."""
    conditions: list[sql.Composable] = [sql.SQL("d.user_id = %(user_id)s::uuid")]
    params: dict[str, Any] = {"user_id": str(query.user_id)}
    if query.moods:
        conditions.append(sql.SQL("d.mood = ANY(%(moods)s::text[])"))
        params["moods"] = [m.lower() for m in query.moods]
    if query.tags:
        conditions.append(sql.SQL("d.tags @> %(tags)s::text[]"))
        params["tags"] = [t.strip().lower() for t in query.tags]
    if query.date_from:
        conditions.append(sql.SQL("d.date >= %(date_from)s::date"))
        params["date_from"] = query.date_from
    if query.date_to:
        conditions.append(sql.SQL("d.date <= %(date_to)s::date"))
        params["date_to"] = query.date_to
    return conditions, params


def story_conditions(query: StoryQuery) -> tuple[list[sql.Composable], dict[str, Any]]:
    """WHERE conditions of a story query: the access scope (indexed fields) first, then the filters."""
    conditions: list[sql.Composable] = [sql.SQL("(d.is_public OR d.readers @> ARRAY[%(user_id)s::uuid])")]
    params: dict[str, Any] = {"user_id": str(query.user_id)}
    if query.tags:
        conditions.append(sql.SQL("d.tags @> %(tags)s::text[]"))
        params["tags"] = list(query.tags)
    if query.legacy_id:
        conditions.append(sql.SQL("d.legacy_id = %(legacy_id)s::uuid"))
        params["legacy_id"] = str(query.legacy_id)
    if query.story_types:
        conditions.append(sql.SQL("d.story_type = ANY(%(story_types)s::text[])"))
        params["story_types"] = list(query.story_types)
    if query.date_from:
        conditions.append(sql.SQL("d.created_at >= %(date_from)s::date"))
        params["date_from"] = query.date_from
    if query.date_to:
        conditions.append(sql.SQL("d.created_at < %(date_to)s::date + 1"))
        params["date_to"] = query.date_to
    return conditions, params


def ranked_cte(mode: str, *, view: sql.Composable, conditions: list[sql.Composable], vector_condition: sql.Composable,
               date_column: str, has_text: bool) -> sql.Composed:
    """The `ranked(id, score, position)` CTE body for one mode. `position` is the final order."""
    date_col = sql.Identifier("d", date_column)
    where = sql.SQL(" AND ").join(conditions)
    keyword_where = sql.SQL(" AND ").join([*conditions, sql.SQL("d.tsv @@ q.query")])
    if mode == "keyword":
        if not has_text:  # no text: the user's (filtered) documents, newest first
            return sql.SQL(
                "SELECT d.id, 0::float8 AS score, row_number() OVER (ORDER BY {date} DESC, d.id) AS position "
                "FROM {view} d WHERE {where}").format(date=date_col, view=view, where=where)
        return sql.SQL(
            "SELECT d.id, ts_rank_cd(d.tsv, q.query)::float8 AS score, "
            "row_number() OVER (ORDER BY ts_rank_cd(d.tsv, q.query) DESC, {date} DESC, d.id) AS position "
            "FROM {view} d, q WHERE {where}").format(date=date_col, view=view, where=keyword_where)
    semantic = sql.SQL(
        "SELECT id, score, position FROM ("
        " SELECT d.id, (1 - (d.embedding <=> q.qv))::float8 AS score,"
        " row_number() OVER (ORDER BY d.embedding <=> q.qv, d.id) AS position"
        " FROM {view} d, q WHERE {where} AND {vec}) s WHERE position <= %(candidates)s"
    ).format(view=view, where=where, vec=vector_condition)
    if mode == "semantic":
        return semantic
    # hybrid: reciprocal rank fusion, score(d) = sum over the two rankings of 1 / (k + rank), k = 60
    # (Cormack, Clarke & Büttcher 2009; the same formula and tie-breaks as assets/search/rrf.py). Both
    # arms only see documents with a vector, so a hybrid hit is always an AI-eligible document.
    keyword_arm = sql.SQL(
        "SELECT id, position AS rank FROM ("
        " SELECT d.id, row_number() OVER (ORDER BY ts_rank_cd(d.tsv, q.query) DESC, {date} DESC, d.id) AS position"
        " FROM {view} d, q WHERE {where} AND {vec}) k WHERE position <= %(candidates)s"
    ).format(date=date_col, view=view, where=keyword_where, vec=vector_condition)
    return sql.SQL(
        "SELECT id, sum(1.0 / ({k} + rank))::float8 AS score,"
        " row_number() OVER (ORDER BY sum(1.0 / ({k} + rank)) DESC, min(rank), id) AS position"
        " FROM ({kw} UNION ALL SELECT id, position AS rank FROM ({sem}) s) arms GROUP BY id"
    ).format(k=sql.Literal(RRF_K), kw=keyword_arm, sem=semantic)


def _facet_sql(view: sql.Composable, name: str, expression: str, size: int | None) -> sql.Composed:
    unnest = expression.startswith("unnest")
    source = (sql.SQL("ranked r JOIN {view} d ON d.id = r.id CROSS JOIN LATERAL {expr} AS f(value)")
              if unnest else sql.SQL("ranked r JOIN {view} d ON d.id = r.id, LATERAL (SELECT {expr} AS value) f"))
    limit = sql.SQL("LIMIT {}").format(sql.Literal(size)) if size else sql.SQL("")
    return sql.SQL(
        "(SELECT coalesce(jsonb_agg(jsonb_build_array(value, n) ORDER BY n DESC, value), '[]'::jsonb) FROM ("
        " SELECT f.value, count(*) AS n FROM {source} WHERE f.value IS NOT NULL GROUP BY f.value"
        " ORDER BY n DESC, f.value {limit}) x) AS {name}"
    ).format(source=source.format(view=view, expr=sql.SQL(expression)), limit=limit, name=sql.Identifier(name))


def search_statement(mode: str, *, view: sql.Composable, conditions: list[sql.Composable],
                     vector_condition: sql.Composable, date_column: str, has_text: bool,
                     display: Sequence[str], facets: Sequence[tuple[str, str, int | None]]) -> sql.Composed:
    """One statement: ranked candidates, the top `limit` hits with highlights, and facet counts over all
    candidates (keyword: every match; semantic: the nearest candidates; hybrid: the fused candidates)."""
    q_parts = [sql.SQL("websearch_to_tsquery('english', search.fold(%(text)s)) AS query")]
    if mode != "keyword":
        q_parts.append(sql.SQL("%(qv)s::vector AS qv"))
    facet_columns = [_facet_sql(view, name, expr, size) for name, expr, size in facets]
    return sql.SQL(
        "WITH q AS MATERIALIZED (SELECT {q}), ranked AS MATERIALIZED ({ranked}) "
        "SELECT d.id::text, r.score, {display}, "
        "ts_headline('english', search.fold(d.title), q.query, {title_opts}) AS title_hl, "
        "ts_headline('english', search.fold(d.content), q.query, {content_opts}) AS content_hl, "
        "{facets} "
        "FROM (SELECT * FROM ranked ORDER BY position LIMIT %(limit)s) r JOIN {view} d ON d.id = r.id, q "
        "ORDER BY r.position"
    ).format(
        q=sql.SQL(", ").join(q_parts),
        ranked=ranked_cte(mode, view=view, conditions=conditions, vector_condition=vector_condition,
                          date_column=date_column, has_text=has_text),
        display=sql.SQL(", ").join(sql.Identifier("d", c) for c in display),
        title_opts=sql.Literal(_TITLE_OPTIONS), content_opts=sql.Literal(_HEADLINE_OPTIONS),
        facets=sql.SQL(", ").join(facet_columns), view=view,
    )


def _highlights(title_hl: str | None, content_hl: str | None, title: str, content: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if title_hl and PRE_TAG in title_hl:
        out["title"] = restore_fragments([title_hl], title)
    if content_hl and PRE_TAG in content_hl:
        fragments = [f for f in content_hl.split("\x1e") if PRE_TAG in f]
        out["content"] = restore_fragments(fragments, content)
    return out


def _facet_dict(value: Any) -> dict[str, int]:
    return {str(v): int(n) for v, n in (value or [])}



# ---------------------------------------------------------------------------------------------------
# Running a search on a connection
# ---------------------------------------------------------------------------------------------------

def _run(conn: psycopg.Connection, index: PgIndex, mode: str, text: str, conditions, params, *,
         query_vector: str | None, vector_condition: sql.Composable, date_column: str, display: Sequence[str],
         facets: Sequence[tuple[str, str, int | None]], limit: int) -> list[tuple]:
    params = dict(params, text=text, limit=limit, candidates=candidate_count(limit))
    if mode != "keyword":
        if query_vector is None:
            raise ValueError(f"a {mode} search needs the query's vector")
        params["qv"] = query_vector
    statement = search_statement(mode, view=sql.Identifier(SCHEMA, index.name), conditions=conditions,
                                 vector_condition=vector_condition, date_column=date_column,
                                 has_text=bool(text.strip()), display=display, facets=facets)
    return conn.execute(statement, params).fetchall()


def run_journal_search(conn: psycopg.Connection, query: JournalQuery, query_vector: str | None,
                       backend: str = "postgres", *, started: float | None = None) -> SearchResult:
    """One journal search (validated by the caller); `query_vector` is needed unless the mode is keyword."""
    started = time.perf_counter() if started is None else started
    conditions, params = journal_conditions(query)
    rows = _run(conn, JOURNAL_INDEX, query.mode, query.text, conditions, params, query_vector=query_vector,
                vector_condition=sql.SQL("d.ai_eligible AND d.embedding IS NOT NULL"),
                date_column="date", display=("title", "content", "date", "mood", "tags"),
                facets=(("mood", "d.mood", None), ("tags", "unnest(d.tags)", TAG_FACET_SIZE)),
                limit=query.limit)
    hits = [Hit(id=r[0], score=float(r[1]), title=r[2], date=r[4], mood=r[5], tags=tuple(r[6]),
                highlights=_highlights(r[7], r[8], r[2], r[3])) for r in rows]
    facets = {"mood": _facet_dict(rows[0][9]), "tags": _facet_dict(rows[0][10])} if rows else {"mood": {}, "tags": {}}
    return SearchResult(hits, facets, (time.perf_counter() - started) * 1000, query.mode, backend)


def run_story_search(conn: psycopg.Connection, query: StoryQuery, query_vector: str | None,
                     backend: str = "postgres", *, started: float | None = None) -> SearchResult:
    """One story search over the stories the user may access."""
    started = time.perf_counter() if started is None else started
    conditions, params = story_conditions(query)
    rows = _run(conn, STORY_INDEX, query.mode, query.text, conditions, params, query_vector=query_vector,
                vector_condition=sql.SQL("d.embedding IS NOT NULL"), date_column="created_at",
                display=("title", "content", "created_at", "tags", "legacy_id", "legacy_name",
                         "story_type", "visibility"),
                facets=(("tags", "unnest(d.tags)", TAG_FACET_SIZE), ("story_type", "d.story_type", None),
                        ("legacy", "d.legacy_name", TAG_FACET_SIZE)),
                limit=query.limit)
    hits = [Hit(id=r[0], score=float(r[1]), title=r[2], date=r[4].date() if r[4] else None, tags=tuple(r[5]),
                highlights=_highlights(r[10], r[11], r[2], r[3]),
                extra={"legacy_id": str(r[6]), "legacy": r[7], "story_type": r[8], "visibility": r[9]})
            for r in rows]
    facets = ({"tags": _facet_dict(rows[0][12]), "story_type": _facet_dict(rows[0][13]),
               "legacy": _facet_dict(rows[0][14])} if rows else {"tags": {}, "story_type": {}, "legacy": {}})
    return SearchResult(hits, facets, (time.perf_counter() - started) * 1000, query.mode, backend)


def tag_prefix_pattern(prefix: str) -> str:
    """The LIKE pattern of an autocomplete prefix (folded like the stored tags, wildcards escaped)."""
    return escape_like(normalize_tag_prefix(prefix)) + "%"


def run_tag_autocomplete(conn: psycopg.Connection, prefix: str, *, user_id: str, limit: int = 10) -> list[str]:
    """The user's own tags starting with `prefix` (accent- and case-insensitive), most used first."""
    if not user_id:
        raise ValueError("autocomplete names the user it runs for (user_id)")
    rows = conn.execute(
        sql.SQL("SELECT tag FROM {} WHERE user_id = %s::uuid AND tag_folded LIKE %s "
                "ORDER BY doc_count DESC, tag LIMIT %s").format(sql.Identifier(SCHEMA, JOURNAL_INDEX.tags_view)),
        (str(user_id), tag_prefix_pattern(prefix), limit)).fetchall()
    return [r[0] for r in rows]
