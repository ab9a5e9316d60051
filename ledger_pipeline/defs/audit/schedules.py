"""The audit trail's schedules: sealing every 15 minutes, and the monthly partitions each night.
Both start stopped, like the reconciliation schedules."""

import dagster as dg

from ...platform import settings
from .jobs import audit_partitions_job, audit_seal_job

# Rows not yet sealed are protected only by the triggers; sealing often keeps that window short.
audit_seal_every_15_minutes = dg.ScheduleDefinition(
    name="audit_seal_every_15_minutes",
    job=audit_seal_job,
    cron_schedule="*/15 * * * *",
    execution_timezone=settings.timezone(),
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

audit_partitions_daily = dg.ScheduleDefinition(
    name="audit_partitions_daily",
    job=audit_partitions_job,
    cron_schedule="30 1 * * *",
    execution_timezone=settings.timezone(),
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
