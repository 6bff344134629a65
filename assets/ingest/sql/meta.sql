-- Ingest bookkeeping in the warehouse (schema tessera_meta). Idempotent; run when the version marker
-- (the comment on tessera_meta.ingest_stream) is missing or older.
CREATE SCHEMA IF NOT EXISTS tessera_meta;

-- The one change stream of this warehouse per source database: the publication (every product schema)
-- and the logical slot in the source, and the cursor. Replaces the per-product ingest_streams.
CREATE TABLE IF NOT EXISTS tessera_meta.ingest_stream (
    source_database     TEXT PRIMARY KEY,
    slot_name           TEXT NOT NULL,
    publication         TEXT NOT NULL,
    created_lsn         PG_LSN,           -- consistent point of the slot
    cursor_lsn          PG_LSN,           -- commit LSN of the last applied source transaction
    cursor_end_lsn      PG_LSN,           -- end of that commit record (the slot advances to it)
    cursor_committed_at TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
DROP TABLE IF EXISTS tessera_meta.ingest_streams;  -- per-product streams of the first design

-- One row per registry table: pending (needs a full load), loaded, or blocked (schema drift).
CREATE TABLE IF NOT EXISTS tessera_meta.ingest_tables (
    product         TEXT NOT NULL,
    table_name      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    source_columns  JSONB,                -- [[name, type], ...] at the last full load
    snapshot_lsn    PG_LSN,               -- source WAL position of the last full load's snapshot
    loaded_at       TIMESTAMPTZ,
    load_rows       BIGINT,
    blocked_reason  TEXT,
    blocked_at      TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    row_count       BIGINT,               -- rows in the raw table (kept exact: load rows + net changes)
    PRIMARY KEY (product, table_name),
    CONSTRAINT ingest_tables_status_valid CHECK (status IN ('pending', 'loaded', 'blocked'))
);

ALTER TABLE tessera_meta.ingest_tables ADD COLUMN IF NOT EXISTS row_count BIGINT;

CREATE TABLE IF NOT EXISTS tessera_meta.ingest_drift_events (
    id          BIGSERIAL PRIMARY KEY,
    product     TEXT NOT NULL,
    table_name  TEXT NOT NULL,
    kind        TEXT NOT NULL,            -- added | dropped | retyped | moved | reloaded | resynced
    column_name TEXT,
    detail      TEXT NOT NULL,
    detected_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS tessera_meta.ingest_runs (
    id          BIGSERIAL PRIMARY KEY,
    product     TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    status      TEXT NOT NULL,            -- ok | blocked
    results     JSONB NOT NULL
);

-- `tessera live` (assets/ingest/live.py): one row per source database while the process streams, updated
-- about every second: how far it has applied, how far behind it is, and what its refresh lanes are doing.
CREATE TABLE IF NOT EXISTS tessera_meta.live_status (
    source_database      TEXT PRIMARY KEY,
    pid                  INT NOT NULL,
    host                 TEXT,
    started_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    state                TEXT NOT NULL,      -- starting | streaming | resyncing | stopped
    applied_lsn          PG_LSN,             -- commit LSN of the last applied source transaction
    applied_committed_at TIMESTAMPTZ,        -- its commit time in the source
    source_flush_lsn     PG_LSN,             -- the source's flushed WAL when last looked at
    lag_bytes            BIGINT,             -- source_flush_lsn minus what is applied or confirmed
    lag_seconds          DOUBLE PRECISION,   -- age of the oldest received, not yet applied commit
    batches              BIGINT NOT NULL DEFAULT 0,
    transactions         BIGINT NOT NULL DEFAULT 0,
    changes              BIGINT NOT NULL DEFAULT 0,
    lanes                JSONB NOT NULL DEFAULT '{}'::jsonb
);

COMMENT ON TABLE tessera_meta.ingest_stream IS 'tessera ingest meta v3';
