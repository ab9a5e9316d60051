"""The reconciliation schedules: the daily full run at 02:00, the hourly quick check, and the
audit trail's full verification monthly."""

import dagster as dg

from ..automation import stopped_schedule
from .jobs import audit_full_verification_job, full_reconciliation_job, hourly_balance_check_job

daily_full_reconciliation = stopped_schedule(
    "daily_full_reconciliation", full_reconciliation_job, "0 2 * * *",
    run_config=dg.RunConfig(ops={"full_reconciliation": {"config": {"run_type": "daily"}}}),
)
hourly_balance_check = stopped_schedule("hourly_balance_check", hourly_balance_check_job, "0 * * * *")
# The nightly run re-hashes every sealed block within LEDGER_AUDIT_VERIFY_DAYS runs; this reads
# everything, archived months included, once a month (the 1st, 03:00, after the nightly run).
audit_full_verification_monthly = stopped_schedule("audit_full_verification_monthly", audit_full_verification_job,
                                                   "0 3 1 * *")
