"""Definitions of the search area."""

import dagster as dg

defs = dg.Definitions()
