"""The code location: the one Definitions object that workspace.yaml loads."""

import dagster as dg

from .assets import daily_reconciliation, full_reconciliation, ledger_balance, ledger_schema
from .jobs import (daily_reconciliation_job, fanned_out_backfill_job, full_reconciliation_job,
                   hourly_balance_check_job)
from .resources import LedgerResource
from .schedules import daily_full_reconciliation, hourly_balance_check
from .sensors import escalate_failed_hourly_check, reconcile_late_arrivals, reconciliation_alerts

defs = dg.Definitions(
    assets=[ledger_schema, full_reconciliation, ledger_balance, daily_reconciliation],
    jobs=[full_reconciliation_job, hourly_balance_check_job, daily_reconciliation_job, fanned_out_backfill_job],
    schedules=[daily_full_reconciliation, hourly_balance_check],
    sensors=[escalate_failed_hourly_check, reconcile_late_arrivals, reconciliation_alerts],
    resources={"ledger_db": LedgerResource()},
)
