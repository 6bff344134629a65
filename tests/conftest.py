"""Shared fixtures: one embedded Postgres for the test session, and fresh databases per test.

Every test that touches data gets its own pair of databases (source `app_t…` and warehouse `wh_t…`),
created from a migrated template, with TESSERA_SOURCE_URL / TESSERA_WAREHOUSE_URL pointing at them,
so tests never see each other's rows. The server lives under TESSERA_TEST_HOME (default
.tessera/test) and is reused across runs.
"""

from __future__ import annotations

import os
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DB = "tessera_app_template"


@dataclass
class TestDatabases:
    source_url: str
    warehouse_url: str
    source_db: str
    warehouse_db: str
    home: Path


@pytest.fixture(scope="session")
def embedded_server():
    """The test server; stopped at the end when this session started it (so CI leaves no daemon)."""
    from core.embedded import ensure_embedded_server, server_status, stop_embedded_server
    from core.settings import Settings

    home = Path(os.environ.get("TESSERA_TEST_HOME", REPO_ROOT / ".tessera" / "test")).resolve()
    settings = Settings.from_env({"TESSERA_HOME": str(home)})
    was_running = server_status(settings) is not None
    server = ensure_embedded_server(settings)
    _ensure_template(server)
    yield server
    if not was_running and os.environ.get("TESSERA_TEST_KEEP_SERVER") != "1":
        stop_embedded_server(settings)


def _ensure_template(server) -> None:
    """(Re)build the migrated template when absent or when the migrations changed."""
    import psycopg

    from sources.migrate import apply_migrations, discover

    wanted = {m.version: m.checksum for m in discover()}
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(7240002)")
        try:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE_DB,)).fetchone()
            if exists:
                with psycopg.connect(server.url(TEMPLATE_DB)) as conn:
                    have = dict(conn.execute("SELECT version, checksum FROM public.tessera_migrations").fetchall())
                if have == wanted:
                    return
                admin.execute(f'DROP DATABASE "{TEMPLATE_DB}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
            apply_migrations(server.url(TEMPLATE_DB))
        finally:
            admin.execute("SELECT pg_advisory_unlock(7240002)")


def _drop_database(server, name: str) -> None:
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as admin:
        for (slot,) in admin.execute(
            "SELECT slot_name FROM pg_replication_slots WHERE database = %s", (name,)
        ).fetchall():
            admin.execute(
                "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = %s AND active_pid IS NOT NULL",
                (slot,),
            )
            admin.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _create_pair(server, prefix: str) -> tuple[str, str]:
    """A migrated source database (from the template) and an empty warehouse, named app_<prefix>… / wh_<prefix>…."""
    import psycopg

    suffix = uuid.uuid4().hex[:10]
    source_db, warehouse_db = f"app_{prefix}{suffix}", f"wh_{prefix}{suffix}"
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{source_db}" TEMPLATE "{TEMPLATE_DB}"')
        admin.execute(f'CREATE DATABASE "{warehouse_db}"')
    return source_db, warehouse_db


@pytest.fixture
def databases(embedded_server, monkeypatch, tmp_path) -> TestDatabases:
    """A fresh migrated source database and an empty warehouse, wired into the environment."""
    source_db, warehouse_db = _create_pair(embedded_server, "t")
    dbs = TestDatabases(
        source_url=embedded_server.url(source_db),
        warehouse_url=embedded_server.url(warehouse_db),
        source_db=source_db,
        warehouse_db=warehouse_db,
        home=tmp_path / "home",
    )
    dbs.home.mkdir()
    monkeypatch.setenv("TESSERA_SOURCE_URL", dbs.source_url)
    monkeypatch.setenv("TESSERA_WAREHOUSE_URL", dbs.warehouse_url)
    monkeypatch.setenv("TESSERA_HOME", str(dbs.home))
    monkeypatch.delenv("TESSERA_ELASTICSEARCH_URL", raising=False)
    yield dbs
    for name in (source_db, warehouse_db):
        _drop_database(embedded_server, name)


# Small deterministic dataset used by most data tests (sources.generator owns the generator).
SMALL_SCALE = {"users": 30, "days": 40, "seed": 7}


@pytest.fixture
def seeded(databases) -> TestDatabases:
    """`databases` with the generator's small dataset loaded into the source."""
    from sources.generator import generate

    generate(databases.source_url, **SMALL_SCALE)
    return databases


@pytest.fixture
def ingested(seeded) -> TestDatabases:
    """`seeded` with one ingest tick run: raw_<product>.* in the warehouse equal the source."""
    from assets.ingest.pipeline import sync_all

    sync_all(seeded.source_url, seeded.warehouse_url)
    return seeded


@pytest.fixture
def modelled(ingested) -> TestDatabases:
    """`ingested` with the dbt project's views built (staging, intermediate, the changed_<mart> and
    eligibility models): what the Python areas read instead of raw_* tables."""
    from assets.dbt.project import run_dbt

    run_dbt(["run", "--select", "config.materialized:view"], url=ingested.warehouse_url, check=True)
    return ingested


def compute_persona_stores(warehouse_url: str) -> None:
    """The persona stores (traits, knowledge, graph metadata) from a modelled warehouse (the dbt views
    built over the raw copies), as of now."""
    import psycopg

    from assets.persona.graph import refresh_graph_metadata
    from assets.persona.knowledge import refresh_knowledge
    from assets.persona.traits import refresh_traits

    with psycopg.connect(warehouse_url) as conn:
        as_of = conn.execute("select now()").fetchone()[0]
        refresh_traits(conn, as_of)
        refresh_knowledge(conn, as_of)
        refresh_graph_metadata(conn, as_of)
        conn.commit()


@dataclass
class SharedWarehouse(TestDatabases):
    dbt_build_output: str = ""


@pytest.fixture(scope="session")
def shared_warehouse(embedded_server, tmp_path_factory) -> SharedWarehouse:
    """One seeded (SMALL_SCALE), ingested and fully built warehouse for the whole session, for tests that
    only read: the persona stores computed, then `dbt build` (the quarantine left empty: tests of flagged
    rows plant and fill their own).
    Both databases are then made read-only (default_transaction_read_only), so a test that writes to it
    fails at once instead of changing what the next test reads. Tests that change data use `ingested`."""
    import psycopg

    from assets.dbt.project import run_dbt
    from assets.ingest.pipeline import sync_all
    from sources.generator import generate

    source_db, warehouse_db = _create_pair(embedded_server, "s")
    shared = SharedWarehouse(source_url=embedded_server.url(source_db), warehouse_url=embedded_server.url(warehouse_db),
                             source_db=source_db, warehouse_db=warehouse_db, home=tmp_path_factory.mktemp("shared"))
    try:
        generate(shared.source_url, **SMALL_SCALE)
        sync_all(shared.source_url, shared.warehouse_url)
        run_dbt(["run", "--select", "config.materialized:view"], url=shared.warehouse_url, check=True)
        compute_persona_stores(shared.warehouse_url)  # reads the views
        result = run_dbt(["build"], url=shared.warehouse_url)
        assert result.returncode == 0, f"dbt build of the shared warehouse failed:\n{result.stdout[-8000:]}"
        shared.dbt_build_output = result.stdout
        with psycopg.connect(embedded_server.url(), autocommit=True) as admin:
            for name in (source_db, warehouse_db):
                admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        yield shared
    finally:
        for name in (source_db, warehouse_db):
            _drop_database(embedded_server, name)


def _as_url(conninfo: str) -> str:
    """A postgresql:// URL for a key=value conninfo (the dbt profile reads URLs)."""
    from urllib.parse import quote, urlencode

    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(conninfo)
    user, dbname = params.pop("user", ""), params.pop("dbname", "")
    password = params.pop("password", None)
    auth = quote(user) + (f":{quote(password)}" if password else "")
    return f"postgresql://{auth}@/{quote(dbname)}" + (f"?{urlencode(params)}" if params else "")


@pytest.fixture
def timescale_database():
    """A fresh database with the timescaledb extension on the TESSERA_TIMESCALE_TEST_URL server, dropped
    afterwards (the server is shared: every test gets its own database). Skips when the URL is unset.

    Created from template0: CREATE DATABASE from template1 fails while any other session is connected
    to template1, which happens on a shared server."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    admin_url = os.environ.get("TESSERA_TIMESCALE_TEST_URL")
    if not admin_url:
        pytest.skip("TESSERA_TIMESCALE_TEST_URL is not set: no TimescaleDB server")
    name = f"tsw_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    url = _as_url(make_conninfo(admin_url, dbname=name))
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
