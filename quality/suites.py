"""Expectation suites as data: one per raw table (from the source registry) and one per mart,
analytics and vector table (by name: they may not be built yet).

An expectation is a GX Core expectation class name plus its arguments, a severity and the columns it
needs. `expectations_for` turns a suite into the expectations to run against what the table holds
today (its columns, the previous run's row count and null rates, the source's foreign keys); it is
pure, so it is tested without GX or Dagster. quality/gx_runner.py hands the result to GX.

Severity: "error" = bad data that would poison what is derived from the table (a blocking check stops
downstream); "warn" = worth a look, nothing is stopped (volume and null-rate drift, referential
integrity lag between raw copies, the seeds' soft rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quality.rules import ROW_RULES, RowRule
from sources.registry import TABLES, SourceTable

ERROR, WARN = "error", "warn"

MOODS = ["ecstatic", "happy", "neutral", "sad", "anxious", "angry"]
EMBEDDING_DIMENSIONS = 384  # all-MiniLM-L6-v2, the model the embedding area uses by default
VOLUME_BAND = (0.5, 2.0)  # this run's row count against the previous run's
VOLUME_SLACK = 20  # rows: tiny tables may move more than the band
NULL_RATE_DRIFT = 0.2  # absolute change of a column's NULL fraction between runs


@dataclass(frozen=True)
class Expect:
    id: str  # stable within the suite, e.g. "key_unique", "rule:story_content_not_empty"
    type: str  # GX Core expectation class (great_expectations.expectations.<type>)
    kwargs: dict
    severity: str = ERROR
    needs: tuple[str, ...] = ()  # columns that must exist; otherwise reported as skipped
    description: str = ""


@dataclass(frozen=True)
class Suite:
    schema: str
    table: str
    area: str  # raw | marts | analytics | vectors
    blocking: bool
    key: tuple[str, ...] = ()
    static: tuple[Expect, ...] = ()
    source: SourceTable | None = None
    description: str = ""

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def asset_key(self) -> list[str]:
        return [self.schema, self.table]


@dataclass(frozen=True)
class ForeignKey:
    table: str  # "<product>.<table>" of the referencing table
    columns: tuple[str, ...]
    parent: str  # "<product>.<table>"
    parent_columns: tuple[str, ...]


@dataclass(frozen=True)
class TableFacts:
    """What the table holds today, gathered by the runner before the suite is built."""

    columns: dict[str, str]  # column -> formatted type
    row_count: int
    null_fractions: dict[str, float]
    previous_row_count: int | None = None
    previous_null_fractions: dict[str, float] = field(default_factory=dict)
    foreign_keys: tuple[ForeignKey, ...] = ()


# ---------------------------------------------------------------------------------------------
# Small constructors
# ---------------------------------------------------------------------------------------------

def not_null(column: str, severity: str = ERROR) -> Expect:
    return Expect(f"not_null:{column}", "ExpectColumnValuesToNotBeNull", {"column": column}, severity, (column,))


def unique(columns: tuple[str, ...], severity: str = ERROR) -> Expect:
    if len(columns) == 1:
        return Expect(f"unique:{columns[0]}", "ExpectColumnValuesToBeUnique", {"column": columns[0]}, severity, columns)
    return Expect(
        f"unique:{'+'.join(columns)}", "ExpectCompoundColumnsToBeUnique", {"column_list": list(columns)}, severity, columns
    )


def between(column: str, low, high, severity: str = ERROR, description: str = "") -> Expect:
    return Expect(
        f"between:{column}",
        "ExpectColumnValuesToBeBetween",
        {"column": column, "min_value": low, "max_value": high},
        severity,
        (column,),
        description,
    )


def in_set(column: str, values: list, severity: str = ERROR) -> Expect:
    return Expect(f"in_set:{column}", "ExpectColumnValuesToBeInSet", {"column": column, "value_set": values}, severity, (column,))


def no_rows(id: str, query: str, severity: str, needs: tuple[str, ...] = (), description: str = "") -> Expect:
    """An UnexpectedRowsExpectation: `query` selects the bad rows from `{batch}` (aliased t)."""
    full = f"SELECT t.* FROM (SELECT * FROM {{batch}}) AS t WHERE {query}"
    return Expect(id, "UnexpectedRowsExpectation", {"unexpected_rows_query": full, "description": description or id},
                  severity, needs, description)


def not_quarantined_rows(id: str, source_table: str, key_column: str, severity: str = ERROR) -> Expect:
    """Derived tables must skip rows in quality.active_quarantine."""
    return no_rows(
        id,
        f"EXISTS (SELECT 1 FROM quality.active_quarantine aq WHERE aq.source_table = '{source_table}' "
        f"AND aq.record_key = t.{key_column}::text)",
        severity,
        (key_column,),
        f"rows of {source_table} in quarantine must not reach this table",
    )


def quarantined_rows_flagged(id: str, source_table: str, key_column: str, flag_column: str,
                             severity: str = ERROR) -> Expect:
    """Read views keep rows that break a quality rule and flag them: every row of `source_table` in
    quality.active_quarantine must carry `flag_column` true (and no clean row may)."""
    return no_rows(
        id,
        f"t.{flag_column} IS DISTINCT FROM EXISTS (SELECT 1 FROM quality.active_quarantine aq "
        f"WHERE aq.source_table = '{source_table}' AND aq.record_key = t.{key_column}::text)",
        severity,
        (key_column, flag_column),
        f"rows of {source_table} in quarantine are flagged in {flag_column}, and only they",
    )


def rule_expectation(rule: RowRule) -> Expect:
    """A row-level rule as an expectation: breaking rows must all be in the quarantine.

    Warning severity on the raw table: the quarantine asset runs after the raw tables and catches
    these rows (its own blocking check proves none is left out). An error here would block the very
    quarantine run that handles a newly arrived break, so it would never be released from the block."""
    from quality.rules import unquarantined_failures_sql

    return Expect(
        f"rule:{rule.id}",
        "UnexpectedRowsExpectation",
        {"unexpected_rows_query": unquarantined_failures_sql(rule), "description": f"{rule.id}: {rule.description}"},
        WARN,
        (),
        f"{rule.description} Breaking rows must be quarantined.",
    )


# ---------------------------------------------------------------------------------------------
# The suites
# ---------------------------------------------------------------------------------------------

# Seed rules the source does not enforce and that are not quarantine rules (warn only).
RAW_EXTRAS: dict[str, tuple[Expect, ...]] = {
    "personakit.persona_mappers": (
        Expect("semver:version", "ExpectColumnValuesToMatchRegex",
               {"column": "version", "regex": r"^\d+\.\d+\.\d+$"}, WARN, ("version",),
               "PersonaKit 6.1: mapper versions follow semantic versioning"),
    ),
    "personakit.beliefs": (between("strength", 0, 1, WARN, "PersonaKit 1.2: strength 0-1"),),
    "mosaic.stories": (not_null("legacy_id"), not_null("title")),
    "mindflow.journal_entries": (in_set("mood", MOODS), between("word_count", 0, None)),
}


def raw_suite(table: SourceTable) -> Suite:
    rules = tuple(rule_expectation(r) for r in ROW_RULES if r.source_table == table.qualified)
    static = (
        *(not_null(k) for k in table.key),
        unique(table.key),
        not_null("_ingested_at", WARN),
        *rules,
        *RAW_EXTRAS.get(table.qualified, ()),
    )
    return Suite(
        schema=table.raw_schema,
        table=table.name,
        area="raw",
        blocking=True,  # duplicate or missing keys poison every join downstream (rule breaks: quarantine)
        key=table.key,
        static=static,
        source=table,
        description=f"Raw copy of {table.qualified}: {table.description}",
    )


def _pct_columns(facts: TableFacts) -> list[str]:
    return sorted(c for c in facts.columns if c.endswith("_pct") or c.endswith("_percent") or c.endswith("_percentage"))


DERIVED_SUITES: tuple[Suite, ...] = (
    # dbt read views (seed 004, 003, 000)
    Suite("marts", "journals_view", "marts", True, ("id",), (
        not_null("user_id"), in_set("mood", MOODS), between("word_count", 0, None),
        quarantined_rows_flagged("quarantined_entries_flagged", "mindflow.journal_entries", "id", "has_quality_issues"),
        no_rows("no_soft_deleted", "t.deleted_at IS NOT NULL", ERROR, ("deleted_at",), "soft-deleted entries leave the view"),
    ), description="Read view of live journal entries (seed 004)"),
    Suite("marts", "user_profile_view", "marts", False, ("id",), (
        between("current_streak", 0, None, WARN), between("total_entries", 0, None, WARN),
    ), description="User profiles with streak statistics (seed 004)"),
    Suite("marts", "mood_calendar_cache", "marts", False, ("user_id", "year", "month"), (
        between("month", 1, 12), between("year", 2020, 2100), between("entry_count", 0, None, WARN),
    ), description="Mood calendar per user and month (seed 004)"),
    Suite("marts", "active_agent_sessions", "marts", False, ("agent_session_id",), (
        in_set("status", ["running", "pending_approval", "approved"]),
        no_rows("running_has_approval", "t.running_without_approval", ERROR,
                ("running_without_approval",), "governance: no running session without approval (the mart shows them flagged)"),
    ), description="Agent sessions in flight (seed 003)"),
    Suite("marts", "user_activity_summary", "marts", False, ("user_id",), (
        between("total_sessions", 0, None, WARN), between("total_cost", 0, None, WARN),
    ), description="Per-developer agent usage (seed 003)"),
    Suite("marts", "story_access", "marts", True, ("user_id", "story_id"), (
        quarantined_rows_flagged("quarantined_stories_flagged", "mosaic.stories", "story_id", "has_quality_issues"),
        no_rows("quarantined_stories_only_for_submitter", "t.has_quality_issues AND t.access_reason <> 'submitter'", ERROR,
                ("has_quality_issues", "access_reason"), "a story breaking a quality rule is shown to its submitter only"),
    ), description="Stories each user may access (seed 000 user_can_access_story)"),
    # analytics (seed 004, TimescaleDB section)
    Suite("analytics", "mood_events", "analytics", True, (), (
        not_null("user_id"), not_null("journal_entry_id"), not_null("time"), in_set("mood", MOODS),
        between("mood_score", -1, 1, ERROR, "mood_score is a -1..+1 sentiment score"),
        between("word_count", 0, None, WARN), in_set("mood_source", ["label", "inferred"]),
        not_quarantined_rows("no_quarantined_entries", "mindflow.journal_entries", "journal_entry_id"),
    ), description="Mood time series (feeds mood_daily_summary)"),
    Suite("analytics", "user_activity_events", "analytics", True, (), (
        not_null("user_id"), not_null("time"),
        in_set("event_type", ["login", "logout", "entry_created", "entry_updated", "entry_deleted",
                              "insight_viewed", "settings_updated", "profile_updated"]),
    ), description="Engagement events (feeds user_weekly_activity)"),
    Suite("analytics", "mood_daily_summary", "analytics", False, ("day", "user_id"), (
        between("avg_mood_score", -1, 1), between("entry_count", 1, None, WARN),
    ), description="Daily mood rollup"),
    Suite("analytics", "user_weekly_activity", "analytics", False, ("week", "user_id"), (
        between("total_events", 0, None, WARN),
    ), description="Weekly activity rollup"),
    Suite("analytics", "journal_insights", "analytics", False, ("id",), (
        not_null("user_id"), between("entries_analyzed", 0, None, WARN),
        Expect("end_after_start", "ExpectColumnPairValuesAToBeGreaterThanB",
               {"column_A": "end_date", "column_B": "start_date", "or_equal": True}, ERROR, ("end_date", "start_date")),
    ), description="AI insights per period (mood percentages 0-100)"),
    # vectors (one table per embedded source; dimensions checked against the declared type)
    *(Suite("vectors", name, "vectors", True, (), (), description=f"Embeddings of {name}")
      for name in ("journal_entries", "mosaic_stories", "personakit_observations",
                   "coach_dialogue_messages", "coach_knowledge_resources")),
)

RAW_SUITES: tuple[Suite, ...] = tuple(raw_suite(t) for t in TABLES)
ALL_SUITES: tuple[Suite, ...] = RAW_SUITES + DERIVED_SUITES


def suite_by_name(name: str) -> Suite:
    for suite in ALL_SUITES:
        if suite.name == name:
            return suite
    raise KeyError(f"unknown suite {name!r}")


def _vector_dimension(type_name: str) -> int | None:
    if type_name.startswith("vector(") and type_name.endswith(")"):
        return int(type_name[len("vector("):-1])
    return None


def dynamic_expectations(suite: Suite, facts: TableFacts) -> list[Expect]:
    """Expectations that depend on the data: volume and null-rate drift against the previous run,
    referential integrity from the source's foreign keys, percentages and embedding dimensions."""
    out: list[Expect] = []
    if suite.area != "raw" and suite.key:
        out += [not_null(k) for k in suite.key] + [unique(suite.key)]
    prev = facts.previous_row_count
    if prev is None:
        low, high = 0, None  # first run: the baseline
    else:
        low = max(0, min(int(prev * VOLUME_BAND[0]), prev - VOLUME_SLACK))
        high = max(int(prev * VOLUME_BAND[1]), prev + VOLUME_SLACK)
    out.append(Expect("volume", "ExpectTableRowCountToBeBetween", {"min_value": low, "max_value": high}, WARN, (),
                      f"row count against the previous run ({prev if prev is not None else 'none: baseline'})"))
    for column in sorted(facts.columns):
        before = facts.previous_null_fractions.get(column)
        now = facts.null_fractions.get(column)
        if before is None or now is None or (before == 0 and now == 0):
            continue
        non_null = 1 - before
        out.append(Expect(
            f"null_rate:{column}", "ExpectColumnProportionOfNonNullValuesToBeBetween",
            {"column": column, "min_value": round(max(0.0, non_null - NULL_RATE_DRIFT), 4),
             "max_value": round(min(1.0, non_null + NULL_RATE_DRIFT), 4)},
            WARN, (column,), f"null rate of {column} was {before:.2%} last run",
        ))
    if suite.source is not None:
        for fk in facts.foreign_keys:
            if fk.table != suite.source.qualified:
                continue
            product, parent = fk.parent.split(".")
            join = " AND ".join(f"p.{pc} = t.{c}" for c, pc in zip(fk.columns, fk.parent_columns))
            present = " AND ".join(f"t.{c} IS NOT NULL" for c in fk.columns)
            out.append(no_rows(
                f"fk:{'+'.join(fk.columns)}->{fk.parent}",
                f"{present} AND NOT EXISTS (SELECT 1 FROM raw_{product}.{parent} p WHERE {join})",
                WARN, fk.columns, f"every {', '.join(fk.columns)} has its {fk.parent} row",
            ))
    for column in _pct_columns(facts):
        out.append(between(column, 0, 100, ERROR, "percentages lie in [0, 100]"))
    if suite.area == "vectors":
        for column, type_name in sorted(facts.columns.items()):
            if not type_name.startswith("vector"):
                continue
            dims = _vector_dimension(type_name)
            if dims is None and "model_id" in facts.columns:
                # untyped vector column holding several models: each row has its model's declared dimension
                declared = (f"(SELECT a.dimension FROM vectors.active_models a WHERE a.model_id = t.model_id "
                            f"LIMIT 1)")
                out.append(no_rows(f"dimensions:{column}",
                                   f"t.{column} IS NOT NULL AND {declared} IS NOT NULL "
                                   f"AND vector_dims(t.{column}) <> {declared}",
                                   ERROR, (column, "model_id"), "embeddings have their model's declared dimensions"))
            else:
                dims = dims or EMBEDDING_DIMENSIONS
                out.append(no_rows(f"dimensions:{column}", f"t.{column} IS NOT NULL AND vector_dims(t.{column}) <> {dims}",
                                   ERROR, (column,), f"embeddings have the declared {dims} dimensions"))
            out.append(not_null(column))
        if not any(t.startswith("vector") for t in facts.columns.values()):
            out.append(Expect("has_vector_column", "ExpectColumnToExist", {"column": "embedding"}, ERROR, (),
                              "a vector table carries an embedding column"))
    return out


def expectations_for(suite: Suite, facts: TableFacts) -> tuple[list[Expect], list[tuple[str, str]]]:
    """(expectations to run, [(expectation id, why skipped)]) for the table as it is today."""
    run, skipped = [], []
    for expect in (*suite.static, *dynamic_expectations(suite, facts)):
        missing = [c for c in expect.needs if c not in facts.columns]
        if missing:
            skipped.append((expect.id, f"column {', '.join(missing)} not in {suite.name}"))
        else:
            run.append(expect)
    return run, skipped
