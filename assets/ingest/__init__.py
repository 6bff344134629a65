"""Ingest: the products' Postgres (database `app`) into the warehouse's raw_<product> schemas.

Why logical decoding. DESIGN.md forbids trusting `updated_at > watermark` (a long transaction commits
after later ones, and hard deletes leave no row to find) and Tessera may not add triggers to the
products' database. Logical decoding reads the WAL the source writes anyway: every committed insert,
update (incl. soft deletes and privacy flips), hard delete, cascaded delete and TRUNCATE, in commit
order, each transaction whole. It needs wal_level=logical (the embedded server runs with it; a source
without it fails with a message saying what to set), and ONE publication (FOR TABLES IN SCHEMA of the
five product schemas) with ONE logical slot per (source database, warehouse database) pair, shared by
every product: logical decoding reads the whole server's WAL (in the embedded setup that includes the
warehouse's own writes), so a tick decodes it once, not once per product. A publication is a catalog
entry read by the decoder, not a trigger: the products' writes are unchanged (their tables only need a
replica identity, which their primary keys give). The first design's per-product slots and
publications of the same database pair are dropped when found.

Verified on this Postgres 18.4: the built-in `pgoutput` plugin through the SQL interface
(pg_create_logical_replication_slot, pg_logical_slot_peek_binary_changes with proto_version 1 and
publication_names, pg_replication_slot_advance), no replication connection and no extension needed.

How a tick works (pipeline.sync, for any set of registry tables, under a warehouse advisory lock per
stream; sync_all / sync_product / resync_table select tables for it):
- The publication and the slot are created first; the slot BEFORE any snapshot, so every change not in
  a snapshot is still in the stream. Slot names carry a hash of the (source, warehouse) database names:
  slots are cluster-wide. Columns of every table come from two catalog queries (source, warehouse).
- Full loads (first run, new table, added column, resync) stream binary COPY out of one REPEATABLE
  READ snapshot into COPY FREEZE in the warehouse, one warehouse transaction per table (CREATE or
  TRUNCATE + COPY + primary key built after the COPY for a new table + the `<table>__ingested_at`
  index + bookkeeping), so a crash leaves the previous copy (fullload.py).
- The stream is then drained (incremental.py) up to the WAL position read after the loads, in the same
  tick, so the slot ends past the loads' own WAL and the next tick decodes only what came after. Big
  batches decoded by a small pure decoder (pgoutput.py) are folded into one final operation per primary
  key (apply.py): upsert, patch (an update whose unchanged TOAST columns arrive as 'u') or delete, written
  by a worker thread while the next messages are decoded. Each batch is applied in ONE warehouse
  transaction that also stores the cursor (commit LSN of the last applied transaction) and the exact row
  count changes; only then is the slot advanced. After a crash the re-read transactions at or below the
  cursor are skipped: exactly once. Replaying changes over a newer snapshot converges because every
  operation is idempotent and the stream is drained past the snapshot. The slot's restart point is kept
  next to its confirmed position (stream.log_running_xacts; one more drain after a long range), so a
  peek does not decode old WAL again.
- Schema drift (drift.py) is checked every tick: an added column is added and the table reloaded; a
  dropped, retyped or reordered column blocks that table (tessera_meta.ingest_tables.status =
  'blocked', with the reason) while the other tables go on, until `resync_table` (or
  `python -m assets.ingest.cli resync <product.table>`) reloads it.

Warehouse layout: raw_<product>.<table> has the source columns (names, types, order), then
`_ingested_at` and `_source_lsn` (commit LSN of the change that last wrote the row; the snapshot LSN
for rows from a full load), with the source's primary key. Bookkeeping lives in schema tessera_meta
(ingest_stream, ingest_tables, ingest_drift_events, ingest_runs).

Limits: columns whose type is user-defined in the source (an enum, a domain) would need that type in
the warehouse (none of the registry's tables has one); a primary-key change whose row also carries an
unchanged TOAST value cannot be rebuilt from the stream, so that table is reloaded in the same tick.
"""
