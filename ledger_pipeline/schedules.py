"""Dagster schedules. All start stopped: turn them on in the UI (Automation) or with
`dagster schedule start daily_full_reconciliation -w workspace.yaml`."""

import dagster as dg

from . import settings
from .jobs import audit_partitions_job, audit_seal_job, full_reconciliation_job, hourly_balance_check_job

daily_full_reconciliation = dg.ScheduleDefinition(
    name="daily_full_reconciliation",
    job=full_reconciliation_job,
    cron_schedule="0 2 * * *",
    execution_timezone=settings.timezone(),
    run_config=dg.RunConfig(ops={"full_reconciliation": {"config": {"run_type": "daily"}}}),
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

hourly_balance_check = dg.ScheduleDefinition(
    name="hourly_balance_check",
    job=hourly_balance_check_job,
    cron_schedule="0 * * * *",
    execution_timezone=settings.timezone(),
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

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
