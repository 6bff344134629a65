"""Definitions of the dbt area."""

import dagster as dg

defs = dg.Definitions()
