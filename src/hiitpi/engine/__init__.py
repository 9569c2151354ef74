"""Pipelines: offline analysis and the live engine."""
