"""Definitions of the ingest area."""

import dagster as dg

defs = dg.Definitions()
