"""Data-quality definitions (asset checks, quarantine)."""

import dagster as dg

defs = dg.Definitions()
