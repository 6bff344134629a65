"""Running the suites with GX Core (called directly; dagster-ge is stale). great_expectations is
imported only inside these functions, so `dagster dev`, the CLI and tests start fast.

One ephemeral GX context per process and warehouse: a SQL data source on the warehouse, a table asset
per suite (whole-table batch), an ExpectationSuite and a ValidationDefinition per suite. The report
runs them all through one Checkpoint whose UpdateDataDocsAction writes the HTML data docs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import psycopg

from core.db import columns_of, table_exists
from quality.history import TableStats, ensure_history_schema, previous_run, record_run, table_stats
from quality.quarantine import ensure_quarantine_schema
from quality.suites import ERROR, Expect, ForeignKey, Suite, TableFacts, expectations_for

log = logging.getLogger(__name__)

SAMPLE_ROWS = 5
DOCS_SITE = "tessera"


@dataclass
class ExpectResult:
    id: str
    severity: str
    success: bool
    unexpected_count: int | None = None
    sample: list = field(default_factory=list)
    observed: object = None
    error: str | None = None


@dataclass
class SuiteOutcome:
    suite: str
    status: str  # passed | warned | failed | not_built
    row_count: int | None = None
    results: list[ExpectResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def failures(self) -> list[ExpectResult]:
        return [r for r in self.results if not r.success]

    @property
    def errors(self) -> list[ExpectResult]:
        return [r for r in self.failures if r.severity == ERROR]


def outcome_status(results: list[ExpectResult]) -> str:
    if any(not r.success and r.severity == ERROR for r in results):
        return "failed"
    if any(not r.success for r in results):
        return "warned"
    return "passed"


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# ---------------------------------------------------------------------------------------------
# Facts about the tables (psycopg)
# ---------------------------------------------------------------------------------------------

FOREIGN_KEYS_SQL = """
SELECT cn.nspname, c.relname, array_agg(a.attname ORDER BY k.ord),
       pn.nspname, p.relname, array_agg(pa.attname ORDER BY k.ord)
  FROM pg_constraint co
  JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
  JOIN pg_class p ON p.oid = co.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
  CROSS JOIN LATERAL unnest(co.conkey, co.confkey) WITH ORDINALITY AS k(attnum, fattnum, ord)
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
  JOIN pg_attribute pa ON pa.attrelid = p.oid AND pa.attnum = k.fattnum
 WHERE co.contype = 'f' AND cn.nspname = ANY(%s)
 GROUP BY co.oid, cn.nspname, c.relname, pn.nspname, p.relname
"""


def source_foreign_keys(source_url: str | None) -> tuple[ForeignKey, ...]:
    """The source's declared foreign keys (the raw copies must keep them)."""
    if not source_url:
        return ()
    from sources.registry import PRODUCTS

    try:
        with psycopg.connect(source_url) as conn:
            rows = conn.execute(FOREIGN_KEYS_SQL, (list(PRODUCTS),)).fetchall()
    except psycopg.Error as exc:  # the source being down must not hide the warehouse checks
        log.warning("could not read the source's foreign keys: %s", exc)
        return ()
    return tuple(ForeignKey(f"{r[0]}.{r[1]}", tuple(r[2]), f"{r[3]}.{r[4]}", tuple(r[5])) for r in rows)


def gather_facts(conn: psycopg.Connection, suite: Suite, run_id: str | None,
                 foreign_keys: tuple[ForeignKey, ...]) -> TableFacts | None:
    if not table_exists(conn, suite.schema, suite.table):
        return None
    columns = dict(columns_of(conn, suite.schema, suite.table))
    stats = table_stats(conn, suite.schema, suite.table, list(columns))
    prev = previous_run(conn, suite.name, run_id)
    return TableFacts(
        columns=columns,
        row_count=stats.row_count,
        null_fractions=stats.null_fractions,
        previous_row_count=prev.row_count if prev else None,
        previous_null_fractions=prev.null_fractions if prev else {},
        foreign_keys=foreign_keys,
    )


# ---------------------------------------------------------------------------------------------
# GX
# ---------------------------------------------------------------------------------------------

_CONTEXTS: dict[tuple[str, str], object] = {}

# Postgres types SQLAlchemy does not reflect (NullType breaks GX's column metadata): pg_lsn (the
# ingest cursor column of every raw table) and pgvector's vector. Read as text by GX.
EXTRA_TYPES = ("pg_lsn", "vector", "halfvec", "sparsevec")


def _register_postgres_types() -> None:
    from sqlalchemy import types
    from sqlalchemy.dialects.postgresql.base import ischema_names

    for name in EXTRA_TYPES:
        ischema_names.setdefault(name, types.Text)


def gx_context(warehouse_url: str, docs_dir: Path | None = None):
    """An ephemeral GX context with the warehouse as a SQL data source (cached per process)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    key = (warehouse_url, str(docs_dir or ""))
    if key in _CONTEXTS:
        return _CONTEXTS[key]
    _register_postgres_types()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(site_name=DOCS_SITE, site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        })
    context.data_sources.add_sql(name="warehouse", connection_string=sqlalchemy_url(warehouse_url))
    _CONTEXTS[key] = context
    return context


def _gx_expectation(expect: Expect):
    import great_expectations as gx

    cls = getattr(gx.expectations, expect.type)
    kwargs = dict(expect.kwargs)
    meta = {"id": expect.id, "severity": expect.severity}
    if expect.type == "UnexpectedRowsExpectation":
        # GX formats the query with {batch}; literal braces of the rule's SQL must be doubled.
        query = kwargs["unexpected_rows_query"].replace("{", "{{").replace("}", "}}").replace("{{batch}}", "{batch}")
        kwargs["unexpected_rows_query"] = query
    elif expect.description:
        kwargs.setdefault("description", expect.description)
    return cls(**kwargs, meta=meta)


def validation_definition(context, suite: Suite, expects: list[Expect]):
    """(Re)build the GX suite and validation definition for `suite` from `expects`."""
    import great_expectations as gx

    datasource = context.data_sources.get("warehouse")
    try:
        asset = datasource.get_asset(suite.name)
    except LookupError:
        asset = datasource.add_table_asset(name=suite.name, table_name=suite.table, schema_name=suite.schema)
    try:
        batch = asset.get_batch_definition("whole_table")
    except KeyError:
        batch = asset.add_batch_definition_whole_table("whole_table")
    gx_suite = gx.ExpectationSuite(name=suite.name, meta={"notes": suite.description})
    for expect in expects:
        gx_suite.add_expectation(_gx_expectation(expect))
    gx_suite = context.suites.add_or_update(gx_suite)
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
    )


RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": SAMPLE_ROWS, "unexpected_index_column_names": []}


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def parse_results(validation_result, expects: list[Expect]) -> list[ExpectResult]:
    by_id = {e.id: e for e in expects}
    out = []
    for r in validation_result.results:
        meta = r.expectation_config.meta or {}
        expect = by_id.get(meta.get("id"))
        severity = meta.get("severity", ERROR)
        result = r.result or {}
        error = None
        if r.exception_info and r.exception_info.get("raised_exception", True) is not False:
            info = r.exception_info
            messages = [v.get("exception_message") for v in info.values() if isinstance(v, dict)] if "exception_message" not in info else [info.get("exception_message")]
            error = "; ".join(m for m in messages if m) or None
        if expect is not None and expect.type == "UnexpectedRowsExpectation":
            unexpected = result.get("observed_value")
            sample = (result.get("details") or {}).get("unexpected_rows") or []
        else:
            unexpected = result.get("unexpected_count")
            sample = result.get("partial_unexpected_list") or []
        out.append(ExpectResult(
            id=meta.get("id", r.expectation_config.type), severity=severity, success=bool(r.success),
            unexpected_count=unexpected if isinstance(unexpected, int) else None,
            sample=_jsonable(list(sample)[:SAMPLE_ROWS]),
            observed=_jsonable(result.get("observed_value")) if not isinstance(unexpected, int) else unexpected,
            error=error,
        ))
    return out


def run_suites(
    warehouse_url: str,
    suites: Iterable[Suite],
    *,
    run_id: str | None = None,
    source_url: str | None = None,
    docs_dir: Path | None = None,
) -> list[SuiteOutcome]:
    """Validate each suite against the warehouse, record row counts and null rates in
    quality.check_history, and (with docs_dir) write the data docs. Tables not built yet are
    reported as `not_built`."""
    suites = list(suites)
    foreign_keys = source_foreign_keys(source_url) if any(s.area == "raw" for s in suites) else ()
    context = gx_context(warehouse_url, docs_dir)
    outcomes: dict[str, SuiteOutcome] = {}
    plans: list[tuple[Suite, list[Expect], object, TableFacts]] = []
    with psycopg.connect(warehouse_url) as conn:
        ensure_quarantine_schema(conn)  # rule expectations read quality.active_quarantine
        ensure_history_schema(conn)
        conn.commit()
        for suite in suites:
            facts = gather_facts(conn, suite, run_id, foreign_keys)
            if facts is None:
                outcomes[suite.name] = SuiteOutcome(suite.name, "not_built")
                continue
            expects, skipped = expectations_for(suite, facts)
            vd = validation_definition(context, suite, expects)
            plans.append((suite, expects, vd, facts))
            outcomes[suite.name] = SuiteOutcome(suite.name, "passed", facts.row_count, skipped=skipped)
        conn.commit()

    if docs_dir is not None:
        import great_expectations as gx

        # Suites of tables not built yet still go into the docs (their static expectations), so the
        # site lists every suite; only built tables get a validation result.
        for suite in suites:
            if outcomes[suite.name].status == "not_built":
                gx_suite = gx.ExpectationSuite(name=suite.name, meta={"notes": f"{suite.description} (table not built yet)"})
                for expect in suite.static:
                    gx_suite.add_expectation(_gx_expectation(expect))
                context.suites.add_or_update(gx_suite)
    if docs_dir is not None and plans:
        import great_expectations as gx

        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name="tessera_quality_report",
            validation_definitions=[vd for _, _, vd, _ in plans],
            actions=[],
            result_format=RESULT_FORMAT,
        ))
        result = checkpoint.run()
        by_suite = {vr.suite_name: vr for vr in result.run_results.values()}
        validations = [(s, e, by_suite[s.name]) for s, e, _, _ in plans]
    else:
        validations = [(s, e, vd.run(result_format=RESULT_FORMAT)) for s, e, vd, _ in plans]
    if docs_dir is not None:
        context.build_data_docs(site_names=[DOCS_SITE])

    for suite, expects, vr in validations:
        outcome = outcomes[suite.name]
        outcome.results = parse_results(vr, expects)
        outcome.status = outcome_status(outcome.results)

    with psycopg.connect(warehouse_url) as conn:
        facts_by_name = {s.name: f for s, _, _, f in plans}
        for suite in suites:
            outcome = outcomes[suite.name]
            facts = facts_by_name.get(suite.name)
            stats = TableStats(facts.row_count, facts.null_fractions) if facts else None
            record_run(conn, run_id=run_id, suite=suite.name, status=outcome.status, stats=stats,
                       failed=[r.id for r in outcome.failures])
    return [outcomes[s.name] for s in suites]


def docs_index(docs_dir: Path) -> Path:
    return docs_dir / "index.html"
