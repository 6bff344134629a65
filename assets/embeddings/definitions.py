"""Definitions of the embeddings area."""

import dagster as dg

defs = dg.Definitions()
