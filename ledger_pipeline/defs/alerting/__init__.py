"""Alerting in Dagster: the sensor that alerts on reconciliations that fail a check or break."""
