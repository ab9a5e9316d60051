"""The reconciliation schedules: the daily full run at 02:00 and the hourly quick check. All start
stopped: turn them on in the UI (Automation) or with `dg launch`-free
`dagster schedule start daily_full_reconciliation -w workspace.yaml`."""

import dagster as dg

from ...platform import settings
from .jobs import full_reconciliation_job, hourly_balance_check_job

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
