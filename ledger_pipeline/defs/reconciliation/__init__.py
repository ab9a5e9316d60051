"""Reconciliation in Dagster: its assets and asset checks, jobs, schedules and sensors."""
