"""Schedules, sensors and automation across areas."""

import dagster as dg

defs = dg.Definitions()
