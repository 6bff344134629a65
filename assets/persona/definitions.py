"""Definitions of the persona area."""

import dagster as dg

defs = dg.Definitions()
