"""The floor every other package stands on: settings as data (`core.settings`), database helpers
(`core.db`), the embedded Postgres started explicitly (`core.embedded`), run-queue tags (`core.run_queue`)
and clean stops (`core.signals`). Nothing here imports Dagster, dbt, an area or the CLI, and nothing
runs at import: reading a setting never starts a server."""
