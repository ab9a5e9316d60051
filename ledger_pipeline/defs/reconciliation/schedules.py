"""The reconciliation schedules: the daily full run at 02:00 and the hourly quick check."""

import dagster as dg

from ..automation import stopped_schedule
from .jobs import full_reconciliation_job, hourly_balance_check_job

daily_full_reconciliation = stopped_schedule(
    "daily_full_reconciliation", full_reconciliation_job, "0 2 * * *",
    run_config=dg.RunConfig(ops={"full_reconciliation": {"config": {"run_type": "daily"}}}),
)
hourly_balance_check = stopped_schedule("hourly_balance_check", hourly_balance_check_job, "0 * * * *")
