"""Definitions of the mood area."""

import dagster as dg

defs = dg.Definitions()
