"""Definitions of the insights area."""

import dagster as dg

defs = dg.Definitions()
